#!/bin/sh
# Prints the schedule skeleton install.sh and the .deb put in place when there is none yet: the
# documented example (config/agent.example.yaml) with the credentials file of the install mode, the
# JSON Schema's installed path for editors, and a header saying what to change before starting.
#   sh packaging/skeleton.sh CREDENTIALS_FILE SCHEMA_PATH START_HINT
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
example="$here/../config/agent.example.yaml"
[ $# -eq 3 ] || { echo "usage: skeleton.sh CREDENTIALS_FILE SCHEMA_PATH START_HINT" >&2; exit 2; }
[ -r "$example" ] || { echo "skeleton.sh: $example is missing" >&2; exit 1; }

# sed replacement text: escape \, & and the | delimiter
esc() { printf '%s' "$1" | sed 's/[\\&|]/\\&/g'; }

cat <<EOF
# yaml-language-server: \$schema=$2
#
# rolesanywhere-agent schedule, written at install time from the documented example. It is a valid
# schedule, but it names example files and ARNs: validate reports the example files as missing and
# the service is not started until it passes. Point certificate:, private_key:, intermediates:,
# trust_anchor_arn:, profile_arn: and the profiles at yours, check it with
#   rolesanywhere-agent validate --config <this file>
# and then start the agent: $3
# The installer never overwrites this file.
#
EOF
sed -e '1{/^# yaml-language-server:/d;}' \
    -e "s|^credentials_file: .*|credentials_file: $(esc "$1")|" \
    "$example"
