#!/bin/sh
cp templates/SKILL.md ~/.openclaw/skills/weather/SKILL.md
