#!/usr/bin/env bash
# Whole-process time of `sentinel credentials` served from a warm cache, next to
# the AWS CLI's own start-up time (`aws --version`), as a median over many runs.
#
#   scripts/bench-credentials.sh [RUNS]          (default 200; the AWS CLI gets RUNS/5)
#
# SENTINEL_BIN overrides the binary (default: a fresh release build). A fake TVM
# (python3, loopback only) answers the one vend that warms the cache; every
# measured run is a cache hit, so the numbers are sentinel's own cost.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-200}"
aws_runs=$(( runs / 5 > 10 ? runs / 5 : 10 ))

if [ -z "${SENTINEL_BIN:-}" ]; then
    cargo build --release --quiet -p sentinel-cli --bin sentinel
    SENTINEL_BIN="$root/target/release/sentinel"
fi
aws_bin="$root/.venv/bin/aws"

work="$(mktemp -d)"
tvm_pid=""
cleanup() {
    [ -n "$tvm_pid" ] && kill "$tvm_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A one-route fake TVM: any GET gets a vend response valid for an hour.
cat > "$work/tvm.py" <<'PY'
import datetime, http.server, json, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps({"Version": 1, "AccessKeyId": "ASIABENCH", "SecretAccessKey": "s", "SessionToken": "t",
            "Token": "t", "Expiration": exp, "SessionId": "0" * 32, "SourceIdentity": "sentinel=bench",
            "Profile": "bench", "RoleArn": "arn:aws:iam::111122223333:role/Bench"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
python3 "$work/tvm.py" > "$work/port" &
tvm_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"

export XDG_CACHE_HOME="$work/cache" HOME="$work" AWS_CONFIG_FILE="$work/none"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE SENTINEL_CREDENTIAL_PROCESS_DEPTH
credentials=("$SENTINEL_BIN" credentials --profile bench --tvm-url "http://127.0.0.1:$port" --region us-east-1)
"${credentials[@]}" > /dev/null   # warms the cache

# Prints "median p90" in milliseconds of RUNS runs of the given command.
measure() {
    local n="$1"; shift
    local samples=()
    for _ in $(seq "$n"); do
        # EPOCHREALTIME (bash 5) reads the clock without forking, so only the
        # command's own process start and run are measured.
        local start end
        start="${EPOCHREALTIME/[.,]/}"
        "$@" > /dev/null 2>&1
        end="${EPOCHREALTIME/[.,]/}"
        samples+=($(( end - start )))
    done
    printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p = v[int(NR * 0.9 + 0.5)]
        printf "%.2f %.2f\n", m / 1000, p / 1000 }'
}

read -r s_median s_p90 < <(measure "$runs" "${credentials[@]}")
printf '| %-38s | %5s | %10s | %8s |\n' "command" "runs" "median ms" "p90 ms"
printf '| %-38s | %5s | %10s | %8s |\n' "---" "---:" "---:" "---:"
printf '| %-38s | %5d | %10s | %8s |\n' "sentinel credentials (warm cache)" "$runs" "$s_median" "$s_p90"
read -r t_median t_p90 < <(measure "$runs" /bin/true)
printf '| %-38s | %5d | %10s | %8s |\n' "/bin/true (process start-up floor)" "$runs" "$t_median" "$t_p90"
if [ -x "$aws_bin" ]; then
    read -r a_median a_p90 < <(measure "$aws_runs" "$aws_bin" --version)
    printf '| %-38s | %5d | %10s | %8s |\n' "aws --version (AWS CLI start-up)" "$aws_runs" "$a_median" "$a_p90"
else
    echo "(no $aws_bin: run scripts/setup.sh for the AWS CLI comparison)" >&2
fi
