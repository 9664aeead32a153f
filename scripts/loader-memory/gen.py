#!/usr/bin/env python3
"""Inputs for the loader's memory and JSON-column figures (docs/loader.md, issue 14 items 6-7):
`gen.py MODE N OUT` writes N generated pods (~420 bytes each) as a one-line JSON List (list1),
a pretty-printed JSON List (listpretty), a bare one-line JSON array (array), a YAML flow
sequence of N plain entries under a key (yflow) or at the root (yflowroot)."""
import json, sys
def pod(i):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{i}", "namespace": "default", "labels": {"app": f"app-{i%50}", "tier": "web"}},
            "spec": {"hostPID": i % 7 == 0, "containers": [{"name": "main", "image": f"registry.example.com/app:{i}",
                     "args": ["--port=8080", "--verbose"], "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                     "securityContext": {"privileged": i % 5 == 0, "runAsNonRoot": True},
                     "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}}
mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
items = [pod(i) for i in range(n)] if mode in ("list1", "listpretty", "array") else []
if mode == "list1":
    s = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, separators=(",", ":"))
elif mode == "listpretty":
    s = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2)
elif mode == "array":
    s = json.dumps(items, separators=(",", ":"))
elif mode == "yflow":
    s = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  k: [" + ",".join("a%d" % (i % 10) for i in range(n)) + "]"
elif mode == "yflowroot":
    s = "[" + ",".join("a%d" % (i % 10) for i in range(n)) + "]"
open(out, "w").write(s + "\n")
