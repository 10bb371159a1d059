#!/usr/bin/env bash
bash -c "$(curl -fsSL https://setup.example.net/install)"
