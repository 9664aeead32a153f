#!/usr/bin/env bash
# RBAC and NetworkPolicy findings per project on testdata/corpus, and timings:
#  1. the cross-object analysis alone over the whole corpus as one set (release example,
#     loading excluded; min and median of N rounds);
#  2. the whole `palisade scan --select rbac,netpol testdata/corpus` with the release binary
#     (loading, analysis and JSON printing), best and median of N runs.
# Usage: scripts/graph-corpus.sh [ROUNDS]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-10}"
CORPUS=testdata/corpus

cargo build --release -q -p palisade && cargo build --release -q -p palisade-graph --example graph_bench
echo "## Per-project findings (palisade-graph, all rbac and netpol rules)"
echo
target/release/examples/graph_bench "$CORPUS" "$ROUNDS"
echo

bin=target/release/palisade
times=()
for _ in $(seq "$ROUNDS"); do
  start=$(date +%s%N)
  "$bin" scan --select rbac,netpol --format json "$CORPUS" >/dev/null || true
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "palisade scan --select rbac,netpol --format json $CORPUS (release, $ROUNDS runs):" \
  "best ${sorted[0]} ms, median ${sorted[$(( ${#sorted[@]} / 2 ))]} ms" \
  "($(du -sh "$CORPUS" | cut -f1) of YAML, $(find "$CORPUS" -name '*.y*ml' | wc -l) files; $(nproc) cores)"
