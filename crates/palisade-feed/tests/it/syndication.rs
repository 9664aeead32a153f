//! RSS 2.0 and Atom output parse with a real feed parser (feed-rs) and carry every item.

use crate::build;
use palisade_feed::{render_atom, render_rss};

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
    assert_eq!(e.title.as_ref().unwrap().content, "CVE-2019-11243");
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
}
