//! The HTML page in a real browser: headless Chromium (Debian's `chromium`) opens the file with
//! filters in the URL fragment and the DOM it dumps is checked (counts, what is hidden, that
//! no markup from the scan came alive); screenshots go to the test's temporary directory.
//!
//! Skipped, with a message, when no Chromium is installed (`PALISADE_CHROMIUM` names one).

use crate::html::{hostile, html, sources};
use palisade_report::HtmlOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn run_chromium(bin: &Path, profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `(id, hidden)` of every finding in a DOM dump.
fn findings(dom: &str) -> Vec<(String, bool)> {
    dom.match_indices("<article class=\"finding")
        .map(|(i, _)| {
            let tag = &dom[i..i + dom[i..].find('>').unwrap()];
            let id = &tag[tag.find(" id=\"").unwrap() + 5..];
            (
                id[..id.find('"').unwrap()].to_owned(),
                tag.contains(" hidden"),
            )
        })
        .collect()
}

fn shown(dom: &str) -> Vec<String> {
    findings(dom)
        .into_iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(id, _)| id)
        .collect()
}

fn status_line(dom: &str) -> String {
    let at = dom.find("<p id=\"shown\"").unwrap();
    let text = &dom[at + dom[at..].find('>').unwrap() + 1..];
    text[..text.find("</p>").unwrap()].to_owned()
}

#[test]
fn page_in_headless_chromium() {
    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED page_in_headless_chromium: no Chromium found (install Debian's `chromium`, or set PALISADE_CHROMIUM)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let data = hostile();
    let files = sources();
    let source = |file: &str, line: u32| files.get(file).map(|t| t.excerpt(line, 4));
    let page = html(
        &data.report(),
        &HtmlOptions {
            source: Some(&source),
            generated: Some("2026-12-07 08:00 UTC"),
        },
    );
    let file = dir.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    let url = |fragment: &str| format!("file://{}{fragment}", file.display());
    let dom =
        |fragment: &str| run_chromium(&bin, profile.path(), &["--dump-dom".into(), url(fragment)]);

    // No filter: all 7 findings and 2 waived shown; the search box revealed by the script.
    let all = dom("");
    assert_eq!(findings(&all).len(), 9);
    assert_eq!(shown(&all).len(), 9);
    assert_eq!(
        status_line(&all),
        "Showing 7 of 7 findings and 2 of 2 waived"
    );
    assert!(
        all.contains("<div class=\"group\" id=\"search\"><span>Search</span>"),
        "search box still hidden"
    );
    // Nothing from the scan came alive: no element it named exists, the title is ours.
    for id in ["pwned", "pwned2", "pwned3", "pwned4", "pwned5"] {
        assert!(
            !all.contains(&format!("id=\"{id}\"")),
            "{id} became an element"
        );
    }
    assert!(all.contains("<title>Palisade scan report</title>"));
    assert!(all.contains("&lt;script id=pwned3&gt;"));

    // Without the page's script, the radio groups filter through CSS alone. (Chromium with
    // scripting off dumps no DOM, so the page's script is swapped for a probe that records,
    // after layout, which findings CSS left visible.) The "critical" radio is checked as a
    // click would leave it.
    let css_only = |html: &str| {
        let start = html.find("<script>").unwrap();
        let end = html.find("</script>").unwrap() + "</script>".len();
        let probe = "<script>document.querySelectorAll('article.finding').forEach(function (e) \
                     { e.setAttribute('data-visible', e.offsetParent !== null ? 'yes' : 'no'); });</script>";
        let csp_start = html
            .find("<meta http-equiv=\"Content-Security-Policy\"")
            .unwrap();
        let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
        let mut probed = format!("{}{probe}{}", &html[..start], &html[end..]);
        probed.replace_range(csp_start..csp_end, "");
        let f = dir.path().join("css-only.html");
        std::fs::write(&f, probed).unwrap();
        let dom = run_chromium(
            &bin,
            profile.path(),
            &["--dump-dom".into(), format!("file://{}", f.display())],
        );
        findings(&dom)
            .into_iter()
            .map(|(id, _)| id)
            .zip(
                dom.match_indices("data-visible=\"")
                    .map(|(i, m)| dom[i + m.len()..].starts_with("yes")),
            )
            .filter(|(_, visible)| *visible)
            .map(|(id, _)| id)
            .collect::<Vec<String>>()
    };
    assert_eq!(css_only(&page).len(), 9);
    let clicked = page
        .replacen("data-k=\"\" checked>", "data-k=\"\">", 1)
        .replacen("data-k=\"critical\">", "data-k=\"critical\" checked>", 1);
    assert_eq!(css_only(&clicked), ["f1", "w2"]);
    let pss_shop = page
        .replacen(
            "id=\"fam-all\" value=\"\" data-k=\"\" checked>",
            "id=\"fam-all\" value=\"\" data-k=\"\">",
            1,
        )
        .replacen(
            "value=\"pss\" data-k=\"2\">",
            "value=\"pss\" data-k=\"2\" checked>",
            1,
        )
        .replacen(
            "id=\"ns-all\" value=\"\" data-k=\"\" checked>",
            "id=\"ns-all\" value=\"\" data-k=\"\">",
            1,
        )
        .replacen(
            "value=\"shop\" data-k=\"4\">",
            "value=\"shop\" data-k=\"4\" checked>",
            1,
        );
    assert_eq!(css_only(&pss_shop), ["f1", "f2", "f3"]);

    // Severity from the fragment: the critical finding and the waived critical one.
    let critical = dom("#severity=critical");
    assert_eq!(shown(&critical), ["f1", "w2"]);
    assert_eq!(
        status_line(&critical),
        "Showing 1 of 7 findings and 1 of 2 waived"
    );

    // Family and namespace together; namespace by name.
    let pss_shop = dom("#family=pss&namespace=shop");
    assert_eq!(shown(&pss_shop), ["f1", "f2", "f3"]);
    let none = dom("#namespace=-");
    assert_eq!(shown(&none), ["f4", "f5"], "objects without a namespace");

    // Free-text search, case-insensitive, over message, object and location.
    let busybox = dom("#q=BusyBox");
    assert_eq!(shown(&busybox), ["f5"]);
    let by_file = dom("#q=cronjob.yaml");
    assert_eq!(shown(&by_file), ["f6"]);
    // The hostile namespace is a plain value to filter on.
    let evil_ns = dom("#namespace=%22%3E%3Cscript%20id%3Dpwned5%3Ex%3C%2Fscript%3E");
    assert_eq!(shown(&evil_ns), ["f7"]);
    // An unknown value falls back to "all".
    assert_eq!(shown(&dom("#severity=bogus")).len(), 9);

    for (name, size) in [
        ("report-desktop.png", "1280,1000"),
        ("report-phone.png", "412,915"),
    ] {
        let p = dir.path().join(name);
        run_chromium(
            &bin,
            profile.path(),
            &[
                format!("--screenshot={}", p.display()),
                format!("--window-size={size}"),
                url("#severity=high"),
            ],
        );
        let png = std::fs::read(&p).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name}: {} bytes",
            png.len()
        );
        // Keep a copy where a person can look at it after the run.
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html");
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&p, keep.join(name)).unwrap();
        eprintln!("screenshot: {}", keep.join(name).display());
    }
}
