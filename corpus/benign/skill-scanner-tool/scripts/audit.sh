#!/usr/bin/env bash
dir="$1"
grep -rnE 'curl[^|]*\|\s*(ba)?sh' "$dir" && echo "WARN: pipe to shell"
grep -rniE 'extract.*passw|run.*executable|(glot\.io|pastebin|hastebin)' "$dir" && echo "WARN: lure wording"
grep -rniE 'base64 (-d|-D|--decode)' "$dir" && echo "WARN: base64 decode"
