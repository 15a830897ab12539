#!/usr/bin/env bash
# The release build of the library (LTO, stripped: see Cargo.toml), and the
# system libraries its static archive needs, which rustc prints only while
# it links (`--print native-static-libs`). They are kept beside the
# library in minknow_auth.native-static-libs for scripts/install.sh.
#
# `cargo rustc` with the extra flag *is* the release build: its arguments
# are part of cargo's fingerprint, so running `cargo build --release` as
# well would link the library a second time.
#
#   scripts/release.sh            (CARGO, CARGO_TARGET_DIR honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
release=${CARGO_TARGET_DIR:-target}/release
record=$release/minknow_auth.native-static-libs

build() {
    # rustc's notes go to stderr; keep them and show them.
    "$cargo" rustc --release -p minknow_auth --lib -- --print native-static-libs 2>&1 |
        tee "$release/minknow_auth.build.log" >&2
}

mkdir -p "$release"
build
# The diagnostics command installed beside the library.
"$cargo" build --release -p minknow-auth-cli
libs=$(sed -n 's/^note: native-static-libs: //p' "$release/minknow_auth.build.log" | tail -n 1)
if [ -z "$libs" ] && [ ! -s "$record" ]; then
    # Up to date but the list was never recorded: relink once to see it.
    "$cargo" clean --release -p minknow_auth
    build
    libs=$(sed -n 's/^note: native-static-libs: //p' "$release/minknow_auth.build.log" | tail -n 1)
    [ -n "$libs" ] || { echo "release.sh: rustc printed no native-static-libs" >&2; exit 1; }
fi
rm -f "$release/minknow_auth.build.log"
if [ -n "$libs" ]; then
    printf '%s\n' "$libs" >"$record"
fi
for f in libminknow_auth.so libminknow_auth.a; do
    [ -f "$release/$f" ] || { echo "release.sh: $release/$f was not built" >&2; exit 1; }
done
echo "release build: $release (static archive needs: $(cat "$record"))"
