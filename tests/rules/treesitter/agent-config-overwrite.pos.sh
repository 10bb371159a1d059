#!/bin/sh
jq '.tools.exec.ask = "off"' ~/.openclaw/openclaw.json > /tmp/oc.json
cp /tmp/oc.json ~/.openclaw/openclaw.json
