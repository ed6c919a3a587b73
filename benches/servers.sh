#!/usr/bin/env bash
# h2load against h2proto's servers (tokio and mio adapters), a plain hyper 1.x h2c server
# and `nghttpd --no-tls`, one worker each (issue 4, "Performance").
#
#   bash benches/servers.sh                       # ~5 minutes after the build
#   ROUNDS=5 SCALE=2 bash benches/servers.sh      # longer, steadier
#   SERVERS="mio hyper" ONLY="small-c10m100 latency-c1m1" bash benches/servers.sh
#   PROFILE=bench bash benches/servers.sh         # every server built with fat LTO
#
# Servers (all on 127.0.0.1, started afresh for each scenario, killed by PID after it):
#   tokio    `h2proto-conformance serve --runtime tokio --workers $TOKIO_WORKERS`
#            (h2proto-tokio; default 0: a current-thread runtime, one thread like hyper's;
#            N > 0: a multi-thread runtime of N workers, all pinned to the one server CPU)
#   mio      `h2proto-conformance serve --runtime mio` (h2proto-mio, one event-loop thread)
#   hyper    `h2proto-tokio --example hyper_server` (hyper 1.x + h2, current_thread runtime)
#   nghttpd  `nghttpd --no-tls` (one worker) over a docroot of files of the same sizes; a
#            second instance with --echo-upload serves the echo scenario
# Every server answers the same bodies: /bytes/13 (13 bytes), /bytes/65536, /bytes/1048576,
# /sink (reads the upload, answers the 13 bytes "Hello, world!"), /echo (echoes the upload).
#
# The server runs on CPU $SERVER_CPU and h2load on CPU $CLIENT_CPU (taskset). Scenarios run
# in interleaved rounds (round 1: every server, round 2: every server, ...), and the table
# shows the median of the rounds for each figure:
#   req/s, MB/s      from h2load (MB/s: bytes h2load received, headers + data, plus the
#                    request bodies it sent, per second)
#   cpu us/req       server CPU time (sum of /proc/PID/task/*/schedstat) over the run
#                    divided by the requests done: steadier than req/s on a noisy machine
#   HWM MiB          peak RSS (VmHWM) of a process started for this scenario, reset
#                    before each run through /proc/PID/clear_refs (what an earlier round
#                    left allocated still counts)
# Ratios (h2proto server / hyper, / nghttpd): req/s (>1 is better), cpu/req and RSS (<1 is
# better).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
SCALE=${SCALE:-1}
BASE_PORT=${BASE_PORT:-18430}
SERVERS=${SERVERS:-tokio mio hyper nghttpd}
TOKIO_WORKERS=${TOKIO_WORKERS:-0}
ONLY=${ONLY:-}
RUN_TIMEOUT=${RUN_TIMEOUT:-90}
PROFILE=${PROFILE:-release}

# name | h2load options | path | upload file ("" for none) | requests (before SCALE)
SCENARIOS=(
    "small-c10m100|-c 10 -m 100|/bytes/13||200000"
    "small-c100m10|-c 100 -m 10|/bytes/13||200000"
    "latency-c1m1|-c 1 -m 1|/bytes/13||20000"
    "1MiB-c4m4|-c 4 -m 4|/bytes/1048576||3000"
    "up64k-sink|-c 10 -m 10|/sink|up64k|20000"
    "up64k-echo|-c 10 -m 10|/echo|up64k|20000"
    "rss-c100m10-64k|-c 100 -m 10|/bytes/65536||30000"
)

need "apt-get install -y nghttp2-client nghttp2-server curl util-linux" h2load nghttpd taskset curl cargo

# --- build once ---------------------------------------------------------------------------
# Plain `--release` by default, the way servers are usually built and the issue's hyper
# baseline was measured. PROFILE=bench builds everything with Cargo's bench profile instead
# (fat LTO, one codegen unit: see Cargo.toml; it also writes to target/release); hyper gains
# more from it than h2proto does, so the ratios come out higher there.
echo "== building $PROFILE binaries" >&2
(cd "$ROOT" && cargo build --profile "$PROFILE" -q -p h2proto-conformance --bin h2proto-conformance \
    && cargo build --profile "$PROFILE" -q -p h2proto-tokio --example hyper_server)
CONFORMANCE=$TARGET/release/h2proto-conformance
HYPER=$TARGET/release/examples/hyper_server

# --- scratch dir, cleanup ----------------------------------------------------------------
bench_init h2bench
declare -A PID PORT

mkdir -p "$WORK/doc/bytes"
printf 'Hello, world!' >"$WORK/doc/bytes/13"
printf 'Hello, world!' >"$WORK/doc/sink"
head -c 65536 /dev/zero | tr '\0' x >"$WORK/doc/bytes/65536"
head -c 1048576 /dev/zero | tr '\0' x >"$WORK/doc/bytes/1048576"
head -c 65536 /dev/urandom >"$WORK/up64k"

# --- servers -------------------------------------------------------------------------------
start() { # key port command...
    local key=$1 port=$2
    shift 2
    start_pinned "$WORK/$key.log" "$@"
    PID[$key]=$STARTED_PID
    PORT[$key]=$port
    wait_ready "$STARTED_PID" "$WORK/$key.log" h2c_answers "http://127.0.0.1:$port/bytes/13"
}

# Starts every server on ports from $1 (fresh processes, so VmHWM is this scenario's).
start_servers() {
    local port=$1 s
    for s in $SERVERS; do
        case $s in
        tokio) start tokio "$port" "$CONFORMANCE" serve --addr "127.0.0.1:$port" --runtime tokio --workers "$TOKIO_WORKERS" ;;
        mio) start mio "$port" "$CONFORMANCE" serve --addr "127.0.0.1:$port" --runtime mio ;;
        hyper) start hyper "$port" "$HYPER" --addr "127.0.0.1:$port" ;;
        nghttpd)
            start nghttpd "$port" nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$WORK/doc" "$port"
            port=$((port + 1))
            start nghttpd-echo "$port" nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$WORK/doc" --echo-upload "$port"
            ;;
        *) echo "unknown server $s" >&2; exit 2 ;;
        esac
        port=$((port + 1))
    done
}

# Kills (by PID) the servers start_servers started.
stop_servers() {
    stop_started
    PID=()
    PORT=()
}

# The process answering scenario $2 for server $1.
key_for() { if [[ $1 == nghttpd && $2 == *echo* ]]; then echo nghttpd-echo; else echo "$1"; fi; }

# --- noise check -----------------------------------------------------------------------------
note_noise

# --- runs ----------------------------------------------------------------------------------
RESULTS=$WORK/results # scenario server round req/s MB/s cpu_us_per_req hwm_kib failed
: >"$RESULTS"

run() { # scenario-line server round
    local name opts path upload n
    IFS='|' read -r name opts path upload n <<<"$1"
    local server=$2 round=$3 key pid
    key=$(key_for "$server" "$name")
    pid=${PID[$key]}
    n=$(awk -v n="$n" -v s="$SCALE" -v w="$round" 'BEGIN { n *= s; if (w == "warm") n /= 20; printf "%d", (n < 100 ? 100 : n) }')
    local data=() up=0
    if [[ -n $upload ]]; then
        data=(-d "$WORK/$upload")
        up=$(stat -c %s "$WORK/$upload")
    fi
    { echo 5 >/proc/"$pid"/clear_refs; } 2>/dev/null || true
    local c0 c1 out=$WORK/h2load.out
    c0=$(cpu_ns "$pid")
    # shellcheck disable=SC2086
    if ! taskset -c "$CLIENT_CPU" timeout "$RUN_TIMEOUT" h2load -n "$n" $opts "${data[@]}" \
        "http://127.0.0.1:${PORT[$key]}$path" >"$out" 2>&1; then
        echo "   h2load failed against $server ($name, round $round)" >&2
    fi
    c1=$(cpu_ns "$pid")
    kill -0 "$pid" 2>/dev/null || { echo "server $key died; log:" >&2; cat "$WORK/$key.log" >&2; exit 1; }
    [[ $round == warm ]] && return
    local hwm
    hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"$pid"/status)
    awk -v sc="$name" -v sv="$server" -v r="$round" -v dc="$((c1 - c0))" -v hwm="$hwm" -v up="$up" '
        /^finished in/ { rps = $4 + 0 }
        /^requests:/ { done = $8 + 0; failed = $12 + 0 }
        /^traffic:/ { gsub(/[()]/, "", $3); bytes = $3 + 0 }
        END {
            mbs = (done > 0 && rps > 0) ? (bytes + done * up) / (done / rps) / 1e6 : 0
            cpu = done > 0 ? dc / done / 1000 : 0
            printf "%s %s %s %.0f %.1f %.2f %d %d\n", sc, sv, r, rps, mbs, cpu, hwm, failed
        }' "$out" | tee -a "$RESULTS" | awk '{ printf "   %-16s %-8s round %s: %8s req/s %8s MB/s %7s us/req %6.1f MiB%s\n", $1, $2, $3, $4, $5, $6, $7 / 1024, ($8 > 0 ? "  FAILED " $8 : "") }' >&2
}

selected=()
for sc in "${SCENARIOS[@]}"; do
    name=${sc%%|*}
    if [[ -z $ONLY || " $ONLY " == *" $name "* ]]; then selected+=("$sc"); fi
done

start_time=$SECONDS
index=0
for sc in "${selected[@]}"; do
    echo "== ${sc%%|*}" >&2
    start_servers $((BASE_PORT + 10 * index))
    index=$((index + 1))
    for s in $SERVERS; do run "$sc" "$s" warm; done
    for r in $(seq "$ROUNDS"); do
        for s in $SERVERS; do run "$sc" "$s" "$r"; done
    done
    stop_servers
done
elapsed=$((SECONDS - start_time))

# --- table of medians and ratios ------------------------------------------------------------
MEDIANS=$WORK/medians
: >"$MEDIANS"
for sc in "${selected[@]}"; do
    name=${sc%%|*}
    for s in $SERVERS; do
        rows=$(awk -v sc="$name" -v sv="$s" '$1 == sc && $2 == sv' "$RESULTS")
        [[ -z $rows ]] && continue
        med=()
        for col in 4 5 6 7 8; do med+=("$(awk -v c=$col '{ print $c }' <<<"$rows" | median)"); done
        echo "$name $s ${med[*]}" >>"$MEDIANS"
    done
done

echo
echo "h2load $(h2load --version | awk '{ print $2; exit }'), $ROUNDS rounds, medians; server CPU $SERVER_CPU, h2load CPU $CLIENT_CPU; $elapsed s of runs; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
    { sc[NR] = $1; sv[NR] = $2; rps[$1, $2] = $3; mbs[$1, $2] = $4; cpu[$1, $2] = $5; hwm[$1, $2] = $6; fail[$1, $2] = $7 }
    function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.2f", a / b) : "-" }
    END {
        printf "%-16s %-8s %9s %8s %7s %7s | %-21s | %-25s | %-11s\n", "scenario", "server", "req/s", "MB/s", "cpu us", "HWM MiB", "req/s / hyper, nghttpd", "cpu/req / hyper, nghttpd", "RSS / hyper"
        for (i = 1; i <= NR; i++) {
            s = sc[i]; v = sv[i]
            if (i > 1 && s != sc[i - 1]) print ""
            extra = ""
            if (v == "tokio" || v == "mio")
                extra = sprintf(" | %9s %11s | %11s %13s | %11s", ratio(rps[s, v], rps[s, "hyper"]), ratio(rps[s, v], rps[s, "nghttpd"]), ratio(cpu[s, v], cpu[s, "hyper"]), ratio(cpu[s, v], cpu[s, "nghttpd"]), ratio(hwm[s, v], hwm[s, "hyper"]))
            printf "%-16s %-8s %9d %8.1f %7.2f %7.1f%s%s\n", s, v, rps[s, v], mbs[s, v], cpu[s, v], hwm[s, v] / 1024, extra, (fail[s, v] > 0 ? "  (failed: " fail[s, v] ")" : "")
        }
    }' "$MEDIANS"
