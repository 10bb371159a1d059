#!/bin/sh
chmod 755 scripts/run.sh
chmod -R u+w build/
