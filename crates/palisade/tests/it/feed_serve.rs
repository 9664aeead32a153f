//! `palisade feed serve` as a real process: SIGKILL in the middle of a burst of webhook
//! deliveries, then a restart; the flags and env var of the interface; the deploy/feed
//! manifests pass Palisade's own restricted scan.

use crate::root;
use palisade_feed_server::webhook;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &[u8] = b"burst-test-secret";

/// Starts the server; returns the child and the address it printed.
fn serve(data: &Path, secret_file: &Path, seed: bool) -> (Child, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args([
        "feed",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--resync-interval",
        "0",
        // The default 127.0.0.1:9091 would be shared by servers running at once.
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .arg("--data-dir")
    .arg(data)
    // The secret through the environment variable of the interface.
    .env("PALISADE_WEBHOOK_SECRET_FILE", secret_file)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if seed {
        cmd.arg("--input")
            .arg(root().join("testdata/cve-feed/github-pages-2023"));
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// One HTTP/1.1 request on its own connection: (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&resp[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, resp[split + 4..].to_vec()))
}

/// A signed `issues` `labeled` delivery announcing a new CVE, shaped like GitHub's.
fn delivery(n: u64) -> (String, Vec<u8>) {
    let template =
        std::fs::read(root().join("testdata/feed-server/issues-labeled.CVE-2023-3893.json"))
            .unwrap();
    let mut v: Value = serde_json::from_slice(&template).unwrap();
    let cve = format!("CVE-2099-{}", 10_000 + n);
    let number = 500_000 + n;
    let issue = &mut v["issue"];
    issue["number"] = number.into();
    issue["html_url"] = format!("https://github.com/kubernetes/kubernetes/issues/{number}").into();
    let title = issue["title"]
        .as_str()
        .unwrap()
        .replace("CVE-2023-3893", &cve);
    issue["title"] = title.into();
    (cve, serde_json::to_vec(&v).unwrap())
}

/// Every file parses; with `consistent`, they also agree with each other (after a SIGKILL
/// mid-rebuild they may come from two consecutive generations, each file whole).
fn check_outputs_parse(out: &Path, consistent: bool) -> Value {
    let feed: Value =
        serde_json::from_slice(&std::fs::read(out.join("official-cve-feed.json")).unwrap())
            .unwrap();
    for f in ["feed.xml", "atom.xml"] {
        feed_rs::parser::parse(&std::fs::read(out.join(f)).unwrap()[..])
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let mut n = 0;
    for e in std::fs::read_dir(out.join("osv")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') {
            let _: Value = serde_json::from_slice(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            n += 1;
        }
    }
    let zip = zip::ZipArchive::new(std::fs::File::open(out.join("osv/all.zip")).unwrap()).unwrap();
    if consistent {
        assert_eq!(zip.len(), n, "archive and records agree");
        assert_eq!(feed["items"].as_array().unwrap().len(), n);
    }
    feed
}

#[test]
fn sigkill_mid_burst_then_restart_keeps_every_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, [SECRET, b"\n"].concat()).unwrap();
    let (mut child, addr) = serve(&data, &secret, true);

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3u64)
        .map(|t| {
            let acked = acked.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for i in 0..400u64 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let (cve, body) = delivery(t * 1000 + i);
                    let headers = [
                        ("X-GitHub-Event", "issues".to_owned()),
                        ("X-GitHub-Delivery", format!("burst-{t}-{i}")),
                        ("X-Hub-Signature-256", webhook::sign(SECRET, &body)),
                        ("Content-Type", "application/json".to_owned()),
                    ];
                    match http(addr, "POST", "/webhooks/github", &headers, &body) {
                        Ok((200, _)) => acked.lock().unwrap().push(cve),
                        Ok((status, b)) => {
                            panic!("delivery {t}-{i}: {status} {}", String::from_utf8_lossy(&b))
                        }
                        // The server died under us: this one was never acknowledged.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    // Kill once a good part of the burst is acknowledged, with deliveries still in flight.
    while acked.lock().unwrap().len() < 25 {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 25);

    // On disk, every file is whole.
    check_outputs_parse(&data.join("out"), false);

    // Restarted without --input: every acknowledged delivery is served.
    let (mut child, addr) = serve(&data, &secret, false);
    let (status, body) = http(addr, "GET", "/feed.json", &[], b"").unwrap();
    assert_eq!(status, 200);
    let feed: Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    for cve in &acked {
        assert!(
            ids.contains(&cve.as_str()),
            "{cve} was acknowledged but is missing after restart"
        );
        let (status, _) = http(addr, "GET", &format!("/osv/{cve}.json"), &[], b"").unwrap();
        assert_eq!(status, 200, "{cve}");
    }
    assert!(ids.len() >= 43 + acked.len());
    let on_disk = check_outputs_parse(&data.join("out"), true);
    assert_eq!(on_disk, feed);
    // A redelivery of an acknowledged delivery is recognised after the restart.
    let (_, body) = delivery(0);
    let headers = [
        ("X-GitHub-Event", "issues".to_owned()),
        ("X-GitHub-Delivery", "burst-0-0".to_owned()),
        ("X-Hub-Signature-256", webhook::sign(SECRET, &body)),
    ];
    let (status, reply) = http(addr, "POST", "/webhooks/github", &headers, &body).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&reply).contains("duplicate"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_flags_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["feed", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("d"))
            .args(args)
            .env_remove("PALISADE_WEBHOOK_SECRET_FILE")
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--resync-interval", "5x"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--resync-interval") && err.contains("unknown unit"),
        "{err}"
    );
    let (code, err) = run(&["--resync-interval", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing would ever fill the feed"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let (code, err) = run(&["--webhook-secret-file", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("secret is empty"), "{err}");
    let (code, err) = run(&["--resync-interval", "0", "--input", "/nonexistent/pages"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/pages"), "{err}");
    let (code, err) = run(&["--repo", "not-a-repo", "--resync-interval", "1h"]);
    assert_eq!(code, 2);
    assert!(err.contains("--repo"), "{err}");
    let (code, err) = run(&["--public-url", "http://cve.example.org"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--public-url") && err.contains("only for a loopback host"),
        "{err}"
    );
    let (code, err) = run(&["--public-url", "ftp://cve.example.org"]);
    assert_eq!(code, 2);
    assert!(err.contains("scheme `ftp` is not https"), "{err}");
    let (code, err) = run(&["--cert-reload-interval", "5x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--cert-reload-interval"), "{err}");
    let (code, err) = run(&["--resync-interval", "1h", "--metrics-listen", "nowhere"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--metrics-listen") && err.contains("nowhere"),
        "{err}"
    );
    let (code, err) = run(&["--resync-interval", "1h", "--idle-timeout", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--idle-timeout: must be above 0"), "{err}");
}

#[test]
fn deploy_manifests_pass_the_restricted_scan() {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(root())
        .args([
            "scan",
            "--pss-level",
            "restricted",
            "--format",
            "json",
            "deploy/feed/",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(json["findings"].as_array().unwrap().len(), 0, "{json:#}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It read every object (a scan of nothing would also have no findings).
    assert_eq!(json["summary"]["objects"], 8, "{json:#}");
    assert_eq!(json["summary"]["errors"], 0, "{json:#}");
}
