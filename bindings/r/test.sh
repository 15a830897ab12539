#!/usr/bin/env bash
# `make test-r`: R CMD build and R CMD check --no-manual on the minknowauth
# package, whose testthat suite runs against the simulator. Fails on any
# check ERROR or WARNING (NOTEs are explained in minknowauth/README.md).
#
#   bindings/r/test.sh [SIM_BINARY [LIBDIR]]
# defaults: target/debug/minknow-sim and target/debug of this tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sim=$(realpath "${1:-$root/target/debug/minknow-sim}")
libdir=$(realpath "${2:-$root/target/debug}")

for f in "$sim" "$libdir/libminknow_auth.so" "$root/include/minknow_auth.h"; do
    [ -e "$f" ] || { echo "test-r: $f is missing (cargo build --workspace)" >&2; exit 1; }
done
command -v R >/dev/null || { echo "test-r: R is not installed (see README.md, R)" >&2; exit 1; }

# Read by configure (where the library is) and by tests/testthat's helper
# (the simulator and the proto schema).
export MINKNOW_AUTH_INCLUDE="$root/include" MINKNOW_AUTH_LIBDIR="$libdir"
export MINKNOW_SIM="$sim" MINKNOW_PROTO_DIR="$root/proto"
# Suggested packages are required here: nothing in the suite may be skipped.
export _R_CHECK_FORCE_SUGGESTS_=true
# The suite's child processes must not see the caller's MinKNOW settings.
unset MINKNOW_TRUSTED_CA MINKNOW_API_CLIENT_CERTIFICATE_CHAIN MINKNOW_API_CLIENT_KEY \
    MINKNOW_API_USE_LOCAL_TOKEN PROTOCOL_TOKEN MINKNOW_RPC_PORT_SECURE

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# R CMD check looks packages up in the repositories R is configured with
# (Debian's Rprofile.site names CRAN); point it at an empty local one so
# that nothing leaves this machine.
mkdir -p repo/src/contrib
: > repo/src/contrib/PACKAGES
printf 'options(repos = c(CRAN = "file://%s/repo"))\n' "$work" > Rprofile.site
export R_PROFILE="$work/Rprofile.site"
R CMD build --no-build-vignettes "$root/bindings/r/minknowauth"
tarball=$(ls minknowauth_*.tar.gz)
status=0
R CMD check --no-manual "$tarball" || status=$?

log=minknowauth.Rcheck/00check.log
rout=$(ls minknowauth.Rcheck/tests/testthat.Rout* 2>/dev/null | head -1 || true)
if [ -n "$rout" ]; then
    echo "--- $rout (tail)"
    tail -n 25 "$rout"
fi
if [ "$status" -ne 0 ] || grep -Eq '^\* .*\.\.\. (WARNING|ERROR)' "$log" \
        || ! grep -Eq '^Status: (OK|[0-9]+ NOTEs?)$' "$log"; then
    echo "test-r: R CMD check failed (exit $status):" >&2
    grep -E -A12 '\.\.\. (WARNING|ERROR)' "$log" >&2 || true
    [ -n "$rout" ] && tail -n 60 "$rout" >&2
    exit 1
fi
grep -E '^Status:' "$log"
grep -E -B1 -A8 '\.\.\. NOTE' "$log" || true
# testthat's "[ FAIL 0 | WARN 0 | SKIP 0 | PASS n ]" as the plain closing line.
summary=$(grep -Eo '\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$rout" | tail -1)
fail=$(sed -E 's/.*FAIL ([0-9]+).*/\1/' <<<"$summary")
skip=$(sed -E 's/.*SKIP ([0-9]+).*/\1/' <<<"$summary")
pass=$(sed -E 's/.*PASS ([0-9]+).*/\1/' <<<"$summary")
if [ -z "$summary" ] || [ "$fail" -ne 0 ] || [ "$skip" -ne 0 ] || [ "$pass" -eq 0 ]; then
    echo "test-r: testthat summary not clean: '$summary'" >&2
    exit 1
fi
echo "R: $pass passed, $fail failed"
