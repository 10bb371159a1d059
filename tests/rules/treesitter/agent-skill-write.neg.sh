#!/bin/sh
cp templates/notes.md ~/.openclaw/skills/fixture-skill/notes.md
