#!/usr/bin/env bash
# The README's first command: from a fresh clone to "the AWS CLI is using
# credentials vended by policy", entirely on this machine.
#
# It installs the Python tools (moto server, AWS CLI) into .venv, builds the
# binaries, starts moto as the AWS stand-in, seeds it (a protected role per
# example policy, two IAM users with access keys, the session table, the example
# policies through `sentinel bootstrap`), starts `sentinel-tvm serve`, writes a
# demo AWS config file with `sentinel configure` (never your real ~/.aws/config),
# and then shows the engineer and admin journeys. Every process it starts is
# stopped on exit, also on Ctrl-C; re-running it starts from scratch.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
demo="$root/.demo"
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bold=$'\033[1m'; dim=$'\033[2m'; reset=$'\033[0m'
[ -t 1 ] || { bold=""; dim=""; reset=""; }
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
# show CMD...: prints the command as a user would type it, then runs it. Helpers
# named admin_X (X run with the seeding administrator's credentials) print as X.
show() {
    local arg shown=""
    for arg in "$@"; do
        case "$arg" in
            *[[:space:]]*) shown+=" \"$arg\"" ;;
            *) shown+=" $arg" ;;
        esac
    done
    shown="${shown# }"
    printf '%s$ %s%s\n' "$dim" "${shown#admin_}" "$reset"
    "$@"
}

free_port() {
    "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {
    local port="$1" what="$2" log="$3"
    for _ in $(seq 1 100); do
        if "$venv/bin/python" -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "demo: $what did not start; its log:" >&2
    cat "$log" >&2
    exit 1
}

step "Setting up the Python tools (.venv: moto server, AWS CLI)"
bash scripts/setup.sh
venv="${SENTINEL_VENV:-$root/.venv}"

step "Building sentinel, sentinel-tvm and sentinel-authorizer"
cargo build --quiet --bins
bin="$root/target/debug"

rm -rf "$demo"
mkdir -p "$demo"

step "Starting moto server (the AWS stand-in)"
moto_port="$(free_port)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$demo/moto.log" 2>&1 &
pids+=("$!")
wait_for_port "$moto_port" "moto server" "$demo/moto.log"
echo "moto server on http://127.0.0.1:$moto_port"

# Administrator credentials for seeding the stand-in (moto accepts any key).
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
admin_env=(env AWS_ACCESS_KEY_ID=admin-demo AWS_SECRET_ACCESS_KEY=admin-demo
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)
admin_aws() { "${admin_env[@]}" "$venv/bin/aws" "$@"; }
admin_sentinel() { "${admin_env[@]}" "$bin/sentinel" "$@"; }

step "Seeding moto: protected roles, two IAM users, the session table, the example policies"
account=123456789012
trust="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$account:role/sentinel-tvm\"},\"Action\":[\"sts:AssumeRole\",\"sts:SetSourceIdentity\",\"sts:TagSession\"],\"Condition\":{\"StringLike\":{\"sts:SourceIdentity\":\"sentinel=*\"}}}]}"
for file in examples/policies/*.yaml; do
    profile="$(basename "$file" .yaml)"
    [ "$profile" = _admin ] && continue # the admin policy, not a profile
    admin_aws iam create-role --role-name "SentinelProtected-$profile" \
        --assume-role-policy-document "$trust" --output text --query Role.Arn
done
declare -A keys
for user in alice mallory; do
    admin_aws iam create-user --user-name "$user" --path /eng/ >/dev/null
    keys[$user]="$(admin_aws iam create-access-key --user-name "$user" --output text \
        --query 'AccessKey.[AccessKeyId,SecretAccessKey]')"
done
table=sentinel-sessions
"${admin_env[@]}" "$bin/sentinel-tvm" create-table --table "$table"
# Approvals and break-glass (examples/policies/payments.yaml) have two tables of their own.
"${admin_env[@]}" "$bin/sentinel-tvm" create-tables \
    --approval-table sentinel-approvals --breakglass-table sentinel-breakglass
show admin_sentinel bootstrap --dir examples/policies --yes

step "Starting sentinel-tvm serve (SigV4 checked like API Gateway's AWS_IAM auth)"
admin_arn="arn:aws:sts::$account:assumed-role/AWSReservedSSO_Security_0123456789abcdef/admin"
{
    printf '['
    sep=""
    for user in alice mallory; do
        read -r akid secret <<<"${keys[$user]}"
        printf '%s{"access_key_id":"%s","secret_access_key":"%s","arn":"arn:aws:iam::%s:user/eng/%s","account_id":"%s"}' \
            "$sep" "$akid" "$secret" "$account" "$user" "$account"
        sep=","
    done
    # The demo admin signs in through IAM Identity Center's security permission set, which
    # examples/policies/_admin.yaml (rule security-team) lets administer every session.
    printf '%s{"access_key_id":"admin-demo","secret_access_key":"admin-demo","arn":"%s","account_id":"%s"}' \
        "$sep" "$admin_arn" "$account"
    printf ']\n'
} >"$demo/auth-keys.json"
tvm_port="$(free_port)"
"${admin_env[@]}" SENTINEL_SESSION_TABLE="$table" \
    SENTINEL_APPROVAL_TABLE=sentinel-approvals SENTINEL_BREAKGLASS_TABLE=sentinel-breakglass \
    "$bin/sentinel-tvm" serve --listen "127.0.0.1:$tvm_port" --auth-keys "$demo/auth-keys.json" \
    >"$demo/tvm-decisions.log" 2>"$demo/tvm.log" &
pids+=("$!")
wait_for_port "$tvm_port" "sentinel-tvm serve" "$demo/tvm.log"
tvm_url="http://127.0.0.1:$tvm_port"
echo "sentinel-tvm on $tvm_url (decision log: .demo/tvm-decisions.log)"

step "Writing a demo AWS config with \`sentinel configure\` (your ~/.aws is not touched)"
export AWS_CONFIG_FILE="$demo/aws-config" AWS_SHARED_CREDENTIALS_FILE="$demo/credentials"
export XDG_CACHE_HOME="$demo/cache"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
for user in alice mallory; do
    read -r akid secret <<<"${keys[$user]}"
    printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n' "$user" "$akid" "$secret" \
        >>"$AWS_SHARED_CREDENTIALS_FILE"
done
# The demo's profiles call the TVM that runs here; the AWS CLI then calls moto.
export PATH="$bin:$venv/bin:$PATH"
for profile in dev prod payments; do
    show sentinel configure --profile "$profile" --tvm-url "$tvm_url" --source-profile alice --region us-east-1
done
sed 's/^/    /' "$AWS_CONFIG_FILE"

step "Engineer alice: the AWS CLI gets credentials from sentinel through credential_process"
show aws sts get-caller-identity --profile dev --output table

step "Engineer alice: prod only allows corporate networks, and 127.0.0.1 is not one"
show aws sts get-caller-identity --profile prod || true

step "Engineer mallory: suspended on dev; sentinel names the rule and the reason"
show sentinel credentials --profile dev --source-profile mallory --tvm-url "$tvm_url" --region us-east-1 ||
    echo "(exit status $?: the policy denied it)"

step "Admin: every vend is recorded, with who asked and which rule allowed it (the TVM's admin API)"
show admin_sentinel sessions list --tvm-url "$tvm_url" --region us-east-1

step "Downstream API: a session ID alone is refused; the session's proof of possession is not"
# The authorizer's default proof mode: the caller proves it holds the session's keys with a
# GetCallerIdentity request signed for this API's audience, which the authorizer replays
# to STS (moto here). `sentinel proof` prints both headers.
audience=demo-api
show sentinel proof --profile dev --audience "$audience" --json --source-profile alice --tvm-url "$tvm_url" --region us-east-1
headers="$(sentinel proof --profile dev --audience "$audience" --json --source-profile alice --tvm-url "$tvm_url" --region us-east-1)"
session_id="$(printf '%s' "$headers" | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["X-Sentinel-Session-ID"])')"
proof="$(printf '%s' "$headers" | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["X-Sentinel-Proof"])')"
event() { # event [with-proof]
    local extra=""
    if [ "${1:-}" = with-proof ]; then extra=",\"x-sentinel-proof\":\"$proof\""; fi
    printf '{"version":"2.0","type":"REQUEST","routeArn":"arn:aws:execute-api:us-east-1:%s:demo/$default/GET/whoami","headers":{"x-sentinel-session-id":"%s"%s},"requestContext":{"requestId":"demo","http":{"method":"GET","path":"/whoami","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"demo"}}}' \
        "$account" "$session_id" "$extra"
}
authorize() {
    event "$@" | "${admin_env[@]}" SENTINEL_SESSION_TABLE="$table" SENTINEL_AUDIENCE="$audience" \
        "$bin/sentinel-authorizer" invoke 2>/dev/null
    echo
}
echo "alice's session: $session_id"
printf '%s$ sentinel-authorizer invoke < event.json   # the session ID alone%s\n' "$dim" "$reset"
authorize
printf '%s$ sentinel-authorizer invoke < event.json   # with X-Sentinel-Proof%s\n' "$dim" "$reset"
authorize with-proof
step "Engineer mallory may not revoke: the admin policy (_admin.yaml) has no rule for her"
show sentinel sessions revoke "$session_id" --reason "not mine" --source-profile mallory --tvm-url "$tvm_url" --region us-east-1 ||
    echo "(exit status $?: the admin policy denied it)"
step "Admin: revoke through the TVM, which marks the row and writes the role's deny"
show admin_sentinel sessions revoke "$session_id" --reason "demo: laptop lost" --tvm-url "$tvm_url" --region us-east-1
printf '%s$ sentinel-authorizer invoke < event.json   # with the proof, after the revoke%s\n' "$dim" "$reset"
authorize with-proof
step "Admin: the AWS-side kill switch on the protected role (denies the session's tag everywhere)"
show admin_aws iam get-role-policy --role-name SentinelProtected-dev --policy-name sentinel-revoked-sessions \
    --query PolicyDocument --output json

step "Engineer alice: payments needs a security lead's approval (examples/policies/payments.yaml)"
show aws sts get-caller-identity --profile payments ||
    echo "(exit status $?: sentinel said which command to run)"
show sentinel request --profile payments --reason "CHG-1234 rotate the payments keys" \
    --source-profile alice --tvm-url "$tvm_url" --region us-east-1
request_id="$(sentinel requests list --mine --pending --json --source-profile alice --tvm-url "$tvm_url" --region us-east-1 |
    "$venv/bin/python" -c 'import json, sys; print(json.loads(sys.stdin.readline())["request_id"])')"

step "Engineer mallory may not approve it: she is in no approver group of the rule"
show sentinel approve "$request_id" --source-profile mallory --tvm-url "$tvm_url" --region us-east-1 ||
    echo "(exit status $?: only the rule's approvers may, and never the requester)"

step "Admin (a security lead): sees the pending request and approves it; the window starts now"
show admin_sentinel requests list --pending --tvm-url "$tvm_url" --region us-east-1
show admin_sentinel approve "$request_id" --comment "go ahead" --tvm-url "$tvm_url" --region us-east-1

step "Engineer alice: the AWS CLI now gets payments credentials, recorded under the request"
show aws sts get-caller-identity --profile payments --output table
show admin_sentinel sessions list --profile payments --json --tvm-url "$tvm_url" --region us-east-1

step "Done. Everything this script started is being stopped."
