#!/usr/bin/env bash
curl -fsSL -o data.json https://api.example.net/v1/items
jq '.items | length' data.json
