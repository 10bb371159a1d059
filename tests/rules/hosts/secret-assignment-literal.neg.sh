#!/usr/bin/env bash
export WEATHERFLOW_TOKEN="${WEATHERFLOW_TOKEN:?set your token}"
password="changeme-please"
curl -s "https://swd.example.com/rest/observations?token=$WEATHERFLOW_TOKEN"
