#!/usr/bin/env bash
# Throughput of `palisade audit` on one core, and of `jq` on the same log in the same run.
#
#   scripts/bench-audit.sh [--events N] [--repeat R] [--keep DIR] [--no-build]
#
# 1. Builds two JSON Lines logs of N (default 1,000,000) events from the saved data under
#    testdata/audit/ (`cargo run --release --example audit_bench -- gen N FILE MIX`):
#    - `real`: real-shaped: 95% control-plane/node background traffic (lease renewals,
#      get/list/watch by the controller manager, scheduler, kubelets, kube-proxy, CoreDNS,
#      node status patches) in the field layout of the saved audit2rbac log, 5% copies of
#      the saved Falco traces and real logs; ~3% of the events alert (docs/audit.md).
#    - `traces`: only copies of the saved traces (fresh auditID, shifted timestamps, every
#      7th a varied user, every 5th a varied namespace/name); 54% of the events alert,
#      0.83 alerts per event: the worst case.
# 2. Runs the real binary with the full default rule set (Falco's k8s_audit_rules.yaml plus
#    Palisade's extra rules), JSON alerts to a file, pinned to one core (`taskset -c 0`):
#    `palisade audit --format json -q LOG > ALERTS`, on both logs, and on a tenth of the
#    real-shaped log, to show that memory does not grow with the input.
# 3. Times `jq -c` with a filter equivalent to ONE rule (Falco's "Create Privileged Pod":
#    completed, pods, no subresource, create, any container privileged), also on core 0,
#    on the real-shaped log.
# Every run is repeated R times (default 3) and the one with the least CPU time is reported:
# the machine is shared, and other processes' load only ever adds time.
# Prints a Markdown table: wall time, events/s, MB/s, peak RSS, alerts or matches.
# Installs jq (and GNU time) with apt-get if missing and allowed (root).
set -euo pipefail
cd "$(dirname "$0")/.."

events=1000000; keep=""; build=1; repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --no-build) build=0; shift ;;  # use the release binaries already in target/
    -h|--help) sed -n 2,27p "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

need() { # need CMD PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q "$2" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "needs $1 (apt-get install $2)" >&2; exit 2; }
}
need jq jq
[ -x /usr/bin/time ] || need /usr/bin/time time
need taskset util-linux

if [ "$build" = 1 ]; then
  cargo build --release -q -p palisade --bin palisade
  cargo build --release -q -p palisade-audit --example audit_bench
fi
pal=$PWD/target/release/palisade
gen=$PWD/target/release/examples/audit_bench

if [ -n "$keep" ]; then work=$keep; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
log=$work/audit.jsonl
small=$work/audit-small.jsonl
worst=$work/audit-traces.jsonl
"$gen" gen "$events" "$log" real
"$gen" gen $((events / 10)) "$small" real
"$gen" gen "$events" "$worst" traces

# measure NAME EVENTS FILE OUT CMD... -> one table row. GNU time: wall, user, sys, max RSS (KiB).
rows=()
measure() {
  local name=$1 n=$2 file=$3 out=$4; shift 4
  local rc i best="" wall user sys rss
  for ((i = 0; i < repeat; i++)); do
    rc=0
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" taskset -c 0 "$@" >"$out" 2>"$work/stderr" || rc=$?
    # palisade exits 1 when there are alerts; 2 or more is a failure.
    if [ "$rc" -ge 2 ]; then echo "$name failed (exit $rc):" >&2; cat "$work/stderr" >&2; exit 1; fi
    read -r w u s m < <(tail -1 "$work/time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $u + $s < $best else 1)"; then
      best=$(python3 -c "print($u + $s)"); wall=$w; user=$u; sys=$s; rss=$m
    fi
  done
  local bytes hits
  bytes=$(stat -c %s "$file")
  hits=$(wc -l <"$out")
  rows+=("$(python3 -c '
import sys
name, n, b, wall, user, sys_, rss, hits = sys.argv[1:]
n, b, wall, rss = int(n), int(b), float(wall), int(rss)
cpu = max(float(user) + float(sys_), 0.01)
print(f"| {name} | {n:,} | {b/1e6:,.0f} | {wall:.2f} | {cpu:.2f} | {n/wall:,.0f} | {n/cpu:,.0f} | {b/1e6/wall:,.1f} | {b/1e6/cpu:,.1f} | {rss/1024:,.0f} | {int(hits):,} |")
' "$name" "$n" "$bytes" "$wall" "$user" "$sys" "$rss" "$hits")")
}

rules=$("$pal" audit rules | wc -l)
measure "palisade audit, all $rules default rules, real-shaped log" "$events" "$log" "$work/alerts.jsonl" \
  "$pal" audit --format json -q "$log"
measure "palisade audit, all $rules default rules, real-shaped (1/10 of the log)" $((events / 10)) "$small" "$work/alerts-small.jsonl" \
  "$pal" audit --format json -q "$small"
measure "palisade audit, all $rules default rules, traces only (worst case)" "$events" "$worst" "$work/alerts-traces.jsonl" \
  "$pal" audit --format json -q "$worst"
filter='select(.stage=="ResponseComplete" and .objectRef.resource=="pods" and (.objectRef.subresource==null) and .verb=="create" and ([.requestObject.spec.containers[]?.securityContext.privileged] | any(. == true)))'
measure "jq -c, one rule (Create Privileged Pod)" "$events" "$log" "$work/jq.jsonl" jq -c "$filter" "$log"

# The jq filter and palisade's rule must agree on that one rule.
pal_priv=$(grep -c '"rule":"Create Privileged Pod"' "$work/alerts.jsonl" || true)
jq_priv=$(wc -l <"$work/jq.jsonl")

echo
echo "$(uname -m), $(nproc) cores, one used (taskset -c 0); fastest (CPU time) of $repeat runs each; $(date -u +%Y-%m-%d)"
echo
# events/s per CPU second as well: on a shared machine wall time includes waiting for the core.
echo "| run | events | MB | wall s | cpu s | events/s (wall) | events/s (cpu) | MB/s (wall) | MB/s (cpu) | peak RSS MB | alerts / matches |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
for f in alerts alerts-traces; do
  python3 -c '
import json, sys
path, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = {json.loads(l)["line"] for l in open(path)}
print(f"{name}: {len(lines):,} of {n:,} events ({100 * len(lines) / n:.1f}%) raise at least one alert.")
' "$work/$f.jsonl" "$events" "$([ $f = alerts ] && echo real-shaped || echo traces-only)"
done
echo "\"Create Privileged Pod\": palisade $pal_priv alerts, jq $jq_priv matches."
if [ "$pal_priv" != "$jq_priv" ]; then echo "MISMATCH between palisade and jq on the one rule" >&2; exit 1; fi
