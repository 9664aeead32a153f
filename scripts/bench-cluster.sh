#!/usr/bin/env bash
# End-to-end speed and memory of `palisade scan --cluster` on a large cluster: the vendored
# corpus, COPIES times over (default 10: each copy in namespaces of its own, ~8,700 objects),
# served by palisade-kube's fake API server (TLS, discovery, paged lists; the
# `fake_cluster` example in serve mode) and scanned with `palisade scan --cluster -f json`.
#
#   scripts/bench-cluster.sh [--runs N] [--copies N] [-- EXTRA SCAN ARGS]
#
# Prints the median wall time, CPU time and peak RSS of the scan process alone (the server
# runs in its own process), the objects and findings of the last run, and `uptime`'s load,
# since the machine may be shared. Goal (issue 15): under 2 s and under 100 MB.
# PALISADE_BIN=path measures that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5; copies=10; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --locked -q -p palisade-kube --features testing --example fake_cluster
if [ -n "${PALISADE_BIN:-}" ]; then
  pal=$PALISADE_BIN
else
  cargo build --release --locked -q -p palisade
  pal=$PWD/target/release/palisade
fi
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/fake_cluster serve "$copies" "$work" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  [ -s "$work/kubeconfig" ] && grep -q kubeconfig "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 2; }
  sleep 0.1
done
[ -s "$work/kubeconfig" ] || { echo "the fake API server did not start" >&2; exit 2; }
served=$(awk '{print $1; exit}' "$work/server.log")

walls=(); cpus=(); rsss=()
for _ in $(seq "$runs"); do
  t0=$(date +%s%N)
  status=0
  /usr/bin/time -v -o "$work/t" "$pal" scan --no-config --cluster --kubeconfig "$work/kubeconfig" \
    -f json -o "$work/report.json" ${extra[@]+"${extra[@]}"} 2> "$work/stderr" || status=$?
  t1=$(date +%s%N)
  if [ "$status" -gt 1 ]; then
    echo "scan failed (exit $status):" >&2; cat "$work/stderr" >&2; exit 2
  fi
  walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)/1e9}')")
  cpus+=("$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$work/t")")
  rsss+=("$(awk -F': ' '/Maximum resident/{print $2/1024}' "$work/t")")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
counts=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(s["objects"], s["findings"], s["notes"], s["errors"])' "$work/report.json")
read -r objects findings notes errors <<< "$counts"

echo "| objects served | objects scanned | findings | notes | errors | runs | median wall (s) | median CPU (s) | median peak RSS (MB) |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $served | $objects | $findings | $notes | $errors | $runs | $(med "${walls[@]}") | $(med "${cpus[@]}") | $(med "${rsss[@]}") |"
echo
echo "walls: ${walls[*]}"
echo "peak RSS (MB): ${rsss[*]}"
echo "load: $(uptime)"
echo "command: palisade scan --no-config --cluster --kubeconfig KUBECONFIG -f json -o FILE ${extra[*]:-}"
