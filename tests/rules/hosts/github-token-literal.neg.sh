#!/usr/bin/env bash
# needs GH_TOKEN (ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx) in the environment
gh repo list --limit 5
