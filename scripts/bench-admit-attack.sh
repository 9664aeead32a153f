#!/usr/bin/env bash
# Connection-level attack probe of `palisade admit` (issue #14): memory and review latency
# while 10,000 connections sit silent after the TLS handshake, and while 50 connections
# hold unfinished 7 MiB bodies; then how long the server takes to close a silent and an
# idle connection. Loopback only; every phase is bounded and the probe stops by itself.
#
#   scripts/bench-admit-attack.sh
#   IDLE=10000 SLOW=50 PHASE_SECONDS=20 CLOSE_WAIT=100 scripts/bench-admit-attack.sh
#   BIN=/path/to/older/palisade scripts/bench-admit-attack.sh   # the same probe, another build
#
# The server runs with its defaults (no --config): maxConnections 1024, first request 10 s,
# idle 90 s, 16 MiB of request bodies in flight. Normal reviews (Kubewarden's privileged-pod
# sample, a new connection every 50) run through every phase, so p50/p99 with and without
# the attack come from the same run. Prints one JSON line per phase (admit_attack).
set -euo pipefail
cd "$(dirname "$0")/.."

idle="${IDLE:-10000}"
slow="${SLOW:-50}"
phase_s="${PHASE_SECONDS:-20}"
close_wait="${CLOSE_WAIT:-100}"
port="${PORT:-18543}"

if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -q -p palisade -p palisade-admit --example admit_attack
fi
bin="${BIN:-target/release/palisade}"
probe=target/release/examples/admit_attack

# The probe holds IDLE connections: raise the soft open-files limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "== open files limit $(ulimit -n); load average before: $(cat /proc/loadavg)"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

deploy/admit/gen-certs.sh --out "$work/pki" >/dev/null
cat > "$work/objects.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels:
    pod-security.kubernetes.io/enforce: baseline
YAML
extra=()
if "$bin" admit --help 2>/dev/null | grep -q -- --metrics-listen; then
  extra=(--metrics-listen "127.0.0.1:$((port + 1))")
fi
"$bin" admit --listen "127.0.0.1:$port" "${extra[@]}" --cert "$work/pki/tls.crt" --key "$work/pki/tls.key" \
  --objects "$work/objects.yaml" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$work/server.log" || { cat "$work/server.log"; exit 1; }

"$probe" --addr "127.0.0.1:$port" --ca "$work/pki/ca.crt" --server-name palisade-admit.palisade-admit.svc \
  --body testdata/admission/kubewarden-policy-server/pod_with_privileged_containers.json \
  --pid "$server_pid" --idle "$idle" --slow-body "$slow" --phase-seconds "$phase_s" --close-wait "$close_wait"
if [ ${#extra[@]} -gt 0 ]; then
  echo "== server connection metrics"
  curl -s "http://127.0.0.1:$((port + 1))/metrics" | grep -E '^palisade_admit_(connections|body_budget|request_body)' || true
fi
echo "== load average after: $(cat /proc/loadavg); machine: $(nproc) cores, $(uname -sr)"
