#!/usr/bin/env bash
# The tower ecosystem on h2proto against the same application on hyper (issue 16,
# "Performance"): server CPU per request of
#   axum     an axum hello-world Router: `axum_hello` (h2proto-tokio) vs `axum_hyper`
#            (the same Router on hyper's HTTP/2 server, prior knowledge), GET /
#   tonic    tonic's unary echo RPC: `tonic_echo` (h2proto-tokio) vs `tonic_hyper`
#            (tonic's own server), POST /h2proto.echo.Echo/Unary with a 12-byte message
# under h2load -c 10 -m 100 and -c 100 -m 10, every server on one thread (a current-thread
# runtime) pinned to CPU $SERVER_CPU, h2load on $CLIENT_CPU, rounds interleaved.
#
#   bash benches/frameworks.sh                    # ~3 minutes after the build
#   ROUNDS=5 REQUESTS=200000 bash benches/frameworks.sh
#
# Prints, per app and load, the medians of the rounds: req/s and server CPU us/request
# (sum of /proc/PID/task/*/schedstat over the run, divided by the requests done), and
# the ratio h2proto / hyper (CPU: below 1 is better). Targets of the issue: axum at most
# 0.5x hyper's CPU per request, tonic at most 0.6x.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-100000}
PORT=${PORT:-18630}

need "apt-get install -y nghttp2-client curl util-linux" h2load taskset curl cargo

echo "== building release examples" >&2
(cd "$ROOT" && cargo build --release -q -p h2proto-tokio --example axum_hello --example axum_hyper \
    --example tonic_echo --example tonic_hyper)
BIN=$TARGET/release/examples

bench_init h2frameworks
note_noise

# A gRPC message: uncompressed, 7 bytes long, EchoRequest { payload: "hello" }.
printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$WORK/grpc-hello"

declare -A SERVER_PID SERVER_PORT
start() { # name
    PORT=$((PORT + 1))
    start_pinned "$WORK/$1.log" "$BIN/$1" --addr "127.0.0.1:$PORT" --workers 0
    SERVER_PID[$1]=$STARTED_PID
    SERVER_PORT[$1]=$PORT
    wait_ready "$STARTED_PID" "$WORK/$1.log" grep -q "listening on" "$WORK/$1.log"
}
for s in axum_hello axum_hyper tonic_echo tonic_hyper; do start "$s"; done

RESULTS=$WORK/results # app load server round req/s cpu_us
: >"$RESULTS"
run() { # app load-name "h2load options" server round
    local app=$1 load=$2 opts=$3 server=$4 round=$5 pid=${SERVER_PID[$4]} port=${SERVER_PORT[$4]}
    local target=(http://127.0.0.1:"$port"/) extra=()
    if [[ $app == tonic ]]; then
        target=(http://127.0.0.1:"$port"/h2proto.echo.Echo/Unary)
        extra=(-d "$WORK/grpc-hello" -H 'content-type: application/grpc' -H 'te: trailers')
    fi
    local n=$REQUESTS c0 c1
    [[ $round == warm ]] && n=$((REQUESTS / 10))
    c0=$(cpu_ns "$pid")
    # shellcheck disable=SC2086
    taskset -c "$CLIENT_CPU" timeout 120 h2load -n "$n" $opts "${extra[@]}" "${target[@]}" >"$WORK/out" 2>&1 \
        || echo "   h2load failed against $server ($load)" >&2
    c1=$(cpu_ns "$pid")
    [[ $round == warm ]] && return
    awk -v app="$app" -v load="$load" -v sv="$server" -v r="$round" -v dc="$((c1 - c0))" '
        /^finished in/ { rps = $4 + 0 }
        /^requests:/ { done = $8 + 0; failed = $12 + 0 }
        /^status codes:/ { ok = $3 + 0 }
        END {
            if (failed > 0 || ok < done) printf "   %s: %d failed, %d of %d 2xx\n", sv, failed, ok, done > "/dev/stderr"
            printf "%s %s %s %s %.0f %.2f\n", app, load, sv, r, rps, (done > 0 ? dc / done / 1000 : 0)
        }' "$WORK/out" | tee -a "$RESULTS" | awk '{ printf "   %-6s %-9s %-12s round %s: %8s req/s %7s us/req\n", $1, $2, $3, $4, $5, $6 }' >&2
}

LOADS=("c10m100|-c 10 -m 100" "c100m10|-c 100 -m 10")
for app in axum tonic; do
    if [[ $app == axum ]]; then pair=(axum_hello axum_hyper); else pair=(tonic_echo tonic_hyper); fi
    for l in "${LOADS[@]}"; do
        load=${l%%|*} opts=${l#*|}
        echo "== $app $load" >&2
        for s in "${pair[@]}"; do run "$app" "$load" "$opts" "$s" warm; done
        for r in $(seq "$ROUNDS"); do
            for s in "${pair[@]}"; do run "$app" "$load" "$opts" "$s" "$r"; done
        done
    done
done

echo
echo "h2load $(h2load --version | awk '{ print $2; exit }'), $ROUNDS rounds of $REQUESTS requests, medians; server CPU $SERVER_CPU, h2load CPU $CLIENT_CPU"
printf "%-6s %-8s | %12s %12s | %12s %12s | %s\n" app load "h2proto req/s" "hyper req/s" "h2proto us" "hyper us" "CPU/req h2proto/hyper"
for app in axum tonic; do
    if [[ $app == axum ]]; then ours=axum_hello theirs=axum_hyper; else ours=tonic_echo theirs=tonic_hyper; fi
    for l in "${LOADS[@]}"; do
        load=${l%%|*}
        col() { awk -v a="$app" -v l="$load" -v s="$1" -v c="$2" '$1 == a && $2 == l && $3 == s { print $c }' "$RESULTS" | median; }
        r1=$(col "$ours" 5) r2=$(col "$theirs" 5) c1=$(col "$ours" 6) c2=$(col "$theirs" 6)
        printf "%-6s %-8s | %12.0f %12.0f | %12.2f %12.2f | %.2f\n" "$app" "$load" "$r1" "$r2" "$c1" "$c2" "$(awk -v a="$c1" -v b="$c2" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    done
done
