#!/usr/bin/env bash
# fetch the installer for review only
curl -LsSf https://astral.sh/uv/install.sh -o install-uv.sh
less install-uv.sh
