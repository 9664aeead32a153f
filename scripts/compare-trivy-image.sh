#!/usr/bin/env bash
# Package-for-package comparison of `palisade image` with Trivy on the same inputs.
#
#   scripts/compare-trivy-image.sh [INPUT...]
#
# Default inputs: the benchmark image (scripts/build-bench-image.sh) as root filesystem,
# `docker save` archive and OCI layout. Environment: DIR, PALISADE, TRIVY as for
# scripts/bench-image.sh. For each input prints the counts, the packages both report, and
# every difference sorted into the classes of docs/images.md; exit 1 if any is unexplained.
set -euo pipefail
DIR=${DIR:-/tmp/palisade-bench-image}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PALISADE=${PALISADE:-$ROOT/target/release/palisade}
TRIVY=${TRIVY:-$(command -v trivy || true)}
[ -x "$PALISADE" ] || { echo "no palisade at $PALISADE" >&2; exit 2; }
[ -n "$TRIVY" ] || { echo "no trivy: set TRIVY" >&2; exit 2; }
if [ $# -eq 0 ]; then
  [ -f "$DIR/image-oci.tar" ] || TRIVY=$TRIVY "$HERE/build-bench-image.sh" "$DIR"
  set -- "$DIR/rootfs" "$DIR/image-docker.tar" "$DIR/image-oci"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/trivy-empty-javadb.py" "$WORK/cache"
NET=()
[ "$(id -u)" = 0 ] && command -v unshare >/dev/null && NET=(unshare -n)
status=0
for input in "$@"; do
  echo "== $input"
  "$PALISADE" image "$input" -f json --fail-on never -o "$WORK/p.json"
  if [ -d "$input" ] && [ ! -f "$input/index.json" ]; then
    sub=(rootfs "$input"); root=$input
  else
    sub=(image --input "$input"); root=${DPKG_ROOT:-$DIR/rootfs}
  fi
  "${NET[@]}" "$TRIVY" "${sub[0]}" --cache-dir "$WORK/cache" --cache-backend memory --format cyclonedx \
    --skip-db-update --skip-java-db-update --offline-scan --quiet -o "$WORK/t.json" "${sub[@]:1}"
  python3 "$HERE/compare-image-packages.py" "$WORK/p.json" "$WORK/t.json" --dpkg-root "$root" || status=1
done
exit $status
