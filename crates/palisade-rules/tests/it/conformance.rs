//! PSA conformance: every upstream fixture (`testdata/psa-testdata/<level>/v1.<minor>/
//! {pass,fail}/*.yaml`) is loaded through palisade-yaml and checked at its level and version.
//! Pass files must give no PSS finding; fail files at least one, and the message must contain
//! the substring PSA's own test expects for the check named by the file stem. Known gaps go in
//! `testdata/pss-extra/conformance-allowlist.txt`; an allow-listed case that now conforms is
//! an error too (stale entry), so the list only shrinks.

use std::collections::BTreeSet;
use std::path::Path;

use palisade_rules::pss::{self, Level, Policy, Version};
use palisade_rules::{ScanOptions, Selection, check_document};

use crate::testdata;

/// PSA's expected error substring for a failing fixture (test/fixtures_*.go).
fn expected_substring(stem: &str) -> &'static str {
    pss::fixtures::expected_substring(stem).unwrap_or_else(|| {
        panic!("fixture {stem:?} has no PSA generator with an expected substring")
    })
}

fn read_allowlist() -> BTreeSet<String> {
    let text = std::fs::read_to_string(testdata("pss-extra/conformance-allowlist.txt")).unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn psa_fixtures_conform() {
    let root = testdata("psa-testdata");
    let allow = read_allowlist();
    let opts_for = |level, minor| ScanOptions {
        policy: Policy {
            level,
            version: Version::V1(minor),
        },
        // PSA conformance is about the PSS family alone.
        selection: Selection::new(&["pss".to_owned()], &[]).unwrap(),
    };
    let (mut dirs, mut fixtures, mut passes, mut fails) = (0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut conforming_allowlisted: Vec<String> = Vec::new();
    for level_name in ["baseline", "restricted"] {
        let level: Level = level_name.parse().unwrap();
        let mut versions: Vec<u32> = std::fs::read_dir(root.join(level_name))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .map(|n| n.strip_prefix("v1.").unwrap().parse().unwrap())
            .collect();
        versions.sort_unstable();
        for minor in versions {
            dirs += 1;
            let opts = opts_for(level, minor);
            for verdict in ["pass", "fail"] {
                let dir = root.join(format!("{level_name}/v1.{minor}/{verdict}"));
                let loaded = palisade_yaml::load_paths(&[&dir], &palisade_yaml::Limits::default());
                assert!(loaded.errors.is_empty(), "{dir:?}: {:?}", loaded.errors);
                let files = std::fs::read_dir(&dir).unwrap().count();
                assert_eq!(loaded.documents.len(), files, "one pod per file in {dir:?}");
                for doc in &loaded.documents {
                    fixtures += 1;
                    let path = Path::new(&*doc.file);
                    let stem = path.file_stem().unwrap().to_str().unwrap();
                    let file = path.file_name().unwrap().to_str().unwrap();
                    let case = format!("{level_name}/v1.{minor}/{verdict}/{file}");
                    let findings = check_document(doc, &opts);
                    let prefix = format!("violates PodSecurity \"{}\": ", opts.policy);
                    let parts: Vec<&str> = findings
                        .iter()
                        .map(|f| f.message.strip_prefix(&prefix).unwrap())
                        .collect();
                    let message = parts.join(", ");
                    // The engine's findings are exactly PSA's aggregated result.
                    let t = pss::pod_template(&doc.value).unwrap();
                    let direct = pss::evaluate(&opts.policy, t.metadata, t.spec);
                    assert_eq!(message, pss::aggregate(&direct), "{case}");
                    let ok = if verdict == "pass" {
                        passes += 1;
                        findings.is_empty()
                    } else {
                        fails += 1;
                        !findings.is_empty() && message.contains(expected_substring(stem))
                    };
                    match (ok, allow.contains(&case)) {
                        (true, true) => conforming_allowlisted.push(case),
                        (false, false) => failures.push(format!("{case}: {message:?}")),
                        _ => {}
                    }
                }
            }
        }
    }
    assert_eq!(dirs, 76, "level/version directories");
    assert_eq!(fixtures, 4537, "fixtures");
    assert_eq!((passes, fails), (1051, 3486), "pass/fail fixtures");
    let conforming = fixtures - failures.len() - (allow.len() - conforming_allowlisted.len());
    eprintln!(
        "PSA conformance: {conforming}/{fixtures} fixtures conform; allow-list has {} entries",
        allow.len()
    );
    assert!(
        failures.is_empty(),
        "{} fixtures do not conform (fix, or add to conformance-allowlist.txt):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        conforming_allowlisted.is_empty(),
        "stale allow-list entries now conform, remove them:\n{}",
        conforming_allowlisted.join("\n")
    );
}
