#!/bin/sh
# forward a local port to the dev database
socat TCP-LISTEN:5433,fork TCP:db.example.com:5432
