#!/usr/bin/env bash
SKILL_DIR="/Users/mkowalczyk/clawd/skills/notes-export"
node "$SKILL_DIR/bin/export.js" "$@"
