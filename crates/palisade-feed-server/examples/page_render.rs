//! Size and render time of the page at `/` on real data.
//!
//! ```text
//! cargo run --release -p palisade-feed-server --example page_render [PAGES_DIR]
//! ```
//! Builds the feed from GitHub API pages (default `testdata/cve-feed/github-pages-2025`, 71
//! CVEs) and renders the page for a few queries; prints bytes, gzip bytes and the median of 200
//! renders each. `page::render` is what `GET /` runs per request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use flate2::Compression;
use flate2::write::GzEncoder;
use palisade_feed::feed::JsonFeed;
use palisade_feed::{BuildOptions, Feed, Limits, io, render_json_feed};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/cve-feed/github-pages-2025")
        },
        PathBuf::from,
    );
    let (issues, _) = io::read_inputs(std::slice::from_ref(&dir), &Limits::default()).unwrap();
    let options = BuildOptions {
        now: "2026-12-01T00:00:00Z".to_owned(),
        ..BuildOptions::default()
    };
    let feed = Feed::from_issues(&issues, &options);
    let json: JsonFeed = serde_json::from_str(&render_json_feed(&feed)).unwrap();
    println!("{}: {} CVEs", dir.display(), json.items.len());
    println!(
        "{:<45} {:>9} {:>9} {:>10}",
        "query", "bytes", "gzip", "median"
    );
    for query in [
        "",
        "q=kubelet",
        "severity=high&severity=critical&sort=score",
        "version=1.30.2",
        "q=apiserver&sort=id&order=asc&version=1.24.0",
    ] {
        let (status, html) = palisade_feed_server::page::render(&json, Some(query), "");
        assert_eq!(status, 200, "{query}");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(html.as_bytes()).unwrap();
        let gz = gz.finish().unwrap().len();
        let mut times: Vec<u128> = (0..200)
            .map(|_| {
                let t = Instant::now();
                let out = palisade_feed_server::page::render(&json, Some(query), "");
                std::hint::black_box(out);
                t.elapsed().as_micros()
            })
            .collect();
        times.sort_unstable();
        println!(
            "{:<45} {:>9} {:>9} {:>8}µs",
            if query.is_empty() { "(none)" } else { query },
            html.len(),
            gz,
            times[times.len() / 2]
        );
    }
}
