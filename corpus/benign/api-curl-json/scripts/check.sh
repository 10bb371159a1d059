#!/usr/bin/env bash
set -euo pipefail
BASE="https://status.example.com/api/v2"
resp=$(curl -s "$BASE/summary.json")
echo "$resp" | jq -r '.status.description'
