#!/bin/sh
# uninstall this skill only
rm -rf ~/.openclaw/skills/fixture-skill
