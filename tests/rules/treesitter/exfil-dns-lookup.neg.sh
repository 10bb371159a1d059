#!/bin/sh
# check the user's domain
dig +short "$1" MX
nslookup "$DOMAIN"
