#!/usr/bin/env bash
# Prints the path of a livekit-server binary at the pinned version on its last line.
#   1. `livekit-server` on PATH, if `--version` reports the pinned version;
#   2. otherwise the copy in the git-ignored cache (.cache/livekit-server/), built once by
#      `go install` from LiveKit's own Go module (needs Go and the Go module proxy the first time).
# Everything else (build progress, reasons) goes to stderr, so `$(bash scripts/livekit-server.sh | tail -n1)`
# is the path. LIVEKIT_SERVER_CACHE moves the cache folder. With --no-build it only looks (steps 1
# and 2) and exits 1 with the reason when there is no such binary.
set -euo pipefail
build=1
[ "${1:-}" = "--no-build" ] && build=0

version=1.13.5
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${LIVEKIT_SERVER_CACHE:-$root/.cache/livekit-server}"
cached="$cache/livekit-server-$version"

# `livekit-server --version` prints "livekit-server version 1.13.5".
is_pinned() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qE "version $version\$"; }

if on_path="$(command -v livekit-server)" && is_pinned "$on_path"; then
  echo "$on_path"
  exit 0
fi
if is_pinned "$cached"; then
  echo "$cached"
  exit 0
fi

if [ "$build" = 0 ]; then
  echo "no livekit-server $version on PATH or in $cache (bash scripts/livekit-server.sh builds it with Go)" >&2
  exit 1
fi
if ! command -v go >/dev/null; then
  echo "livekit-server $version is not on PATH and Go is not installed to build it (https://go.dev/dl/)" >&2
  exit 1
fi
mkdir -p "$cache"
# Built into a private folder, then moved into place: an interrupted build leaves no half binary.
staging="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "building livekit-server $version with $(go version) (first time only) ..." >&2
# The main package is cmd/server, so go install names the binary `server`.
GOBIN="$staging" CGO_ENABLED=0 go install "github.com/livekit/livekit-server/cmd/server@v$version" >&2
mv "$staging/server" "$cached"
is_pinned "$cached" || { echo "built $cached but it does not report version $version" >&2; exit 1; }
echo "$cached"
