# Sourced by the load scripts (scripts/overload.sh, scripts/in-flight.sh), from the repository's
# root, with OUT set (their output folder): builds the release binaries, writes the benchmarks'
# query mix, and gives a release server on the bundled data at 127.0.0.1 on a free port, with
# per-client limits off (the load comes from one address, as it would behind a proxy).
# `start [serve flags]` sets `addr` and `server_pid`, `stop` ends that server, and the EXIT trap
# ends it if the script stops early.

SHARED=${SHARED:-../shared/bench}
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

# The sustainable rate: a closed loop of 16 keep-alive connections for 20 s (the benchmarks'
# /v1/search mix). Sets `rate` (requests per second) and writes "$OUT/closed.json".
sustainable_rate() {
  echo "== sustainable rate: closed loop, 16 connections, 20 s"
  start
  "$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections 16 --duration-secs 20 \
    --out "$OUT/closed.json"
  rate=$(python3 -c "import json; print(round(json.load(open('$OUT/closed.json'))['requests_per_s']))")
  stop
}

# One line per run file "$OUT/NAME.json": offered, served, latency of served requests, shed.
report() {
  python3 - "$OUT" "$@" <<'PY'
import json, sys
d, names = sys.argv[1], sys.argv[2:]
for name in names:
    r = json.load(open(f"{d}/{name}.json"))
    s = r.get("served_2xx") or r["latency"]
    print(f"{name}: offered {r.get('offered_per_s')}, requests {r['requests']}, served {s['n']} "
          f"({s['qps']:.0f}/s), p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, shed {r.get('shed_503', 0)}")
PY
}
