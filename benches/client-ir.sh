#!/usr/bin/env bash
# Client instructions (callgrind Ir) per request: `load` (pooled Client, and --raw),
# hyper-util's pooled Client (bench_hyper), hyperium/h2 (bench_h2) and h2load against the
# same server, same -n/-c/-m, 13-byte responses. Deterministic where
# wall-clock CPU is not (a shared, noisy machine). Run under the bench lock:
#   flock /work/notes/bench.lock benches/client-ir.sh [N C M]
# Needs: valgrind, h2load, a release build of `load` and of the reference server:
#   cargo build --release -p h2proto-conformance
#   cargo build --release -p h2proto-tokio --example load --example bench_hyper --example bench_h2
set -u
n=${1:-20000}; c=${2:-10}; m=${3:-100}
target=${CARGO_TARGET_DIR:-target}/release
server=$target/h2proto-conformance
load=$target/examples/load
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port/bytes/13
for tool in valgrind h2load "$server" "$load"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
taskset -c 1 "$server" serve --addr 127.0.0.1:$port --runtime mio >/dev/null 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do
    h2load -n 1 "$url" 2>/dev/null | grep -q "1 succeeded" && break
    sleep 0.1
done
# Ir of a client run; the run must succeed, every request.
ir() {
    local name=$1; shift
    local out; out=$(mktemp /tmp/client-ir.XXXXXX)
    timeout 600 taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
        >"$out.log" 2>&1 || { echo "$name failed:" >&2; tail -5 "$out.log" >&2; exit 1; }
    local total; total=$(grep -E "^totals:" "$out" | awk '{print $2}')
    echo "$name $total $((total / n))"
    rm -f "$out" "$out.log"
}
h2=$(ir h2load h2load -n "$n" -c "$c" -m "$m" "$url")
pooled=$(ir load "$load" -q -n "$n" -c "$c" -m "$m" "$url")
raw=$(ir load-raw "$load" -q --raw -n "$n" -c "$c" -m "$m" "$url")
hyper=$(ir hyper-util "$target/examples/bench_hyper" -n "$n" -c "$c" -m "$m" "$url")
h2crate=$(ir h2 "$target/examples/bench_h2" -n "$n" -c "$c" -m "$m" "$url")
printf '%-10s %15s %12s %8s\n' client "total Ir" "Ir/request" "vs h2load"
base=$(echo "$h2" | awk '{print $3}')
for line in "$h2" "$pooled" "$raw" "$hyper" "$h2crate"; do
    echo "$line" | awk -v b="$base" '{printf "%-10s %15d %12d %7.2fx\n", $1, $2, $3, $3 / b}'
done
