#!/usr/bin/env bash
# Peak RSS and time of `palisade scan` on generated inputs (docs/loader.md, "Memory").
# Usage: scripts/loader-memory/run.sh [PALISADE_BINARY]  (default target/release/palisade)
# Prints: input, bytes, median of 3 runs of wall seconds and peak RSS (KB).
set -euo pipefail
bin=${1:-target/release/palisade}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gen="$(dirname "$0")/gen.py"
for spec in "list1 3000" "list1 6000" "list1 12000" "list1 24000" "listpretty 3000" "listpretty 24000" \
            "array 24000" "array 40000" "array 125000" "yflow 3000000" "yflowroot 3000000"; do
  set -- $spec
  f="$dir/$1-$2.$([ "${1#y}" = "$1" ] && echo json || echo yaml)"
  python3 "$gen" "$1" "$2" "$f"
  for _ in 1 2 3; do
    # Exit status 1 (findings) and 2 (input errors) are expected.
    /usr/bin/time -f "%e %M" "$bin" scan "$f" --format json >/dev/null 2>"$dir/err" || true
    tail -1 "$dir/err"
  done | sort -n | sed -n 2p | sed "s|^|$1 $2 $(stat -c %s "$f") |"
done
