//! Each overlap group is real: one object fires every rule of the group (at baseline and
//! restricted together, since some rules replace others by level), so the waiver the rule
//! pages suggest names exactly the rules a user meets.

use palisade_rules::overlaps::OVERLAPS;
use palisade_rules::pss::{Level, Policy, Version};
use palisade_rules::{ScanOptions, Selection, check_document};
use std::collections::BTreeSet;

/// One object per group, in OVERLAPS order, that shows the group's condition.
const OBJECTS: [&str; 8] = [
    // hostPath: baseline PSS004, restricted PSS016, sensitive path, writable mount.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: i@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    volumeMounts: [{name: sock, mountPath: /s}]\n  volumes:\n  - name: sock\n    hostPath: {path: /var/run/docker.sock}\n",
    // capabilities: SYS_ADMIN added (baseline and dangerous), no drop (restricted, NET_RAW).
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext:\n      capabilities: {add: [SYS_ADMIN]}\n",
    // procMount Unmasked.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext: {procMount: Unmasked}\n",
    // seccomp Unconfined.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  securityContext:\n    seccompProfile: {type: Unconfined}\n  containers:\n  - name: c\n    image: i\n",
    // runAsUser 0.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext: {runAsUser: 0}\n",
    // A secret written as a plain env value and a Secret passed as a variable.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: i\n    env:\n    - {name: DB_PASSWORD, value: hunter2hunter2}\n    - name: API_TOKEN\n      valueFrom: {secretKeyRef: {name: s, key: token}}\n",
    // image :latest.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n",
    // ingress-nginx: a snippet annotation carrying a line break.
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: n\n  annotations:\n    nginx.ingress.kubernetes.io/configuration-snippet: \"more_set_headers 'A: b';\\n\"\n    nginx.ingress.kubernetes.io/auth-url: \"http://x/;\\ninjected\"\nspec: {rules: []}\n",
];

fn fired(yaml: &str) -> BTreeSet<String> {
    let loaded = palisade_yaml::load_str("o.yaml", yaml, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:#?}", loaded.errors);
    let doc = &loaded.documents[0];
    let mut out = BTreeSet::new();
    for level in [Level::Baseline, Level::Restricted] {
        let opts = ScanOptions {
            policy: Policy {
                level,
                version: Version::Latest,
            },
            selection: Selection::all(),
        };
        out.extend(check_document(doc, &opts).into_iter().map(|f| f.rule));
    }
    out
}

#[test]
fn every_overlap_group_fires_together() {
    assert_eq!(OBJECTS.len(), OVERLAPS.len());
    for (o, yaml) in OVERLAPS.iter().zip(OBJECTS) {
        let got = fired(yaml);
        for id in o.rules {
            assert!(
                palisade_rules::rule(id).is_some(),
                "{}: unknown rule {id}",
                o.topic
            );
            assert!(
                got.contains(*id),
                "{}: {id} does not fire; fired {got:?}",
                o.topic
            );
        }
    }
}

#[test]
fn rule_pages_list_their_overlaps() {
    let page = palisade_rules::explain("PSS004").unwrap();
    assert!(page.contains("## Overlapping rules"), "{page}");
    assert!(
        page.contains("PSS004,PSS016,HRD013,HRD014: <reason>"),
        "{page}"
    );
    let page = palisade_rules::explain("HRD001").unwrap();
    assert!(!page.contains("## Overlapping rules"));
}
