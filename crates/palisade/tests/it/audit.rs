//! `palisade audit` through the real binary: the interface (`palisade audit PATH...`
//! with no subcommand word), exit codes 0/1/2, the JSON alert contract, stdin, bad lines
//! with line numbers, user rules files, priorities.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;

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

/// `audit rules` writes its list to `--output FILE` as to stdout, in both formats (`-f`/`-o`
/// as on every command); a rules file that does not compile leaves no file behind.
#[test]
fn rules_subcommand_writes_output_file() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json"] {
        let to_stdout = audit().args(["rules", "-f", format]).output().unwrap();
        assert_eq!(to_stdout.status.code(), Some(0));
        assert!(!to_stdout.stdout.is_empty());
        let file = dir.path().join(format!("rules.{format}"));
        let out = audit()
            .args(["rules", "-f", format, "-o", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{format}: stdout not empty");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            to_stdout.stdout,
            "{format}: the file differs from standard output"
        );
    }
    let rules = json_lines(&std::fs::read(dir.path().join("rules.json")).unwrap());
    assert!(
        rules
            .iter()
            .all(|r| r["rule"].is_string() && r["priority"].is_string())
    );
    // --json (hidden, kept) with --output.
    let old = dir.path().join("old.json");
    audit()
        .args(["rules", "--json", "--output", old.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(json_lines(&std::fs::read(&old).unwrap()), rules);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "- rule: r\n  condition: (ka.verb=\n").unwrap();
    let never = dir.path().join("never.txt");
    let out = audit()
        .args(["rules", "--rules", bad.to_str().unwrap(), "-o"])
        .arg(&never)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !never.exists(),
        "an output file was created for a failed run"
    );
    // A directory that does not exist: the error names the file.
    let out = audit()
        .args(["rules", "-o", "/nonexistent-dir/rules.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/rules.txt"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `-f` is `--format` on the scan as on every command.
#[test]
fn scan_takes_short_format_flag() {
    let out = audit()
        .args([
            "-q",
            "-f",
            "json",
            &format!("{TRACES}/attach_cluster_admin_role.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let alerts = json_lines(&out.stdout);
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|a| a["rule"].is_string()));
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

// ---- `palisade audit serve` as a process: signals, a failing output, metrics ----

mod serve {
    use super::root;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    fn certs(dir: &Path) -> (PathBuf, PathBuf, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (c, k) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k, cert.pem())
    }

    fn batch(n: usize) -> String {
        let trace = std::fs::read_to_string(
            root().join("testdata/audit/falco-k8s-audit-traces/create_nginx_pod_privileged.json"),
        )
        .unwrap();
        let ev: serde_json::Value = serde_json::from_str(trace.trim()).unwrap();
        serde_json::json!({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items": vec![ev; n]})
            .to_string()
    }

    /// The server process, its stderr collected by a thread, its addresses from the log.
    struct Server {
        child: Child,
        webhook: SocketAddr,
        metrics: SocketAddr,
        ca: String,
        log: Arc<Mutex<Vec<String>>>,
        reader: Option<std::thread::JoinHandle<()>>,
        _dir: tempfile::TempDir,
    }

    fn start(extra: &[&str], stdout: Stdio) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, ca) = certs(dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["audit", "serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0", "--cert"])
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let l2 = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split_once("audit webhook on https://") {
                    let webhook = rest.1.split_whitespace().next().unwrap().to_string();
                    let metrics = line.split_once("metrics on http://").unwrap().1;
                    let metrics = metrics.trim_end_matches("/metrics").to_string();
                    let _ = tx.send((webhook, metrics));
                }
                l2.lock().unwrap().push(line);
            }
        });
        let (webhook, metrics) = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no listening line: {:?}", log.lock().unwrap()));
        Server {
            child,
            webhook: webhook.parse().unwrap(),
            metrics: metrics.parse().unwrap(),
            ca,
            log,
            reader: Some(reader),
            _dir: dir,
        }
    }

    impl Server {
        /// One HTTPS POST of `body` to `/`; the status code.
        fn post(&self, body: &str) -> u16 {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let mut roots = rustls::RootCertStore::empty();
            use rustls::pki_types::pem::PemObject;
            roots
                .add(rustls::pki_types::CertificateDer::from_pem_slice(self.ca.as_bytes()).unwrap())
                .unwrap();
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            let tcp = TcpStream::connect(self.webhook).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            write!(
                tls,
                "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut out = Vec::new();
            let _ = tls.read_to_end(&mut out);
            let text = String::from_utf8_lossy(&out);
            text.get(9..12)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
        }

        fn metric(&self, name: &str) -> f64 {
            let mut s = TcpStream::connect(self.metrics).unwrap();
            write!(
                s,
                "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .unwrap_or_else(|| panic!("{name} not in {text}"))
                .parse()
                .unwrap()
        }

        /// Waits for the process to exit and its stderr to be read to the end; the log.
        fn exit(&mut self) -> (std::process::ExitStatus, String) {
            let status = self.child.wait().unwrap();
            if let Some(r) = self.reader.take() {
                r.join().unwrap();
            }
            (status, self.log.lock().unwrap().join("\n"))
        }

        fn term(&self) {
            let ok = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }

        fn wait_log(&self, needle: &str) {
            let start = Instant::now();
            while !self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no '{needle}' in {:?}",
                    self.log.lock().unwrap()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// A certificate that cannot be served stops the start with the file named (exit 2).
    #[test]
    fn bad_certificate_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.crt");
        std::fs::write(&bad, "not a certificate\n").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["audit", "serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0", "--cert"])
            .arg(&bad)
            .arg("--key")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.crt: no certificate found"), "{err}");
    }

    /// Issue #14 item 3: 420 events are acknowledged while stdout is not being read (the
    /// pipe fills and the output blocks), then SIGTERM: every one is evaluated and its
    /// alert written before the process exits 0.
    #[test]
    fn sigterm_drains_every_acknowledged_event() {
        let mut s = start(&[], Stdio::piped());
        let body = batch(20);
        for _ in 0..21 {
            assert_eq!(s.post(&body), 200);
        }
        s.term();
        let mut stdout = String::new();
        s.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let (status, log) = s.exit();
        assert!(status.success(), "{status:?}\n{log}");
        let alerts = stdout
            .lines()
            .filter(|l| l.contains("\"rule\":\"Create Privileged Pod\""))
            .count();
        assert_eq!(alerts, 420, "{log}");
        assert!(log.contains("queue drained"), "{log}");
    }

    /// Issue #14 item 4: with `-o /dev/full` the failure is logged and counted, further
    /// batches are refused with 503 instead of acknowledged, and at shutdown the events
    /// that could not be written are logged with their count (exit 1).
    #[cfg(target_os = "linux")]
    #[test]
    fn failing_output_is_logged_counted_and_refuses_batches() {
        let mut s = start(
            &["-o", "/dev/full", "--shutdown-timeout", "1s"],
            Stdio::null(),
        );
        let body = batch(3);
        assert_eq!(s.post(&body), 200);
        s.wait_log("alert output failing");
        assert_eq!(s.post(&body), 503);
        assert!(s.metric("palisade_audit_sink_errors_total") >= 3.0);
        assert_eq!(s.metric("palisade_audit_sink_up"), 0.0);
        assert_eq!(
            s.metric("palisade_audit_rejected_batches_total{reason=\"output_failing\"}"),
            1.0
        );
        s.term();
        let (status, log) = s.exit();
        assert_eq!(status.code(), Some(1), "{log}");
        assert!(
            log.contains("3 acknowledged events were not evaluated or their alerts not written"),
            "{log}"
        );
    }
}

#[test]
fn deploy_audit_manifests_scan_clean_at_restricted() {
    Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .args(["scan", "--pss-level", "restricted", "deploy/audit/"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("0 findings"));
}

/// deploy/audit holds together: the container's flags parse as `audit serve` takes them,
/// the drain ends before the kubelet's SIGKILL, probes and the metrics port are the ones
/// the server serves, and the NetworkPolicy opens the metrics port to Prometheus only.
#[test]
fn deploy_audit_is_consistent() {
    let load = |file: &str| {
        let path = root().join("deploy/audit").join(file);
        let loaded = palisade_yaml::load_paths(&[&path], &palisade_yaml::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded
            .documents
            .into_iter()
            .map(|d| d.value)
            .collect::<Vec<Value>>()
    };
    let d = &load("40-deployment.yaml")[0];
    let pod = &d["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&args[..2], ["audit", "serve"]);
    let flag = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name} not in {args:?}"))
    };
    // The flags are ones `audit serve` accepts (a typo would crash-loop the pod).
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drain: u64 = flag("shutdown-timeout")
        .strip_suffix('s')
        .unwrap()
        .parse()
        .unwrap();
    assert!(drain < pod["terminationGracePeriodSeconds"].as_u64().unwrap());
    assert!(flag("metrics-listen").ends_with(":9464"));
    assert!(flag("listen").ends_with(":8443"));
    // The webhook port requires client certificates, which the kubelet lacks: probes go to
    // the metrics port, which serves /readyz and /healthz over plain HTTP.
    assert_eq!(flag("client-ca"), "/etc/palisade/pki/ca.crt");
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        assert_eq!(c[probe]["httpGet"]["path"], path);
        assert_eq!(c[probe]["httpGet"]["port"], "metrics");
        assert_eq!(c[probe]["httpGet"]["scheme"], "HTTP");
    }
    assert!(
        c["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "metrics" && p["containerPort"] == 9464)
    );
    let policy = &load("15-networkpolicy.yaml")[1]["spec"];
    assert_eq!(policy["egress"], serde_json::json!([]));
    let ingress = policy["ingress"].as_array().unwrap();
    let metrics_rule = ingress
        .iter()
        .find(|r| r["ports"][0]["port"] == 9464)
        .unwrap();
    assert_eq!(
        metrics_rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "prometheus"
    );
    // The API server's kubeconfig names the path the server serves and the TLS name in
    // the certificate gen-certs.sh makes.
    let kc = &load("apiserver/audit-webhook-kubeconfig.yaml")[0];
    let cluster = &kc["clusters"][0]["cluster"];
    assert!(
        cluster["server"]
            .as_str()
            .unwrap()
            .ends_with(":443/k8s-audit")
    );
    assert_eq!(
        cluster["tls-server-name"],
        "palisade-audit.palisade-audit.svc"
    );
}
