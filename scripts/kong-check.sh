#!/usr/bin/env bash
# Fails when kong/kong.yaml is not what kong/build.sh generates from the current spec and kong/
# inputs (drift), or when the generated config does not validate. When decK is installed
# (scripts/install-tools.sh deck, or DECK=/path), also runs `deck file validate kong/kong.yaml`
# and the real decK pipeline (kong/build-deck.sh), and reports where decK's output differs.
#
# Usage: scripts/kong-check.sh         exit 0 ok, 1 drift or invalid
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x node_modules/.bin/bun ]; then BUN=node_modules/.bin/bun; else BUN=bun; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUN" kong/build.ts --out "$tmp/kong.yaml" 2>"$tmp/build.log" || { cat "$tmp/build.log" >&2; exit 1; }
if ! diff -u kong/kong.yaml "$tmp/kong.yaml" > "$tmp/diff"; then
  echo "kong-check: kong/kong.yaml is stale (it differs from what the spec and kong/ generate):" >&2
  head -60 "$tmp/diff" >&2
  echo "kong-check: run 'sh kong/build.sh' and commit kong/kong.yaml" >&2
  exit 1
fi
echo "kong-check: kong/kong.yaml is up to date and valid"

deck=${DECK:-}
if [ -z "$deck" ]; then
  cache="${GRIDPULSE_CACHE:-${HOME:-/tmp}/.cache/gridpulse}/bin/deck"
  if [ -x "$cache" ]; then deck=$cache; elif command -v deck >/dev/null 2>&1; then deck=deck; fi
fi
if [ -z "$deck" ]; then
  echo "kong-check: decK not installed: skipped 'deck file validate' (scripts/install-tools.sh deck)"
  exit 0
fi
"$deck" file validate kong/kong.yaml
echo "kong-check: deck file validate kong/kong.yaml: ok"
if DECK="$deck" sh kong/build-deck.sh "$tmp/deck.yaml" >/dev/null 2>"$tmp/deck.log" && [ -s "$tmp/deck.yaml" ]; then
  # Same entities? (decK may order keys differently or fill defaults: reported, not fatal.)
  "$BUN" -e 'const n = async (f) => JSON.stringify(Bun.YAML.parse(await Bun.file(f).text()), (k, v) => (k === "id" ? undefined : v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v), 2); await Bun.write(process.argv[3], await n(process.argv[1])); await Bun.write(process.argv[4], await n(process.argv[2]))' \
    kong/kong.yaml "$tmp/deck.yaml" "$tmp/a.json" "$tmp/b.json"
  if ! diff -u "$tmp/a.json" "$tmp/b.json" > "$tmp/deck.diff"; then
    echo "kong-check: note: decK's own pipeline output differs from kong/build.ts (first lines of the diff):"
    head -40 "$tmp/deck.diff"
  else
    echo "kong-check: decK's own pipeline produces the same config"
  fi
else
  echo "kong-check: note: the real decK pipeline failed:" >&2
  cat "$tmp/deck.log" >&2
fi
