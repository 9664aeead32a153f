//! Fuzz target: any bytes as a GitHub API page, then the whole build and every renderer, must
//! never panic; OSV records must stay JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_feed::{BuildOptions, Feed, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok((issues, _)) = palisade_feed::parse_page(data, "fuzz.json", &Limits::default()) else {
        return;
    };
    let feed = Feed::from_issues(&issues, &BuildOptions { now: "2026-01-01T00:00:00Z".into(), ..BuildOptions::default() });
    let _ = palisade_feed::render_json_feed(&feed);
    let _ = palisade_feed::render_rss(&feed);
    let _ = palisade_feed::render_atom(&feed);
    for (_, text) in palisade_feed::osv_records(&feed) {
        assert!(text.starts_with('{'));
    }
});
