#!/bin/sh
rm -rf ./build ./dist "$TMPDIR/digest-cache"
