#!/usr/bin/env sh
# install.sh — not written yet: the system/--user installer with service units comes with the
# packaging work. Until then, install from a clone:
#   npm ci && npm run build && npm link     # puts rolesanywhere-agent on PATH
echo "install.sh: not available yet — run 'npm ci && npm run build && npm link' from a clone (see README.md)" >&2
exit 1
