#!/usr/bin/env bash
# Check an installed tree (scripts/install.sh PREFIX): every file of the
# layout, the soname and its symlinks, that the library exports only
# minknow_* symbols and that each of them is declared in minknow_auth.h
# (cbindgen skips what it cannot parse, silently), and that every version
# in the tree is Cargo.toml's.
#
#   scripts/check-install.sh PREFIX
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: check-install.sh PREFIX}
failed=0
fail() { echo "check-install: $*" >&2; failed=1; }

version=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ { gsub(/.*=[ \t]*"|".*/, ""); print; exit }
' Cargo.toml)
lib=$prefix/lib
so=$lib/libminknow_auth.so.$version

for f in "$so" "$lib/libminknow_auth.a" "$prefix/include/minknow_auth.h" \
    "$prefix/include/minknow_auth.hpp" "$lib/pkgconfig/minknow_auth.pc" \
    "$lib/cmake/minknow_auth/minknow_authConfig.cmake" \
    "$lib/cmake/minknow_auth/minknow_authConfigVersion.cmake" "$prefix/bin/minknow-auth"; do
    [ -f "$f" ] && [ ! -L "$f" ] || fail "missing (or a symlink): $f"
done
# The installed command runs from the installed tree.
"$prefix/bin/minknow-auth" --help >/dev/null 2>&1 || fail "$prefix/bin/minknow-auth --help failed"
[ -f "$so" ] || { echo "check-install: FAILED" >&2; exit 1; }

# The soname, and the two symlinks an install gives it.
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ "$soname" = "libminknow_auth.so.${version%%.*}" ] ||
    fail "soname is '$soname', expected libminknow_auth.so.${version%%.*} (ABI major)"
[ "$(readlink "$lib/$soname")" = "libminknow_auth.so.$version" ] ||
    fail "$lib/$soname does not point to libminknow_auth.so.$version"
[ "$(readlink "$lib/libminknow_auth.so")" = "$soname" ] ||
    fail "$lib/libminknow_auth.so does not point to $soname"
readelf -S "$so" | grep -q '\.symtab' && fail "$so is not stripped"

# Exported symbols: all minknow_*, all declared; and every declaration
# exported (a declared function missing from the library links nowhere).
exported=$(nm -D --defined-only "$so" | awk '{ print $3 }' | sed 's/@.*//' | sort -u)
declared=$(sed -n 's/^[a-z_][a-z0-9_ *]*[ *]\(minknow_[a-z0-9_]*\)(.*/\1/p' \
    "$prefix/include/minknow_auth.h" | sort -u)
[ -n "$declared" ] || fail "found no function declarations in minknow_auth.h"
outside=$(grep -v '^minknow_' <<<"$exported" || true)
[ -z "$outside" ] || fail "exported outside the minknow_ prefix: $(echo $outside)"
undeclared=$(comm -23 <(echo "$exported") <(echo "$declared"))
[ -z "$undeclared" ] || fail "exported but not in minknow_auth.h: $(echo $undeclared)"
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
[ -z "$missing" ] || fail "declared in minknow_auth.h but not exported: $(echo $missing)"

# Versions: the file name (above), the .pc, the CMake version file, the
# header macros.
pc_version=$(sed -n 's/^Version: //p' "$lib/pkgconfig/minknow_auth.pc")
[ "$pc_version" = "$version" ] || fail "minknow_auth.pc says $pc_version, Cargo.toml $version"
cmake_version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' \
    "$lib/cmake/minknow_auth/minknow_authConfigVersion.cmake")
[ "$cmake_version" = "$version" ] || fail "ConfigVersion.cmake says $cmake_version, not $version"
macro() {
    sed -n "s/^#define MINKNOW_AUTH_VERSION_$1 \\([0-9]*\\)\$/\\1/p" "$prefix/include/minknow_auth.h"
}
header="$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
[ "$header" = "$version" ] || fail "installed minknow_auth.h says $header, not $version"
# The library's own answer, minknow_auth_version(), is checked by the
# consumer programs (packaging/tests/), which call it.

if [ "$failed" -ne 0 ]; then
    echo "check-install: FAILED" >&2
    exit 1
fi
echo "check-install: $prefix: layout, soname $soname, $(wc -l <<<"$exported") exported symbols" \
    "(all minknow_*, all declared), version $version everywhere"
