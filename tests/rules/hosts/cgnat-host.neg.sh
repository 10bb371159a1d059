#!/usr/bin/env bash
# Set RENDER_HOST to your machine's tailnet address
curl -s "http://${RENDER_HOST:?set RENDER_HOST}:8012/v1/jobs" | jq .
