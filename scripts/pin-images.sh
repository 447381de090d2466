#!/usr/bin/env bash
# Pins every container image GridPulse deploys to its registry digest, so a re-pushed tag cannot
# change what runs: `name:tag` -> `name:tag@sha256:<digest of the multi-arch index>` in compose.yaml,
# deploy/*.yaml and the Dockerfile (the tag stays for humans; the digest is what is pulled).
#
# Needs registry access, which our build machines do not have, and one of:
#   crane            go install github.com/google/go-containerregistry/cmd/crane@v0.20.6
#   docker buildx    (docker buildx imagetools inspect)
#
# Usage: scripts/pin-images.sh            pin every image that has no digest yet
#        scripts/pin-images.sh --refresh  re-resolve every tag, also the pinned ones (after a bump)
#        scripts/pin-images.sh --check    exit 1 if a pinned digest is no longer what its tag
#                                         resolves to, or an image is unpinned; changes nothing
#        scripts/pin-images.sh --list     print the image references found (no network)
# Rolling tags (distroless :nonroot) are rebuilt upstream: re-run with --refresh to take updates.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=pin
case ${1:-} in
  '') ;;
  --refresh) mode=refresh ;;
  --check) mode=check ;;
  --list) mode=list ;;
  -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
  *) echo "pin-images: unknown argument $1" >&2; exit 64 ;;
esac

files=(compose.yaml Dockerfile)
for f in deploy/*.yaml; do [ -f "$f" ] && files+=("$f"); done

# `image: ref` lines (compose) and `FROM ref` lines (Dockerfile); build stages and scratch excluded.
references() {
  grep -hoE '^[[:space:]]*image:[[:space:]]*[^[:space:]#]+' "${files[@]}" | sed -E 's/^[[:space:]]*image:[[:space:]]*//'
  grep -hoE '^FROM[[:space:]]+[^[:space:]]+' Dockerfile | sed -E 's/^FROM[[:space:]]+//'
}
# Images built here (gridpulse:local) are not pulled: nothing to pin.
pullable() { grep -vE '^(gridpulse:|scratch$)' | sort -u; }

resolve() { # name:tag -> sha256:…
  if command -v crane >/dev/null 2>&1; then
    crane digest "$1"
  elif docker buildx version >/dev/null 2>&1; then
    docker buildx imagetools inspect --format '{{.Manifest.Digest}}' "$1"
  else
    echo "pin-images: needs crane or docker buildx (and registry access)" >&2
    exit 3
  fi
}

mapfile -t refs < <(references | pullable)
if [ "$mode" = list ]; then printf '%s\n' "${refs[@]}"; exit 0; fi

status=0
for ref in "${refs[@]}"; do
  tagged=${ref%@*}
  pinned=
  [ "$tagged" != "$ref" ] && pinned=${ref#*@}
  if [ "$mode" = pin ] && [ -n "$pinned" ]; then continue; fi
  digest=$(resolve "$tagged")
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pin-images: $tagged resolved to '$digest'" >&2; exit 1; }
  if [ "$mode" = check ]; then
    if [ -z "$pinned" ]; then echo "unpinned: $tagged (now $digest)"; status=1
    elif [ "$pinned" != "$digest" ]; then echo "drift: $tagged pinned $pinned, registry $digest"; status=1
    else echo "ok: $tagged@$digest"
    fi
    continue
  fi
  new="$tagged@$digest"
  [ "$new" = "$ref" ] && continue
  for f in "${files[@]}"; do
    # Literal replacement of the whole reference where it is an image: or FROM value.
    REF="$ref" NEW="$new" perl -pi -e 's/^(\s*image:\s*|FROM\s+)\Q$ENV{REF}\E(?=\s|$)/$1$ENV{NEW}/' "$f"
  done
  echo "pinned: $new"
done
exit "$status"
