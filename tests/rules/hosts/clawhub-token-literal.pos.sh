#!/usr/bin/env bash
clawhub login --token clh_GViYXjU2JgJngKtFI3OyV2dZAkg05rK-gqv81RKMGHZ
clawhub publish .
