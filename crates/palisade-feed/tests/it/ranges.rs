//! Affected ranges read from the 71 real announcement bodies, compared per CVE with the curated
//! stackrox/k8s-cves constraints and the kubernetes-sigs/cve-feed-osv records. Every
//! disagreement must be in `testdata/cve-feed/range-disagreements.tsv` with who is right and why;
//! an entry that no longer disagrees fails too, so the list stays true.

use crate::{build, testdata};
use palisade_feed::affected::Range;
use palisade_feed::version::Version;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// A hashicorp/go-version constraint list (`">= 1.25, <= 1.25.9"`) as a predicate.
fn go_constraint(c: &str) -> Vec<(String, Version)> {
    c.split(',')
        .map(|part| {
            let p = part.trim();
            let op_len = p.find(|ch: char| ch.is_ascii_digit() || ch == 'v').unwrap();
            let (op, ver) = p.split_at(op_len);
            let ver = ver.trim().trim_start_matches('v');
            let full = if ver.matches('.').count() == 1 {
                format!("{ver}.0")
            } else {
                ver.to_owned()
            };
            (op.trim().to_owned(), v(&full))
        })
        .collect()
}

fn go_matches(constraints: &[(String, Version)], x: &Version) -> bool {
    constraints.iter().all(|(op, c)| match op.as_str() {
        "<" => x < c,
        "<=" => x <= c,
        ">" => x > c,
        ">=" => x >= c,
        "=" | "" => x == c,
        other => panic!("operator {other}"),
    })
}

/// OSV `IsVulnerable` over one range's sorted events.
fn osv_affected(events: &[Value], x: &Version) -> bool {
    let mut evs: Vec<(Version, &str)> = events
        .iter()
        .map(|e| {
            let (k, val) = e.as_object().unwrap().iter().next().unwrap();
            let val = val.as_str().unwrap();
            (
                if val == "0" {
                    Version::new(0, 0, 0)
                } else {
                    v(val)
                },
                k.as_str(),
            )
        })
        .collect();
    evs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut vulnerable = false;
    for (ver, kind) in &evs {
        match *kind {
            "introduced" if x >= ver => vulnerable = true,
            "fixed" if x >= ver => vulnerable = false,
            "last_affected" if x > ver => vulnerable = false,
            _ => {}
        }
    }
    vulnerable
}

fn neighbours(ver: &Version, probes: &mut BTreeSet<Version>) {
    if ver.is_prerelease() {
        return;
    }
    let (ma, mi, pa) = (ver.major(), ver.minor(), ver.patch());
    probes.insert(Version::new(ma, mi, pa));
    probes.insert(Version::new(ma, mi, pa + 1));
    probes.insert(Version::new(ma, mi, 0));
    probes.insert(Version::new(ma, mi + 1, 0));
    if pa > 0 {
        probes.insert(Version::new(ma, mi, pa - 1));
    }
}

fn range_versions(r: &Range) -> Vec<Version> {
    [&r.introduced, &r.fixed, &r.last_affected]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// `ours-only: …; theirs-only: …` over the probe versions, empty when they agree.
fn diff(
    ours: &dyn Fn(&Version) -> bool,
    theirs: &dyn Fn(&Version) -> bool,
    probes: &BTreeSet<Version>,
) -> String {
    let ours_only: Vec<String> = probes
        .iter()
        .filter(|p| ours(p) && !theirs(p))
        .map(ToString::to_string)
        .collect();
    let theirs_only: Vec<String> = probes
        .iter()
        .filter(|p| !ours(p) && theirs(p))
        .map(ToString::to_string)
        .collect();
    if ours_only.is_empty() && theirs_only.is_empty() {
        return String::new();
    }
    format!(
        "ours-only: {}; theirs-only: {}",
        ours_only.join(","),
        theirs_only.join(",")
    )
}

/// A curated source for one CVE: name, "is this version affected", versions it mentions.
type Source = (&'static str, Box<dyn Fn(&Version) -> bool>, Vec<Version>);

/// `(cve, source) -> diff` from the allow-list.
fn allow_list() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(testdata("cve-feed/range-disagreements.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            5,
            "allow-list line needs cve, source, diff, right, why: {line}"
        );
        assert!(["ours", "theirs", "neither"].contains(&cols[3]), "{line}");
        assert!(cols[4].len() > 20, "say why: {line}");
        out.insert((cols[0].to_owned(), cols[1].to_owned()), cols[2].to_owned());
    }
    out
}

#[test]
fn ranges_agree_with_curated_sources_or_are_explained() {
    let feed = build("cve-feed/github-pages-2025");
    let allowed = allow_list();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for item in &feed.items {
        let ours: Vec<&Range> = item
            .versions
            .affected
            .iter()
            .flat_map(|c| &c.ranges)
            .collect();
        let stackrox = std::fs::read_to_string(testdata(&format!(
            "cve-feed/stackrox-k8s-cves/{}.yaml",
            item.id
        )))
        .ok();
        let osv =
            std::fs::read_to_string(testdata(&format!("cve-feed/cve-feed-osv/{}.json", item.id)))
                .ok();
        let mut sources: Vec<Source> = Vec::new();
        if let Some(text) = stackrox {
            // The manifest loader keeps only Kubernetes-shaped objects; give the record that shape.
            let text = format!("apiVersion: stackrox/v1\nkind: CVE\n{text}");
            let loaded =
                palisade_yaml::load_str("x.yaml", &text, &palisade_yaml::Limits::default());
            let doc = &loaded.documents[0].value;
            let mut constraints = Vec::new();
            let mut mentioned = Vec::new();
            for a in doc["affected"].as_array().into_iter().flatten() {
                let c = go_constraint(a["range"].as_str().unwrap());
                mentioned.extend(c.iter().map(|(_, x)| x.clone()));
                if let Some(f) = a["fixedBy"].as_str() {
                    mentioned.push(go_constraint(&format!("={f}")).remove(0).1);
                }
                constraints.push(c);
            }
            if !constraints.is_empty() {
                sources.push((
                    "stackrox",
                    Box::new(move |x| constraints.iter().any(|c| go_matches(c, x))),
                    mentioned,
                ));
            }
        }
        if let Some(text) = osv {
            let doc: Value = serde_json::from_str(&text).unwrap();
            let mut ranges = Vec::new();
            let mut mentioned = Vec::new();
            for a in doc["affected"].as_array().into_iter().flatten() {
                for r in a["ranges"].as_array().into_iter().flatten() {
                    let events = r["events"].as_array().unwrap().clone();
                    for e in &events {
                        let val = e
                            .as_object()
                            .unwrap()
                            .values()
                            .next()
                            .unwrap()
                            .as_str()
                            .unwrap();
                        if val != "0" {
                            mentioned.push(v(val));
                        }
                    }
                    ranges.push(events);
                }
            }
            sources.push((
                "cve-feed-osv",
                Box::new(move |x| ranges.iter().any(|evs| osv_affected(evs, x))),
                mentioned,
            ));
        }
        for (name, theirs, mentioned) in &sources {
            let mut probes = BTreeSet::new();
            for x in mentioned.iter().chain(
                ours.iter()
                    .flat_map(|r| range_versions(r))
                    .collect::<Vec<_>>()
                    .iter(),
            ) {
                neighbours(x, &mut probes);
            }
            let ours_fn = |x: &Version| ours.iter().any(|r| r.contains(x));
            let d = diff(&ours_fn, theirs.as_ref(), &probes);
            compared += 1;
            let key = (item.id.clone(), (*name).to_owned());
            match allowed.get(&key) {
                Some(expected) if *expected == d => {
                    seen.insert(key);
                }
                Some(expected) => failures.push(format!(
                    "{}\t{name}\t{d}\t(allow-list says: {expected})",
                    item.id
                )),
                None if d.is_empty() => {}
                None => failures.push(format!("{}\t{name}\t{d}", item.id)),
            }
        }
    }
    for key in allowed.keys() {
        if !seen.contains(key) {
            failures.push(format!("stale allow-list entry: {key:?}"));
        }
    }
    assert!(compared >= 90, "only {compared} comparisons");
    assert!(
        failures.is_empty(),
        "{} range disagreements not in the allow-list:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Bodies with no version section (versions only in prose sentences, or none at all); every
/// other body yields ranges.
#[test]
fn every_body_with_a_version_section_yields_ranges() {
    let feed = build("cve-feed/github-pages-2025");
    assert_eq!(feed.items.len(), 71);
    let mut without = Vec::new();
    for item in &feed.items {
        if item.versions.has_version_section {
            assert!(
                !item.versions.affected.is_empty(),
                "{}: section but no ranges: {:?}",
                item.id,
                item.warnings
            );
        } else {
            without.push(item.id.as_str());
        }
    }
    without.sort_unstable();
    assert_eq!(
        without,
        [
            "CVE-2018-1002100",
            "CVE-2018-1002101",
            "CVE-2019-11248",
            "CVE-2019-11250",
            "CVE-2019-11251",
            "CVE-2019-11255",
            "CVE-2020-8553",
            "CVE-2021-3121",
        ]
    );
}

/// Hand-checked against the bodies.
#[test]
fn hand_checked_ranges() {
    let feed = build("cve-feed/github-pages-2025");
    let show = |id: &str| -> Vec<String> {
        let item = feed.items.iter().find(|i| i.id == id).unwrap();
        item.versions
            .affected
            .iter()
            .flat_map(|c| {
                c.ranges.iter().map(move |r| {
                    let lo = r
                        .introduced
                        .as_ref()
                        .map_or("0".to_owned(), ToString::to_string);
                    let hi = match (&r.fixed, &r.last_affected) {
                        (Some(f), _) => format!("<{f}"),
                        (None, Some(l)) => format!("<={l}"),
                        (None, None) => "..".to_owned(),
                    };
                    format!("{} {lo} {hi}", c.package)
                })
            })
            .collect()
    };
    assert_eq!(
        show("CVE-2023-2727"),
        [
            "k8s.io/apiserver 0 <1.24.15",
            "k8s.io/apiserver 1.25.0 <1.25.11",
            "k8s.io/apiserver 1.26.0 <1.26.6",
            "k8s.io/apiserver 1.27.0 <1.27.3"
        ]
    );
    // CVE-2023-2431: the CNA record says `lessThan v1.25.9`; the body (and this) say fixed 1.25.10.
    assert_eq!(
        show("CVE-2023-2431"),
        [
            "k8s.io/kubernetes 0 <1.24.14",
            "k8s.io/kubernetes 1.25.0 <1.25.10",
            "k8s.io/kubernetes 1.26.0 <1.26.5",
            "k8s.io/kubernetes 1.27.0 <1.27.2"
        ]
    );
    // Runs of minor-only ranges merge with the next bounded one (1.3.x-1.6.x + 1.7.0-1.7.13).
    assert_eq!(
        show("CVE-2017-1002101"),
        [
            "k8s.io/kubernetes 1.3.0 <1.7.14",
            "k8s.io/kubernetes 1.8.0 <1.8.9",
            "k8s.io/kubernetes 1.9.0 <1.9.4"
        ]
    );
    // CVE-2024-7646: the 1.10.4 backport is kept (cve-feed-osv loses it).
    assert_eq!(
        show("CVE-2024-7646"),
        [
            "k8s.io/ingress-nginx 0 <1.10.4",
            "k8s.io/ingress-nginx 1.11.0 <1.11.2"
        ]
    );
    // Compound component: both get the ranges.
    assert_eq!(show("CVE-2020-8558").len(), 6);
    // "All versions of Kubernetes".
    assert_eq!(show("CVE-2025-1767"), ["k8s.io/kubernetes 0 .."]);
}
