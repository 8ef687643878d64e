#!/usr/bin/env bash
# tsunagu vs the SQLite FTS5 + R*Tree peer (../shared/bench), in one run on this machine.
#
#   scripts/bench-vs-peer.sh [N ...]        default: 10000 100000 1000000
#
# For each N: generate the workload (gen.py data N; the queries are the same for every N), load
# and bench the peer, bench tsunagu in-process (import + index + five query types), compare the
# answers of both for the first 100 queries of each type, serve the built directory on a
# loopback port and drive it with the HTTP mix for a bounded time. Then print the table and the
# tsunagu/peer latency ratios and draw p99 against N (report.md and p99-vs-n.svg).
#
# Environment: BENCH_DIR (default target/bench), COUNT (parameter sets per query type, default
# 2000), HTTP_SECS (default 20), HTTP_CONNECTIONS (default 16), SHARED (default ../shared/bench).
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared/bench}
OUT=${BENCH_DIR:-target/bench}
COUNT=${COUNT:-2000}
HTTP_SECS=${HTTP_SECS:-20}
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-16}
if [ $# -gt 0 ]; then NS=("$@"); else NS=(10000 100000 1000000); fi

for f in gen.py sqlite_peer.py benchlib.py; do
  [ -f "$SHARED/$f" ] || { echo "error: $SHARED/$f not found (set SHARED=path/to/shared/bench)" >&2; exit 1; }
done
for n in "${NS[@]}"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || { echo "error: N must be a positive integer, not '$n'" >&2; exit 2; }
done

cargo build --release -p tsunagu --bins
BIN=target/release/tsunagu          # the server, as a centre runs it
DEV=target/release/tsunagu-dev      # the harness and the load driver
mkdir -p "$OUT"
python3 "$SHARED/gen.py" queries -o "$OUT/queries.json"

server_pid=""
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

for N in "${NS[@]}"; do
  echo "== N = $N"
  python3 "$SHARED/gen.py" data "$N" -o "$OUT/res-$N.jsonl"

  echo "-- peer: load, bench, check"
  python3 "$SHARED/sqlite_peer.py" load --data "$OUT/res-$N.jsonl" --db "$OUT/peer-$N.sqlite" \
    -o "$OUT/peer-load-$N.json" > /dev/null
  python3 "$SHARED/sqlite_peer.py" bench --db "$OUT/peer-$N.sqlite" --queries "$OUT/queries.json" \
    --count "$COUNT" -o "$OUT/peer-$N.json" 2> "$OUT/peer-$N.log" > /dev/null
  python3 "$SHARED/sqlite_peer.py" check --db "$OUT/peer-$N.sqlite" --queries "$OUT/queries.json" \
    -o "$OUT/peer-check-$N.json" > /dev/null

  echo "-- tsunagu: import, index, queries"
  "$DEV" bench run --data "$OUT/res-$N.jsonl" --queries "$OUT/queries.json" --work "$OUT/work-$N" \
    --count "$COUNT" --label "$N" --out "$OUT/tsunagu-$N.json" --check-out "$OUT/tsunagu-check-$N.json"

  echo "-- tsunagu: HTTP mix for ${HTTP_SECS} s"
  # The load comes from one address: no per-client rate limit (as behind a proxy).
  "$BIN" serve --data-dir "$OUT/work-$N" --addr 127.0.0.1:0 --requests-per-client-per-sec 0 > "$OUT/serve-$N.log" 2>&1 &
  server_pid=$!
  addr=""
  for _ in $(seq 1 600); do
    addr=$(sed -n 's#.*listening on http://\([0-9.:]*\).*#\1#p' "$OUT/serve-$N.log" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$OUT/serve-$N.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -n "$addr" ] || { echo "error: the server did not start" >&2; exit 1; }
  "$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections "$HTTP_CONNECTIONS" \
    --duration-secs "$HTTP_SECS" --label "$N" --out "$OUT/http-$N.json"
  grep -E '^(VmHWM|VmRSS)' "/proc/$server_pid/status" > "$OUT/serve-rss-$N.txt"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done

python3 scripts/bench_report.py "$OUT" "${NS[@]}"
