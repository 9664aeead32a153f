#!/usr/bin/env python3
"""Compare a `palisade image -f json` report with a Trivy CycloneDX SBOM of the same input,
package for package: key (purl type, name, version), names spelled as palisade spells them
(npm `@scope/name`, Maven `group:artifact`, PyPI compared case- and `-_.`-insensitively).
Differences are sorted into the classes of docs/images.md ("Trivy side by side"); anything
not in a class is printed as UNEXPLAINED and makes the exit status 1.

    compare-image-packages.py PALISADE.json TRIVY.cdx.json [--input N] [--dpkg-root DIR]

--dpkg-root: a root filesystem of the same image, whose var/lib/dpkg/info/*.md5sums say which
files dpkg owns (default: the input itself when it is a directory).

The same classes are asserted on the vendored fixture by crates/palisade/tests/it/image.rs.
"""

import glob
import json
import os
import re
import sys
import urllib.parse
from collections import Counter, defaultdict

KIND_TYPE = {"deb": "deb", "apk": "apk", "rpm": "rpm", "go": "golang", "gostdlib": "golang",
             "cargo": "cargo", "pypi": "pypi", "npm": "npm", "maven": "maven", "kubernetes": "k8s",
             "other": "generic"}


def norm_name(ptype, name):
    if ptype == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def trivy_packages(cdx):
    out = []
    for c in cdx.get("components", []):
        if c.get("type") in ("operating-system", "application"):
            continue
        purl = c.get("purl")
        props = {p["name"].split(":")[-1]: p["value"] for p in c.get("properties", [])}
        name, group = c.get("name", ""), c.get("group")
        if purl:
            ptype = purl[4:].split("/", 1)[0]
            if ptype == "npm" and group:
                name = f"{group}/{name}"
            elif ptype == "maven" and group:
                name = f"{group}:{name}"
        else:
            ptype = "(none)"
        out.append({"type": ptype, "name": name, "version": c.get("version", ""),
                    "path": props.get("FilePath", ""), "purl": purl or ""})
    return out


def palisade_packages(report, index):
    inp = report["inputs"][index]
    out = []
    for p in inp.get("packages", []):
        out.append({"type": KIND_TYPE.get(p["kind"], p["kind"]), "name": p["name"],
                    "version": p["version"], "path": p.get("path", ""), "purl": p.get("purl", ""),
                    "kind": p["kind"]})
    return out


def key(p):
    return (p["type"], norm_name(p["type"], p["name"]), p["version"])


def classify(side, p, other, dpkg_owned):
    """The difference class (docs/images.md) of package P found only on SIDE ('palisade' or
    'trivy'); OTHER: the other tool's keys."""
    t, n, v = key(p)
    if t == "golang" and n == "stdlib":
        alt = v[1:] if v.startswith("v") else "v" + v
        if ("golang", "stdlib", alt) in other:
            return "go-stdlib-v-prefix"
    if side == "trivy" and t == "(none)" and p["name"].startswith(("./", "../", "/")):
        return "go-local-replace"
    if side == "palisade" and t == "golang" and v == "(devel)" and p["path"]:
        return "go-local-replace"
    if side == "palisade" and p["path"] in dpkg_owned and t != "deb":
        return "dpkg-owned-language-package"
    if side == "trivy" and t == "npm" and "node_modules/" not in p["path"]:
        return "npm-application-root"
    if t == "golang" and n.startswith("k8s.io/"):
        if side == "trivy" and v == "" and any(o[:2] == ("golang", n) for o in other):
            return "kubernetes-devel-modules"
        if side == "palisade" and ("golang", n, "") in other:
            return "kubernetes-devel-modules"
    if side == "palisade" and p.get("kind") == "kubernetes":
        return "kubernetes-component"
    return "UNEXPLAINED"


def compare(pal, triv, dpkg_owned=frozenset()):
    pk, tk = Counter(map(key, pal)), Counter(map(key, triv))
    classes = defaultdict(list)
    both = sum((pk & tk).values())
    for side, pkgs, mine, theirs in (("palisade", pal, pk, tk), ("trivy", triv, tk, pk)):
        extra = mine - theirs
        theirs_keys = set(theirs)
        for p in pkgs:
            k = key(p)
            if extra[k] > 0:
                extra[k] -= 1
                classes[classify(side, p, theirs_keys, dpkg_owned)].append((side, p))
    return both, classes


def main():
    args = sys.argv[1:]
    index, root = 0, None
    if "--input" in args:
        i = args.index("--input")
        index = int(args[i + 1])
        del args[i:i + 2]
    if "--dpkg-root" in args:
        i = args.index("--dpkg-root")
        root = args[i + 1]
        del args[i:i + 2]
    report = json.load(open(args[0]))
    cdx = json.load(open(args[1]))
    pal, triv = palisade_packages(report, index), trivy_packages(cdx)
    owned = set()
    root = root or report["inputs"][index]["source"]
    if os.path.isdir(root):
        for f in glob.glob(os.path.join(root, "var/lib/dpkg/info/*.md5sums")):
            for line in open(f, errors="replace"):
                parts = line.split(None, 1)
                if len(parts) == 2:
                    owned.add(parts[1].strip())
    both, classes = compare(pal, triv, owned)
    print(f"palisade {len(pal)} packages, trivy {len(triv)}, same (type, name, version): {both}")
    by_type = Counter(k[0] for k in map(key, pal))
    print("palisade by type:", dict(sorted(by_type.items())))
    print("trivy by type:   ", dict(sorted(Counter(k[0] for k in map(key, triv)).items())))
    unexplained = 0
    for cls in sorted(classes):
        items = classes[cls]
        sides = Counter(s for s, _ in items)
        print(f"{cls}: " + ", ".join(f"{n} only in {s}" for s, n in sorted(sides.items())))
        for side, p in items[: (None if cls == "UNEXPLAINED" else 5)]:
            print(f"    {side:8} {p['type']:7} {p['name']} {p['version']}  {p['path']}")
        if cls == "UNEXPLAINED":
            unexplained += len(items)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
