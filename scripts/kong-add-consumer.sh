#!/usr/bin/env bash
# Adds a consumer team to Kong: appends it to kong/consumers.yaml (ACL group gridpulse-read, plus
# gridpulse-write for `write`), regenerates kong/kong.yaml, generates the team's key into the env
# file (scripts/setup-env.sh; the key never enters the repository) and says how to apply it.
#
# Usage: scripts/kong-add-consumer.sh <team> [read|write]      (team: ^[a-z][a-z0-9-]*$)
# Then commit kong/consumers.yaml and kong/kong.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."

team=${1:-}
access=${2:-read}
if ! printf '%s' "$team" | grep -Eq '^[a-z][a-z0-9-]{0,39}$'; then
  echo "usage: scripts/kong-add-consumer.sh <team> [read|write]   (team: lower-case letters, digits, '-')" >&2
  exit 1
fi
case $access in read|write) ;; *) echo "kong-add-consumer: access must be read or write" >&2; exit 1 ;; esac
if grep -Eq "^[[:space:]]*- username:[[:space:]]*$team[[:space:]]*$" kong/consumers.yaml; then
  echo "kong-add-consumer: '$team' is already a consumer in kong/consumers.yaml" >&2
  exit 1
fi

{
  printf '  - username: %s\n' "$team"
  printf '    acls:\n      - group: gridpulse-read\n'
  [ "$access" = write ] && printf '      - group: gridpulse-write\n'
  printf '    keyauth_credentials:\n'
  printf '      - key: "{vault://env/gridpulse-key-%s}"\n' "$team"
} >> kong/consumers.yaml

sh kong/build.sh
env_file=$(scripts/setup-env.sh)
var="GRIDPULSE_KEY_$(printf '%s' "$team" | tr 'a-z-' 'A-Z_')"

cat <<MSG

Added consumer '$team' ($access) to kong/consumers.yaml and regenerated kong/kong.yaml.
Its key is $var in $env_file (hand it to the team over a secure channel; it is sent in the
\`apikey\` header). To apply it:

  docker compose --env-file $env_file up -d --force-recreate kong

(Kong is DB-less: a restart reloads kong.yaml and the env file.) Commit kong/consumers.yaml and
kong/kong.yaml; never the env file.
MSG
