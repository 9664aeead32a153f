//! `palisade audit` through the real binary: the interface (`palisade audit PATH...`
//! with no subcommand word), exit codes 0/1/2, the JSON alert contract, stdin, bad lines
//! with line numbers, user rules files, priorities.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const TRACES: &str = "testdata/audit/falco-k8s-audit-traces";

fn audit() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root()).arg("audit");
    cmd
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn alerts_as_json_lines_exit_1() {
    let out = audit()
        .args([
            "--format",
            "json",
            &format!("{TRACES}/create_nginx_pod_privileged.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let alerts = json_lines(&out.stdout);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a["rule"], "Create Privileged Pod");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["source"], "k8s_audit");
    assert_eq!(a["time"], "2018-10-25T14:09:12.581541000Z");
    assert_eq!(a["line"], 1);
    assert!(
        a["output"]
            .as_str()
            .unwrap()
            .starts_with("14:09:12.581541000: Warning Pod started with privileged container")
    );
    assert_eq!(a["output_fields"]["ka.req.pod.containers.image"], "(nginx)");
    assert_eq!(a["audit_id"], "a362d22b-db3c-4590-9505-23782f12925f");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 alerts"));
}

#[test]
fn scan_subcommand_and_no_alerts_exit_0() {
    audit()
        .args([
            "scan",
            "-q",
            &format!("{TRACES}/create_nginx_pod_unprivileged.json"),
        ])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn stdin_and_bad_lines_exit_2_with_line_numbers() {
    let good = std::fs::read_to_string(root().join(TRACES).join("exec_pod.json")).unwrap();
    let input = format!("not json\n{}\n{{\"kind\": 0}}\n", good.trim());
    let out = audit()
        .args(["--format", "json", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let alerts = json_lines(&out.stdout);
    assert_eq!(
        alerts.len(),
        1,
        "the good line in the middle is still processed"
    );
    assert_eq!(alerts[0]["rule"], "Attach/Exec Pod");
    assert_eq!(alerts[0]["file"], "<stdin>");
    assert_eq!(alerts[0]["line"], 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:1: invalid JSON"), "{err}");
    assert!(
        err.contains("<stdin>:3: data not recognized as a k8s audit event"),
        "{err}"
    );
    assert!(err.contains("2 bad lines"), "{err}");
}

#[test]
fn user_rules_file_and_no_default_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("mine.yaml");
    std::fs::write(
        &rules,
        "- rule: Namespace by anyone\n  desc: d\n  condition: ka.target.resource=namespaces and ka.verb=create\n  output: ns %ka.target.name by %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n",
    )
    .unwrap();
    let out = audit()
        .args([
            "--no-default-rules",
            "--rules",
            rules.to_str().unwrap(),
            "--format",
            "json",
            "-q",
        ])
        .arg(format!("{TRACES}/some-user_creates_namespace_foo.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let alerts = json_lines(&out.stdout);
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0]["output"]
            .as_str()
            .unwrap()
            .ends_with("Notice ns foo by some-user")
    );
    // No rules at all is an error.
    audit()
        .args(["--no-default-rules", "-q"])
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn broken_rules_file_names_rule_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bad.yaml");
    std::fs::write(
        &rules,
        "- rule: Bad\n  desc: d\n  condition: ka.verb in (a, b\n  output: o\n  priority: INFO\n",
    )
    .unwrap();
    let out = audit()
        .args(["--rules", rules.to_str().unwrap(), "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule 'Bad'") && err.contains("bad.yaml:1") && err.contains("byte 16"),
        "{err}"
    );
}

#[test]
fn min_priority_filters() {
    let f = format!("{TRACES}/some-user_creates_namespace_foo.json");
    let out = audit()
        .args(["--format", "json", "-q", "--min-priority", "warning", &f])
        .output()
        .unwrap();
    let rules: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        rules,
        ["Disallowed K8s User", "Create Disallowed Namespace"]
    );
    audit()
        .args(["--min-priority", "loud", &f])
        .assert()
        .code(2);
}

#[test]
fn text_format_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("alerts.txt");
    audit()
        .args([
            "-q",
            "-o",
            o.to_str().unwrap(),
            &format!("{TRACES}/attach_cluster_admin_role.json"),
        ])
        .assert()
        .code(1)
        .stdout("");
    let text = std::fs::read_to_string(&o).unwrap();
    assert!(
        text.contains(
            "Warning [Attach to cluster-admin Role] Cluster Role Binding to cluster-admin role"
        ),
        "{text}"
    );
    assert!(text.contains("attach_cluster_admin_role.json:1)"));
}

#[test]
fn rules_subcommand_lists_builtin_rules() {
    let out = audit().args(["rules", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rules = json_lines(&out.stdout);
    assert!(rules.len() > 48);
    assert!(
        rules
            .iter()
            .any(|r| r["rule"] == "Impersonation of Privileged Identity")
    );
}

/// A loopback HTTP/1.1 receiver on std only: answers 200 to every POST and hands the
/// bodies to the returned channel.
fn http_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    tx.send(String::from_utf8(body).unwrap()).unwrap();
                    w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .unwrap();
                }
            });
        }
    });
    (url, rx)
}

#[test]
fn forward_posts_falco_json_alerts() {
    let (url, rx) = http_receiver();
    let out = audit()
        .args([
            "--forward",
            &url,
            "--format",
            "json",
            &format!("{TRACES}/create_nginx_pod_privileged.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let got = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let v: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["rule"], "Create Privileged Pod");
    assert_eq!(v["source"], "k8s_audit");
    assert!(String::from_utf8_lossy(&out.stderr).contains("forwarded 1 alerts, 0 dropped"));
}

#[test]
fn forward_refuses_plain_http_to_remote_hosts() {
    let out = audit()
        .args([
            "--forward",
            "http://alerts.example.com/",
            &format!("{TRACES}/create_nginx_pod_privileged.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unencrypted") && err.contains("https://"),
        "{err}"
    );
}
