#!/bin/sh
# read recent errors
tail -n 50 /var/log/syslog | grep -i error
