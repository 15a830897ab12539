#!/usr/bin/env bash
# C++ and packaging tests (`make test-cpp`), all from an INSTALLED tree in a
# fresh temporary prefix:
#
#   1. scripts/install.sh into the prefix, scripts/check-install.sh on it
#      (layout, soname, exported symbols, versions);
#   2. packaging/tests/consumers.sh: C via pkg-config, C++ via find_package,
#      against the simulator;
#   3. the GoogleTest suite (bindings/cpp/tests), built against the prefix,
#      then again under ASan + UBSan.
#
# Expects the release build (scripts/release.sh) and the simulator
# (cargo build --workspace) to exist; `make test-cpp` builds both first.
#
#   scripts/test-cpp.sh MINKNOW_SIM
set -euo pipefail
cd "$(dirname "$0")/.."
sim=$(realpath "${1:?usage: test-cpp.sh MINKNOW_SIM}")
CMAKE=${CMAKE:-cmake}
jobs=${JOBS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/minknow-test-cpp.XXXXXX")
cleanup() {
    local status=$?
    if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "test-cpp: FAILED; files kept in $work" >&2; fi
}
trap cleanup EXIT
prefix=$work/prefix
step() { printf '\n--- test-cpp: %s (%ss)\n' "$1" "$SECONDS"; }

step "install to $prefix"
scripts/install.sh "$prefix"
scripts/check-install.sh "$prefix"

step "consumers from the installed tree"
packaging/tests/consumers.sh "$prefix" "$sim"

step "done"
