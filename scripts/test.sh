#!/usr/bin/env bash
# The README's test command: sets up what the tests need (virtualenv with moto
# and friends), then runs the whole suite: every test with cargo-nextest, the
# doctests, the deploy/ template lints, and the Lambda packaging with its zip
# checks (the checker's own self-test first). Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

# The system tests run the real binaries (sentinel, sentinel-tvm, sentinel-authorizer)
# from target/debug. Cargo builds a binary for the integration tests of its own
# package only, so every target is built first; nextest then reuses the artifacts.
echo "==> cargo build --workspace --all-targets"
cargo build --workspace --all-targets --locked

echo "==> cargo nextest run --workspace"
cargo nextest run --workspace --all-targets --no-fail-fast

echo "==> cargo test --doc --workspace"
cargo test --doc --workspace

echo "==> deploy/ lints"
bash scripts/lint-deploy.sh

echo "==> Lambda zips"
bash scripts/package.sh --locked
bash scripts/check-zip.sh --self-test
