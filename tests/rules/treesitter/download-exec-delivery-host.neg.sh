#!/usr/bin/env bash
# query the lab appliance's status endpoint
curl -fsSL http://192.0.2.10/status | jq '.uptime'
