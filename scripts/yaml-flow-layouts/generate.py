#!/usr/bin/env python3
"""Generates the flow-layout variants of issue 13 item 1 and records go-yaml v2's verdict on each
(plus PyYAML's, as a second opinion) in testdata/loader/flow-layouts/variants.json, which
crates/palisade-yaml/tests/it/flow_layouts.rs replays: Palisade must accept exactly what go-yaml
accepts, with the same value.

Each variant puts one flow collection (`[...]` or `{...}`) spread over several lines as a value
in a block context (mapping value, sequence item, indentless sequence item, mapping inside a
sequence item, Kubernetes container args), with its item lines and its closing bracket at
columns relative to the parent key's column (more, equal, one less, column 0), followed by a
sibling that checks block structure resumes. Shapes: quoted and plain items, trailing comma,
nested flow maps and sequences, comments, multi-line plain and quoted scalars, URLs, implicit
pairs, tabs; plus a few that go-yaml rejects (unterminated, `...` inside, bad block indentation
after the flow).

Usage (from the repository root):
  GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/gocheck scripts/yaml-flow-layouts/gocheck.go
  python3 scripts/yaml-flow-layouts/generate.py /tmp/gocheck > testdata/loader/flow-layouts/variants.json
PyYAML (pip install pyyaml) is optional; without it the `pyyaml` field is null.
"""

import json
import subprocess
import sys

# (name, lines of the block context before the flow, prefix of the line that opens the flow,
# the parent key's column, the sibling line written after the flow)
CONTEXTS = [
    ("top-key", [], "args: ", 0, "next: 1"),
    ("nested-key", ["spec:"], "  args: ", 2, "  next: 1"),
    (
        "container-args",
        ["spec:", "  containers:", "    - name: a"],
        "      args: ",
        6,
        "      image: x",
    ),
    ("seq-item", ["items:"], "  - ", 2, "  - z"),
    ("indentless-seq-item", ["items:"], "- ", 0, "- z"),
    ("map-in-seq-item", ["spec:"], "  - args: ", 4, "    image: x"),
]

# Shapes: (name, opening text after the bracket on the first line, item lines, closing text).
# The item lines are placed at the item column; "{o}" / "{c}" are the bracket pair.
SHAPES = [
    ("quoted", "", ['"-config", "/run/spire/config/agent.conf"'], ""),
    ("plain", "", ["a, b,", "c"], ""),
    ("trailing-comma", "", ["a,", "b,"], ""),
    ("first-on-open-line", "a,", ["b"], ""),
    ("last-on-close-line", "", ["a,"], "b"),
    ("nested-flow", "", ['{name: a, value: "1"},', "[x,", "y],", "{k: [1, 2]}"], ""),
    ("comments", " # after open", ["# whole line", "a, # after item", "b"], ""),
    ("multiline-plain", "", ["one two", "three, four"], ""),
    ("multiline-quoted", '"a', ['b", \'c', "d'"], ""),
    ("urls", "", ["http://example.com:8080/a,", "--addr=0.0.0.0:9090"], ""),
    ("implicit-pairs", "", ["a: 1,", "b: x"], ""),
    ("empty", "", [], ""),
    ("tab-indent", "", ["\ta,", "\tb"], ""),
]

MAP_SHAPES = [
    ("map", "", ["a: 1,", 'b: "x"'], ""),
    ("map-nested", "", ["a: [1,", "2],", "b: {c: d}"], ""),
    ("map-comments", "", ["# c", "a: 1, # c", "b: 2"], ""),
    ("map-multiline-quoted", "", ['a: "x', 'y",', "b: 1"], ""),
    ("map-empty", "", [], ""),
]


def columns(key):
    """Item and closing-bracket columns: past the key, at it, one before it, column 0."""
    cols = [key + 2, key, key - 1, 0]
    return sorted({c for c in cols if c >= 0}, reverse=True)


def variant(ctx, shape, seq, item_col, close_col, sibling):
    cname, before, opener, key, after = ctx
    sname, first, items, last = shape
    o, c = ("[", "]") if seq else ("{", "}")
    lines = list(before)
    lines.append(opener + o + first)
    for it in items:
        lines.append(" " * item_col + it)
    lines.append(" " * close_col + last + c)
    if sibling:
        lines.append(after)
    name = f"{cname}/{sname}/items-{item_col}/close-{close_col}" + ("" if sibling else "/last")
    return name, "\n".join(lines) + "\n"


def generate():
    out = {}
    for ctx in CONTEXTS:
        key = ctx[3]
        for seq, shapes in ((True, SHAPES), (False, MAP_SHAPES)):
            for shape in shapes:
                for ic in columns(key):
                    for cc in columns(key):
                        for sibling in (True, False):
                            # Without a sibling only the layouts of the issue itself.
                            if not sibling and (ic != key + 2 or shape[0] not in ("quoted", "map")):
                                continue
                            name, text = variant(ctx, shape, seq, ic, cc, sibling)
                            out.setdefault(text, name)
    # Hand-written: aliases into a flow collection, several collections in one document, CRLF,
    # a quoted scalar below the block indent next to a flow collection, deep nesting.
    extra = {
        "extra/alias-inside": "base: &b x\nargs: [\n*b,\n*b\n]\nnext: *b\n",
        "extra/anchor-inside": "args: [\n&a x,\n]\nnext: *a\n",
        "extra/many-collections": "spec:\n"
        + "".join(f"  k{i}: [\n{i},\n]\n" for i in range(80)),
        "extra/crlf": "spec:\r\n  args: [\r\n\"a\",\r\n  b\r\n]\r\n  next: 1\r\n",
        "extra/lone-cr": "spec:\r  args: [\r\"a\",\r  b\r]\r  next: 1\r",
        "extra/quoted-block-and-flow": 'spec:\n  a: "x\ny"\n  b: [\n"p\nq"\n]\n  c: 1\n',
        "extra/deep": "spec:\n  a: [\n[\n{\nb: [\nc\n]\n}\n]\n]\n  d: 1\n",
        "extra/flow-map-value-flow": "spec:\n  a: {\nb: [\n1],\nc: {\nd: 2\n}}\n  e: 1\n",
        "extra/bracket-in-quoted-key": 'spec:\n  "[": [\n1\n]\n  "{": 2\n',
        "extra/comment-col0-then-close": "spec:\n  a: [ 1,\n# note\n]\n  b: 2\n",
        "extra/second-document-marker-after": "a: [\n1\n]\n...\n",
        "extra/unicode": "spec:\n  a: [\n\"é\", ü,\n]\n  b: ß\n",
        "extra/escaped-line-break": 'spec:\n  a: ["x\\\ny",\n"p\\\n  q"\n]\n  b: 1\n',
        "extra/value-on-next-line": "spec:\n  a: {b:\n1,\nc:\n[2]}\n  d: 3\n",
        "extra/pair-value-next-line": "spec:\n  a: [b:\n1, c]\n  d: 3\n",
        "extra/tab-before-close": "spec:\n  a: [\n1\n\t]\n  b: 2\n",
        "extra/tab-past-indent-before-close": "spec:\n  a: [\n1\n   \t]\n  b: 2\n",
        "extra/tab-after-comma": "spec:\n  a: [\n1,\n\t2]\n  b: 2\n",
        "extra/tab-after-comment": "spec:\n  a: [\n1 # c\n\t]\n  b: 2\n",
        "extra/tab-after-quoted": "spec:\n  a: [\n\"1\"\n\t]\n  b: 2\n",
        "extra/tab-after-plain-in-seq-item": "- [\n1\n\t]\n",
        "extra/tab-blank-line-after-plain": "spec:\n  a: [\n1\n\t\n]\n  b: 2\n",
        "extra/blank-lines": "spec:\n  a: [\n\n1,\n\n  \n]\n  b: 2\n",
        "extra/single-quoted-multiline": "spec:\n  a: ['x\ny''z\n',\n]\n  b: 2\n",
        "extra/flow-then-block-scalar": "spec:\n  a: [\n1\n]\n  b: |\n    text [\n  c: 1\n",
        "extra/two-documents": "a: [\n1\n]\n---\nb: {\nc: 2\n}\n",
        "extra/closing-then-comment": "spec:\n  a: [\n1\n] # done\n  b: 2\n",
    }
    for name, text in extra.items():
        out.setdefault(text, name)
    # Layouts go-yaml refuses: Palisade must refuse them too.
    bad = {
        "bad/unterminated": "args: [\n  a,\n  b\nnext: 1\n",
        "bad/document-end-inside": "args: [\n  a,\n...\n]\n",
        "bad/sibling-overindented": "spec:\n  args: [\n  a\n  ]\n   next: 1\n",
        "bad/sibling-underindented": "spec:\n  a: 1\n  args: [\n  b\n  ]\n next: 1\n",
        "bad/closing-mismatch": "args: [\n  a\n}\n",
        "bad/colon-in-flow-mapping-key": "args: {\n a: b: c\n}\n",
        "bad/multiline-flow-key": "spec:\n  [a,\nb]: c\n",
        "bad/directive-inside": "args: [\n%YAML 1.1\n]\n",
    }
    for name, text in bad.items():
        out.setdefault(text, name)
    return [{"name": n, "yaml": t} for t, n in out.items()]


def pyyaml_verdicts(cases):
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        return [None] * len(cases)
    res = []
    for c in cases:
        try:
            # BaseLoader-free: SafeLoader (YAML 1.1 resolution like go-yaml for these inputs).
            res.append({"ok": True, "value": yaml.safe_load(c["yaml"])})
        except yaml.YAMLError as e:
            res.append({"ok": False, "error": str(e).splitlines()[0]})
    return res


def main():
    gocheck = sys.argv[1]
    cases = generate()
    proc = subprocess.run(
        [gocheck], input=json.dumps(cases), capture_output=True, text=True, check=True
    )
    verdicts = json.loads(proc.stdout)
    py = pyyaml_verdicts(cases)
    records = []
    for c, v, p in zip(cases, verdicts, py, strict=True):
        assert c["name"] == v["name"]
        rec = {"name": c["name"], "yaml": c["yaml"], "go_yaml_ok": v["ok"]}
        if v["ok"]:
            # Every document of the stream, in order.
            rec["go_yaml_documents"] = v["value"]
        else:
            rec["go_yaml_error"] = v["error"]
        rec["pyyaml_ok"] = None if p is None else p["ok"]
        records.append(rec)
    # One record per line: reviewable diffs when the generator changes.
    sys.stdout.write("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    n_ok = sum(r["go_yaml_ok"] for r in records)
    n_py = sum(1 for r in records if r["pyyaml_ok"] is not None and r["pyyaml_ok"] != r["go_yaml_ok"])
    print(
        f"{len(records)} variants, go-yaml accepts {n_ok}, PyYAML differs on {n_py}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
