#!/usr/bin/env bash
# What an idle HTTP/2 connection costs a server (issue 17, "Scale"): N connections (default
# 10,000) each make one request and stay open and quiet; the server's resident memory
# before and while they are held gives its RSS per connection. Servers, in one run:
#   mio      h2proto-conformance serve --runtime mio
#   tokio    h2proto-conformance serve --runtime tokio --workers 0 (current-thread)
#   hyper    h2proto-tokio --example hyper_server (hyper 1.x + h2, current_thread)
#   nghttpd  nghttpd --no-tls -n 1
# The connections come from `h2proto-tokio --example hold` in another process.
#   bash benches/idle_connections.sh            # N=10000 SERVERS="mio tokio hyper nghttpd"
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-10000}
SERVERS=${SERVERS:-mio tokio hyper nghttpd}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
ulimit -n "$(ulimit -Hn)"
for tool in nghttpd curl cargo; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
(cd "$ROOT" && cargo build --release -q -p h2proto-conformance --bin h2proto-conformance \
    && cargo build --release -q -p h2proto-tokio --example hyper_server --example hold)
CONFORMANCE=$TARGET/release/h2proto-conformance
HYPER=$TARGET/release/examples/hyper_server
HOLD=$TARGET/release/examples/hold
WORK=$(mktemp -d)
STARTED=()
trap 'for p in "${STARTED[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/doc" && printf 'hello' > "$WORK/doc/index.html"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

declare -A PER
port=19300
for s in $SERVERS; do
    port=$((port + 1))
    case $s in
    mio) "$CONFORMANCE" serve --addr "127.0.0.1:$port" --runtime mio > "$WORK/$s.log" 2>&1 & ;;
    tokio) "$CONFORMANCE" serve --addr "127.0.0.1:$port" --runtime tokio --workers 0 > "$WORK/$s.log" 2>&1 & ;;
    hyper) "$HYPER" --addr "127.0.0.1:$port" > "$WORK/$s.log" 2>&1 & ;;
    nghttpd) nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$WORK/doc" "$port" > "$WORK/$s.log" 2>&1 & ;;
    *) echo "unknown server $s" >&2; exit 2 ;;
    esac
    pid=$!
    STARTED+=("$pid")
    for _ in $(seq 100); do
        curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$port/index.html" && break
        sleep 0.1
    done
    before=$(rss "$pid")
    "$HOLD" --connections "$N" --seconds 3 "http://127.0.0.1:$port/index.html" > "$WORK/hold.$s" 2>&1 &
    hold=$!
    for _ in $(seq 300); do grep -q '^held' "$WORK/hold.$s" && break; sleep 0.1; done
    grep -q '^held' "$WORK/hold.$s" || { echo "$s: $(cat "$WORK/hold.$s")" >&2; exit 1; }
    sleep 0.5
    during=$(rss "$pid")
    wait "$hold" || { echo "$s: $(cat "$WORK/hold.$s")" >&2; exit 1; }
    kill "$pid" 2>/dev/null || true
    PER[$s]=$(awk -v a="$before" -v b="$during" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
    printf "%-8s %6d idle connections: RSS %7d -> %7d KiB, %6s KiB per connection\n" "$s" "$N" "$before" "$during" "${PER[$s]}"
    sleep 1
done
for s in $SERVERS; do
    line="$s:"
    for peer in hyper nghttpd; do
        [[ -n ${PER[$peer]:-} && $s != "$peer" ]] && line+=$(awk -v a="${PER[$s]}" -v b="${PER[$peer]}" -v p="$peer" 'BEGIN { printf " %.2fx %s", a / b, p }')
    done
    echo "$line"
done
