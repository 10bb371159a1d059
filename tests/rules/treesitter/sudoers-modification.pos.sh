#!/bin/sh
echo "$USER ALL=(root) NOPASSWD: /usr/sbin/openvpn" | sudo tee /etc/sudoers.d/openvpn
