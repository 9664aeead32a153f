//! Speed of the feed pipeline on both recorded page sets (113 issue records, 71 distinct issues): page parsing, the
//! builder (title, affected-version and CVSS parsing per body), each renderer, the "affected"
//! matcher and CVSS scoring. Run by `scripts/bench-feed.sh`; prints medians over many runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use palisade_feed::matcher::{Target, affected, load_feed};
use palisade_feed::version::Version;
use palisade_feed::{
    BuildOptions, Feed, Limits, osv_records, parse_page, render_atom, render_json_feed, render_rss,
};
use std::path::Path;
use std::time::{Duration, Instant};

fn median(f: &mut dyn FnMut(), runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut pages = Vec::new();
    for dir in ["cve-feed/github-pages-2023", "cve-feed/github-pages-2025"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            pages.push(std::fs::read(f).unwrap());
        }
    }
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let limits = Limits::default();
    let parse = || {
        pages
            .iter()
            .flat_map(|p| parse_page(p, "page", &limits).unwrap().0)
            .collect::<Vec<_>>()
    };
    let issues = parse();
    let options = BuildOptions {
        now: "2026-12-01T00:00:00Z".into(),
        ..BuildOptions::default()
    };
    let feed = Feed::from_issues(&issues, &options);
    let json = render_json_feed(&feed);
    let parsed = load_feed(json.as_bytes(), "feed").unwrap();
    let target = Target {
        label: "q".into(),
        component: Some("kube-apiserver".into()),
        version: Version::parse("1.27.1").unwrap(),
    };
    let vectors: Vec<String> = std::fs::read_to_string(root.join("cvss/vectors_simple31"))
        .unwrap()
        .lines()
        .map(|l| l.split(" - ").next().unwrap().to_owned())
        .collect();

    let distinct: std::collections::BTreeSet<u64> = issues.iter().map(|i| i.number).collect();
    println!(
        "input: {} pages, {} bytes, {} issue records ({} distinct issues) -> {} CVEs; {runs} runs, median",
        pages.len(),
        bytes,
        issues.len(),
        distinct.len(),
        feed.items.len()
    );
    let mut sink = 0usize;
    let row = |name: &str, f: &mut dyn FnMut()| {
        println!(
            "  {name:<44} {:>10.3} ms",
            median(f, runs).as_secs_f64() * 1e3
        )
    };
    row("parse pages (serde_json)", &mut || sink += parse().len());
    row("Feed::from_issues (titles, versions, CVSS)", &mut || {
        sink += Feed::from_issues(&issues, &options).items.len()
    });
    row(
        "  of which about::detect (labels, title, text)",
        &mut || {
            for i in &issues {
                let labels: Vec<&str> = i.labels.iter().map(|l| l.name.as_str()).collect();
                sink += palisade_feed::about::detect(
                    &labels,
                    &i.title,
                    i.body.as_deref().unwrap_or(""),
                )
                .components
                .len();
            }
        },
    );
    row("render_json_feed", &mut || {
        sink += render_json_feed(&feed).len()
    });
    row("render_rss", &mut || sink += render_rss(&feed).len());
    row("render_atom", &mut || sink += render_atom(&feed).len());
    row(
        &format!("osv_records ({} records)", feed.items.len()),
        &mut || sink += osv_records(&feed).len(),
    );
    row("all of the above (pages -> 4 outputs)", &mut || {
        let issues = parse();
        let feed = Feed::from_issues(&issues, &options);
        sink += render_json_feed(&feed).len()
            + render_rss(&feed).len()
            + render_atom(&feed).len()
            + osv_records(&feed).len();
    });
    row("load feed + affected(kube-apiserver 1.27.1)", &mut || {
        sink += affected(&load_feed(json.as_bytes(), "f").unwrap(), &target).len()
    });
    row("affected() on a loaded feed", &mut || {
        sink += affected(&parsed, &target).len()
    });
    row(
        &format!("cvss::score x {} (v3.1 base set)", vectors.len()),
        &mut || {
            sink += vectors
                .iter()
                .filter(|v| palisade_feed::cvss::score(v).is_ok())
                .count()
        },
    );
    std::hint::black_box(sink);
}
