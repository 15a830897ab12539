#!/usr/bin/env bash
# Install the release build (scripts/release.sh) under PREFIX:
#
#   lib/libminknow_auth.so.X.Y.Z      the shared library (soname from build.rs)
#   lib/libminknow_auth.so.N          -> libminknow_auth.so.X.Y.Z (the soname)
#   lib/libminknow_auth.so            -> libminknow_auth.so.N (for -lminknow_auth)
#   lib/libminknow_auth.a             the static library (debug info stripped)
#   include/minknow_auth.h            the C header
#   include/minknow_auth.hpp          the C++17 header
#   lib/pkgconfig/minknow_auth.pc
#   lib/cmake/minknow_auth/minknow_authConfig.cmake
#   lib/cmake/minknow_auth/minknow_authConfigVersion.cmake
#   bin/minknow-auth                  the diagnostics command (doctor, ...)
#
# X.Y.Z is Cargo.toml's version; the header's version macros must agree or
# nothing is installed. DESTDIR stages the tree elsewhere (files go to
# $DESTDIR$PREFIX; the .pc names PREFIX).
#
#   scripts/install.sh PREFIX        (CARGO_TARGET_DIR, DESTDIR honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: install.sh PREFIX}
case "$prefix" in /*) ;; *) echo "install.sh: PREFIX must be absolute: $prefix" >&2; exit 2 ;; esac
release=${CARGO_TARGET_DIR:-target}/release
dest=${DESTDIR:-}$prefix

die() { echo "install.sh: $*" >&2; exit 1; }

# The version: `version = "..."` in Cargo.toml's [package] table.
version=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ { gsub(/.*=[ \t]*"|".*/, ""); print; exit }
' Cargo.toml)
[[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
    die "no X.Y.Z version in Cargo.toml: '$version'"
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}

macro() { sed -n "s/^#define MINKNOW_AUTH_VERSION_$1 \\([0-9]*\\)\$/\\1/p" include/minknow_auth.h; }
header="$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
[ "$header" = "$version" ] ||
    die "include/minknow_auth.h says $header, Cargo.toml says $version: run make header"

shared=$release/libminknow_auth.so
static=$release/libminknow_auth.a
libs_file=$release/minknow_auth.native-static-libs
cli=$release/minknow-auth
for f in "$shared" "$static" "$libs_file" "$cli"; do
    [ -s "$f" ] || die "$f is missing: run scripts/release.sh (make release) first"
done
soname=$(readelf -d "$shared" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[[ "$soname" == libminknow_auth.so.* ]] || die "$shared has no soname (got '$soname')"
libs_private=$(cat "$libs_file")
# CMake wants a list: "-lpthread;-ldl;...".
libs_private_cmake=$(printf '%s' "$libs_private" | tr -s ' ' ';')

fill() {
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
        -e "s|@VERSION_MAJOR@|$major|g" -e "s|@SONAME@|$soname|g" \
        -e "s|@LIBS_PRIVATE@|$libs_private|g" -e "s|@LIBS_PRIVATE_CMAKE@|$libs_private_cmake|g" \
        "$1" >"$2"
    ! grep -n '@[A-Z_]*@' "$2" || die "$2: a placeholder was left unfilled"
}

install -d "$dest/lib/pkgconfig" "$dest/lib/cmake/minknow_auth" "$dest/include" "$dest/bin"
install -m 755 "$cli" "$dest/bin/minknow-auth"
install -m 755 "$shared" "$dest/lib/libminknow_auth.so.$version"
ln -sfn "libminknow_auth.so.$version" "$dest/lib/$soname"
ln -sfn "$soname" "$dest/lib/libminknow_auth.so"
install -m 644 "$static" "$dest/lib/libminknow_auth.a"
# Cargo's `strip` setting covers the shared library only; the archive
# carries the standard library's debug information (about a quarter of it).
strip --strip-debug "$dest/lib/libminknow_auth.a"
install -m 644 include/minknow_auth.h include/minknow_auth.hpp "$dest/include/"
fill packaging/minknow_auth.pc.in "$dest/lib/pkgconfig/minknow_auth.pc"
fill packaging/minknow_authConfig.cmake.in "$dest/lib/cmake/minknow_auth/minknow_authConfig.cmake"
fill packaging/minknow_authConfigVersion.cmake.in \
    "$dest/lib/cmake/minknow_auth/minknow_authConfigVersion.cmake"
echo "installed libminknow_auth $version (soname $soname) under $dest"
