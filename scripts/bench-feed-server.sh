#!/usr/bin/env bash
# Benchmarks `palisade feed serve` on loopback (release build):
#   1. POST-to-served latency of a new CVE: a signed `issues` `labeled` delivery, then GETs of
#      /feed.json until the CVE is in it (upstream: hours).
#   2. Load: concurrent GETs over the outputs and the page, a third conditional, with signed
#      webhook deliveries interleaved; requests per second and p99.
# The store is seeded from testdata/cve-feed/github-pages-2023 (43 announcements).
#
# Usage: scripts/bench-feed-server.sh [SAMPLES] [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${1:-50}
SECONDS_=${2:-10}
CONC=${3:-32}

cargo build --release -q -p palisade -p palisade-feed-server --example feed_load
BIN=target/release/palisade
LOAD=target/release/examples/feed_load
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/secret"
PAYLOAD=testdata/feed-server/issues-labeled.CVE-2023-3893.json

start() {
  rm -rf "$work/data"
  "$BIN" feed serve --data-dir "$work/data" --listen 127.0.0.1:0 \
    --input testdata/cve-feed/github-pages-2023 --webhook-secret-file "$work/secret" \
    --resync-interval 0 > "$work/stdout" 2> "$work/stderr" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/stdout" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$work/stdout")
  [ -n "$URL" ] || { cat "$work/stderr"; exit 1; }
}

echo "== machine: $(nproc) cores, $(uname -sr); server: $BIN (release)"
start
echo "== POST-to-served latency ($SAMPLES new CVEs, one after another) on $URL"
"$LOAD" latency --url "$URL" --secret-file "$work/secret" --payload "$PAYLOAD" --samples "$SAMPLES"
kill "$pid"; wait "$pid" 2>/dev/null || true

start
echo "== load: $CONC connections for ${SECONDS_}s, 20 webhook deliveries/s interleaved, on $URL"
"$LOAD" load --url "$URL" --secret-file "$work/secret" --payload "$PAYLOAD" \
  --concurrency "$CONC" --seconds "$SECONDS_" --webhooks-per-second 20
echo "== server RSS after load: $(ps -o rss= -p "$pid" | awk '{printf "%.1f MiB", $1/1024}')"
