#!/bin/sh
# reset
rm -rf ~/
