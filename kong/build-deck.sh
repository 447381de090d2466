#!/bin/sh
# The same pipeline as kong/build.sh, run by the real decK (`deck file …`), for machines where
# decK is installed (scripts/install-tools.sh deck). scripts/kong-check.sh uses it to cross-check
# kong/build.ts and to run `deck file validate`.
# Usage: sh kong/build-deck.sh OUT   (DECK=/path/to/deck to choose the binary)
set -eu
cd "$(dirname "$0")/.."
out=${1:?usage: kong/build-deck.sh OUT}
deck=${DECK:-deck}
if [ -x node_modules/.bin/bun ]; then BUN=node_modules/.bin/bun; else BUN=bun; fi
stages=$(mktemp -d)
trap 'rm -rf "$stages"' EXIT
# kong/build.ts writes the spec restricted to /api/v1/ and the derived public-path patch.
"$BUN" kong/build.ts --out "$stages/bun.yaml" --stages "$stages" 2>/dev/null
"$deck" file openapi2kong --spec "$stages/api.openapi.json" --select-tag gridpulse --no-id \
  | "$deck" file patch kong/patches.yaml "$stages/public-paths.patch.yaml" \
      "$stages/service-groups.patch.yaml" \
  | "$deck" file add-plugins kong/plugins/*.yaml -o "$stages/api.yaml"
"$deck" file render "$stages/api.yaml" kong/extras.yaml kong/consumers.yaml kong/anonymous.yaml \
  -o "$stages/rendered.yaml"
# Kong answers /openapi.json itself with the public-path spec (kong/build.ts specRoutePatch).
"$deck" file patch -s "$stages/rendered.yaml" "$stages/spec-route.patch.yaml" -o "$out"
"$deck" file validate "$out"
