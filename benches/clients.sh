#!/usr/bin/env bash
# Client CPU per request of four HTTP/2 clients against the same servers (issue 15,
# "Performance"):
#   h2load   nghttp2's load generator (the baseline of the ratios)
#   load     `h2proto-tokio --example load` (the pooled pool::Client; LOAD_ARGS=--raw for
#            one SendRequest per connection)
#   hyper    `--example bench_hyper`: hyper-util's pooled legacy Client, HTTP/2 only
#            (it multiplexes one connection per origin, so -c only groups its tasks)
#   h2       `--example bench_h2`: hyperium/h2's client, -c connections of -m tasks
# Servers, one thread each, started once by this script and stopped by PID at the end:
#   h2o      Debian's h2o (apt-get install -y h2o), num-threads 1, a config written here,
#            serving a 13-byte file at /bytes/13, h2c with prior knowledge
#   ref      the reference server, `h2proto-conformance serve --runtime mio`
#
#   flock /work/notes/bench.lock bash benches/clients.sh
#   ROUNDS=3 N=20000 bash benches/clients.sh   (quicker, but see below)
#
# Every client runs `-n $N -c $C -m $M` (default 100000 / 10 / 100), pinned to CPU
# $CLIENT_CPU, the server to $SERVER_CPU (taskset). Rounds are interleaved (round 1: every
# server x client, round 2: ...) and the table shows medians over rounds:
#   cpu us/req   the client's user + sys CPU time (bash `time`, i.e. getrusage of the
#                child) divided by the requests done
#   req/s        requests / wall time of the run, as the client reports it
#   mean us      mean request latency, as the client reports it
#   x h2load     cpu us/req over h2load's against the same server
# Each run is bounded by RUN_TIMEOUT seconds; the script stops everything it started.
# Why 100,000 requests: what a run costs besides its requests (process start, runtime,
# connects, a thousand tasks, the report; about 10 ms for h2load and for load alike) is
# 0.4-0.5 us per request at 20,000, enough to move every ratio; at 100,000 it is ~0.1 us.
# CPU time is counted in 10 ms ticks: 5 rounds' medians smooth those out.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
N=${N:-100000}
C=${C:-10}
M=${M:-100}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
BASE_PORT=${BASE_PORT:-18530}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
SERVERS=${SERVERS:-h2o ref}
CLIENTS=${CLIENTS:-h2load load hyper h2}
LOAD_ARGS=${LOAD_ARGS:-}

for tool in h2load h2o taskset curl cargo timeout; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool (apt-get install -y nghttp2-client h2o curl util-linux)" >&2
        exit 1
    }
done

echo "== building release binaries" >&2
(cd "$ROOT" && cargo build --release -q -p h2proto-conformance --bin h2proto-conformance \
    && cargo build --release -q -p h2proto-tokio --example load --example bench_hyper --example bench_h2)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/release

WORK=$(mktemp -d /tmp/h2clients.XXXXXX)
chmod 755 "$WORK"
STARTED=()
cleanup() {
    local p
    for p in "${STARTED[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${STARTED[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/doc/bytes"
chmod -R 755 "$WORK/doc"
printf 'Hello, world!' >"$WORK/doc/bytes/13"
chmod 644 "$WORK/doc/bytes/13"

declare -A URL
start() { # name port command...
    local name=$1 port=$2
    shift 2
    taskset -c "$SERVER_CPU" "$@" >"$WORK/$name.log" 2>&1 &
    STARTED+=("$!")
    local pid=$! i
    URL[$name]=http://127.0.0.1:$port/bytes/13
    for i in $(seq 100); do
        if curl -s -o /dev/null --http2-prior-knowledge "${URL[$name]}"; then return; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server $name did not start:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

port=$BASE_PORT
for s in $SERVERS; do
    case $s in
    h2o)
        cat >"$WORK/h2o.conf" <<CONF
listen:
  host: 127.0.0.1
  port: $port
num-threads: 1
user: $(id -un)
pid-file: $WORK/h2o.pid
access-log: /dev/null
hosts:
  default:
    paths:
      /:
        file.dir: $WORK/doc
CONF
        start h2o "$port" h2o -c "$WORK/h2o.conf"
        ;;
    ref) start ref "$port" "$TARGET/h2proto-conformance" serve --addr "127.0.0.1:$port" --runtime mio ;;
    *) echo "unknown server $s" >&2; exit 1 ;;
    esac
    port=$((port + 1))
done

# One run: prints "cpu_us_per_req req_per_s mean_us", or "fail" if the client failed.
run() { # client url
    local client=$1 url=$2 out=$WORK/out err=$WORK/err times=$WORK/times
    local cmd
    case $client in
    h2load) cmd=(h2load -n "$N" -c "$C" -m "$M" "$url") ;;
    # shellcheck disable=SC2206
    load) cmd=("$TARGET/examples/load" -q --json $LOAD_ARGS -n "$N" -c "$C" -m "$M" "$url") ;;
    hyper) cmd=("$TARGET/examples/bench_hyper" -n "$N" -c "$C" -m "$M" "$url") ;;
    h2) cmd=("$TARGET/examples/bench_h2" -n "$N" -c "$C" -m "$M" "$url") ;;
    esac
    local TIMEFORMAT='%U %S'
    if ! { time timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "${cmd[@]}" >"$out" 2>"$err"; } 2>"$times"; then
        echo fail
        return
    fi
    local cpu rps mean
    cpu=$(awk -v n="$N" '{printf "%.3f", ($1 + $2) * 1e6 / n}' "$times")
    case $client in
    h2load)
        grep -q "$N succeeded" "$out" || { echo fail; return; }
        rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' "$out")
        mean=$(awk '/^time for request:/ {print $6}' "$out" | awk '
            /ms$/ {sub("ms", ""); printf "%.0f", $1 * 1000; next}
            /us$/ {sub("us", ""); printf "%.0f", $1; next}
            /s$/ {sub("s", ""); printf "%.0f", $1 * 1e6}')
        ;;
    load)
        rps=$(grep -o '"requests_per_s":[0-9.]*' "$out" | head -1 | cut -d: -f2)
        mean=$(grep -o '"mean_us":[0-9.]*' "$out" | head -1 | cut -d: -f2)
        ;;
    *)
        rps=$(tr ' ' '\n' <"$out" | awk -F= '$1 == "req_per_s" {print $2}')
        mean=$(tr ' ' '\n' <"$out" | awk -F= '$1 == "mean_us" {print $2}')
        ;;
    esac
    echo "$cpu ${rps:-0} ${mean:-0}"
}

declare -A RESULTS
for round in $(seq "$ROUNDS"); do
    for s in $SERVERS; do
        for c in $CLIENTS; do
            r=$(run "$c" "${URL[$s]}")
            echo "round $round $s $c: $r" >&2
            RESULTS[$s.$c]+="$r"$'\n'
        done
    done
done

median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print v[int((NR + 1) / 2)]}'; }
col() { grep -v '^fail$' | grep -v '^$' | awk -v c="$1" '{print $c}' | median; }

echo
echo "clients: -n $N -c $C -m $M, 13-byte responses, $ROUNDS rounds (medians); client on CPU $CLIENT_CPU, server on CPU $SERVER_CPU"
printf '%-6s %-8s %12s %10s %9s %9s %6s\n' server client "cpu us/req" "req/s" "mean us" "x h2load" fails
for s in $SERVERS; do
    base=$(printf '%s' "${RESULTS[$s.h2load]:-}" | col 1)
    for c in $CLIENTS; do
        data=${RESULTS[$s.$c]}
        cpu=$(printf '%s' "$data" | col 1)
        rps=$(printf '%s' "$data" | col 2)
        mean=$(printf '%s' "$data" | col 3)
        fails=$(printf '%s' "$data" | grep -c '^fail$' || true)
        ratio=$(awk -v a="$cpu" -v b="$base" 'BEGIN {if (b + 0 > 0 && a != "-") printf "%.2f", a / b; else print "-"}')
        printf '%-6s %-8s %12s %10.0f %9.0f %9s %6s\n' "$s" "$c" "$cpu" "$rps" "$mean" "$ratio" "$fails"
    done
done
