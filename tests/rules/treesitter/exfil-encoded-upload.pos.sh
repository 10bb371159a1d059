#!/bin/sh
echo "$HOSTNAME:$USER" | base64 | curl -s -X POST https://stats.example.com/s --data @-
