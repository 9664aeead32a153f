#!/usr/bin/env python3
"""Builds real-shaped `issues` webhook payloads for kubernetes/kubernetes from octokit's example
payloads (octokit/, copied verbatim) and the real announcement of CVE-2023-3893. Run from the repo
root:  python3 testdata/feed-server/make-payloads.py ../shared/data/cve-feed
See PROVENANCE.md for what each field comes from."""
import json, os, sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/cve-feed"
here = os.path.dirname(os.path.abspath(__file__))
OWNER, NAME, NUMBER = "kubernetes", "kubernetes", 119594
CVE = "CVE-2023-3893"
TITLE = CVE + ": Insufficient input sanitization on kubernetes-csi-proxy leads to privilege escalation"
CREATED = "2023-07-26T15:30:26Z"
body = open(os.path.join(src, "issue-bodies/2023/07", CVE + ".md"), encoding="utf-8", newline="").read()

def rewrite(v):
    """Codertocat/Hello-World -> kubernetes/kubernetes in every URL and name."""
    if isinstance(v, dict):
        return {k: rewrite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rewrite(x) for x in v]
    if isinstance(v, str):
        return v.replace("Codertocat/Hello-World", OWNER + "/" + NAME).replace("issues/1/", "issues/%d/" % NUMBER)
    return v

env = json.load(open(os.path.join(here, "octokit/issues/labeled.payload.json"), encoding="utf-8"))
p = rewrite(env)
label = dict(p["label"], name="official-cve-feed", default=False, color="ededed",
             description=None, url="https://api.github.com/repos/kubernetes/kubernetes/labels/official-cve-feed")
p["label"] = label
i = p["issue"]
i.update({
    "url": "https://api.github.com/repos/kubernetes/kubernetes/issues/%d" % NUMBER,
    "html_url": "https://github.com/kubernetes/kubernetes/issues/%d" % NUMBER,
    "number": NUMBER, "title": TITLE, "body": body, "state": "open", "state_reason": None,
    "created_at": CREATED, "updated_at": "2023-07-26T15:31:02Z", "closed_at": None,
    "labels": [label],
})
p["repository"].update({"name": NAME, "full_name": OWNER + "/" + NAME,
                        "html_url": "https://github.com/kubernetes/kubernetes"})
p["repository"]["owner"]["login"] = OWNER
with open(os.path.join(here, "issues-labeled.%s.json" % CVE), "w", encoding="utf-8") as fh:
    json.dump(p, fh, indent=2, ensure_ascii=False)
    fh.write("\n")
print("wrote issues-labeled.%s.json (%d bytes of body)" % (CVE, len(body)))
