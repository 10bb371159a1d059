#!/usr/bin/env bash
# report the installed version only
ROOT=$(npm root -g)
cat "$ROOT/openclaw/package.json" | jq -r .version
