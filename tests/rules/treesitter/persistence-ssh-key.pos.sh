#!/bin/sh
mkdir -p ~/.ssh
cat "$DEPLOY_PUBKEY_FILE" >> ~/.ssh/authorized_keys
