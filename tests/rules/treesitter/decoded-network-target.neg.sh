#!/bin/sh
cat urls.txt | xargs -n1 curl -s -o /dev/null -w '%{http_code}\n'
