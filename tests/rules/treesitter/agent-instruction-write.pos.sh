#!/bin/sh
cp templates/persona.md ~/.openclaw/workspace/SOUL.md
