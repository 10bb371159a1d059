#!/bin/sh
npx -y report-helper-cli --out report.md
