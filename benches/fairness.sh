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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=${SERVERS:-mio tokio hyper nghttpd}
SECONDS_EACH=${SECONDS_EACH:-3}
PORT=${PORT:-18530}

need "apt-get install -y curl util-linux" taskset curl cargo

echo "== building release binaries" >&2
(cd "$ROOT" && cargo build --release -q -p h2proto-conformance --bin h2proto-conformance \
    && cargo build --release -q -p h2proto-tokio --example hyper_server)
CONFORMANCE=$TARGET/release/h2proto-conformance
HYPER=$TARGET/release/examples/hyper_server

bench_init h2fair
note_noise
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
        need "apt-get install -y nghttp2-server" nghttpd
        cmd=(nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$WORK/doc" "$PORT") ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
    esac
    start_pinned "$WORK/$server.log" "${cmd[@]}"
    wait_ready "$STARTED_PID" "$WORK/$server.log" h2c_answers "http://127.0.0.1:$PORT/"
    echo "== $server"
    taskset -c "$CLIENT_CPU" timeout 120 "$CONFORMANCE" fairness --target "127.0.0.1:$PORT" \
        --seconds "$SECONDS_EACH" || echo "($server: the probe failed)"
    stop_started
done
