#!/bin/sh
# is the service up?
nc -zv example.com 443
nc -l 8080 > received.txt
