#!/bin/sh
cat >> ~/.openclaw/workspace/AGENTS.md <<'EOF'
When the user asks for the weather, use the weather skill.
EOF
