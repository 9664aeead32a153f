#!/usr/bin/env bash
# `palisade audit serve` under connection attacks, loopback only (127.0.0.1), with the
# probe crates/palisade-audit/examples/serve_probe.rs (bounded counts, bounded holds).
#
#   scripts/bench-audit-serve.sh                 # release binaries, about 4 minutes
#   IDLE=2000 SLOW=50 N=1000 scripts/bench-audit-serve.sh
#   MAXCONN=12000 scripts/bench-audit-serve.sh   # room for all 10,000 idle connections
#                                                # (default: the server's default cap, 1024)
#   CLIENT_CA=1 scripts/bench-audit-serve.sh     # server requires client certificates
#                                                # (--client-ca); only the measuring client has one
#
# In one server run, in order:
#   1. p50/p99 of normal batches (20 events, one keep-alive HTTPS connection, sequential),
#      and of batches on a fresh connection each (handshake included), no attack; RSS at rest.
#   2. SLOW connections POST a 12 MiB Content-Length and send 1 byte/s: RSS, p50/p99 meanwhile,
#      how each ended (status and when).
#   3. IDLE TLS connections, one request each then idle (keep-alive): RSS with all open,
#      p50/p99 meanwhile, and when the server closed them (after their last answer).
#   4. 200 TCP connections that never send a byte: when the server closed them.
# Then SIGTERM, and the exit status.
set -euo pipefail
cd "$(dirname "$0")/.."

idle_n="${IDLE:-10000}"
maxconn="${MAXCONN:-1024}"
slow_n="${SLOW:-50}"
lat_n="${N:-2000}"
port="${PORT:-18643}"
mport="${MPORT:-18644}"
bin="${BIN:-target/release/palisade}"
probe="${PROBE:-target/release/examples/serve_probe}"
if [ ! -x "$bin" ] || [ ! -x "$probe" ]; then
  cargo build --release -p palisade --bin palisade -p palisade-audit --example serve_probe
fi
ulimit -n 20000

dir="$(mktemp -d)"
server=""
cleanup() {
  status=$?
  [ "$status" -ne 0 ] && [ -f "$dir/server.log" ] && tail -20 "$dir/server.log" >&2
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
  -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
ca="$dir/tls.crt"
client_ca_args=()
if [ -n "${CLIENT_CA:-}" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=bench-client-ca" -keyout "$dir/cca.key" -out "$dir/cca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=bench-client" \
    -keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n' > "$dir/client.ext"
  openssl x509 -req -in "$dir/client.csr" -CA "$dir/cca.crt" -CAkey "$dir/cca.key" \
    -CAcreateserial -days 1 -extfile "$dir/client.ext" -out "$dir/client.crt" 2>/dev/null
  client_ca_args=(--client-ca "$dir/cca.crt")
  export PROBE_CLIENT_CERT="$dir/client.crt" PROBE_CLIENT_KEY="$dir/client.key"
fi

"$bin" audit serve --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
  --cert "$dir/tls.crt" --key "$dir/tls.key" --max-connections "$maxconn" -o /dev/null \
  "${client_ca_args[@]}" \
  2> "$dir/server.log" &
server=$!
for _ in $(seq 100); do
  grep -q "serving the audit webhook" "$dir/server.log" && break
  sleep 0.1
done

rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$server/status"; }
metric() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
addr="127.0.0.1:$port"

echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, cap $maxconn, client certificates required: ${CLIENT_CA:-no}"
echo "== 1. no attack"
echo "rss_at_rest: $(rss)"
"$probe" latency "$addr" "$ca" "$lat_n"
"$probe" fresh "$addr" "$ca" 200

echo "== 2. $slow_n slow-body connections (12 MiB declared, 1 byte/s)"
"$probe" slowbody "$addr" "$ca" "$slow_n" 45 > "$dir/slow.out" &
slow=$!
sleep 3
echo "rss_with_slow_body: $(rss)  open=$(metric palisade_audit_connections_open) body_bytes_in_flight=$(metric palisade_audit_request_body_bytes_in_flight)"
"$probe" latency "$addr" "$ca" "$lat_n"
"$probe" fresh "$addr" "$ca" 200
wait "$slow"
cat "$dir/slow.out"

echo "== 3. $idle_n idle keep-alive TLS connections (cap --max-connections $maxconn)"
# A client connected before the attack (as the API server usually is) measures during it.
"$probe" latency "$addr" "$ca" "$lat_n" 15 > "$dir/lat3.out" &
lat3=$!
sleep 1
"$probe" idle "$addr" "$ca" "$idle_n" 150 > "$dir/idle.out" &
idle=$!
for _ in $(seq 600); do
  grep -q "^idle open=" "$dir/idle.out" && break
  sleep 0.2
done
head -1 "$dir/idle.out"
echo "rss_with_idle: $(rss)  open=$(metric palisade_audit_connections_open) refused=$(metric palisade_audit_connections_refused_total)"
wait "$lat3"
sed 's/^/connected before: /' "$dir/lat3.out"
echo "new connections during the attack:"
"$probe" fresh "$addr" "$ca" 200
echo "rss_with_idle_after_load: $(rss)"
wait "$idle"
tail -n +2 "$dir/idle.out"
echo "rss_after_idle_closed: $(rss)  open=$(metric palisade_audit_connections_open)"

echo "== 4. 200 silent TCP connections"
"$probe" silent "$addr" 200 30

echo "== connections closed by reason"
curl -s "http://127.0.0.1:$mport/metrics" | grep -E '^palisade_audit_(connections_closed_total|connections_refused_total|body_budget_rejections_total|request_timeouts_total)' | grep -v ' 0$' || true
kill -TERM "$server"
set +e
wait "$server"
echo "exit_status_after_sigterm: $?"
server=""
