#!/usr/bin/env bash
# Speed of `palisade feed`: the library pipeline on the recorded GitHub pages (113 issue records) and the
# CLI end to end. Usage: scripts/bench-feed.sh [runs]   (release build; no timing assertions anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"

echo "== library (crates/palisade-feed/examples/feed_bench.rs)"
cargo run -q --release -p palisade-feed --example feed_bench -- "$runs"

echo
echo "== CLI: palisade feed build (pages -> JSON Feed, RSS, Atom, 72 OSV files), wall clock incl. process start"
cargo build -q --release -p palisade
bin=target/release/palisade
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
n=20
start=$(date +%s%N)
for _ in $(seq "$n"); do
  "$bin" feed build --input testdata/cve-feed/github-pages-2023 testdata/cve-feed/github-pages-2025 --out "$out" 2>/dev/null
done
end=$(date +%s%N)
echo "  feed build: $(( (end - start) / n / 1000 )) us per run (mean of $n)"
start=$(date +%s%N)
for _ in $(seq "$n"); do
  "$bin" feed affected --feed "$out/official-cve-feed.json" --version v1.27.1 --component kube-apiserver --format json >/dev/null
done
end=$(date +%s%N)
echo "  feed affected: $(( (end - start) / n / 1000 )) us per run (mean of $n)"
