#!/bin/sh
# print the configured model (read only)
jq -r '.agents.defaults.model.primary' ~/.openclaw/openclaw.json
