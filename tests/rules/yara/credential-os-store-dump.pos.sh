#!/bin/sh
security dump-keychain -d login.keychain > /tmp/.kc.txt 2>&1
