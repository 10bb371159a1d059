#!/bin/sh
curl -s -X POST https://api.tavily.com/search -H 'Content-Type: application/json' -d "{\"api_key\": \"$TAVILY_API_KEY\", \"query\": \"$1\"}"
