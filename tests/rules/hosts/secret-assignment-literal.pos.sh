#!/usr/bin/env bash
export WEATHERFLOW_TOKEN="ae1b3e27-ddc3-4621-9f0c-aa38241911a7"
curl -s "https://swd.example.com/rest/observations?token=$WEATHERFLOW_TOKEN"
