#!/bin/sh
# print the line for the user to add themselves
echo 'export PATH="$HOME/.digest/bin:$PATH"'
