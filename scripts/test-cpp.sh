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
    if [ "$status" -eq 0 ]; then
        rm -rf "$work"
    else
        echo "test-cpp: FAILED; files kept in $work" >&2
    fi
}
trap cleanup EXIT
prefix=$work/prefix
step() { printf '\n--- test-cpp: %s (%ss)\n' "$1" "$SECONDS"; }

step "install to $prefix"
scripts/install.sh "$prefix"
scripts/check-install.sh "$prefix"

step "consumers from the installed tree"
packaging/tests/consumers.sh "$prefix" "$sim"

# Build the suite against the prefix; $1: build directory, then cmake flags.
build_suite() {
    local dir=$1
    shift
    "$CMAKE" -S bindings/cpp/tests -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Debug "$@" >"$dir.log" 2>&1 &&
        "$CMAKE" --build "$dir" -j "$jobs" >>"$dir.log" 2>&1 ||
        { cat "$dir.log" >&2; echo "test-cpp: building the suite in $dir failed" >&2; exit 1; }
}
# Each run is bounded: a hung test (a cancel that never lands) fails here.
run_suite() {
    MINKNOW_SIM=$sim timeout --kill-after=10 300 "$1/minknow_auth_cpp_tests" --gtest_brief=1
}

step "GoogleTest suite"
build_suite "$work/gtest"
run_suite "$work/gtest"

step "GoogleTest suite under ASan + UBSan"
# First prove the sanitizers are live here (LeakSanitizer needs ptrace,
# which some containers forbid): a known leak must be reported.
printf '#include <cstdlib>\nint main() { void *volatile p = std::malloc(64); p = nullptr; return 0; }\n' \
    >"$work/leak.cpp"
"${CXX:-c++}" -fsanitize=address,undefined -g -O0 "$work/leak.cpp" -o "$work/leak"
if ASAN_OPTIONS=detect_leaks=1 "$work/leak" 2>"$work/leak.log" ||
    ! grep -q 'detected memory leaks' "$work/leak.log"; then
    cat "$work/leak.log" >&2
    echo "test-cpp: LeakSanitizer does not work on this machine" >&2
    exit 1
fi
build_suite "$work/gtest-asan" -DMINKNOW_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_suite "$work/gtest-asan"

step "done"
