#!/bin/sh
npx -y @modelcontextprotocol/server-filesystem ~/notes
npx prettier --check .
