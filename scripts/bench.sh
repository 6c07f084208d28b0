#!/usr/bin/env bash
# Runs every benchmark the README reports and prints their numbers. Nothing here
# asserts a timing; compare against the README's table by eye.
#   policy evaluation and parsing (criterion)   -> policy/benches/evaluate.rs
#   handler overhead per vend (criterion)       -> tvm-lambda/benches/vend.rs
#   cold start of the Lambda binaries           -> tests/benches/cold_start.rs
#   `sentinel credentials` with a warm cache    -> scripts/bench-credentials.sh
set -euo pipefail

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
