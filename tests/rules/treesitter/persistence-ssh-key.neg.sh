#!/bin/sh
# list the keys that may log in (read only)
cat ~/.ssh/authorized_keys | wc -l
