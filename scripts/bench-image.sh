#!/usr/bin/env bash
# Image inventory benchmark: palisade vs Trivy on the same real-sized image.
#
#   scripts/bench-image.sh [RUNS]          # default RUNS=5
#
# Environment: DIR (scratch, default /tmp/palisade-bench-image; built by
# scripts/build-bench-image.sh when missing), PALISADE (default target/release/palisade),
# TRIVY (default: trivy on PATH; see ../shared/research/peers-runbook.md to install 0.76.0
# offline). Both tools write a CycloneDX SBOM of every package and no vulnerability matching;
# Trivy runs offline (--skip-db-update --skip-java-db-update --offline-scan, an empty Java
# index DB so its jar analyzer starts without a download, in-memory cache so no run reuses an
# earlier one) inside `unshare -n` when root. Prints median wall time and median peak RSS
# (/usr/bin/time -v) per input and tool, median CPU time (user + system), and the load average
# before and after the runs.
set -euo pipefail

RUNS=${1:-5}
DIR=${DIR:-/tmp/palisade-bench-image}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PALISADE=${PALISADE:-$ROOT/target/release/palisade}
TRIVY=${TRIVY:-$(command -v trivy || true)}
[ -x "$PALISADE" ] || { echo "no palisade at $PALISADE (cargo build --release -p palisade)" >&2; exit 2; }
[ -n "$TRIVY" ] || { echo "no trivy: set TRIVY (see ../shared/research/peers-runbook.md)" >&2; exit 2; }

[ -f "$DIR/image-oci.tar" ] || TRIVY=$TRIVY "$HERE/build-bench-image.sh" "$DIR"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CACHE="$WORK/trivy-cache"
python3 "$HERE/trivy-empty-javadb.py" "$CACHE"
NET=()
[ "$(id -u)" = 0 ] && command -v unshare >/dev/null && NET=(unshare -n)
TRIVY_FLAGS=(--cache-dir "$CACHE" --cache-backend memory --format cyclonedx --skip-db-update
  --skip-java-db-update --offline-scan --quiet)

# run NAME CMD...: RUNS timed runs; prints "median_wall_s median_rss_mb median_cpu_s" (CPU =
# user + system, which a loaded machine inflates less than wall time)
run() {
  local name=$1; shift
  local i times=() rss=() cpu=()
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > /dev/null 2> "$WORK/$name.err" || {
      echo "$name failed:" >&2; tail -5 "$WORK/$name.err" >&2; return 1; }
    times+=("$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/$name.time")")
    rss+=("$(awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$WORK/$name.time")")
    cpu+=("$(awk -F': ' '/User time|System time/{s+=$2} END{print s}' "$WORK/$name.time")")
  done
  local mt mr mc
  mt=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  mr=$(printf '%s\n' "${rss[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  mc=$(printf '%s\n' "${cpu[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "$mt $mr $mc"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; runs: $RUNS"
echo "input: $(wc -l < "$DIR/packages.txt") .debs + Go binaries; rootfs $(du -sh "$DIR/rootfs" | cut -f1)"
printf '%-18s %-6s %9s %8s %7s %9s %8s %7s %8s\n' input size palisade "CPU s" "RSS MB" trivy "CPU s" "RSS MB" speedup
for input in rootfs image-docker.tar image-oci; do
  path="$DIR/$input"
  size=$(du -sh "$path" | cut -f1)
  read -r pt pr pc < <(run "palisade-$input" "$PALISADE" image "$path" -f cyclonedx --fail-on never)
  if [ "$input" = rootfs ]; then
    read -r tt tr tc < <(run "trivy-$input" "${NET[@]}" "$TRIVY" rootfs "${TRIVY_FLAGS[@]}" "$path")
  else
    read -r tt tr tc < <(run "trivy-$input" "${NET[@]}" "$TRIVY" image "${TRIVY_FLAGS[@]}" --input "$path")
  fi
  printf '%-18s %-6s %8.2fs %8.2f %7s %8.2fs %8.2f %7s %7.1fx\n' "$input" "$size" "$pt" "$pc" "$pr" "$tt" "$tc" "$tr" \
    "$(awk -v a="$tt" -v b="$pt" 'BEGIN{print (b > 0) ? a / b : 0}')"
done
# The OCI archive (tar of the layout, gzip layers): Trivy takes OCI layouts as directories only.
read -r pt pr pc < <(run palisade-oci-tar "$PALISADE" image "$DIR/image-oci.tar" -f cyclonedx --fail-on never)
printf '%-18s %-6s %8.2fs %8.2f %7s %9s %8s %7s %8s\n' image-oci.tar "$(du -sh "$DIR/image-oci.tar" | cut -f1)" "$pt" "$pc" "$pr" - - - -
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
