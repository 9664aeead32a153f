//! The page's query handling over HTTP: search, severity filter, sorting, bad parameters, the
//! security policy, and a hostile issue title.

use crate::*;
use base64::Engine;
use palisade_feed::feed::{JsonFeed, JsonItem};
use sha2::Digest;

/// The end of the tag starting at `from` (the `>` outside quoted attribute values: a browser's
/// DOM dump leaves `<` and `>` unescaped inside attributes).
fn tag_end(dom: &str, from: usize) -> usize {
    let mut quote = None;
    for (i, c) in dom[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return from + i,
            _ => {}
        }
    }
    panic!("unterminated tag at {from}")
}

/// `(id, hidden)` of every CVE row, in document order.
pub fn table_rows(dom: &str) -> Vec<(String, bool)> {
    dom.match_indices("<tr class=\"cve\" id=\"")
        .map(|(i, m)| {
            let tag = &dom[i..tag_end(dom, i)];
            let rest = &dom[i + m.len()..];
            let id = rest[..rest.find('"').unwrap()].to_owned();
            let hidden = tag.contains(" hidden=\"\"") || tag.ends_with(" hidden");
            (id, hidden)
        })
        .collect()
}

/// IDs of the rows shown (not `hidden`), in document order.
pub fn visible(dom: &str) -> Vec<String> {
    table_rows(dom)
        .into_iter()
        .filter(|(_, h)| !h)
        .map(|(id, _)| id)
        .collect()
}

pub fn json_feed(v: &Value) -> JsonFeed {
    serde_json::from_value(v.clone()).unwrap()
}

fn severity(i: &JsonItem) -> &str {
    i.kubernetes_io
        .cvss
        .as_ref()
        .map_or("none", |c| c.score.severity.as_str())
}

async fn page(h: &Harness, query: &str) -> (u16, String) {
    let r = h.get(&format!("/?{query}")).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_severity_and_sort_server_side() {
    let h = start(true).await;
    // An announcement published before every other and updated after: the two date orders
    // differ (in the seed alone they happen to agree).
    let mut v: Value = serde_json::from_slice(&variant(
        "labeled",
        40_000,
        "CVE-2016-0001",
        "2023-09-01T00:00:00Z",
    ))
    .unwrap();
    v["issue"]["created_at"] = "2016-01-01T00:00:00Z".into();
    assert_eq!(
        h.post("issues", "old-1", serde_json::to_vec(&v).unwrap(), None)
            .await
            .status(),
        200
    );
    let feed = json_feed(&h.feed().await);
    let all: Vec<String> = feed.items.iter().map(|i| i.id.clone()).collect();

    // No query: every row shown, newest first, as the feed.
    let (status, html) = page(&h, "").await;
    assert_eq!(status, 200);
    assert_eq!(visible(&html), all);
    assert!(html.contains(&format!("{n} of {n} CVEs", n = all.len())));

    // Search: case-insensitive, every word, over ID, summary and components.
    let (status, html) = page(&h, "q=SECCOMP").await;
    assert_eq!(status, 200);
    assert_eq!(visible(&html), ["CVE-2023-2431"]);
    assert_eq!(
        table_rows(&html).len(),
        all.len(),
        "others are hidden, not dropped"
    );
    assert!(html.contains(&format!("1 of {} CVEs", all.len())));
    assert!(html.contains("value=\"SECCOMP\""), "the box keeps the text");
    let (_, html) = page(&h, "q=cve-2019-1124").await;
    let expected: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|i| i.starts_with("CVE-2019-1124"))
        .collect();
    assert_eq!(visible(&html), expected);
    assert!(expected.len() >= 5, "{expected:?}");
    let (_, html) = page(&h, "q=kubelet+dos").await;
    let shown = visible(&html);
    assert!(shown.contains(&"CVE-2020-8551".to_owned()), "{shown:?}");
    for id in &shown {
        let item = feed.items.iter().find(|i| &i.id == id).unwrap();
        assert!(item.summary.to_lowercase().contains("dos"), "{id}");
    }
    // A component name finds CVEs whose title does not say it.
    let (_, html) = page(&h, "q=kube-controller-manager").await;
    let by_component: Vec<String> = feed
        .items
        .iter()
        .filter(|i| {
            i.kubernetes_io
                .affected
                .iter()
                .any(|c| c.component == "kube-controller-manager")
                || i.kubernetes_io
                    .about
                    .components
                    .iter()
                    .any(|c| c == "kube-controller-manager")
                || i.summary.to_lowercase().contains("kube-controller-manager")
        })
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(visible(&html), by_component);
    assert!(
        by_component.len() > 2,
        "more than the two titles naming it: {by_component:?}"
    );

    // Severity: any of the boxes ticked; `none` also holds CVEs without a vector.
    let (_, html) = page(&h, "severity=high&severity=critical").await;
    let high: Vec<String> = feed
        .items
        .iter()
        .filter(|i| matches!(severity(i), "high" | "critical"))
        .map(|i| i.id.clone())
        .collect();
    assert!(!high.is_empty());
    assert_eq!(visible(&html), high);
    assert!(html.contains("value=\"high\" checked"));
    let (_, html) = page(&h, "severity=none").await;
    let none: Vec<String> = feed
        .items
        .iter()
        .filter(|i| i.kubernetes_io.cvss.is_none())
        .map(|i| i.id.clone())
        .collect();
    assert!(!none.is_empty(), "the 2023 seed has CVEs without a vector");
    assert_eq!(visible(&html), none);
    // Search and severity together.
    let (_, html) = page(&h, "q=kubectl&severity=medium").await;
    let both: Vec<String> = feed
        .items
        .iter()
        .filter(|i| i.summary.to_lowercase().contains("kubectl") && severity(i) == "medium")
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(visible(&html), both);

    // Sorting.
    let score = |i: &JsonItem| {
        i.kubernetes_io
            .cvss
            .as_ref()
            .map_or(-1.0, |c| c.score.base_score)
    };
    let mut by_score: Vec<&JsonItem> = feed.items.iter().collect();
    by_score.sort_by(|a, b| score(b).total_cmp(&score(a)));
    let (_, html) = page(&h, "sort=score").await;
    assert_eq!(
        visible(&html),
        by_score.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    );
    let mut asc: Vec<&JsonItem> = feed.items.iter().collect();
    asc.sort_by(|a, b| score(a).total_cmp(&score(b)));
    let (_, html) = page(&h, "sort=score&order=asc").await;
    assert_eq!(
        visible(&html),
        asc.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    );
    assert!(html.contains("<option value=\"score\" selected>"));
    let (_, html) = page(&h, "sort=id&order=asc").await;
    let ids = visible(&html);
    assert_eq!(ids.first().map(String::as_str), Some("CVE-2016-0001"));
    assert_eq!(ids[1], "CVE-2017-1000056");
    let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(
        pos("CVE-2019-11243") < pos("CVE-2019-1002100"),
        "numeric, not text"
    );
    let (_, html) = page(&h, "sort=published&order=asc").await;
    let mut oldest: Vec<String> = all.clone();
    oldest.reverse();
    // Ties (one issue, several CVEs) keep feed order in both directions.
    let tie = ["CVE-2023-2727", "CVE-2023-2728"];
    let p = |v: &[String], id: &str| v.iter().position(|x| x == id).unwrap();
    let got = visible(&html);
    assert!(p(&got, tie[0]) < p(&got, tie[1]));
    assert_eq!(got.first(), oldest.first());
    let (_, html) = page(&h, "sort=updated").await;
    let updated = |i: &JsonItem| {
        palisade_feed::timestamp::parse(i.date_modified.as_deref().unwrap_or(&i.date_published))
            .unwrap()
            .unix_seconds()
    };
    let mut by_updated: Vec<&JsonItem> = feed.items.iter().collect();
    by_updated.sort_by_key(|i| std::cmp::Reverse(updated(i)));
    assert_eq!(
        visible(&html),
        by_updated.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(visible(&html)[0], "CVE-2016-0001");
    assert_eq!(all.last().map(String::as_str), Some("CVE-2016-0001"));
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_give_400_with_the_page() {
    let h = start(true).await;
    let n = ids(&h.feed().await).len();
    for (query, needle) in [
        ("severity=urgent", "Severity `urgent` is not one of"),
        ("sort=cvss", "Sort `cvss` is not one of"),
        ("order=sideways", "Order `sideways` is not asc or desc"),
        ("q=a&q=b", "Parameter `q` given more than once"),
        ("version=banana", "Version `banana` not understood"),
        (
            "version=1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27",
            "over 64 characters",
        ),
        (&format!("q={}", "a".repeat(201)), "over 200 characters"),
        (
            &format!("q={}", "a%20".repeat(1100)),
            "over the 4096-byte limit",
        ),
        ("severity=%3Cscript%3E", "Severity `&lt;script&gt;`"),
    ] {
        let (status, html) = page(&h, query).await;
        assert_eq!(status, 400, "{query}");
        assert!(html.contains("id=\"notice\""), "{query}");
        assert!(html.contains(needle), "{query}: {needle}");
        assert_eq!(
            table_rows(&html).len(),
            n,
            "{query}: the page is still whole"
        );
    }
    // The rest of a query with one bad parameter still applies.
    let (status, html) = page(&h, "q=seccomp&sort=nope").await;
    assert_eq!(status, 400);
    assert_eq!(visible(&html), ["CVE-2023-2431"]);
    // Unknown parameters (tracking, old links) and empty fields are ignored.
    let (status, html) = page(&h, "utm_source=x&q=&version=&component=&severity=").await;
    assert_eq!(status, 200);
    assert_eq!(visible(&html).len(), n);
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_allows_exactly_the_inline_script_and_style() {
    let h = start(true).await;
    let r = h.get("/").await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text))
        )
    };
    let inner = |open: &str, close: &str| {
        let start = html.find(open).unwrap() + open.len();
        html[start..start + html[start..].find(close).unwrap()].to_owned()
    };
    assert_eq!(html.matches("<script>").count(), 1);
    assert_eq!(html.matches("<style>").count(), 1);
    let script = inner("<script>", "</script>");
    let style = inner("<style>", "</style>");
    assert!(
        csp.contains(&format!("script-src {};", hash(&script))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src {};", hash(&style))),
        "{csp}"
    );
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert!(!html.contains(" style=\""), "no inline style attributes");
    // No inline event handler attribute (` onclick="`): the policy would block it.
    let handler = html.split(" on").skip(1).any(|rest| {
        let name = rest.chars().take_while(char::is_ascii_alphabetic).count();
        name > 0 && rest[name..].starts_with("=\"")
    });
    assert!(!handler, "no inline event handlers");
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_title_is_escaped_everywhere() {
    let h = start(true).await;
    let cve = "CVE-2023-99999";
    let mut v: Value =
        serde_json::from_slice(&variant("labeled", 999_999, cve, "2023-08-01T00:00:00Z")).unwrap();
    let hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)> ' & </td></tr>";
    v["issue"]["title"] = format!("{cve}: {hostile}").into();
    assert_eq!(
        h.post("issues", "hostile-1", serde_json::to_vec(&v).unwrap(), None)
            .await
            .status(),
        200
    );
    let (status, html) = page(&h, "").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<script").count(), 1, "only the page's own");
    assert!(!html.contains("<img"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(visible(&html).len(), ids(&h.feed().await).len());
    // Searching for the markup finds the row and quotes it back escaped.
    let (status, html) = page(&h, "q=%3Cscript%3Ealert").await;
    assert_eq!(status, 200);
    assert_eq!(visible(&html), [cve]);
    assert!(html.contains("value=\"&lt;script&gt;alert\""));
    assert_eq!(html.matches("<script").count(), 1);
    // RSS and Atom carry it as text, equal in both.
    let title = |xml: Vec<u8>| {
        feed_rs::parser::parse(&xml[..])
            .unwrap()
            .entries
            .into_iter()
            .find(|e| e.id.ends_with(cve))
            .unwrap()
            .title
            .unwrap()
            .content
    };
    let rss = title(h.bytes("/feed.xml").await);
    assert_eq!(rss, title(h.bytes("/atom.xml").await));
    assert!(
        rss.starts_with(&format!("{cve}: {}", hostile.trim())),
        "{rss}"
    );
    h.server.shutdown().await.unwrap();
}
