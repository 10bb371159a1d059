#!/bin/sh
# receive a file from a colleague on the LAN
nc -l -p 8888 > received-report.pdf
