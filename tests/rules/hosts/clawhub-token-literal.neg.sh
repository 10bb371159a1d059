#!/usr/bin/env bash
# clawhub login --token clh_<your token>
clawhub login --token "$CLAWHUB_TOKEN"
clawhub publish .
