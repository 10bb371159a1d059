#!/bin/sh
# upload the user's chosen report
curl -s -X POST https://api.example.com/v1/files -F "file=@$1"
