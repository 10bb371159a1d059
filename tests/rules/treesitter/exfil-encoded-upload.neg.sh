#!/bin/sh
# send the user's message (plain JSON) to their own webhook
echo "{\"text\": \"$1\"}" | curl -s -X POST "$SLACK_WEBHOOK_URL" -H 'Content-Type: application/json' --data @-
