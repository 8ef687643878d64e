#!/usr/bin/env bash
# Overload check (loopback only, bounded in time): does the server shed load past its capacity
# instead of queueing it?
#
#   scripts/overload.sh [SECONDS=300]
#
# 1. Serves the bundled data and measures the sustainable rate: a closed loop of
#    16 keep-alive connections for 20 s (the same /v1/search mix as the benchmarks).
# 2. Offers twice that rate, open loop, for SECONDS with 400 connections, with the default
#    in-flight limit: served rate, latency of served requests (counted from when each request was
#    due) and how many were shed with 503.
# 3. The same for 60 s with no in-flight limit (--max-in-flight 0), for contrast: the queue.
# The load comes from one address, so per-client limits are off for these runs (as behind a proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-300}
OUT=${OVERLOAD_DIR:-target/overload}
. scripts/loopback-server.sh

sustainable_rate
offered=$((rate * 2))

echo "== offered $offered req/s (2 x $rate), open loop, 400 connections, $SECS s, default in-flight limit"
start
"$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections 400 --duration-secs "$SECS" \
  --rate "$offered" --allow-shed --out "$OUT/shed.json"
grep -E '^(VmHWM|VmRSS)' "/proc/$server_pid/status" | tr '\n' ' '; echo
stop

echo "== the same for 60 s with no in-flight limit (--max-in-flight 0)"
start --max-in-flight 0
"$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections 400 --duration-secs 60 \
  --rate "$offered" --allow-shed --out "$OUT/queue.json" || true
stop
report closed shed queue
