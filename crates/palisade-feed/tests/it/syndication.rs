//! RSS 2.0 and Atom output parse with a real feed parser (feed-rs) and carry every item.

use crate::build;
use palisade_feed::syndication::entry_title;
use palisade_feed::{render_atom, render_rss};
use std::collections::BTreeMap;

#[test]
fn rss_parses_and_mirrors_upstream_mapping() {
    let feed = build("cve-feed/github-pages-2025");
    let xml = render_rss(&feed);
    let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(parsed.feed_type, feed_rs::model::FeedType::RSS2);
    assert_eq!(parsed.entries.len(), feed.items.len());
    assert_eq!(
        parsed.title.unwrap().content,
        "Kubernetes Vulnerability Announcements - CVE Feed"
    );
    let e = parsed
        .entries
        .iter()
        .find(|e| e.id == "https://www.cve.org/cverecord?id=CVE-2019-11243")
        .unwrap();
    assert_eq!(
        e.title.as_ref().unwrap().content,
        "CVE-2019-11243: rest.AnonymousClientConfig() does not remove the serviceaccount credentials from config created by rest.InClusterConfig() (Low, score 3.1)"
    );
    assert_eq!(
        e.links[0].href,
        "https://github.com/kubernetes/kubernetes/issues/76797"
    );
    assert_eq!(
        e.published.unwrap().to_rfc3339(),
        "2019-04-18T21:31:53+00:00"
    );
    assert_eq!(e.categories[0].term, "fixed");
    // Verbatim from website PR #39513's rendered item.
    assert!(xml.contains("<pubDate>Thu, 18 Apr 2019 21:31:53 +0000</pubDate>"));
    assert!(xml.contains("<description>rest.AnonymousClientConfig() does not remove the serviceaccount credentials from config created by rest.InClusterConfig()</description>"));
    // One GUID per CVE, no spaces (website #47003).
    let guids: std::collections::BTreeSet<&str> =
        parsed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(guids.len(), feed.items.len());
    assert!(guids.iter().all(|g| !g.contains(' ')));
}

#[test]
fn atom_parses() {
    let feed = build("cve-feed/github-pages-2025");
    let xml = render_atom(&feed);
    let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(parsed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(parsed.entries.len(), 71);
    let e = parsed
        .entries
        .iter()
        .find(|e| e.id == "https://www.cve.org/cverecord?id=CVE-2023-2727")
        .unwrap();
    assert!(
        e.title
            .as_ref()
            .unwrap()
            .content
            .starts_with("CVE-2023-2727: Bypassing policies")
    );
    assert!(
        e.content
            .as_ref()
            .unwrap()
            .body
            .as_ref()
            .unwrap()
            .contains("ImagePolicyWebhook")
    );
    assert!(e.categories.iter().any(|c| c.term == "severity:medium"));
    assert!(parsed.updated.is_some());
}

#[test]
fn hostile_text_stays_well_formed() {
    let mut feed = build("cve-feed/github-pages-2023");
    feed.items[0].summary = "</description><script>&\u{1}\u{0}".to_owned();
    feed.items[0].content_text = "]]></content>".to_owned();
    for xml in [render_rss(&feed), render_atom(&feed)] {
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), feed.items.len());
    }
    // The title carries the summary in both formats, escaped, and reads back the same.
    let rss = titles(&render_rss(&feed));
    let atom = titles(&render_atom(&feed));
    assert_eq!(rss, atom);
    assert!(rss[&feed.items[0].external_url].contains("</description><script>&"));
}

/// Titles by entry ID, as feed-rs reads them.
fn titles(xml: &str) -> BTreeMap<String, String> {
    feed_rs::parser::parse(xml.as_bytes())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.id, e.title.unwrap().content))
        .collect()
}

#[test]
fn rss_and_atom_titles_are_the_same_with_summary_and_severity() {
    let feed = build("cve-feed/github-pages-2025");
    let rss = titles(&render_rss(&feed));
    let atom = titles(&render_atom(&feed));
    assert_eq!(rss.len(), feed.items.len());
    assert_eq!(rss, atom);
    let by_id = |cve: &str| rss[&format!("https://www.cve.org/cverecord?id={cve}")].clone();
    assert_eq!(
        by_id("CVE-2023-2727"),
        "CVE-2023-2727: Bypassing policies imposed by the ImagePolicyWebhook and bypassing mountable secrets policy imposed by the ServiceAccount admission plugin (Medium, score 6.5)"
    );
    // Every item with a scored vector names its severity; the others end with their summary.
    for item in &feed.items {
        let t = &rss[&item.external_url];
        assert!(t.starts_with(&item.id), "{t}");
        assert!(t.contains(&item.summary), "{t}");
        match item.primary_cvss() {
            Some(s) => assert!(t.ends_with(&format!("score {:.1})", s.base_score)), "{t}"),
            None => assert!(!t.contains("score"), "{t}"),
        }
    }
    assert!(
        feed.items.iter().any(|i| i.primary_cvss().is_none()),
        "the data has items without CVSS, so the second arm runs"
    );
}

#[test]
fn titles_without_summary_or_cvss() {
    let mut feed = build("cve-feed/github-pages-2023");
    let item = &mut feed.items[0];
    item.summary = String::new();
    item.cvss = Default::default();
    assert_eq!(entry_title(item), item.id);
    let item = feed.items[0].clone();
    let rss = titles(&render_rss(&feed));
    assert_eq!(rss[&item.external_url], item.id);
}
