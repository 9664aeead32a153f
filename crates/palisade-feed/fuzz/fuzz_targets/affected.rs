//! Fuzz target: any text through the affected-version parser (and the embedded-OSV and CVSS
//! readers that run on the same body) must never panic, and the ranges it returns must be
//! sorted, non-overlapping and non-empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let parsed = palisade_feed::affected::parse_body(&body, Some("CVE-2025-0001"), "CVE-2025-0001: fuzz");
    palisade_feed::affected::check_invariants(&parsed).unwrap_or_else(|e| panic!("{e}"));
    if let Some(Ok(from_osv)) = palisade_feed::osv_block::affected_from_body(&body) {
        palisade_feed::affected::check_invariants(&from_osv).unwrap_or_else(|e| panic!("{e}"));
    }
    let _ = palisade_feed::cvss::from_body(&body);
    for line in body.lines().take(64) {
        let _ = palisade_feed::version::VersionSpec::parse(line);
        let _ = palisade_feed::cvss::score(line);
    }
});
