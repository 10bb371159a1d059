#!/bin/sh
# decode the user's attachment
base64 -d "$1" > attachment.bin
