#!/usr/bin/env bash
# Per-rule findings of `palisade scan` next to Trivy's and Checkov's equivalent checks.
#
#   [PALISADE_BIN=target/release/palisade] scripts/compare-peers.sh [--install-peers] [CORPUS_DIR]
#
# CORPUS_DIR defaults to testdata/corpus (866 real objects from 23 projects). Runs Palisade with
# every rule (`--select all`, PSS restricted:latest), and Checkov and Trivy (looked up on PATH,
# then in $PEERS_VENV, default /tmp/peers-venv; --install-peers creates that venv with the
# versions pinned in ../shared/research/peers-runbook.md) offline (inside `unshare -n` when that
# works). The equivalences come from the catalog itself (`palisade rules --format json`
# references with source `trivy` / `checkov`). Prints a Markdown table, one row per Palisade
# rule that has a Trivy or Checkov equivalent: findings and files with findings for each tool.
# A finding is one (rule, object, container/field) for Palisade, one failed check per resource
# for Checkov and one misconfiguration per document for Trivy, so compare the "files" columns
# for coverage and the findings columns for granularity.
set -euo pipefail
cd "$(dirname "$0")/.."

install=0; corpus=testdata/corpus
while [ $# -gt 0 ]; do
  case "$1" in
    --install-peers) install=1; shift ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) corpus=$1; shift ;;
  esac
done
. scripts/peers.sh   # cwd is the repo root (see the cd above)

# PALISADE_BIN=path skips the build (e.g. a binary built earlier from the same commit).
if [ -n "${PALISADE_BIN:-}" ]; then
  pal=$PALISADE_BIN
else
  cargo build --release --locked -q -p palisade
  pal=$PWD/target/release/palisade
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

"$pal" rules --format json > "$work/rules.json"
"$pal" scan --format json --select all --no-config "$corpus" > "$work/palisade.json" || true
if [ -n "$checkov" ]; then
  $nonet "$checkov" -d "$corpus" --framework kubernetes -o json --quiet --skip-download --soft-fail \
    > "$work/checkov.json" 2>/dev/null || true
  checkov_version=$("$checkov" --version 2>/dev/null || echo "?")
else
  echo '{}' > "$work/checkov.json"; checkov_version=""
fi
if [ -n "$trivy" ]; then
  $nonet "$trivy" config --cache-dir "$work/trivy-cache" --skip-check-update --misconfig-scanners kubernetes \
    -f json -q "$corpus" > "$work/trivy.json" 2>/dev/null || true
  trivy_version=$("$trivy" --version 2>/dev/null | awk '/^Version/{print $2; exit}')
else
  echo '{}' > "$work/trivy.json"; trivy_version=""
fi

python3 - "$work" "$corpus" "$checkov_version" "$trivy_version" <<'PY'
import json, os, sys
from collections import defaultdict
work, corpus, cv, tv = sys.argv[1:5]
load = lambda n: json.load(open(os.path.join(work, n)))
rules = load("rules.json")
pal = load("palisade.json")

def norm(path):
    path = path.lstrip("/")
    c = corpus.rstrip("/") + "/"
    return path[len(c):] if path.startswith(c) else path

p_count, p_files = defaultdict(int), defaultdict(set)
for f in pal.get("findings", []):
    p_count[f["rule"]] += 1
    p_files[f["rule"]].add(norm(f["file"]))

c_count, c_files = defaultdict(int), defaultdict(set)
ck = load("checkov.json")
for block in (ck if isinstance(ck, list) else [ck]):
    for r in (block.get("results") or {}).get("failed_checks", []):
        c_count[r["check_id"]] += 1
        c_files[r["check_id"]].add(norm(r["file_path"]))

t_count, t_files = defaultdict(int), defaultdict(set)
for res in load("trivy.json").get("Results") or []:
    for m in res.get("Misconfigurations") or []:
        i = m["ID"]
        if i.startswith("KSV") and "-" not in i:      # Trivy < 0.70 prints KSV017
            i = "KSV-" + i[3:].rjust(4, "0")
        t_count[i] += 1
        t_files[i].add(norm(res["Target"]))

def peer(rule, source, count, files):
    ids = [x["id"] for x in rule["references"] if x["source"] == source]
    if not ids:
        return "–", "–", "–"
    fs = set().union(*(files[i] for i in ids))
    return ", ".join(ids), str(sum(count[i] for i in ids)), str(len(fs))

s = pal.get("summary", {})
print(f"Corpus `{corpus}`: {s.get('objects')} objects in {s.get('files')} files. "
      f"Palisade `--select all` (PSS {s.get('pss_level')}:{s.get('pss_version')}); "
      f"Checkov {cv or 'not run'}; Trivy {tv or 'not run'}.\n")
print("| rule | name | Palisade findings | files | Trivy IDs | Trivy findings | files | Checkov IDs | Checkov findings | files |")
print("|---|---|---:|---:|---|---:|---:|---|---:|---:|")
for r in rules:
    t = peer(r, "trivy", t_count, t_files)
    c = peer(r, "checkov", c_count, c_files)
    if t[0] == "–" and c[0] == "–":
        continue
    print(f"| {r['id']} | {r['name']} | {p_count[r['id']]} | {len(p_files[r['id']])} | {t[0]} | {t[1]} | {t[2]} | {c[0]} | {c[1]} | {c[2]} |")
PY
[ -n "$checkov" ] || echo "(checkov not found: run with --install-peers or put it on PATH)"
[ -n "$trivy" ] || echo "(trivy not found: run with --install-peers or put it on PATH)"
