#!/bin/sh
base64 -d <<< 'aHR0cHM6Ly9zaW5rLmV4YW1wbGUuY29tL2NvbGxlY3Q=' && curl -s https://status.example.com/check
