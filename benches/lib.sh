# Helpers shared by the server benchmarks (servers.sh, fairness.sh, frameworks.sh); sourced,
# not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# They start servers pinned to one CPU, wait until they answer, read their CPU time, stop
# them by PID, and take medians. After sourcing: ROOT (the repository), TARGET (cargo's
# target directory), SERVER_CPU and CLIENT_CPU (the CPUs of the server and of the load, 0
# and 1 unless set); after `bench_init`, WORK (a scratch directory, removed on exit).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
# Every process start_pinned started and stop_started has not stopped yet.
BENCH_PIDS=()

# need HINT TOOL...: exits unless every TOOL is on the PATH (HINT says how to get them).
need() {
    local hint=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "missing $tool${hint:+ ($hint)}" >&2; exit 1; }
    done
}

# bench_init NAME: makes $WORK, and stops every started process and removes $WORK on exit
# (also on Ctrl-C).
bench_init() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    stop_started
    rm -rf "$WORK"
}

# note_noise: one line on what may disturb the figures (CPUs, load, pinning, fuzzers).
note_noise() {
    echo "== $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); server on CPU $SERVER_CPU, load on CPU $CLIENT_CPU" >&2
    if pgrep -f fuzz >/dev/null; then
        echo "== NOTE: fuzzing processes are running; figures will be noisy (cpu/req is the steadier one)" >&2
    fi
}

# start_pinned LOG COMMAND...: runs COMMAND in the background on $SERVER_CPU, its output
# in LOG; its PID is in STARTED_PID.
start_pinned() {
    local log=$1
    shift
    taskset -c "$SERVER_CPU" "$@" >"$log" 2>&1 &
    STARTED_PID=$!
    BENCH_PIDS+=("$STARTED_PID")
}

# wait_ready PID LOG CHECK...: waits (up to 10 s) until the command CHECK succeeds; exits
# with LOG shown if process PID ends first or the time runs out.
wait_ready() {
    local pid=$1 log=$2
    shift 2
    for _ in $(seq 100); do
        "$@" && return
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server (PID $pid) did not start:" >&2
    cat "$log" >&2
    exit 1
}

# h2c_answers URL: whether an h2c GET of URL (prior knowledge) gets an answer.
h2c_answers() { curl -s -o /dev/null --http2-prior-knowledge "$1"; }

# stop_started: stops every process start_pinned started (by PID) and waits for it.
stop_started() {
    local p
    for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    BENCH_PIDS=()
}

# cpu_ns PID: CPU time in ns of every thread of a process (from schedstat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }

# median: the median of the numbers on stdin, one a line (0 for none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
