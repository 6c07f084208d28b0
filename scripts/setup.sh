#!/usr/bin/env bash
# Prepares everything the tests and the demo need that is not a Rust crate:
# a project-local Python virtualenv (.venv) with the pinned tools from
# scripts/requirements-test.txt (moto server, boto3, ...). Idempotent: it only
# reinstalls when the requirements file changed. Safe to run concurrently.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SENTINEL_VENV:-$root/.venv}"
req="$root/scripts/requirements-test.txt"
python="${PYTHON:-python3}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    exit 0
fi

echo "setup: creating virtualenv $venv" >&2
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" >"$stamp"
echo "setup: virtualenv ready" >&2
