#!/usr/bin/env bash
# Side-by-side speed and memory of `palisade scan` against Checkov and Trivy on the same files.
#
#   scripts/bench-scan.sh [--runs N] [--x10] [--install-peers] [--no-peers] [--families] [CORPUS_DIR]
#
# --families also times Palisade with only the PSS family (`--select pss`) and with every rule
# family (`--select all`: pss, hardening with opt-in rules, reliability, rbac, netpol), to
# check that the full catalog stays within 2x of the PSS-only run.
# CORPUS_DIR defaults to testdata/corpus (866 real objects from 23 projects, vendored from
# ../shared/data/corpus). --x10 also measures a copy whose files each repeat their documents 10
# times (the peers' runbook's "x10" corpus). Peers are looked up on PATH, then in
# $PEERS_VENV (default /tmp/peers-venv); --install-peers creates that venv with the pinned
# versions from ../shared/research/peers-runbook.md; --no-peers times Palisade alone (the peers
# take minutes on x10). Peers run inside `unshare -n` (no network) when that works.
# PALISADE_BIN=path measures that binary instead of building one (e.g. an older build).
# Prints a Markdown table: median wall time, CPU time and peak RSS per tool; with --families,
# Palisade's rows are the default families, `--select pss`, `--select all` and SARIF output.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3; x10=0; install=0; families=0; peers=1; corpus=testdata/corpus
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --x10) x10=1; shift ;;
    --install-peers) install=1; shift ;;
    --families) families=1; shift ;;
    --no-peers) peers=0; shift ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) corpus=$1; shift ;;
  esac
done
. scripts/peers.sh   # cwd is the repo root (see the cd above)
if [ "$peers" = 0 ]; then checkov=""; trivy=""; fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

if [ -n "${PALISADE_BIN:-}" ]; then
  pal=$PALISADE_BIN
else
  cargo build --release --locked -q -p palisade
  pal=$PWD/target/release/palisade
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

corpora=("$corpus")
if [ "$x10" = 1 ]; then
  python3 - "$corpus" "$work/corpus-x10" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
for dp, _, fn in os.walk(src):
    for f in fn:
        if f.endswith((".yaml", ".yml", ".json")):
            p = os.path.join(dp, f); q = os.path.join(dst, os.path.relpath(p, src))
            os.makedirs(os.path.dirname(q), exist_ok=True)
            text = open(p, encoding="utf-8").read()
            if f.endswith(".json"):
                open(q, "w").write(text)  # a JSON file holds one value: copy it as is
            else:
                open(q, "w").write("\n---\n".join([text] * 10))
PY
  corpora+=("$work/corpus-x10")
fi

# measure NAME DIR CMD... -> appends "name|dir|wall|cpu|rss_mb|findings" lines to $work/rows
measure() {
  local name=$1 dir=$2; shift 2
  local walls=() cpus=() rsss=()
  for i in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$work/t" "$@" > "$work/out" 2>/dev/null || true
    t1=$(date +%s%N)
    # /usr/bin/time prints wall time in 10 ms steps: too coarse for Palisade, so time it here.
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)/1e9}')")
    cpus+=("$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$work/t")")
    rsss+=("$(awk -F': ' '/Maximum resident/{print $2/1024}' "$work/t")")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
  echo "$name|$dir|$(med "${walls[@]}")|$(med "${cpus[@]}")|$(med "${rsss[@]}")|$(count_findings "$name")" >> "$work/rows"
}
count_findings() {
  python3 - "$1" "$work/out" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    d = json.load(open(path))
except Exception:
    print("?"); sys.exit()
if name.startswith("palisade") and "runs" in d:
    print(sum(len(r.get("results", [])) for r in d["runs"]))
elif name.startswith("palisade"):
    print(len(d["findings"]))
elif name == "checkov":
    d = d if isinstance(d, list) else [d]
    print(sum(len(x.get("results", {}).get("failed_checks", [])) for x in d))
else:
    print(sum(len(r.get("Misconfigurations") or []) for r in d.get("Results") or []))
PY
}

for dir in "${corpora[@]}"; do
  label=$(basename "$dir")
  measure palisade "$label" "$pal" scan --format json --no-config "$dir"
  if [ "$families" = 1 ]; then
    measure palisade-pss "$label" "$pal" scan --format json --no-config --select pss "$dir"
    measure palisade-all "$label" "$pal" scan --format json --no-config --select all "$dir"
    measure palisade-sarif "$label" "$pal" scan --format sarif --no-config "$dir"
  fi
  if [ -n "$checkov" ]; then
    measure checkov "$label" $nonet "$checkov" -d "$dir" --framework kubernetes -o json --quiet --skip-download --soft-fail
  fi
  if [ -n "$trivy" ]; then
    measure trivy "$label" $nonet "$trivy" config --cache-dir "$work/trivy-cache" --skip-check-update \
      --misconfig-scanners kubernetes -f json -q "$dir"
  fi
done

echo "| corpus | tool | wall (median of $runs) | CPU | peak RSS | findings | palisade is faster by |"
echo "|---|---|---:|---:|---:|---:|---:|"
awk -F'|' '
  $1=="palisade" { base[$2]=$3 }
  { rows[NR]=$0 }
  END {
    for (i=1; i<=NR; i++) {
      split(rows[i], f, "|")
      ratio = (f[1] ~ /^palisade/ || base[f[2]]==0) ? "-" : sprintf("%.0fx", f[3]/base[f[2]])
      printf "| %s | %s | %.3f s | %.2f s | %.0f MB | %s | %s |\n", f[2], f[1], f[3], f[4], f[5], f[6], ratio
    }
  }' "$work/rows"
if [ "$families" = 1 ]; then
  awk -F'|' '$1=="palisade-pss"{p[$2]=$3} $1=="palisade-all"{a[$2]=$3}
    END{for (c in p) if (p[c]>0) printf "all families / PSS only on %s: %.2fx wall time\n", c, a[c]/p[c]}' "$work/rows"
fi
if [ "$peers" = 1 ]; then
  [ -n "$checkov" ] || echo "(checkov not found: run with --install-peers or put it on PATH)"
  [ -n "$trivy" ] || echo "(trivy not found: run with --install-peers or put it on PATH)"
fi
