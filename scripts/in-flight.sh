#!/usr/bin/env bash
# In-flight limit comparison (loopback only, bounded in time): at twice the sustainable rate,
# which `--max-in-flight` serves the most within a short latency?
#
#   scripts/in-flight.sh [SECONDS=60] [LIMITS="128 64 32 16"]
#
# Measures the sustainable rate as scripts/overload.sh does (closed loop, 16 connections, 20 s),
# then offers twice that rate open loop with 400 connections for SECONDS against each limit in
# turn, on a fresh server each time. Prints served rate, latency of served requests (from when each
# was due) and how many were shed with 503.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
LIMITS=${2:-"128 64 32 16"}
OUT=${OVERLOAD_DIR:-target/in-flight}
. scripts/loopback-server.sh

sustainable_rate
offered=$((rate * 2))

for limit in $LIMITS; do
  echo "== offered $offered req/s (2 x $rate), open loop, 400 connections, $SECS s, --max-in-flight $limit"
  start --max-in-flight "$limit"
  "$DEV" bench http --addr "$addr" --queries "$OUT/queries.json" --connections 400 --duration-secs "$SECS" \
    --rate "$offered" --allow-shed --out "$OUT/limit-$limit.json"
  stop
done
# shellcheck disable=SC2046
report closed $(for l in $LIMITS; do echo "limit-$l"; done)
