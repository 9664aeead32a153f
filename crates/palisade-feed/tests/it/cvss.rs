//! CVSS conformance: every vector of RedHatProductSecurity/cvss's reference files scores exactly
//! as the reference, and the 212 real Kubernetes vectors score as stated.

use crate::testdata;
use palisade_feed::cvss::score;

/// `(vector, expected score)` of one reference file: `VECTOR - (base, temporal, env)` for v3,
/// `VECTOR - (base,)` or `VECTOR - base` for v4.
fn reference(file: &str) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(testdata(&format!("cvss/{file}"))).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (vector, scores) = l.split_once(" - ").unwrap();
            let first = scores
                .trim()
                .trim_start_matches('(')
                .split(',')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .trim();
            (vector.trim().to_owned(), first.parse::<f64>().unwrap())
        })
        .collect()
}

fn check(files: &[&str]) -> usize {
    let mut n = 0;
    let mut failures = Vec::new();
    for file in files {
        for (vector, want) in reference(file) {
            match score(&vector) {
                Ok(s) if (s.base_score - want).abs() < 1e-9 => {}
                Ok(s) => failures.push(format!("{file}: {vector}: {} != {want}", s.base_score)),
                Err(e) => failures.push(format!("{file}: {e}")),
            }
            n += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    n
}

#[test]
fn v3_reference_vectors() {
    let n = check(&[
        "vectors_simple31",
        "vectors_simple3",
        "vectors_calculator3",
        "vectors_cvsslib3",
    ]);
    assert_eq!(n, 2592 + 2592 + 2 + 29);
}

#[test]
fn v4_reference_vectors() {
    let n = check(&[
        "vectors_simple4",
        "vectors_supplemental4",
        "vectors_security4",
        "vectors_threat4",
    ]);
    assert_eq!(n, 1058 + 576 + 54 + 6);
}

#[test]
fn real_kubernetes_vectors_score_as_stated() {
    let text = std::fs::read_to_string(testdata("cvss/k8s-cve-cvss-vectors.tsv")).unwrap();
    let mut rows = 0;
    let mut stated = 0;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let (vector, stated_score, computed, severity, parse_error) =
            (c[3], c[4], c[5], c[6], c.get(7).copied().unwrap_or(""));
        rows += 1;
        if !parse_error.is_empty() {
            // Lower-case `av:N`: rejected, like FIRST's grammar and the reference implementation.
            let e = score(vector).unwrap_err();
            assert!(e.reason.contains("upper case"), "{e}");
            continue;
        }
        let s = score(vector).unwrap_or_else(|e| panic!("{}: {e}", c[0]));
        assert_eq!(
            s.base_score,
            computed.parse::<f64>().unwrap(),
            "{} {vector}",
            c[0]
        );
        assert_eq!(
            s.severity,
            severity.to_ascii_lowercase(),
            "{} {vector}",
            c[0]
        );
        if !stated_score.is_empty() {
            assert_eq!(
                s.base_score,
                stated_score.parse::<f64>().unwrap(),
                "{} {vector} stated",
                c[0]
            );
            stated += 1;
        }
    }
    assert_eq!(rows, 212);
    assert_eq!(stated, 97);
}

#[test]
fn feed_reports_stated_score_disagreements() {
    // Real bodies: the stated score next to the vector agrees in every body that states one.
    let feed = crate::build("cve-feed/github-pages-2025");
    let disagreements: Vec<String> = feed
        .item_warnings()
        .filter(|(_, w)| w.starts_with("body states"))
        .map(|(i, w)| format!("{}: {w}", i.id))
        .collect();
    let with_vector = feed
        .items
        .iter()
        .filter(|i| i.primary_cvss().is_some())
        .count();
    let with_stated = feed
        .items
        .iter()
        .filter(|i| i.cvss.stated_score.is_some())
        .count();
    assert!(with_vector >= 60, "{with_vector}");
    assert!(with_stated >= 20, "{with_stated}");
    assert_eq!(disagreements, Vec::<String>::new());
}
