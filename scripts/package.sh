#!/usr/bin/env bash
# Builds the Lambda deployment zips for the provided.al2023 runtime on x86_64:
#   target/lambda/sentinel-tvm/bootstrap.zip
#   target/lambda/sentinel-authorizer/bootstrap.zip
#   target/lambda/sentinel-proxy/bootstrap.zip
# each holding one executable `bootstrap`, where deploy/template.yaml's and deploy/proxy.yaml's
# CodeUris point.
# cargo-lambda (installed into .venv by scripts/setup.sh) cross-links with zig against
# glibc 2.34, the runtime's version; the workspace's release profile applies unchanged
# and the build shares the workspace target directory. The zips are then checked with
# scripts/check-zip.sh. Extra arguments go to cargo (for example --locked).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
venv="${SENTINEL_VENV:-$root/.venv}"
# cargo-lambda finds zig through the virtualenv's Python (the ziglang package).
export PATH="$venv/bin:$PATH"

glibc="2.34"
bins=(sentinel-tvm sentinel-authorizer sentinel-proxy)
# The packages that own them. Naming them selects only these packages, so cargo unifies
# features over the three Lambdas alone: with bare `--bin`s every workspace member counts,
# and the CLI's rustls-on-ring client was compiled into each Lambda (about +0.5 MB each).
packages=(tvm-lambda authorizer sentinel-proxy)
target_dir="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

# A failed build must not leave an older zip behind that looks current.
zips=()
bin_args=()
for package in "${packages[@]}"; do
    bin_args+=(--package "$package")
done
for bin in "${bins[@]}"; do
    zip="$target_dir/lambda/$bin/bootstrap.zip"
    rm -f "$zip"
    zips+=("$zip")
    bin_args+=(--bin "$bin")
done

echo "==> cargo lambda build --release (x86_64, glibc $glibc): ${bins[*]}"
# --disable-optimizations: keep the workspace's [profile.release] (fat LTO, one codegen
# unit, stripped, opt-level z, panic=abort) instead of cargo-lambda's own overrides.
# --no-default-features: the TVM and the proxy without `serve` (their local server and
# SigV4 verifier; API Gateway or the Function URL verifies the signature in AWS).
"$venv/bin/cargo-lambda" lambda build \
    --release \
    --disable-optimizations \
    --target "x86_64-unknown-linux-gnu.$glibc" \
    --output-format zip \
    --no-default-features \
    "${bin_args[@]}" \
    "$@"

echo "==> zips"
for zip in "${zips[@]}"; do
    if [ ! -f "$zip" ]; then
        echo "package: cargo lambda did not produce $zip" >&2
        exit 1
    fi
    unpacked="$(unzip -Zs "$zip" bootstrap | awk '{ print $4 }')"
    printf '%-60s %10s bytes zipped, %10s bytes unpacked\n' \
        "${zip#"$root"/}" "$(stat -c %s "$zip")" "$unpacked"
done

SENTINEL_MAX_GLIBC="$glibc" bash scripts/check-zip.sh "${zips[@]}"
