#!/bin/sh
rm -rf ~/.openclaw
