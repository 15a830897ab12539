#!/usr/bin/env bash
# Install what building and testing need beyond Rust: Debian packages
# (C/C++ toolchain, pkg-config, openssl, cmake, GoogleTest, valgrind, R
# and the R package's dependencies) and the pinned Python packages. Only
# what is missing is installed, so a ready machine does nothing. Needs root
# (or sudo) for apt; Rust itself comes from rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=()
for tool in gcc g++ make pkg-config openssl python3 cmake valgrind; do
    command -v "$tool" >/dev/null 2>&1 && continue
    case "$tool" in
        gcc|g++|make) apt_pkgs+=(build-essential) ;;
        *) apt_pkgs+=("$tool") ;;
    esac
done
# make test-cpp: Debian's GoogleTest (headers, libraries, CMake package).
[ -f /usr/include/gtest/gtest.h ] || apt_pkgs+=(libgtest-dev)
python3 -m pip --version >/dev/null 2>&1 || apt_pkgs+=(python3-pip)
# make test-r: R and the package's dependencies, from Debian only.
for p in r-base-core r-base-dev r-cran-testthat r-cran-rprotobuf r-cran-processx \
    r-cran-jsonlite r-cran-withr r-cran-codetools; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || apt_pkgs+=("$p")
done

if [ ${#apt_pkgs[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing Debian packages: ${apt_pkgs[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${apt_pkgs[@]}"
fi

command -v cargo >/dev/null || { echo "deps.sh: install Rust with rustup first" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true
scripts/test-deps.sh
