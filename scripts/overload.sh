#!/usr/bin/env bash
# Overload check (loopback only, bounded in time): does the server shed load past its capacity
# instead of queueing it?
#
#   scripts/overload.sh [SECONDS=300]
#
# 1. Serves the bundled data (3,130 records) and measures the sustainable rate: a closed loop of
#    16 keep-alive connections for 20 s (the same /v1/search mix as the benchmarks).
# 2. Offers twice that rate, open loop, for SECONDS with 400 connections, with the default
#    in-flight limit: served rate, latency of served requests (counted from when each request was
#    due) and how many were shed with 503.
# 3. The same for 60 s with no in-flight limit (--max-in-flight 0), for contrast: the queue.
# The load comes from one address, so per-client limits are off for these runs (as behind a proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-300}
SHARED=${SHARED:-../shared/bench}
OUT=${OVERLOAD_DIR:-target/overload}
mkdir -p "$OUT"
cargo build --release -p tsunagu --bins
BIN=target/release/tsunagu
DEV=target/release/tsunagu-dev
python3 "$SHARED/gen.py" queries -o "$OUT/queries.json"

server_pid=""
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

start() {
  rm -rf "$OUT/data"
  "$BIN" --data-dir "$OUT/data" serve --addr 127.0.0.1:0 --requests-per-client-per-sec 0 \
    --max-connections-per-client 0 "$@" > "$OUT/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    addr=$(sed -n 's#.*listening on http://\([0-9.:]*\).*#\1#p' "$OUT/serve.log" | head -1)
    [ -n "$addr" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: the server did not start" >&2; exit 1
}
stop() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

echo "== sustainable rate: closed loop, 16 connections, 20 s"
start
"$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections 16 --duration-secs 20 \
  --out "$OUT/closed.json"
rate=$(python3 -c "import json; print(round(json.load(open('$OUT/closed.json'))['requests_per_s']))")
stop
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
python3 - "$OUT" <<'PY'
import json, sys
d = sys.argv[1]
for name in ["closed", "shed", "queue"]:
    r = json.load(open(f"{d}/{name}.json"))
    s = r.get("served_2xx") or r["latency"]
    print(f"{name}: offered {r.get('offered_per_s')}, requests {r['requests']}, served {s['n']} "
          f"({s['qps']:.0f}/s), p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, shed {r.get('shed_503', 0)}")
PY
