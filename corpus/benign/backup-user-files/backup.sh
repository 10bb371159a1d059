#!/bin/bash
set -euo pipefail
DEST="$HOME/Backups/$(date +%Y%m%d)"
mkdir -p "$DEST"
for f in "$@"; do
  cp -p "$f" "$DEST/"
done
tar czf "$DEST.tgz" -C "$DEST" .
echo "backed up $# file(s) to $DEST.tgz"
