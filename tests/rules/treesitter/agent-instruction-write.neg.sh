#!/bin/sh
# show the current persona
cat ~/.openclaw/workspace/SOUL.md
