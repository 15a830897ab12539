#!/usr/bin/env bash
# Programs built from an INSTALLED tree (scripts/install.sh PREFIX), as a
# user would build them, run against a simulator that requires client
# certificates:
#
#   - examples/positions.c through pkg-config, linked with the shared
#     library and, through Libs.private, with the static one;
#   - packaging/tests/version.c: header macros = the loaded library's version
#     = Cargo.toml's;
#   - bindings/cpp/examples (positions.cpp) through CMake's
#     find_package(minknow_auth), shared and static.
#
# Each must list X1 and X2 with their own versions ("6.3.7-sim X1").
#
#   packaging/tests/consumers.sh PREFIX MINKNOW_SIM
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=${1:?usage: consumers.sh PREFIX MINKNOW_SIM}
sim=${2:?usage: consumers.sh PREFIX MINKNOW_SIM}
CC=${CC:-cc}
CMAKE=${CMAKE:-cmake}
STRICT_C=(-std=c11 -Wall -Wextra -pedantic -Werror)

work=$(mktemp -d)
sim_pid=
cleanup() {
    [ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
die() { echo "consumers: $*" >&2; exit 1; }
step() { echo "consumers: $*"; }

version=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ { gsub(/.*=[ \t]*"|".*/, ""); print; exit }
' Cargo.toml)

# Only the installed tree: no source-tree include or library path leaks in.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
unset CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH
[ "$(pkg-config --modversion minknow_auth)" = "$version" ] || die "pkg-config version is not $version"
libdir=$(pkg-config --variable=libdir minknow_auth)

step "C through pkg-config (shared)"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
"$CC" "${STRICT_C[@]}" examples/positions.c $(pkg-config --cflags minknow_auth) \
    $(pkg-config --libs minknow_auth) -Wl,-rpath,"$libdir" -o "$work/positions-c"
readelf -d "$work/positions-c" | grep -q 'NEEDED.*\[libminknow_auth\.so\.0\]' ||
    die "positions-c does not load libminknow_auth by its soname"
# shellcheck disable=SC2046
"$CC" "${STRICT_C[@]}" packaging/tests/version.c $(pkg-config --cflags --libs minknow_auth) \
    -Wl,-rpath,"$libdir" -o "$work/version"
loaded=$("$work/version") || die "header and library versions differ"
[ "$loaded" = "$version" ] || die "the library says $loaded, Cargo.toml $version"

step "C through pkg-config --static (libminknow_auth.a + Libs.private)"
static_libs=$(pkg-config --static --libs-only-l minknow_auth | sed 's/-lminknow_auth//')
# shellcheck disable=SC2086,SC2046
"$CC" "${STRICT_C[@]}" examples/positions.c $(pkg-config --cflags minknow_auth) \
    $(pkg-config --libs-only-L minknow_auth) -Wl,-Bstatic -lminknow_auth -Wl,-Bdynamic \
    $static_libs -o "$work/positions-c-static"
! readelf -d "$work/positions-c-static" | grep -q 'libminknow_auth' ||
    die "positions-c-static still needs the shared library"

step "C++ through CMake find_package (shared and static)"
for kind in shared static; do
    flag=OFF
    [ "$kind" = static ] && flag=ON
    "$CMAKE" -S bindings/cpp/examples -B "$work/cpp-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Release -DMINKNOW_AUTH_STATIC=$flag >"$work/cmake-$kind.log" 2>&1 ||
        { cat "$work/cmake-$kind.log" >&2; die "cmake configure ($kind) failed"; }
    "$CMAKE" --build "$work/cpp-$kind" >>"$work/cmake-$kind.log" 2>&1 ||
        { cat "$work/cmake-$kind.log" >&2; die "cmake build ($kind) failed"; }
done
readelf -d "$work/cpp-shared/positions" | grep -q 'NEEDED.*\[libminknow_auth\.so\.0\]' ||
    die "the C++ example does not load libminknow_auth by its soname"

step "against minknow-sim (client certificates required)"
# stdin stays a pipe we hold: the simulator exits with this script.
coproc SIM { exec "$sim" --auth client-cert --dir "$work/sim" --lifetime 120 \
    --exit-on-stdin-eof 2>"$work/sim.log"; }
sim_pid=$SIM_PID
read -r -t 30 ready <&"${SIM[0]}" || { cat "$work/sim.log" >&2; die "the simulator did not start"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
args=(--host 127.0.0.1 --port "$(field manager_port)" --ca "$(field ca)"
    --cert "$(field client_certificate)" --key "$(field client_key)")

for program in positions-c positions-c-static cpp-shared/positions cpp-static/positions; do
    out=$work/$(tr / - <<<"$program").out
    timeout 60 "$work/$program" "${args[@]}" >"$out" 2>&1 ||
        { cat "$out" >&2; die "$program failed"; }
    for p in X1 X2; do
        grep -Eq "^$p +running +[0-9]+ +yes +6\.3\.7-sim $p\$" "$out" ||
            { cat "$out" >&2; die "$program did not list $p with its version"; }
    done
    grep -q '^MinKNOW 6\.3\.7-sim on 127\.0\.0\.1:' "$out" ||
        { cat "$out" >&2; die "$program did not print the manager's version"; }
    step "  $program: ok"
done
sed 's/^/    /' "$work/cpp-shared-positions.out"
step "all consumers passed (libminknow_auth $version from $prefix)"
