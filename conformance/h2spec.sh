#!/usr/bin/env bash
# Runs h2spec (https://github.com/summerwind/h2spec) in strict mode against the reference
# server, once per runtime. h2spec is a Go tool and not packaged by Debian; users who have
# Go can `go install github.com/summerwind/h2spec/cmd/h2spec@latest`. Without it on PATH
# this script says so and exits 0: it is a developer convenience, not part of CI.
#
# usage: conformance/h2spec.sh [tokio|blocking|mio ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v h2spec >/dev/null 2>&1; then
  echo "h2spec is not on PATH: skipping (install it with Go:" \
    "go install github.com/summerwind/h2spec/cmd/h2spec@latest)"
  exit 0
fi

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(tokio blocking mio)

cargo build --release -q -p h2proto-conformance
bin=target/release/h2proto-conformance
status=0
port=18080
for runtime in "${runtimes[@]}"; do
  port=$((port + 1))
  "$bin" serve --addr "127.0.0.1:$port" --runtime "$runtime" &
  pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  echo "== h2spec --strict against the reference server on $runtime (127.0.0.1:$port)"
  if ! h2spec --strict -h 127.0.0.1 -p "$port" -o 2; then
    status=1
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
exit $status
