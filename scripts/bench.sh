#!/usr/bin/env bash
# Runs every benchmark the README reports and prints their numbers. Nothing here
# asserts a timing; compare against the README's table by eye.
#   policy evaluation and parsing (criterion)   -> policy/benches/evaluate.rs
#   handler overhead per vend (criterion)       -> tvm-lambda/benches/vend.rs
#   cold start of the Lambda binaries           -> tests/benches/cold_start.rs
#   `sentinel credentials` with a warm cache    -> scripts/bench-credentials.sh
# Optional, only when asked (`scripts/bench.sh --cedar`, or SENTINEL_BENCH_CEDAR=1),
# after all of the above:
#   the policy engine against cedar-policy,     -> benches/cedar-compare
#   the same 50-rule sets side by side             (BENCHMARKS.md, "Side by side")
# That crate is its own workspace, so CI, the tests and the steps above never build
# it or cedar-policy; it builds into target/cedar.
set -euo pipefail

cedar="${SENTINEL_BENCH_CEDAR:-0}"
for arg in "$@"; do
    if [ "$arg" = "--cedar" ]; then
        cedar=1
    fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

echo "==> release binaries (size-tuned profile, as shipped)"
cargo build --release --bins --quiet

echo "==> policy engine"
cargo bench -p policy --bench evaluate -- --noplot 2>&1 | grep -E '^[a-z].*|time:' || true

echo "==> handler overhead per vend, in-memory ports"
cargo bench -p tvm-lambda --features test-util --bench vend -- --noplot 2>&1 | grep -E '^handler|time:' || true

echo "==> cold start, process start to first answered event"
cargo bench -p system-tests --bench cold_start 2>/dev/null | sed -n '/^| cold start/,$p'

if [ -x scripts/bench-credentials.sh ]; then
    echo "==> sentinel credentials, warm cache"
    bash scripts/bench-credentials.sh
fi

if [ "$cedar" = 1 ]; then
    echo "==> side by side: policy engine vs cedar-policy, 50 rules (optional)"
    (cd benches/cedar-compare &&
        CARGO_TARGET_DIR="$root/target/cedar" cargo bench --bench side_by_side -- --noplot 2>&1) |
        grep -E '^(evaluate|parse)/|time:|agree|panicked'
fi
