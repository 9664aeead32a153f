#!/usr/bin/env bash
# Cost of `palisade scan --policy`: the corpus scanned with every gatekeeper-library template and
# its sample constraints, against the same scan without policies (goal: under 3x the time).
#
#   scripts/bench-scan-policy.sh [--runs N] [--no-sync] [CORPUS_DIR]
#
# CORPUS_DIR defaults to testdata/corpus. Policies: every template.yaml under
# testdata/gatekeeper-library/library, every samples/*/constraint.yaml and the sync.yaml files
# the referential templates come with (Gatekeeper's sync configuration: data.inventory holds
# only the kinds they name), copied into one directory, passed as one --policy. --no-sync
# leaves the sync files out (data.inventory then holds every scanned object). The two scans
# alternate run by run (release build, default 5 runs each); prints medians of wall time, CPU
# time and peak RSS side by side, the finding and error counts, and the ratio.
# PALISADE_BIN=path measures that binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5; corpus=testdata/corpus; sync=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --no-sync) sync=0; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) corpus=$1; shift ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
if [ -n "${PALISADE_BIN:-}" ]; then
  pal=$PALISADE_BIN
else
  cargo build --release --locked -q -p palisade
  pal=$PWD/target/release/palisade
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

lib=testdata/gatekeeper-library/library
mkdir -p "$work/policies"
n=0
while IFS= read -r f; do
  n=$((n + 1)); cp "$f" "$work/policies/$n-$(basename "$(dirname "$f")").yaml"
done < <(find "$lib" -name template.yaml | sort; find "$lib" -path '*/samples/*/constraint.yaml' | sort)
if [ "$sync" = 1 ]; then
  for f in $(find "$lib" -name sync.yaml | sort); do
    n=$((n + 1)); cp "$f" "$work/policies/$n-$(basename "$(dirname "$f")")-sync.yaml"
  done
fi
templates=$(find "$lib" -name template.yaml | wc -l)
constraints=$(find "$lib" -path '*/samples/*/constraint.yaml' | wc -l)

# run NAME CMD... -> appends "name wall cpu rss_mb" to $work/NAME
run() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/t" "$@" > "$work/$name.json" 2>"$work/$name.err" || true
  t1=$(date +%s%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)/1e9}') \
$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$work/t") \
$(awk -F': ' '/Maximum resident/{print $2/1024}' "$work/t")" >> "$work/$name"
}
for i in $(seq "$runs"); do
  run plain "$pal" scan --format json --no-config "$corpus"
  run policy "$pal" scan --format json --no-config --policy "$work/policies" "$corpus"
done

med() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
counts() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["findings"]
print(len(f), sum(1 for x in f if x["family"] == "policy"), len(d["errors"]))
PY
}
echo "corpus: $corpus; policies: $templates templates, $constraints sample constraints, sync files: $([ "$sync" = 1 ] && echo yes || echo no); $runs runs each, alternated"
echo
echo "| scan | wall (median) | CPU | peak RSS | findings | of them policy | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for name in plain policy; do
  wall=$(awk '{print $1}' "$work/$name" | med)
  cpu=$(awk '{print $2}' "$work/$name" | med)
  rss=$(awk '{print $3}' "$work/$name" | med)
  read -r nf np ne < <(counts "$name")
  label=$([ "$name" = plain ] && echo "without policies" || echo "with --policy")
  printf '| %s | %.3f s | %.2f s | %.0f MB | %s | %s | %s |\n' "$label" "$wall" "$cpu" "$rss" "$nf" "$np" "$ne"
  echo "$wall" > "$work/$name.wall"
done
awk -v a="$(cat "$work/plain.wall")" -v b="$(cat "$work/policy.wall")" \
  'BEGIN{printf "\nwith policies / without: %.2fx wall time (goal < 3x)\n", b/a}'
if [ -s "$work/policy.err" ]; then
  echo; echo "stderr of the last policy run (first lines):"; head -5 "$work/policy.err"
fi
