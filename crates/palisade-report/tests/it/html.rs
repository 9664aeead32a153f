//! `--format html` as text: every finding, waived finding, input error and note is on the
//! page with its rule link and location; summaries count right; scan text is escaped; the
//! script is the one the Content Security Policy allows; excerpts are capped and only for files.

use crate::fixtures::{Data, RULES};
use palisade_core::{Finding, ObjectRef, Origin};
use palisade_report::{HtmlOptions, Report, SourceText, render_html};
use std::collections::HashMap;

pub fn html(report: &Report<'_>, options: &HtmlOptions<'_>) -> String {
    let mut out = Vec::new();
    render_html(report, options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A manifest whose text tries to break out of the page.
pub const HOSTILE_SOURCE: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  annotations:\n    a: \"</code></pre><script id=pwned>document.title='pwned'</script>\"\n    b: \"<img id=pwned2 src=x onerror=alert(1)>\"\nspec:\n  containers:\n  - name: c\n    image: busybox:latest\n";

/// The realistic report plus findings whose text is markup, in a namespace and family named
/// like markup; source lines come from `files`.
pub fn hostile() -> Data {
    let mut data = Data::realistic();
    let evil = "<script id=pwned3>document.title='pwned'</script><img id=pwned4 src=x onerror=alert(1)>\"'&";
    let mut f = data.findings[4].clone();
    f.message = format!("image {evil}");
    f.file = "evil/<b>pod</b>.yaml".into();
    f.line = 6;
    f.column = 5;
    f.field = format!("metadata.annotations[\"{evil}\"]");
    f.family = "<i>family</i>".into();
    f.object = ObjectRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        namespace: Some("\"><script id=pwned5>x</script>".into()),
        name: Some(evil.into()),
    };
    data.findings.push(f);
    data.suppressed[0].suppression.reason = evil.into();
    data.errors[0].message = evil.into();
    data
}

pub fn sources() -> HashMap<String, SourceText> {
    let mut files = HashMap::new();
    files.insert(
        "evil/<b>pod</b>.yaml".to_owned(),
        SourceText::new(HOSTILE_SOURCE.to_owned()),
    );
    let deployment: String = (1..=40)
        .map(|i| format!("line {i} of the deployment\n"))
        .collect();
    files.insert(
        "examples/bad/deployment.yaml".to_owned(),
        SourceText::new(deployment),
    );
    files
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_finding_and_input_error_is_on_the_page() {
    let data = Data::realistic();
    let page = html(&data.report(), &HtmlOptions::default());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(count(&page, "<article class=\"finding "), 8);
    assert_eq!(count(&page, " waived\" id=\"w"), 2);
    for f in &data.findings {
        assert!(
            page.contains(&f.message.replace('"', "&quot;")),
            "{}",
            f.message
        );
    }
    for r in RULES {
        assert!(
            page.contains(&format!("href=\"{}\">{}</a>", r.docs_url(), r.id)),
            "{}",
            r.id
        );
    }
    assert!(page.contains("<code>examples/bad/deployment.yaml:27:13</code> (document 1)"));
    assert!(page.contains("CNI agent needs the host network; expires 2999-12-31"));
    assert!(page.contains("<section id=\"errors\">\n<h2>Input errors (2)</h2>"));
    assert!(page.contains("<section id=\"notes\">\n<h2>Notes (1)</h2>"));
    assert!(page.contains("mapping values are not allowed in this context"));
    assert!(page.contains("<section id=\"compliance\">"));
    // Summary rows: severities, families, namespaces, rules.
    assert!(page.contains("<label for=\"sev-critical\">critical</label></td><td class=\"n\">1</td><td class=\"n\">1</td>"));
    assert!(page.contains(
        "<label for=\"sev-high\">high</label></td><td class=\"n\">2</td><td class=\"n\">0</td>"
    ));
    assert!(page.contains(
        "<label for=\"fam-1\">pss</label></td><td class=\"n\">5</td><td class=\"n\">1</td>"
    ));
    assert!(page.contains("<label for=\"ns-0\">(no namespace)</label></td><td class=\"n\">2</td>"));
    assert!(page.contains("<label for=\"ns-3\">shop</label></td><td class=\"n\">3</td>"));
    assert!(page.contains("PSS002.md\">PSS002</a></td><td>Privileged containers are disallowed</td><td><span class=\"sev high\">high</span></td><td>pss</td><td class=\"n\">2</td>"));
    // Nothing is loaded from anywhere.
    for remote in ["src=\"http", "href=\"http://", "<link", "@import", "url("] {
        let n = count(&page, remote);
        assert_eq!(n, 0, "{remote}");
    }
}

#[test]
fn clean_page_says_so() {
    let data = Data::clean();
    let page = html(&data.report(), &HtmlOptions::default());
    assert!(page.contains("<p class=\"none\">No findings.</p>"));
    assert!(!page.contains("<article"));
    assert!(page.contains("<strong>passed</strong>"));
}

#[test]
fn scan_text_cannot_inject_markup() {
    let data = hostile();
    let files = sources();
    let source = |file: &str, line: u32| files.get(file).map(|t| t.excerpt(line, 4));
    let page = html(
        &data.report(),
        &HtmlOptions {
            source: Some(&source),
            generated: Some("<b>now</b>"),
        },
    );
    assert_eq!(count(&page, "<script"), 1, "only the page's own script");
    for tag in [
        "<img",
        "<i>family",
        "<b>pod",
        "<b>now",
        "<script id",
        "\"><script",
    ] {
        assert_eq!(count(&page, tag), 0, "{tag}");
    }
    assert!(page.contains("&lt;script id=pwned3&gt;"));
    assert!(page.contains("&lt;/code&gt;&lt;/pre&gt;&lt;script id=pwned&gt;"));
    assert!(page.contains("&lt;b&gt;now&lt;/b&gt;"));
    // The hostile namespace and family are values, never part of CSS or ids.
    assert!(page.contains("value=\"&quot;&gt;&lt;script id=pwned5&gt;x&lt;/script&gt;\""));
    let css = &page[page.find("<style>").unwrap()..page.find("</style>").unwrap()];
    assert!(!css.contains("pwned") && !css.contains("<i>"), "{css}");
}

#[test]
fn the_script_is_the_one_the_policy_allows() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let page = html(&Data::realistic().report(), &HtmlOptions::default());
    let start = page.find("<script>").unwrap() + "<script>".len();
    let script = &page[start..page[start..].find("</script>").unwrap() + start];
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    let csp = &page[page.find("Content-Security-Policy").unwrap()..];
    let csp = &csp[..csp.find('>').unwrap()];
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"));
}

#[test]
fn excerpts_are_capped_and_only_for_files() {
    let mut data = Data::realistic();
    // The same finding, read from a cluster: no file to show.
    let mut remote: Finding = data.findings[0].clone();
    remote.origin = Some(Box::new(Origin {
        context: "prod".into(),
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "web".into(),
        uid: None,
    }));
    remote.file = "cluster://prod/shop/Deployment/web".into();
    remote.line = 0;
    remote.column = 0;
    data.findings = vec![data.findings[0].clone(), remote];
    data.suppressed.clear();
    // A source that returns far too much.
    let asked = std::cell::Cell::new(0);
    let source = |file: &str, line: u32| {
        asked.set(asked.get() + 1);
        assert_eq!((file, line), ("examples/bad/deployment.yaml", 18));
        Some(
            (1..=1000)
                .map(|n| (n, format!("{n}: {}", "y".repeat(1000))))
                .collect(),
        )
    };
    let page = html(
        &data.report(),
        &HtmlOptions {
            source: Some(&source),
            generated: None,
        },
    );
    assert_eq!(asked.get(), 1, "asked once, for the file finding only");
    assert_eq!(count(&page, "<pre class=\"src\">"), 1);
    assert_eq!(count(&page, "<span class=\"at\"><i>18</i>18: "), 1);
    assert_eq!(count(&page, "<span><i>"), 8);
    assert!(page.contains("<span><i>14</i>") && page.contains("<span><i>22</i>"));
    assert!(!page.contains(&"y".repeat(palisade_report::EXCERPT_MAX_LINE_CHARS)));
    assert!(page.contains("<code>cluster://prod/shop/Deployment/web</code></dd>"));
}

#[test]
fn realistic_html_snapshot() {
    let data = Data::realistic();
    let files = sources();
    let source = |file: &str, line: u32| files.get(file).map(|t| t.excerpt(line, 4));
    let page = html(
        &data.report(),
        &HtmlOptions {
            source: Some(&source),
            generated: Some("2026-12-07 08:00 UTC"),
        },
    );
    // The stylesheet and script are constants; the snapshot is about the generated part.
    let body = &page[page.find("</style>").unwrap()..page.find("<script>").unwrap()];
    let filters =
        &page[page.find("#sev-critical:checked").unwrap()..page.find("</style>").unwrap()];
    let generated = format!("{filters}{body}").replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!(generated);
}
