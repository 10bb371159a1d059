#!/bin/sh
# refresh this skill's own reference file
cp references/api.md ~/.openclaw/skills/fixture-skill/references/api.md
