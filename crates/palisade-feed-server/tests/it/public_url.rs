//! `--public-url`: the feed's own links point at this server when given, upstream's otherwise,
//! and a restart with another value rebuilds the files instead of serving the old links.

use crate::*;

const BASE: &str = "https://cve.example.org/k8s";
const UPSTREAM: &str = "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/";

struct SelfLinks {
    feed_url: String,
    home_page_url: String,
    rss_self: String,
    atom_self: String,
    osv_web: Vec<String>,
    page_hrefs: Vec<String>,
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.split(start)
        .skip(1)
        .filter_map(|s| s.split(end).next())
        .collect()
}

async fn self_links(h: &Harness) -> SelfLinks {
    let feed = h.feed().await;
    let rss = String::from_utf8(h.bytes("/feed.xml").await).unwrap();
    let atom = String::from_utf8(h.bytes("/atom.xml").await).unwrap();
    let id = ids(&feed)[0].clone();
    let osv: Value = serde_json::from_slice(&h.bytes(&format!("/osv/{id}.json")).await).unwrap();
    let page = String::from_utf8(h.bytes("/").await).unwrap();
    let one = |v: Vec<&str>| {
        assert_eq!(v.len(), 1, "{v:?}");
        v[0].to_owned()
    };
    SelfLinks {
        feed_url: feed["feed_url"].as_str().unwrap().to_owned(),
        home_page_url: feed["home_page_url"].as_str().unwrap().to_owned(),
        rss_self: one(between(&rss, "<atom:link href=\"", "\" rel=\"self\"")),
        atom_self: one(between(
            &atom,
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"",
            "\"",
        )),
        osv_web: osv["references"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "WEB")
            .map(|r| r["url"].as_str().unwrap().to_owned())
            .collect(),
        page_hrefs: between(&page, "href=\"", "\"")
            .into_iter()
            .chain(between(&page, "action=\"", "\""))
            // Links to GitHub issues and cve.org records are not ours.
            .filter(|h| {
                !h.starts_with("https://github.com/") && !h.starts_with("https://www.cve.org/")
            })
            .map(str::to_owned)
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_links_follow_public_url_and_default_stays_upstream() {
    let h = start(true).await;
    let up = self_links(&h).await;
    assert_eq!(up.feed_url, format!("{UPSTREAM}index.json"));
    assert_eq!(up.home_page_url, "https://kubernetes.io");
    assert_eq!(up.rss_self, format!("{UPSTREAM}feed.xml"));
    assert_eq!(up.atom_self, format!("{UPSTREAM}atom.xml"));
    assert!(up.osv_web.is_empty());
    assert!(
        up.page_hrefs.iter().all(|h| h.starts_with('/')),
        "{:?}",
        up.page_hrefs
    );
    let upstream_outputs = h.outputs().await;

    // Restart on the same store with a public URL (trailing slash normalised away).
    let dir = h.dir;
    h.server.shutdown().await.unwrap();
    let mut c = config(dir.path(), false);
    c.public_url = Some(format!("{BASE}/"));
    let h = start_with(dir, c).await;
    let ours = self_links(&h).await;
    assert_eq!(ours.feed_url, format!("{BASE}/feed.json"));
    assert_eq!(ours.home_page_url, format!("{BASE}/"));
    assert_eq!(ours.rss_self, format!("{BASE}/feed.xml"));
    assert_eq!(ours.atom_self, format!("{BASE}/atom.xml"));
    let id = ids(&h.feed().await)[0].clone();
    assert_eq!(ours.osv_web, [format!("{BASE}/#{id}")]);
    assert!(ours.page_hrefs.len() > 5);
    for href in &ours.page_hrefs {
        assert!(href.starts_with(&format!("{BASE}/")), "{href}");
    }
    // The links a reader follows from the page answer on this server.
    for path in ["/feed.json", "/feed.xml", "/atom.xml", "/osv/all.zip"] {
        assert!(ours.page_hrefs.contains(&format!("{BASE}{path}")), "{path}");
        assert_eq!(h.get(path).await.status(), 200, "{path}");
    }
    // The items themselves are the same.
    let rss = feed_rs::parser::parse(&h.bytes("/feed.xml").await[..]).unwrap();
    let rss_up = feed_rs::parser::parse(&upstream_outputs["served /feed.xml"][..]).unwrap();
    assert_eq!(rss.entries.len(), rss_up.entries.len());

    // And back: without it, the outputs are upstream's again, byte for byte in the files that
    // carry no check time.
    let dir = h.dir;
    h.server.shutdown().await.unwrap();
    let c = config(dir.path(), false);
    let h = start_with(dir, c).await;
    let again = self_links(&h).await;
    assert_eq!(again.feed_url, up.feed_url);
    assert!(again.osv_web.is_empty());
    let out = h.outputs().await;
    assert!(out["served /osv/all.zip"] == upstream_outputs["served /osv/all.zip"]);
    assert!(out["served /feed.xml"] == upstream_outputs["served /feed.xml"]);
    h.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_public_url_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (url, needle) in [
        (
            "http://cve.example.org",
            "plain http is allowed only for a loopback host",
        ),
        ("cve.example.org", "is not a URL"),
        ("https://cve.example.org/?x=1", "query or fragment"),
    ] {
        let mut c = config(dir.path(), false);
        c.public_url = Some(url.to_owned());
        let e = palisade_feed_server::start(c)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--public-url") && e.contains(needle),
            "{url}: {e}"
        );
    }
}
