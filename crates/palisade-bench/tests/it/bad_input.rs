//! Bad input: a malformed cfg file is an error naming file and line; an unknown op, an
//! unknown bin_op, a missing file or component are per-check verdicts, never a crash.

use super::fixtures::Fixture;
use palisade_bench::BenchError;
use palisade_bench::config::CfgTree;
use palisade_bench::node::Node;
use palisade_bench::run::{self, Options, State};
use std::path::Path;

fn tree(dir: &Path, bench: &str, master: &str) -> CfgTree {
    let cfg = dir.join("cfg");
    std::fs::create_dir_all(cfg.join(bench)).unwrap();
    std::fs::copy(
        super::testdata().join("cfg/config.yaml"),
        cfg.join("config.yaml"),
    )
    .unwrap();
    std::fs::write(
        cfg.join(bench).join("config.yaml"),
        format!("target_mapping:\n  \"{bench}\":\n    - \"master\"\n"),
    )
    .unwrap();
    std::fs::write(cfg.join(bench).join("master.yaml"), master).unwrap();
    CfgTree::Dir(cfg)
}

const MASTER: &str = r#"---
controls:
version: "test"
id: 1
text: "Test"
type: "master"
groups:
  - id: 1.1
    text: "Group"
    checks:
      - id: 1.1.1
        text: "unknown op"
        audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
        tests:
          test_items:
            - flag: "--profiling"
              compare:
                op: noteqx
                value: true
        scored: true
      - id: 1.1.2
        text: "unknown bin_op"
        audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
        tests:
          bin_op: xor
          test_items:
            - flag: "--profiling"
        scored: true
      - id: 1.1.3
        text: "missing file"
        audit: "/bin/sh -c 'if test -e /nope/x.yaml; then stat -c permissions=%a /nope/x.yaml; fi'"
        tests:
          test_items:
            - flag: "permissions"
              compare:
                op: bitmask
                value: 600
        scored: true
      - id: 1.1.4
        text: "unreadable config file"
        audit: "/bin/cat /nope/config.yaml"
        tests:
          test_items:
            - path: "{.a}"
        scored: false
      - id: 1.1.5
        text: "flag with a regex metacharacter"
        audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
        tests:
          test_items:
            - flag: "--x(["
        scored: true
      - id: 1.1.6
        text: "needs the API"
        audit: "kubectl get pods -A"
        tests:
          test_items:
            - flag: "x"
        scored: true
      - id: 1.1.7
        text: "a file that cannot be read (a directory)"
        audit: "/bin/cat /etc/kubernetes"
        tests:
          test_items:
            - path: "{.a}"
        scored: false
      - id: 1.1.8
        text: "a certificate that cannot be read"
        audit: "openssl x509 -in /etc/kubernetes/pki/ca.crt -subject -noout"
        tests:
          test_items:
            - flag: "subject"
        scored: false
"#;

fn options(cfg: CfgTree) -> Options {
    let mut o = Options::new(cfg);
    o.benchmark = Some("mybench".into());
    o.targets = Some(vec!["master".into()]);
    o
}

#[test]
fn per_check_problems_are_verdicts_not_crashes() {
    let f = Fixture::control_plane(true);
    let tmp = tempfile::TempDir::new().unwrap();
    let cfg = tree(tmp.path(), "mybench", MASTER);
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    let report = run::run(&options(cfg), &node).unwrap();
    let checks: Vec<_> = report.controls[0].groups[0].checks.iter().collect();
    let by = |id: &str| checks.iter().find(|c| c.id == id).unwrap();
    // kube-bench: an unknown op is false with an empty expected text.
    assert_eq!(by("1.1.1").status, State::FAIL);
    assert_eq!(by("1.1.2").status, State::FAIL);
    assert!(
        by("1.1.2")
            .reason
            .contains("unknown binary operator for tests xor")
    );
    // `if test -e` is false: empty output, the item is not found.
    assert_eq!(by("1.1.3").status, State::FAIL);
    assert_eq!(by("1.1.3").actual_value, "");
    let c4 = by("1.1.4");
    assert_eq!(c4.status, State::WARN);
    assert!(
        c4.reason.contains("No such file or directory"),
        "{}",
        c4.reason
    );
    assert!(
        c4.reason
            .starts_with("failed to run: \"/bin/cat /nope/config.yaml\""),
        "{}",
        c4.reason
    );
    assert_eq!(by("1.1.5").status, State::FAIL);
    let c6 = by("1.1.6");
    assert_eq!(
        c6.status,
        State::WARN,
        "not evaluated natively is WARN even when scored"
    );
    assert!(
        c6.reason.contains("not evaluated natively") && c6.reason.contains("kubectl get pods -A")
    );
    // Unreadable input: WARN (unscored) with the tool's message as kube-bench's reason.
    let c7 = by("1.1.7");
    assert_eq!(c7.status, State::WARN);
    assert!(
        c7.reason.contains("cat: /etc/kubernetes: Is a directory")
            && c7.reason.ends_with("error: exit status 1"),
        "{}",
        c7.reason
    );
    let c8 = by("1.1.8");
    assert_eq!(
        (c8.status, c8.evaluation),
        (State::WARN, run::Evaluation::Native)
    );
    assert!(
        c8.reason
            .contains("Could not read certificate from /etc/kubernetes/pki/ca.crt"),
        "{}",
        c8.reason
    );
}

#[test]
fn missing_component_runs_with_the_component_name() {
    // A worker has no kube-apiserver: $apiserverbin stays unsubstituted (kube-bench leaves the
    // bin map empty), grep finds nothing, the scored checks FAIL with the command's reason.
    let f = Fixture::worker(true);
    let tmp = tempfile::TempDir::new().unwrap();
    let cfg = tree(tmp.path(), "mybench", MASTER);
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    let report = run::run(&options(cfg), &node).unwrap();
    let c = &report.controls[0].groups[0].checks[1];
    assert_eq!(c.status, State::FAIL);
    assert!(c.reason.contains("exit status 1"), "{}", c.reason);
    assert!(
        report.controls[0]
            .components
            .iter()
            .all(|c| c.bin.is_none())
    );
}

#[test]
fn malformed_cfg_names_file_and_line() {
    let f = Fixture::worker(true);
    let tmp = tempfile::TempDir::new().unwrap();
    let cfg = tree(
        tmp.path(),
        "mybench",
        "controls:\nid: 1\ntype: master\ngroups:\n  - id: 1.1\n    checks: [\n",
    );
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    let err = run::run(&options(cfg), &node).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BenchError::Yaml { .. }), "{text}");
    assert!(text.contains("mybench/master.yaml:"), "{text}");

    let cfg = tree(
        tmp.path(),
        "mybench",
        "type: master\ngroups:\n  - id: 1\n    checks:\n      - id: 1\n        scored: maybe\n",
    );
    let err = run::run(&options(cfg), &node).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: field `scored`: cannot read \"maybe\" as a boolean",
            tmp.path().join("cfg/mybench/master.yaml:6").display()
        )
    );

    // A malformed config.yaml is named with its line too (where the unclosed flow
    // sequence is found to end).
    std::fs::write(
        tmp.path().join("cfg/config.yaml"),
        "master:\n  components: [apiserver\n",
    )
    .unwrap();
    let err = run::run(&options(CfgTree::Dir(tmp.path().join("cfg"))), &node).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}:",
            tmp.path().join("cfg/config.yaml").display()
        )),
        "{err}"
    );
    assert!(matches!(err, BenchError::Yaml { line: 3, .. }), "{err}");

    let cfg = tree(tmp.path(), "mybench", "type: node\ngroups: []\n");
    let err = run::run(&options(cfg), &node).unwrap_err();
    assert!(
        err.to_string().contains("non-master controls file"),
        "{err}"
    );
}

#[test]
fn unknown_benchmark_and_target_are_usage_errors() {
    let f = Fixture::worker(true);
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    let mut o = super::fixtures::options(&["node"]);
    o.benchmark = Some("cis-9.9".into());
    assert!(
        run::run(&o, &node)
            .unwrap_err()
            .to_string()
            .contains("no benchmark \"cis-9.9\"")
    );
    let o = super::fixtures::options(&["managedservices"]);
    assert!(
        run::run(&o, &node)
            .unwrap_err()
            .to_string()
            .contains("not valid for benchmark cis-1.12")
    );
}
