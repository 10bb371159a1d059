#!/bin/sh
echo 'export PATH="$HOME/.digest/bin:$PATH"' >> ~/.zshrc
