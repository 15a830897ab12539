#!/usr/bin/env bash
# Vet and test the Go binding against the in-tree library and simulator
# (built here with `cargo build --workspace` unless MINKNOW_SKIP_CARGO=1).
# Extra arguments go to `go test`, e.g. `./test.sh -run Stream -v`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
libdir="$target/debug"

command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "test.sh needs Go 1.26 or later on PATH" >&2; exit 1; }

if [ "${MINKNOW_SKIP_CARGO:-0}" != 1 ]; then
    (cd "$repo" && cargo build --workspace)
fi

# The in-tree library, header and simulator; see cgo.go for the other way
# (pkg-config, with -tags minknow_pkgconfig).
export CGO_ENABLED=1
export CGO_CFLAGS="-I$repo/include"
export CGO_LDFLAGS="-L$libdir -Wl,-rpath,$libdir"
export MINKNOW_SIM="$libdir/minknow-sim"

cd "$here"
go mod download
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
    echo "gofmt would change: $unformatted" >&2
    exit 1
fi
go vet ./...
go test -race -count=1 "$@" ./...
