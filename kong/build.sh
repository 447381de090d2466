#!/bin/sh
# The Kong pipeline of STYLE.md §15: openapi/gridpulse.openapi.json -> kong/kong.yaml.
#   openapi2kong (operations under /api/v1/) -> patch kong/patches.yaml + public paths
#   (kong/public-paths.yaml, incl. route groups with a service of their own) -> add-plugins
#   kong/plugins/*.yaml -> render + kong/extras.yaml + kong/consumers.yaml + kong/anonymous.yaml
#   -> validate -> kong/kong.yaml (generated, committed).
# The stages are decK's file operations, run by kong/build.ts because decK cannot be installed on
# this project's machines; kong/build-deck.sh runs the same stages with the real decK when it is.
# Usage: sh kong/build.sh [--out FILE|-] [--stages DIR]
set -eu
cd "$(dirname "$0")/.."
if [ -x node_modules/.bin/bun ]; then BUN=node_modules/.bin/bun; else BUN=bun; fi
exec "$BUN" kong/build.ts "$@"
