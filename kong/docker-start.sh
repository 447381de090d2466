#!/bin/sh
# Entry point of the kong container (compose.yaml): resolves the {vault://env/<name>} placeholders
# in kong/kong.yaml from the environment, writes the result to a private tmpfs file, points
# KONG_DECLARATIVE_CONFIG at it and hands over to the image's own entrypoint.
#
# Why not Kong's env vault directly: in Kong 3.9 OSS neither keyauth_credentials.key nor
# request-transformer's headers are `referenceable`, so Kong would use the placeholder text itself
# (the placeholder would become a working API key). Naming follows Kong's env vault:
# {vault://env/gridpulse-key-analytics} -> $GRIDPULSE_KEY_ANALYTICS.
# Refuses to start (exit 78) when a variable is unset, shorter than 24 characters, or holds a
# character outside [A-Za-z0-9._~+/=-] (keys and secrets come from scripts/setup-env.sh).
#
# Usage: docker-start.sh [CMD...]             (default: kong docker-start)
#        docker-start.sh --render-only OUT    (resolve into OUT and exit; used by tests)
set -eu
template=${GRIDPULSE_KONG_TEMPLATE:-/kong/kong.yaml}
render_only=
if [ "${1:-}" = "--render-only" ]; then
  render_only=${2:?--render-only needs an output file}
  out=$render_only
else
  out=${GRIDPULSE_KONG_RENDERED:-/tmp/gridpulse-kong/kong.yaml}
fi

umask 077
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
cp "$template" "$tmp"
status=0
for name in $(grep -o '{vault://env/[a-z0-9-]*}' "$template" | sed 's/^{vault:\/\/env\///; s/}$//' | sort -u); do
  var=$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')
  value=$(printenv "$var" || true)
  if [ -z "$value" ]; then
    echo "docker-start: $var is not set (for {vault://env/$name}); run scripts/setup-env.sh" >&2
    status=78; continue
  fi
  if [ "${#value}" -lt 24 ]; then
    echo "docker-start: $var is shorter than 24 characters" >&2
    status=78; continue
  fi
  case $value in
    *[!A-Za-z0-9._~+/=-]*)
      echo "docker-start: $var holds a character outside [A-Za-z0-9._~+/=-]" >&2
      status=78; continue ;;
  esac
  sed "s|{vault://env/$name}|$value|g" "$tmp" > "$tmp.next" && mv "$tmp.next" "$tmp"
done
if [ "$status" -ne 0 ]; then rm -f "$tmp"; exit "$status"; fi
if grep -q '{vault://' "$tmp"; then
  echo "docker-start: unresolved vault placeholder left in the config" >&2
  rm -f "$tmp"; exit 78
fi
mv "$tmp" "$out"
[ -n "$render_only" ] && exit 0

export KONG_DECLARATIVE_CONFIG="$out"
[ "$#" -gt 0 ] || set -- kong docker-start
exec /docker-entrypoint.sh "$@"
