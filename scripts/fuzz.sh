#!/usr/bin/env bash
# Run every cargo-fuzz target of fuzz/ for a short, bounded time (the
# reliability check of `make test-reliability`), after replaying the
# regression inputs in fuzz/regressions/<target>/ (every crash ever found
# is kept there and must stay fixed).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 15)
#
# Needs a nightly toolchain and cargo-fuzz; installs either if missing.
# Corpora grow in a temporary directory seeded from fuzz/seeds/<target>/,
# so a run leaves the tree as it found it. A crash fails the run and
# leaves its input under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
targets=(token_file pem verifier options)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# The dev profile: a much shorter build than release, still with ASan and
# coverage; plenty for runs of seconds.
cargo +nightly fuzz build --dev

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
    if compgen -G "fuzz/regressions/$target/*" >/dev/null; then
        echo "fuzz $target: replaying fuzz/regressions/$target"
        cargo +nightly fuzz run --dev "$target" fuzz/regressions/"$target"/* -- -runs=1
    fi
    mkdir -p "$work/$target"
    echo "fuzz $target: ${seconds}s"
    log="$work/$target.log"
    if ! cargo +nightly fuzz run --dev "$target" "$work/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz $target: FAILED (a crash is kept under fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$log" | sed "s/^/fuzz $target: /"
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
