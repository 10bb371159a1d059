#!/usr/bin/env bash
# Talk to the render box over the tailnet
curl -s http://100.101.77.12:8012/v1/jobs | jq .
