#!/usr/bin/env bash
# Pins every container image GridPulse deploys to its registry digest, so a re-pushed tag cannot
# change what runs: `name:tag` -> `name:tag@sha256:<digest of the multi-arch index>` in compose.yaml,
# deploy/*.yaml and the Dockerfile (the tag stays for humans; the digest is what is pulled). The
# Dockerfile's per-architecture runtime stages (`FROM name:tag AS runtime-<amd64|arm64>`) get the
# digest of that platform's own manifest instead.
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

# `FROM name:tag AS runtime-<arch>`: the runtime base of one architecture.
ARCH_STAGE='^FROM[[:space:]]+[^[:space:]]+[[:space:]]+AS[[:space:]]+runtime-(amd64|arm64)[[:space:]]*$'

# `image: ref` lines (compose) and `FROM [--platform=…] ref` lines (Dockerfile); build stages,
# stage variables (`FROM runtime-${TARGETARCH}`) and the per-architecture stages excluded.
references() {
  grep -hoE '^[[:space:]]*image:[[:space:]]*[^[:space:]#]+' "${files[@]}" | sed -E 's/^[[:space:]]*image:[[:space:]]*//'
  grep -E '^FROM[[:space:]]' Dockerfile | grep -vE "$ARCH_STAGE" \
    | sed -E 's/^FROM[[:space:]]+(--platform=[^[:space:]]+[[:space:]]+)?([^[:space:]]+).*/\2/' | grep -v '\$' || true
}
# `ref arch` of each per-architecture stage.
arch_stages() { grep -E "$ARCH_STAGE" Dockerfile | awk '{ sub(/^runtime-/, "", $4); print $2, $4 }' || true; }
# Images built here (gridpulse:local) are not pulled: nothing to pin.
pullable() { grep -vE '^(gridpulse:|scratch$)' | sort -u; }

resolve() { # name:tag [arch] -> sha256:… (of the index, or of the arch's linux manifest)
  if command -v crane >/dev/null 2>&1; then
    crane digest ${2:+--platform "linux/$2"} "$1"
  elif docker buildx version >/dev/null 2>&1; then
    if [ -n "${2:-}" ]; then
      docker buildx imagetools inspect --format "{{range .Manifest.Manifests}}{{if and (eq .Platform.OS \"linux\") (eq .Platform.Architecture \"$2\")}}{{println .Digest}}{{end}}{{end}}" "$1" | head -1
    else
      docker buildx imagetools inspect --format '{{.Manifest.Digest}}' "$1"
    fi
  else
    echo "pin-images: needs crane or docker buildx (and registry access)" >&2
    exit 3
  fi
}

mapfile -t refs < <(references | pullable)
mapfile -t stages < <(arch_stages)
if [ "$mode" = list ]; then
  { printf '%s\n' "${refs[@]}"; for s in "${stages[@]}"; do echo "${s% *}"; done; } | pullable
  exit 0
fi

status=0
# pin REF [ARCH]: resolves REF's tag (for ARCH's platform) and rewrites REF where it is an image:
# or FROM value (with ARCH: only on its `AS runtime-ARCH` line).
pin() {
  local ref=$1 arch=${2:-} tagged=${1%@*} pinned= digest new
  [ "$tagged" != "$ref" ] && pinned=${ref#*@}
  if [ "$mode" = pin ] && [ -n "$pinned" ]; then return; fi
  digest=$(resolve "$tagged" "$arch")
  local what="$tagged${arch:+ ($arch)}"
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pin-images: $what resolved to '$digest'" >&2; exit 1; }
  if [ "$mode" = check ]; then
    if [ -z "$pinned" ]; then echo "unpinned: $what (now $digest)"; status=1
    elif [ "$pinned" != "$digest" ]; then echo "drift: $what pinned $pinned, registry $digest"; status=1
    else echo "ok: $tagged@$digest${arch:+ ($arch)}"
    fi
    return
  fi
  new="$tagged@$digest"
  [ "$new" = "$ref" ] && return
  if [ -n "$arch" ]; then
    REF="$ref" NEW="$new" STAGE="runtime-$arch" perl -pi -e 's/^FROM\s+\Q$ENV{REF}\E(?=\s+AS\s+\Q$ENV{STAGE}\E\s*$)/FROM $ENV{NEW}/' Dockerfile
  else
    for f in "${files[@]}"; do
      # Literal replacement of the whole reference where it is an image: or FROM value.
      REF="$ref" NEW="$new" perl -pi -e 's/^(\s*image:\s*|FROM\s+(?:--platform=\S+\s+)?)\Q$ENV{REF}\E(?=\s|$)(?!\s+AS\s+runtime-)/$1$ENV{NEW}/' "$f"
    done
  fi
  echo "pinned: $new${arch:+ ($arch)}"
}
for ref in "${refs[@]}"; do pin "$ref"; done
for s in "${stages[@]}"; do pin "${s% *}" "${s#* }"; done
exit "$status"
