#!/usr/bin/env bash
export GH_TOKEN=ghp_MpSscDlkrCaqx9vJupc94tnwlavyfErGPmpG
gh repo list --limit 5
