#!/usr/bin/env bash
# install uv (official installer)
command -v uv >/dev/null || curl -LsSf https://astral.sh/uv/install.sh | sh
