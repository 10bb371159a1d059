#!/usr/bin/env bash
SKILL_DIR="$(cd "$(dirname "$0")/.." && pwd)"
# e.g. /Users/you/clawd/skills/notes-export or /home/user/clawd/skills/notes-export
node "$SKILL_DIR/bin/export.js" "$@"
