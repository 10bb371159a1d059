#!/bin/sh
# make a 10 MB test file
dd if=/dev/zero of=./test.img bs=1M count=10
