#!/usr/bin/env bash
# Lints what ships: every CloudFormation/SAM template under deploy/ and examples/ (found by
# their AWSTemplateFormatVersion line).
#   1. cfn-lint on the templates as written;
#   2. the SAM transform with AWS's aws-sam-translator (offline), into a temporary
#      directory, once for a commercial region and once for aws-cn;
#   3. cfn-lint and checkov on the transformed templates (what CloudFormation deploys);
#   4. scripts/check_deploy_iam.py: the IAM facts (duration cap, break-glass condition and
#      alarm, SCP invoke guard, RCP, revoker trust, PolicyRoot pattern, partitions, ...),
#      after its self-test proves each assertion can fail;
#   5. any JSON file in deploy/ is valid JSON.
# Exits non-zero on any finding. Suppressions live in the templates, each with its reason
# (deploy/README.md, "Lint"). Needs no network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
venv="${SENTINEL_VENV:-$root/.venv}"
py="$venv/bin/python"

status=0
fail() {
    echo "lint-deploy: $*" >&2
    status=1
}

mapfile -t templates < <(
    find deploy examples -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 |
        xargs -0 grep -l 'AWSTemplateFormatVersion' | sort
)
if [ "${#templates[@]}" -eq 0 ]; then
    fail "no templates found under deploy/ or examples/"
    exit 1
fi
echo "==> templates: ${templates[*]}"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "==> cfn-lint (as written)"
# Exit status is non-zero for errors, warnings and informational findings alike.
if ! "$venv/bin/cfn-lint" -- "${templates[@]}"; then
    fail "cfn-lint reported findings"
fi

echo "==> SAM transform (aws-sam-translator)"
# The translator prints a note about its own usage metrics on exit; it sends nothing.
if ! "$py" scripts/transform_templates.py "$out" "${templates[@]}" 2> >(grep -v 'unpublished metrics' >&2) ||
    ! "$py" scripts/transform_templates.py --region cn-north-1 "$out/aws-cn" "${templates[@]}" \
        2> >(grep -v 'unpublished metrics' >&2) >/dev/null; then
    fail "a template does not transform"
    exit 1
fi

echo "==> cfn-lint (transformed)"
if ! "$venv/bin/cfn-lint" -- "$out"/*.json; then
    fail "cfn-lint reported findings on the transformed templates"
fi

echo "==> checkov --framework cloudformation (transformed)"
# --skip-download: no calls to the vendor's platform; the bundled checks are complete.
if ! "$venv/bin/checkov" -d "$out" --skip-path aws-cn --framework cloudformation \
    --quiet --compact --skip-download; then
    fail "checkov reported findings"
fi

echo "==> IAM facts (scripts/check_deploy_iam.py --self-test)"
if ! "$py" scripts/check_deploy_iam.py --self-test "$out"; then
    fail "check_deploy_iam.py failed"
fi

shopt -s nullglob
json_files=(deploy/*.json)
if [ "${#json_files[@]}" -gt 0 ]; then
    echo "==> deploy/*.json is valid JSON"
    for f in "${json_files[@]}"; do
        if ! "$py" -m json.tool "$f" >/dev/null; then
            fail "$f is not valid JSON"
        fi
    done
fi

if [ "$status" -eq 0 ]; then
    echo "lint-deploy: ok"
fi
exit "$status"
