//! Replays `testdata/cve-feed/fuzz-regressions/` (hostile inputs, and anything `cargo fuzz run
//! affected` finds) and deterministic mutations of the 71 real bodies through the parser: no
//! panic, and the output invariants hold (what the fuzz target asserts).

use crate::{issues, testdata};
use palisade_feed::affected::{check_invariants, parse_body};

fn check(name: &str, body: &str) {
    let parsed = parse_body(body, Some("CVE-2025-0001"), "");
    check_invariants(&parsed).unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Some(Ok(osv)) = palisade_feed::osv_block::affected_from_body(body) {
        check_invariants(&osv).unwrap_or_else(|e| panic!("{name} (osv block): {e}"));
    }
    let _ = palisade_feed::cvss::from_body(body);
}

#[test]
fn fuzz_regressions_replay() {
    let dir = testdata("cve-feed/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        check(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn hostile_regressions_give_warnings_not_garbage() {
    let read = |f: &str| {
        std::fs::read_to_string(testdata(&format!("cve-feed/fuzz-regressions/{f}"))).unwrap()
    };
    let b = parse_body(&read("fix-below-start.md"), None, "");
    assert!(
        b.warnings
            .iter()
            .any(|w| w.contains("not above the range start")),
        "{:?}",
        b.warnings
    );
    let b = parse_body(&read("many-lines.md"), None, "");
    assert_eq!(b.affected[0].ranges.len(), 2000);
    // Contradicting events are repaired with warnings (the `v` of `v9.9.9` is accepted: srctl writes it).
    let b = palisade_feed::osv_block::affected_from_body(&read("osv-block-contradictions.md"))
        .unwrap()
        .unwrap();
    assert!(
        b.warnings
            .iter()
            .any(|w| w.contains("not above the range start")),
        "{:?}",
        b.warnings
    );
}

/// Truncations and line drops of every real body: a cheap, deterministic fuzz over real shapes.
#[test]
fn mutated_real_bodies() {
    let mut n = 0;
    for issue in issues("cve-feed/github-pages-2025") {
        let body = issue.body.unwrap_or_default();
        let chars: Vec<char> = body.chars().collect();
        for cut in (0..chars.len()).step_by(97) {
            check(
                &format!("#{} cut at {cut}", issue.number),
                &chars[..cut].iter().collect::<String>(),
            );
            n += 1;
        }
        let lines: Vec<&str> = body.lines().collect();
        for skip in 0..lines.len().min(40) {
            let dropped: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            check(
                &format!("#{} without line {skip}", issue.number),
                &dropped.join("\n"),
            );
            n += 1;
        }
        // Sections swapped: fixed list before the affected list.
        check(
            &format!("#{} reversed", issue.number),
            &lines.iter().rev().copied().collect::<Vec<_>>().join("\n"),
        );
    }
    assert!(n > 3000, "{n}");
}
