#!/usr/bin/env bash
# Load benchmark of `palisade admit`: real AdmissionReviews (Kubewarden's CREATE Pod
# samples, full managedFields) POSTed over TLS keep-alive (HTTP/1.1, as the API server
# calls service webhooks) by `admit_load` (crates/palisade-admit/examples/admit_load.rs).
#
#   scripts/bench-admit.sh            # 20 s closed-loop peak + 300 s open-loop at 5,000/s
#   SECONDS_PEAK=10 SECONDS_RATE=60 RATE=5000 CONCURRENCY=50 scripts/bench-admit.sh
#   NICE=-10 scripts/bench-admit.sh   # run server and load at a higher CPU priority (root)
#
# The namespace is labelled enforce=baseline, warn=restricted, so every review is
# evaluated at two levels and half the samples are denied. Reports throughput,
# p50/p90/p99/p99.9 latency (client-side, TLS verified against the service name) and the server's RSS (sampled every second) over the run.
# Server and load generator share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

peak_s="${SECONDS_PEAK:-20}"
rate_s="${SECONDS_RATE:-300}"
rate="${RATE:-5000}"
conc="${CONCURRENCY:-50}"
port="${PORT:-18443}"

cargo build --release -q -p palisade -p palisade-admit --example admit_load
bin=target/release/palisade
load=target/release/examples/admit_load

work="$(mktemp -d)"
server_pid=""
sampler_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
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
    pod-security.kubernetes.io/warn: restricted
YAML
nice_cmd=()
[ -n "${NICE:-}" ] && nice_cmd=(nice -n "$NICE")
echo "== load average before: $(cat /proc/loadavg)"
"${nice_cmd[@]}" "$bin" admit --listen "127.0.0.1:$port" --cert "$work/pki/tls.crt" --key "$work/pki/tls.key" \
  --objects "$work/objects.yaml" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$work/server.log" || { cat "$work/server.log"; exit 1; }

( while kill -0 "$server_pid" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true
    sleep 1
  done ) > "$work/rss.txt" &
sampler_pid=$!

samples=testdata/admission/kubewarden-policy-server
bodies="$samples/pod_with_privileged_containers.json,$samples/pod_without_privileged_containers.json,$samples/pod_sleep_100ms.json,$samples/pod_sleep_4s.json"
echo "== closed loop, concurrency $conc, ${peak_s}s (peak throughput)"
"${nice_cmd[@]}" "$load" --addr "127.0.0.1:$port" --ca "$work/pki/ca.crt" --server-name palisade-admit.palisade-admit.svc --body "$bodies" \
  --concurrency "$conc" --duration "$peak_s" | tee "$work/peak.json"
rss_before=$(tail -1 "$work/rss.txt")
echo "== open loop, $rate reviews/s, concurrency $conc, ${rate_s}s"
"${nice_cmd[@]}" "$load" --addr "127.0.0.1:$port" --ca "$work/pki/ca.crt" --server-name palisade-admit.palisade-admit.svc --body "$bodies" \
  --concurrency "$conc" --duration "$rate_s" --rate "$rate" --metrics-out "$work/metrics.txt" | tee "$work/rate.json"
# Server-side decision time (from parse to answer, without TLS/HTTP): mean and the
# histogram bucket holding the 99th percentile, over both runs.
awk '/^palisade_admit_review_duration_seconds_sum/ {sum=$2}
     /^palisade_admit_review_duration_seconds_count/ {n=$2}
     /^palisade_admit_review_duration_seconds_bucket/ {
       match($0, /le="[^"]*"/); le=substr($0, RSTART+4, RLENGTH-5); b[++k]=le; c[k]=$2 }
     END { if (n > 0) { p99="?"; for (i=1;i<=k;i++) if (c[i] >= 0.99*n) { p99=b[i]; break }
           printf "== server decision time: %d reviews, mean %.1f us, p99 <= %s s\n", n, sum/n*1e6, p99 } }' \
  "$work/metrics.txt"
sleep 1
echo "== server RSS (KiB) sampled every second: start $(head -1 "$work/rss.txt"), before open loop ${rss_before}, min $(sort -n "$work/rss.txt" | head -1), max $(sort -n "$work/rss.txt" | tail -1), end $(tail -1 "$work/rss.txt"), samples $(wc -l < "$work/rss.txt")"
echo "== load average after: $(cat /proc/loadavg)"
echo "== machine: $(nproc) cores, $(uname -sr)"
