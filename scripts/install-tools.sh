#!/usr/bin/env bash
# Installs GridPulse's pinned deployment tools into ${GRIDPULSE_CACHE:-$HOME/.cache/gridpulse}/bin,
# idempotently (an installed pinned version is reused), and prints the path of each, one per line.
#
#   deck            Kong decK, `go install github.com/kong/deck@$DECK_VERSION`
#   docker-compose  Docker Compose v2, built from the Go module github.com/docker/compose/v2
#                   (`go install …/cmd@v` is refused for that module because its go.mod has
#                   exclude directives, so the module source is downloaded and built in place)
#   schemathesis    the OpenAPI property-based tester (tests/contract), from PyPI into its own
#                   Python venv under the cache (needs python3 >= 3.10 with venv and PyPI)
#
# Usage: scripts/install-tools.sh [deck|docker-compose|schemathesis]...     (default: deck)
# Exit status: 0 all installed; 3 a tool cannot be obtained on this machine (no Go, or the Go
# module proxy refuses the module: then callers skip what needs it); 1 anything else.
# Both need Go >= 1.24 and the Go module proxy; the Go module cache makes re-installs fast.
set -euo pipefail

# decK: v1.61.0 is the newest release we could see (2026-05). The Go module proxy reachable from
# this project's machines refuses every github.com/kong/deck version (403), so it is unverified
# with go1.26 here; bump it where decK can be installed.
readonly DECK_VERSION=v1.61.0
# Compose: the newest github.com/docker/compose/v2 the Go module proxy listed (2026-11); builds
# with go1.26.8 (about 4 minutes cold on 2 cores, mostly downloads; seconds with the caches warm).
readonly COMPOSE_VERSION=v2.40.3
# Schemathesis: the newest on PyPI (2026-12); its CLI flags changed across 3.x → 4.x, and
# tests/contract/schemathesis.test.ts uses the 4.x ones.
readonly SCHEMATHESIS_VERSION=4.32.5

CACHE_ROOT="${GRIDPULSE_CACHE:-${HOME:-/tmp}/.cache/gridpulse}"
BIN="$CACHE_ROOT/bin"
mkdir -p "$BIN"

unobtainable() { echo "install-tools: $1" >&2; exit 3; }

need_go() {
  command -v go >/dev/null 2>&1 || unobtainable "go is not installed; cannot build $1"
}

refused() { grep -Eq '403 Forbidden|410 Gone|404 Not Found|not available|no matching versions|unknown revision' "$1"; }

install_deck() {
  local target="$BIN/deck-$DECK_VERSION"
  if [ ! -x "$target" ]; then
    need_go deck
    local tmp log
    tmp=$(mktemp -d)
    log="$tmp/log"
    echo "install-tools: go install github.com/kong/deck@$DECK_VERSION" >&2
    if ! GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/kong/deck@$DECK_VERSION" >"$log" 2>&1; then
      cat "$log" >&2
      if refused "$log"; then rm -rf "$tmp"; unobtainable "the Go module proxy does not serve github.com/kong/deck@$DECK_VERSION"; fi
      rm -rf "$tmp"; exit 1
    fi
    mv "$tmp/deck" "$target"
    rm -rf "$tmp"
  fi
  ln -sfn "deck-$DECK_VERSION" "$BIN/deck"
  echo "$target"
}

install_compose() {
  local target="$BIN/docker-compose-$COMPOSE_VERSION"
  if [ ! -x "$target" ]; then
    need_go docker-compose
    local tmp log dir
    tmp=$(mktemp -d)
    log="$tmp/log"
    echo "install-tools: building github.com/docker/compose/v2@$COMPOSE_VERSION (a few minutes cold)" >&2
    if ! (cd "$tmp" && go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION") >"$tmp/dl.json" 2>"$log"; then
      cat "$log" >&2
      if refused "$log"; then rm -rf "$tmp"; unobtainable "the Go module proxy does not serve github.com/docker/compose/v2@$COMPOSE_VERSION"; fi
      rm -rf "$tmp"; exit 1
    fi
    dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$tmp/dl.json")
    cp -r "$dir" "$tmp/src"
    chmod -R u+w "$tmp/src"
    if ! (cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
        -o "$tmp/docker-compose" ./cmd) >"$log" 2>&1; then
      cat "$log" >&2
      if refused "$log"; then rm -rf "$tmp"; unobtainable "a dependency of docker/compose is not served"; fi
      rm -rf "$tmp"; exit 1
    fi
    mv "$tmp/docker-compose" "$target"
    rm -rf "$tmp"
  fi
  ln -sfn "docker-compose-$COMPOSE_VERSION" "$BIN/docker-compose"
  echo "$target"
}

install_schemathesis() {
  local venv="$CACHE_ROOT/venv-schemathesis-$SCHEMATHESIS_VERSION"
  # The stamp is written last: a half-built venv (interrupted pip) is rebuilt, not reused.
  if [ ! -f "$venv/.installed" ]; then
    command -v python3 >/dev/null 2>&1 || unobtainable "python3 is not installed; cannot install schemathesis"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
      unobtainable "schemathesis $SCHEMATHESIS_VERSION needs python3 >= 3.10"
    local log
    log=$(mktemp)
    rm -rf "$venv"
    echo "install-tools: pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
    if ! python3 -m venv "$venv" >"$log" 2>&1; then
      cat "$log" >&2; rm -rf "$venv" "$log"; unobtainable "python3 has no working venv module"
    fi
    # Its dependencies are pinned too (a new Hypothesis can change what a run generates); a Python
    # for which some pinned wheel does not exist falls back to what pip resolves, said loudly.
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
        --constraint "$(dirname "$0")/schemathesis-constraints.txt" \
        "schemathesis==$SCHEMATHESIS_VERSION" >"$log" 2>&1 &&
      ! { echo "install-tools: the pinned dependencies do not install here; unpinned:" >&2 && cat "$log" >&2 &&
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
          "schemathesis==$SCHEMATHESIS_VERSION" >"$log" 2>&1; }; then
      cat "$log" >&2; rm -rf "$venv" "$log"
      unobtainable "PyPI did not serve schemathesis==$SCHEMATHESIS_VERSION"
    fi
    rm -f "$log"
    touch "$venv/.installed"
  fi
  ln -sfn "../venv-schemathesis-$SCHEMATHESIS_VERSION/bin/schemathesis" "$BIN/schemathesis"
  echo "$venv/bin/schemathesis"
}

[ "$#" -gt 0 ] || set -- deck
for tool in "$@"; do
  case $tool in
    deck) install_deck ;;
    docker-compose|compose) install_compose ;;
    schemathesis) install_schemathesis ;;
    *) echo "install-tools: unknown tool '$tool' (deck, docker-compose, schemathesis)" >&2; exit 1 ;;
  esac
done
