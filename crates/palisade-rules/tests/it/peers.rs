//! Agreement with peer scanners' own labelled fixtures (`testdata/peer-fixtures/`): for every
//! row of `MAPPING.tsv` (peer check -> Palisade rule), every labelled case is run through the
//! mapped rule and Palisade's verdict compared with the peer's label. Agreement is printed per
//! source (`cargo test -p palisade-rules --test it peers -- --nocapture`). A disagreement
//! must be listed, with its reason, in `allowlist.tsv`; an allow-list entry that no longer
//! disagrees fails too, so the list only ever shrinks deliberately.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use palisade_core::Document;
use palisade_rules::pss::{Level, Policy};
use palisade_rules::{Framework, ScanOptions, Selection, check_document};

use crate::testdata;

/// One labelled case: its stable name and whether the peer says the check fires.
struct Case {
    name: String,
    fires: bool,
    docs: Vec<Document>,
}

/// The objects of a case; an input error empties the case, which then counts as a
/// disagreement (Palisade cannot give a verdict) unless allow-listed with its reason.
fn load(name: &str, text: &str) -> Vec<Document> {
    let loaded = palisade_yaml::load_str(name, text, &palisade_yaml::Limits::default());
    if !loaded.errors.is_empty() {
        return Vec::new();
    }
    loaded.documents
}

fn load_file(path: &Path) -> Vec<Document> {
    let text = std::fs::read_to_string(path).unwrap();
    load(&path.to_string_lossy(), &text)
}

fn sorted_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// trivy-checks: `kubernetes: {good: [manifest...], bad: [manifest...]}`.
fn trivy_cases(path: &Path) -> Vec<Case> {
    // The example file is not a Kubernetes object; give it an apiVersion/kind so the loader
    // (which skips non-Kubernetes documents) returns it.
    let text = std::fs::read_to_string(path).unwrap();
    let docs = load(
        &path.to_string_lossy(),
        &format!("apiVersion: example/v1\nkind: TrivyExample\n{text}"),
    );
    let outer = &docs.first().expect("example file").value;
    let mut cases = Vec::new();
    for (label, fires) in [("good", false), ("bad", true)] {
        let list = outer["kubernetes"][label]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, m) in list.iter().enumerate() {
            let name = format!("{}#{label}[{i}]", file_name(path));
            cases.push(Case {
                docs: load(&name, m.as_str().unwrap()),
                name,
                fires,
            });
        }
    }
    cases
}

/// Polaris: `failure*` files fail the check, `success*` files pass it.
fn polaris_cases(dir: &Path) -> Vec<Case> {
    sorted_files(dir)
        .into_iter()
        .filter_map(|p| {
            let name = file_name(&p);
            let fires = if name.starts_with("failure") {
                true
            } else if name.starts_with("success") {
                false
            } else {
                return None;
            };
            Some(Case {
                docs: load_file(&p),
                name: format!("{}/{name}", file_name(dir)),
                fires,
            })
        })
        .collect()
}

/// Checkov: a file whose name carries one label, `PASSED` or `FAILED` (possibly followed by
/// a suffix such as `2` or `-MISSING`), holds resources that pass or fail; files with counts
/// (`1PASSED-1FAILED`) or `UNKNOWN` are not labels.
fn checkov_cases(dir: &Path) -> Vec<Case> {
    sorted_files(dir)
        .into_iter()
        .filter_map(|p| {
            let name = file_name(&p);
            let label = |word: &str| {
                name.match_indices(word)
                    .any(|(i, _)| !name[..i].ends_with(|c: char| c.is_ascii_digit()))
            };
            let counted = |word: &str| {
                name.match_indices(word)
                    .any(|(i, _)| name[..i].ends_with(|c: char| c.is_ascii_digit()))
            };
            if counted("PASSED") || counted("FAILED") {
                return None;
            }
            let fires = match (label("FAILED"), label("PASSED")) {
                (true, false) => true,
                (false, true) => false,
                _ => return None,
            };
            Some(Case {
                docs: load_file(&p),
                name: format!("{}/{name}", file_name(dir)),
                fires,
            })
        })
        .collect()
}

/// Kinds Palisade evaluates for a kube-linter check: workloads of the kinds PSA knows and the
/// Services, ConfigMaps and Ingresses the hardening rules read. kube-linter fixtures also hold
/// OpenShift DeploymentConfigs and other custom kinds, which Palisade evaluates by shape but
/// kube-linter's per-kind fixtures do not label consistently, so they are not cases.
/// `no-extensions-v1beta` is about the apiVersion of any object: every object is a case.
fn evaluated(doc: &Document, check: &str) -> bool {
    check == "no-extensions-v1beta"
        || palisade_rules::pss::pod_template(&doc.value).is_some()
        || matches!(
            doc.object_ref().kind.as_str(),
            "Service" | "ConfigMap" | "Ingress"
        )
}

/// kube-linter: in `tests/checks/<check>.yml`, objects named `dont-fire*` must stay silent
/// and the others fire (the e2e expectations count exactly those).
fn kube_linter_cases(path: &Path, check: &str) -> Vec<Case> {
    load_file(path)
        .into_iter()
        .enumerate()
        .filter(|(_, d)| evaluated(d, check))
        .map(|(i, d)| {
            let o = d.object_ref();
            let name = o.name.clone().unwrap_or_default();
            Case {
                name: format!("{}#{i}:{}/{name}", file_name(path), o.kind),
                fires: !name.starts_with("dont-fire"),
                docs: vec![d],
            }
        })
        .collect()
}

/// kube-score: `EXPECTATIONS.tsv` rows for the check; `GradeAllOK` passes, any other grade
/// fails. Rows that switch a requirement off (`Ignore...: true`) test a configuration
/// Palisade does not have and are not cases.
fn kube_score_cases(tsv: &Path, check: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(tsv).unwrap();
    let dir = tsv.parent().unwrap().join("score/testdata");
    let mut cases = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [_, fixtures, config, name, grade] = f[..] else {
            continue;
        };
        if name != check || fixtures.is_empty() || config.contains("Ignore") {
            continue;
        }
        let mut docs = Vec::new();
        for fx in fixtures.split(',') {
            docs.extend(load_file(&dir.join(fx.trim())));
        }
        cases.push(Case {
            name: format!("{fixtures}#{check}"),
            fires: grade != "GradeAllOK",
            docs,
        });
    }
    cases
}

/// kubesec: its bats tests assert whole-manifest scores, so per-rule verdicts are derived from
/// each scored test's assertion and the rule its name is about (`RULE-UNDER-TEST.tsv`; the
/// derivation is written at its top). A kubesec rule's points say what a match means for
/// Palisade: a critical (negative) rule matching is a finding, an advisory (positive) rule
/// matching is the hardening being present. A case is one asset; where several tests share an
/// asset (the piped-input tests) it is kept once.
fn kubesec_cases(tsv: &Path, check: &str) -> Vec<Case> {
    let dir = tsv.parent().unwrap();
    let table = |name: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    };
    // CATALOG.tsv: id, points, ...; the first row is the header.
    let points: BTreeMap<String, i64> = table("CATALOG.tsv")
        .into_iter()
        .skip(1)
        .map(|f| (f[0].clone(), f[1].parse().unwrap()))
        .collect();
    let critical = |rule: &str| points[rule] < 0;
    assert!(
        points.contains_key(check),
        "kubesec {check}: not in CATALOG.tsv"
    );
    let named: BTreeMap<String, String> = table("RULE-UNDER-TEST.tsv")
        .into_iter()
        .map(|f| (f[0].clone(), f[1].clone()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut cases = Vec::new();
    for f in table("EXPECTATIONS.tsv").into_iter().skip(1) {
        let [_, test, asset, assertion] = &f[..] else {
            continue;
        };
        let score = [
            "assert_lt_zero_points",
            "assert_gt_zero_points",
            "assert_zero_points",
        ]
        .into_iter()
        .find(|a| assertion.split_whitespace().any(|w| w == *a));
        let Some(score) = score else { continue };
        // The remote-server tests post a form body (`file=` prefix), not a manifest.
        if asset.starts_with("form-prefix") {
            continue;
        }
        let under_test = || {
            named.get(test).unwrap_or_else(|| {
                panic!("RULE-UNDER-TEST.tsv: no row for lt/gt-scored test {test:?}")
            })
        };
        let matches = match score {
            "assert_zero_points" => Some(false),
            _ if under_test() == check => Some(true),
            "assert_gt_zero_points" if critical(check) => Some(false),
            _ => None,
        };
        let Some(matches) = matches else { continue };
        if !seen.insert(asset.clone()) {
            continue;
        }
        cases.push(Case {
            docs: load_file(&dir.join("test/asset").join(asset)),
            name: asset.clone(),
            fires: matches == critical(check),
        });
    }
    cases
}

/// kubeaudit: `EXPECTATIONS.tsv` holds, per auditor, the rows of its Go test tables (result
/// names the auditor must report on a fixture). The locator names the result codes that mean
/// the mapped rule fires (`EXPECTATIONS.tsv:PrivilegedTrue`); a code with kubeaudit's
/// `Allowed` suffix is the same finding waived by a kubeaudit label, which Palisade does not
/// read, so it counts as firing. Only audit rows with the default auditor configuration are
/// cases (`[]string{...}` preceded by nothing, `fixtureDir` or empty config strings); rows of
/// the autofix tests and of non-default configurations (limits maxima, expected image) are not;
/// a row whose expected list is `nil` is a case with no result.
fn kubeaudit_cases(locator: &Path, check: &str) -> Vec<Case> {
    let locator = locator.to_string_lossy();
    let (tsv, codes) = locator.rsplit_once(':').unwrap();
    let codes: Vec<&str> = codes.split(',').collect();
    let text = std::fs::read_to_string(tsv).unwrap();
    let dir = Path::new(tsv)
        .parent()
        .unwrap()
        .join("auditors")
        .join(check);
    let mut seen = BTreeSet::new();
    let mut cases = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [auditor, fixture, expected, raw] = f[..] else {
            continue;
        };
        // `nil, ...`: the table's expected list is nil (no result at all).
        let config = match raw.split_once("[]string{") {
            Some((config, _)) => config,
            None if raw.starts_with("nil,") => "",
            None => continue,
        };
        let default_config = config
            .split(',')
            .map(str::trim)
            .all(|a| a.is_empty() || a == "fixtureDir" || a == "\"\"" || a == "nil");
        if auditor != check || !default_config || !seen.insert(fixture.to_owned()) {
            continue;
        }
        let fires = expected
            .split_whitespace()
            .any(|code| codes.contains(&code.strip_suffix("Allowed").unwrap_or(code)));
        cases.push(Case {
            docs: load_file(&dir.join("fixtures").join(fixture)),
            name: fixture.to_owned(),
            fires,
        });
    }
    cases
}

/// kubescape regolibrary: `rules/<rule>/test/<case>/input` (a directory or one file) holds the
/// objects, `expected.json` the alerts the rule must raise (`[]`: none). A case is one input
/// object; it fires when an alert names it (`alertObject.k8sApiObjects[]` kind and name).
/// Test cases with a `data.json` run the rule under a non-default control configuration
/// (custom sensitive names, resource bounds) and are not cases.
fn kubescape_cases(rule_dir: &Path) -> Vec<Case> {
    let rule = file_name(rule_dir);
    let mut cases = Vec::new();
    let mut tests: Vec<_> = std::fs::read_dir(rule_dir.join("test"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    tests.sort();
    for test in tests {
        if test.join("data.json").exists() {
            continue;
        }
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(test.join("expected.json")).unwrap())
                .unwrap();
        let alerted: BTreeSet<(String, String)> = expected
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["alertObject"]["k8sApiObjects"].as_array().unwrap().iter())
            .map(|o| {
                let name = o["metadata"]["name"].as_str().unwrap_or_default();
                (o["kind"].as_str().unwrap().to_owned(), name.to_owned())
            })
            .collect();
        let inputs = if test.join("input").is_dir() {
            sorted_files(&test.join("input"))
        } else {
            sorted_files(&test)
                .into_iter()
                .filter(|p| file_name(p).starts_with("input"))
                .collect()
        };
        for input in inputs {
            for doc in load_file(&input) {
                let o = doc.object_ref();
                let name = o.name.clone().unwrap_or_default();
                cases.push(Case {
                    name: format!(
                        "{rule}/{}/{}#{}/{name}",
                        file_name(&test),
                        file_name(&input),
                        o.kind
                    ),
                    fires: alerted.contains(&(o.kind.clone(), name)),
                    docs: vec![doc],
                });
            }
        }
    }
    cases
}

/// Whether any of `rules` fires on the case. PSS rules run at their own level (baseline rules
/// at baseline, so a restricted override does not hide them), each rule alone.
fn palisade_fires(rules: &[&str], docs: &[Document]) -> bool {
    rules.iter().any(|id| {
        let rule = palisade_rules::rule(id).unwrap_or_else(|| panic!("unknown rule {id}"));
        let level = if Framework::PssBaseline.includes(rule) {
            Level::Baseline
        } else {
            Level::Restricted
        };
        let opts = ScanOptions {
            policy: Policy {
                level,
                ..Policy::default()
            },
            selection: Selection::new(&[(*id).to_owned()], &[]).unwrap(),
        };
        docs.iter().any(|d| !check_document(d, &opts).is_empty())
    })
}

#[derive(Default)]
struct Tally {
    cases: usize,
    agree: usize,
    allowed: usize,
    rules: BTreeSet<String>,
}

#[test]
fn peer_fixtures_agree_outside_the_allowlist() {
    let root = testdata("peer-fixtures");
    let allow_text = std::fs::read_to_string(root.join("allowlist.tsv")).unwrap();
    // (source, check, case) -> reason
    let mut allow: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for line in allow_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            f.len(),
            4,
            "allowlist.tsv: source, check, case, reason: {line}"
        );
        assert!(
            f[3].trim().len() > 10,
            "allowlist.tsv: a real reason is required: {line}"
        );
        allow.insert((f[0].into(), f[1].into(), f[2].into()), f[3].into());
    }
    let mapping = std::fs::read_to_string(root.join("MAPPING.tsv")).unwrap();
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut used_allow = BTreeSet::new();
    for line in mapping
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let [source, check, rules, locator] = f[..] else {
            panic!("MAPPING.tsv: bad row {line:?}");
        };
        let rules: Vec<&str> = rules.split('+').collect();
        // The mapping is only sound if the rule cites the peer check (or it is a PSS-level
        // equivalent the catalog lists): keeps MAPPING.tsv and the catalog's references in step.
        for id in &rules {
            let r = palisade_rules::rule(id).unwrap();
            if !(r
                .references
                .iter()
                .any(|x| x.source == source && x.id == check)
                || source == "kube-score")
            {
                unexpected.push(format!(
                    "{id} does not reference {source} {check}, but MAPPING.tsv compares them"
                ));
            }
        }
        let path = root.join(locator);
        let cases = match source {
            "trivy" => trivy_cases(&path),
            "polaris" => polaris_cases(&path),
            "checkov" => checkov_cases(&path),
            "kube-linter" => kube_linter_cases(&path, check),
            "kube-score" => kube_score_cases(&path, check),
            "kubesec" => kubesec_cases(&path, check),
            "kubeaudit" => kubeaudit_cases(&path, check),
            "kubescape" => kubescape_cases(&path),
            other => panic!("MAPPING.tsv: unknown source {other}"),
        };
        if cases.is_empty() {
            unexpected.push(format!("{source} {check}: no labelled case in {locator}"));
        }
        let t = tally.entry(source.to_owned()).or_default();
        t.rules.extend(rules.iter().map(|r| (*r).to_owned()));
        for case in cases {
            t.cases += 1;
            // No object: an input error (or nothing Palisade reads): never agreement.
            let ours = if case.docs.is_empty() {
                !case.fires
            } else {
                palisade_fires(&rules, &case.docs)
            };
            let key = (source.to_owned(), check.to_owned(), case.name.clone());
            if ours == case.fires {
                t.agree += 1;
                if allow.contains_key(&key) {
                    unexpected.push(format!(
                        "{source} {check} {}: agrees now; remove it from allowlist.tsv",
                        case.name
                    ));
                }
            } else if allow.contains_key(&key) {
                t.allowed += 1;
                used_allow.insert(key);
            } else {
                unexpected.push(format!(
                    "{source} {check} {} ({}): peer says {}, Palisade says {}",
                    case.name,
                    rules.join("+"),
                    if case.fires { "fail" } else { "pass" },
                    if ours { "fail" } else { "pass" }
                ));
            }
        }
    }
    for key in allow.keys() {
        if !used_allow.contains(key) && !unexpected.iter().any(|u| u.contains(&key.2)) {
            unexpected.push(format!("allowlist.tsv entry matches no case: {key:?}"));
        }
    }
    println!(
        "| source | rules compared | cases | agree | documented disagreements | agreement outside the allow-list |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (source, t) in &tally {
        let outside = t.cases - t.allowed;
        println!(
            "| {source} | {} | {} | {} | {} | {:.1}% |",
            t.rules.len(),
            t.cases,
            t.agree,
            t.allowed,
            100.0 * t.agree as f64 / outside.max(1) as f64
        );
    }
    assert!(tally.len() >= 6, "every source is compared");
    assert!(
        unexpected.is_empty(),
        "{} unexpected disagreement(s):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
