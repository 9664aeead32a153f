//! The page in a real browser: headless Chromium (Debian's `chromium`) loads `/`, submits the
//! version filter the way a GET form is submitted, and the rendered table is checked; phone and
//! desktop screenshots are saved under `target/tmp/feed-server-browser/`.
//!
//! Skipped, with a message, when no Chromium is installed (`PALISADE_CHROMIUM` names one).

use crate::*;
use std::time::Duration;

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

async fn run_chromium(bin: &Path, profile: &Path, args: &[String]) -> String {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args([
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
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("chromium did not finish within 90 s")
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// IDs of the table rows in a DOM dump.
fn rows(dom: &str) -> Vec<String> {
    dom.match_indices("<tr class=\"cve\" id=\"")
        .map(|(i, m)| {
            let rest = &dom[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The GET query a browser sends for the filter form: its named fields in document order.
fn form_query(dom: &str, values: &[(&str, &str)]) -> String {
    let form = &dom[dom.find("<form").expect("no form")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("method=\"get\""), "{form}");
    let mut names: Vec<(usize, &str)> = Vec::new();
    for (i, _) in form.match_indices(" name=\"") {
        let rest = &form[i + 7..];
        names.push((i, &rest[..rest.find('"').unwrap()]));
    }
    names
        .iter()
        .map(|(_, n)| {
            let v = values.iter().find(|(k, _)| k == n).map_or("", |(_, v)| *v);
            format!("{n}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_in_headless_chromium() {
    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED page_in_headless_chromium: no Chromium found (install Debian's `chromium`, or set PALISADE_CHROMIUM)"
        );
        return;
    };
    let h = start(true).await;
    assert_eq!(
        h.post("issues", "b-1", labeled_payload(), None)
            .await
            .status(),
        200
    );
    let profile = tempfile::tempdir().unwrap();
    let art = Path::new(env!("CARGO_TARGET_TMPDIR")).join("feed-server-browser");
    std::fs::create_dir_all(&art).unwrap();

    let all = run_chromium(
        &bin,
        profile.path(),
        &["--dump-dom".into(), format!("{}/", h.base)],
    )
    .await;
    let feed = h.feed().await;
    assert_eq!(rows(&all), ids(&feed), "every CVE, newest first");
    assert_eq!(rows(&all)[0], NEW_CVE);

    // Kubernetes 1.27.1 on any component, submitted through the form's fields.
    let query = form_query(&all, &[("version", "1.27.1")]);
    assert_eq!(query, "version=1.27.1&component=");
    let url = format!("{}/?{query}", h.base);
    let filtered = run_chromium(&bin, profile.path(), &["--dump-dom".into(), url.clone()]).await;
    let shown = rows(&filtered);
    let json: palisade_feed::feed::JsonFeed = serde_json::from_value(feed.clone()).unwrap();
    let target = palisade_feed::matcher::Target {
        label: "t".into(),
        component: None,
        version: palisade_feed::matcher::cluster_version("1.27.1").unwrap(),
    };
    let expected: Vec<String> = json
        .items
        .iter()
        .filter(|i| {
            palisade_feed::matcher::affected(&json, &target)
                .iter()
                .any(|m| m.id == i.id)
        })
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(shown, expected);
    assert!(
        !shown.is_empty() && shown.len() < ids(&feed).len(),
        "{shown:?}"
    );
    // CVE-2023-2431 (seccomp bypass) is fixed in 1.27.2; 2018's CVEs do not reach 1.27.
    assert!(shown.contains(&"CVE-2023-2431".to_owned()), "{shown:?}");
    assert!(!shown.contains(&"CVE-2018-1002105".to_owned()), "{shown:?}");
    assert!(filtered.contains(&format!(
        "{} of {} CVEs affect Kubernetes 1.27.1",
        shown.len(),
        ids(&feed).len()
    )));
    // The form keeps the value it was submitted with.
    assert!(filtered.contains("value=\"1.27.1\""));

    // Filter plus component.
    let q = form_query(&all, &[("version", "1.27.1"), ("component", "kubelet")]);
    let kubelet = rows(
        &run_chromium(
            &bin,
            profile.path(),
            &["--dump-dom".into(), format!("{}/?{q}", h.base)],
        )
        .await,
    );
    assert!(kubelet.iter().all(|id| shown.contains(id)), "{kubelet:?}");
    assert!(kubelet.contains(&"CVE-2023-2431".to_owned()));

    for (name, size) in [
        ("page-phone.png", "412,915"),
        ("page-desktop.png", "1280,900"),
    ] {
        let p = art.join(name);
        let _ = std::fs::remove_file(&p);
        run_chromium(
            &bin,
            profile.path(),
            &[
                format!("--screenshot={}", p.display()),
                format!("--window-size={size}"),
                url.clone(),
            ],
        )
        .await;
        let png = std::fs::read(&p).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name}: {} bytes",
            png.len()
        );
        eprintln!("screenshot: {}", p.display());
    }
    h.server.shutdown().await.unwrap();
}
