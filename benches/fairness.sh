#!/usr/bin/env bash
# Fairness on one server thread (issue 17): a well-behaved client's latency while another
# connection floods the same server at full speed, on h2proto's mio and tokio servers and,
# for reference, hyper's and nghttpd's (one thread each).
#
#   bash benches/fairness.sh                         # ~1 minute after the build
#   SECONDS_EACH=5 SERVERS="mio tokio" bash benches/fairness.sh
#
# The probe and the floods are `h2proto-conformance fairness` (conformance/src/fairness.rs):
# one GET at a time, 1 ms apart, alone and then beside each flood, every flood legal under
# the default limits (48 KiB field blocks; blocks cut into 31 frames; bodies one byte per
# DATA frame). The server runs alone on CPU $SERVER_CPU, probe and flooders on $CLIENT_CPU
# (taskset), so the flood competes with the probe only inside the server. Prints one table
# per server: probe latency p50/p95/p99/max in ms, probe errors, the flood's MB/s, and the
# flood connections opened (more than 1: the server closed one, the reasons follow).
# Latencies are figures, not verdicts: nothing here fails on a slow number.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVERS=${SERVERS:-mio tokio hyper nghttpd}
SECONDS_EACH=${SECONDS_EACH:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18530}

for tool in taskset curl cargo; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

echo "== building release binaries" >&2
(cd "$ROOT" && cargo build --release -q -p h2proto-conformance --bin h2proto-conformance \
    && cargo build --release -q -p h2proto-tokio --example hyper_server)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CONFORMANCE=$TARGET/release/h2proto-conformance
HYPER=$TARGET/release/examples/hyper_server

WORK=$(mktemp -d /tmp/h2fair.XXXXXX)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/doc"
printf 'Hello, world!' >"$WORK/doc/index.html"
printf 'Hello, world!' >"$WORK/doc/sink"

for server in $SERVERS; do
    PORT=$((PORT + 1))
    case $server in
    mio) cmd=("$CONFORMANCE" serve --addr "127.0.0.1:$PORT" --runtime mio) ;;
    tokio) cmd=("$CONFORMANCE" serve --addr "127.0.0.1:$PORT" --runtime tokio --workers 0) ;;
    hyper) cmd=("$HYPER" --addr "127.0.0.1:$PORT") ;;
    nghttpd)
        command -v nghttpd >/dev/null || { echo "missing nghttpd (apt-get install -y nghttp2-server)" >&2; exit 1; }
        cmd=(nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$WORK/doc" "$PORT") ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
    esac
    taskset -c "$SERVER_CPU" "${cmd[@]}" >"$WORK/$server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$PORT/" && break
        sleep 0.1
    done
    echo "== $server"
    taskset -c "$CLIENT_CPU" timeout 120 "$CONFORMANCE" fairness --target "127.0.0.1:$PORT" \
        --seconds "$SECONDS_EACH" || echo "($server: the probe failed)"
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
done
