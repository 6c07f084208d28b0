#!/usr/bin/env bash
# Lints deploy/: cfn-lint on every template, checkov (CloudFormation checks) on the
# directory, and the example SCP must be valid JSON. Exits non-zero on any finding.
# Suppressions live in the templates, each with its reason (deploy/README.md, "Lint").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
venv="${SENTINEL_VENV:-$root/.venv}"

status=0

echo "==> cfn-lint deploy/*.yaml"
# Exit status is non-zero for errors, warnings and informational findings alike.
if ! "$venv/bin/cfn-lint" -- deploy/*.yaml; then
    echo "lint-deploy: cfn-lint reported findings" >&2
    status=1
fi

echo "==> checkov -d deploy --framework cloudformation"
# --skip-download: no calls to the vendor's platform; the bundled checks are complete.
if ! "$venv/bin/checkov" -d deploy --framework cloudformation --quiet --compact --skip-download; then
    echo "lint-deploy: checkov reported findings" >&2
    status=1
fi

echo "==> deploy/*.json is valid JSON"
for f in deploy/*.json; do
    if ! "$venv/bin/python" -m json.tool "$f" >/dev/null; then
        echo "lint-deploy: $f is not valid JSON" >&2
        status=1
    fi
done

if [ "$status" -eq 0 ]; then
    echo "lint-deploy: ok"
fi
exit "$status"
