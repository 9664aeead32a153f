//! What every command shares at the process edge: how errors are printed and how a closed
//! standard output ends the process.

use crate::root;
use assert_cmd::Command;
use std::io::Read;
use std::process::Stdio;

/// The binary run from the repository root, without a configuration from the environment.
fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .env_remove("PALISADE_CONFIG")
        .args(args)
        .output()
        .unwrap()
}

fn stderr_of(args: &[&str]) -> (i32, String) {
    let out = run(args);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_error_cause_is_printed_once() {
    let missing = "/nonexistent-palisade-input/feed.json";
    for args in [
        vec!["feed", "affected", "--feed", missing, "--version", "1.29.0"],
        vec![
            "feed",
            "build",
            "--input",
            missing,
            "--out",
            "/nonexistent-palisade-out",
        ],
    ] {
        let (code, err) = stderr_of(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(missing), "{args:?}: {err}");
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // Far more output than a pipe buffer holds, so the writes after the reader has gone fail.
    for format in ["table", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("palisade"))
            .current_dir(root())
            .args([
                "scan",
                "--format",
                format,
                "--color",
                "never",
                "testdata/corpus",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line's worth, then hang up, as `palisade scan DIR | head -1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(err.is_empty(), "{format}: stderr: {err}");
        assert_eq!(status.code(), Some(0), "{format}: {err}");
    }
}

#[test]
fn rules_offers_only_its_own_formats() {
    let (code, err) = stderr_of(&["rules", "--format", "yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("table") && err.contains("json") && err.contains("markdown"),
        "{err}"
    );
    assert!(!err.contains("sarif") && !err.contains("junit"), "{err}");
    let (code, err) = stderr_of(&["rules", "--format", "sarif"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("markdown"), "{err}");
}

/// On a real 80-column terminal (a pseudo-terminal from util-linux `script`, with `COLUMNS`
/// unset as a shell leaves it), every line of the table fits: the width is read from the
/// terminal, not assumed.
#[test]
fn the_table_fits_the_terminal() {
    let bin = assert_cmd::cargo::cargo_bin("palisade");
    let out = std::process::Command::new("script")
        .current_dir(root())
        .env_remove("COLUMNS")
        .args([
            "-qec",
            &format!(
                "stty cols 80 rows 40; '{}' scan --color never examples/",
                bin.display()
            ),
            "/dev/null",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` (Debian bsdutils, an essential package)");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(text.contains("findings"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 20, "{text}");
    for line in lines {
        assert!(
            line.chars().count() <= 80 || line.split_whitespace().count() <= 1,
            "wider than the terminal: {line:?}\n{text}"
        );
    }
}

fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_reports_build_and_catalog_facts() {
    let v: serde_json::Value =
        serde_json::from_str(&stdout_of(&["version", "-f", "json"])).unwrap();
    let rules: serde_json::Value =
        serde_json::from_str(&stdout_of(&["rules", "--format", "json"])).unwrap();
    let listed = rules
        .as_array()
        .or_else(|| rules["rules"].as_array())
        .unwrap()
        .len();
    assert_eq!(v["rules"], listed, "{v}");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let commit = v["commit"].as_str().unwrap();
    assert!(!commit.is_empty(), "{v}");
    let date = v["build_date"].as_str().unwrap();
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-', "{v}");
    let pss = v["pss_newest_version"].as_str().unwrap();
    assert!(
        pss.starts_with("v1.") && pss[3..].parse::<u32>().unwrap() >= 30,
        "{v}"
    );
    assert!(v["audit_rules"].as_u64().unwrap() > 50, "{v}");
    let line = stdout_of(&["--version"]);
    assert!(
        line.starts_with("palisade ") && line.contains(commit),
        "{line}"
    );
    let table = stdout_of(&["version"]);
    assert!(table.contains(&format!("{} rules", listed)), "{table}");
}

#[test]
fn completions_are_generated_from_the_real_flags() {
    let bash = stdout_of(&["completions", "bash"]);
    for word in ["scan", "feed", "--pss-level", "--max-file-size", "who-can"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("palisade.bash");
    std::fs::write(&script, &bash).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef palisade"), "{}", &zsh[..40]);
    assert!(zsh.contains("--pss-level"));
    let fish = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c palisade") && fish.contains("pss-level"));
    let (code, err) = stderr_of(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn man_pages_cover_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH palisade 1"), "{}", &page[..200]);
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "palisade.1",
        "palisade-scan.1",
        "palisade-feed-serve.1",
        "palisade-rbac-who-can.1",
        "palisade-audit-serve.1",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    let scan = std::fs::read_to_string(dir.path().join("palisade-scan.1")).unwrap();
    assert!(scan.contains("pss\\-level"), "{scan}");
}

/// Installed as `kubectl-palisade` on PATH, the binary is a kubectl plugin: it works the same
/// and its usage names `kubectl palisade`.
#[test]
fn works_as_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-palisade");
    std::fs::copy(assert_cmd::cargo::cargo_bin("palisade"), &plugin).unwrap();
    let out = std::process::Command::new(&plugin)
        .current_dir(root())
        .args(["scan", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("Usage: kubectl palisade scan"), "{help}");
    let out = std::process::Command::new(&plugin)
        .current_dir(root())
        .args([
            "scan",
            "--format",
            "json",
            "examples/privileged-daemonset.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["findings"].as_array().unwrap().is_empty());
}

/// SARIF "Learn more" links and JUnit help links go to the rule's page in the repository's
/// docs (a page that exists), never to a placeholder host.
#[test]
fn help_links_point_at_existing_rule_pages() {
    let out = run(&["scan", "--format", "sarif", "--select", "all", "examples/"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("example.invalid"),
        "placeholder URL in SARIF"
    );
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    assert!(rules.len() > 10);
    for r in rules {
        let id = r["id"].as_str().unwrap();
        let uri = r["helpUri"].as_str().unwrap();
        assert!(
            uri.ends_with(&format!("/docs/rules/{id}.md")),
            "{id}: {uri}"
        );
        assert!(root().join(format!("docs/rules/{id}.md")).is_file(), "{id}");
    }
    let junit = String::from_utf8(run(&["scan", "--format", "junit", "examples/"]).stdout).unwrap();
    assert!(!junit.contains("example.invalid"));
    assert!(junit.contains("/docs/rules/PSS007.md"), "{junit}");
}

fn scan_out(args: &[&str]) -> (i32, String) {
    let out = run(&[&["scan"], args].concat());
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Adoption in CI: --severity filters what is reported, --fail-on never / --exit-zero report
/// without failing, and input errors still exit 2 whatever is set.
#[test]
fn severity_filter_and_non_failing_modes() {
    let (code, out) = scan_out(&["-f", "json", "--severity", "high,critical", "examples/"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sev: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(
        !sev.is_empty() && sev.iter().all(|s| *s == "high" || *s == "critical"),
        "{sev:?}"
    );
    assert_eq!(v["summary"]["by_severity"]["low"], 0);
    // Only critical findings reported: a high one can no longer fail a --fail-on high scan.
    let (code, out) = scan_out(&[
        "-f",
        "json",
        "--severity",
        "info",
        "--fail-on",
        "low",
        "examples/good-deployment.yaml",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info")
    );
    assert_eq!(code, 0, "{out}");

    for flags in [vec!["--fail-on", "never"], vec!["--exit-zero"]] {
        let mut args = vec!["-f", "json"];
        args.extend(&flags);
        args.push("examples/privileged-daemonset.yaml");
        let (code, out) = scan_out(&args);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(code, 0, "{flags:?}");
        assert!(!v["findings"].as_array().unwrap().is_empty());
        assert_eq!(v["summary"]["fail_on"], "never");
        assert_eq!(v["summary"]["failed"], false);
        args.pop();
        args.push("docs/examples/broken.yaml");
        let (code, _) = scan_out(&args);
        assert_eq!(code, 2, "{flags:?}: input errors still exit 2");
    }
    let (code, _) = scan_out(&["--fail-on", "sometimes", "examples/"]);
    assert_eq!(code, 2);
}

#[test]
fn quiet_prints_findings_and_errors_only() {
    let (code, out) = scan_out(&["--quiet", "--color", "never", "examples/"]);
    assert_eq!(code, 1);
    assert!(out.contains("PSS007"), "{out}");
    assert!(
        !out.contains("findings (") && !out.contains("Notes ("),
        "{out}"
    );
    let (code, out) = scan_out(&[
        "-q",
        "--select",
        "pss",
        "--pss-level",
        "baseline",
        "examples/good-deployment.yaml",
    ]);
    assert_eq!(code, 0);
    assert!(out.is_empty(), "a clean quiet scan prints nothing: {out:?}");
    let (code, out) = scan_out(&["-q", "--select", "pss", "docs/examples/broken.yaml"]);
    assert_eq!(code, 2);
    assert!(out.contains("did not find expected key"), "{out}");
}

#[test]
fn scan_help_names_every_default_family() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["scan", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("families pss, hardening, rbac and netpol"),
        "{help}"
    );
    assert!(flat.contains("never"), "--fail-on never is documented");
}

/// `--listen` takes `localhost:PORT` and `:PORT` on all three servers (they were usage errors):
/// each gets past argument parsing to its own start-up error (a missing certificate).
#[test]
fn servers_accept_host_names_and_bare_ports() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("missing.crt");
    let key = dir.path().join("missing.key");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let data = dir.path().join("data");
    let objects = dir.path().join("ns.yaml");
    std::fs::write(
        &objects,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
    )
    .unwrap();
    let objects = objects.to_str().unwrap();
    for listen in ["localhost:0", ":0"] {
        for args in [
            vec![
                "admit",
                "--listen",
                listen,
                "--cert",
                cert,
                "--key",
                key,
                "--objects",
                objects,
            ],
            vec![
                "audit", "serve", "--listen", listen, "--cert", cert, "--key", key,
            ],
            vec![
                "feed",
                "serve",
                "--listen",
                listen,
                "--data-dir",
                data.to_str().unwrap(),
                "--cert",
                cert,
                "--key",
                key,
            ],
        ] {
            let (code, err) = stderr_of(&args);
            assert_ne!(code, 0, "{args:?}");
            assert!(!err.contains("invalid value"), "{args:?}: {err}");
            assert!(
                err.contains("missing.crt") || err.contains("missing.key"),
                "{args:?}: {err}"
            );
        }
    }
    let (code, err) = stderr_of(&["admit", "--listen", "8443", "--cert", cert, "--key", key]);
    assert_eq!(code, 2);
    assert!(err.contains("HOST:PORT"), "{err}");
}

/// `feed serve`'s log is plain text when stderr is not a terminal (ANSI colour codes were
/// written into redirected logs).
#[test]
fn feed_serve_logs_have_no_colour_codes_when_redirected() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("palisade"))
        .current_dir(root())
        .env_remove("NO_COLOR")
        .args([
            "feed",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        // A feed file is not GitHub issues: every item gets a warning line at start-up.
        .args([
            "--input",
            "testdata/cve-feed/official-cve-feed.2023-07-01.json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("WARN"), "{first}");
    assert!(
        !first.contains('\u{1b}'),
        "colour codes in a redirected log: {first:?}"
    );
}

/// `palisade audit` with no file on a terminal says it reads standard input instead of
/// waiting silently (run in a pseudo-terminal from util-linux `script`).
#[test]
fn audit_without_files_on_a_terminal_says_it_reads_stdin() {
    use std::io::BufRead;
    let bin = assert_cmd::cargo::cargo_bin("palisade");
    let mut child = std::process::Command::new("script")
        .current_dir(root())
        .args(["-qec", &format!("'{}' audit", bin.display()), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script`");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains("reading audit events") && first.contains("standard input"),
        "{first:?}"
    );
}

/// `audit rules` takes `--format json` like every other command (`--json` still works).
#[test]
fn audit_rules_take_format() {
    let out = run(&["audit", "rules", "--format", "json"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(first["rule"].is_string() && first["priority"].is_string());
    let old = run(&["audit", "rules", "--json"]);
    assert_eq!(String::from_utf8(old.stdout).unwrap(), text);
}

/// The README's exit-status table: every command it names has a row, and one case of each
/// cell that can be run without a server exits as the table says.
#[test]
fn exit_status_table_holds() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = readme.split("## Exit status").nth(1).unwrap();
    for cmd in [
        "`scan`",
        "`rules`",
        "`rbac can SUBJECT VERB RESOURCE`",
        "`netpol can-reach`",
        "`netpol report`",
        "`cvss`",
        "`audit`",
        "`audit serve`",
        "`admit`",
        "`version`",
    ] {
        assert!(table.contains(&format!("| {cmd}")), "no row for {cmd}");
    }
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let rbac = "testdata/rbac/edge-cases/who-can.yaml";
    let netpol = "testdata/netpol/edge-cases/policies.yaml";
    let feed = "testdata/cve-feed/official-cve-feed.2023-07-01.json";
    let trace = "testdata/audit/falco-k8s-audit-traces/anonymous_creates_namespace_foo.json";
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "scan",
                "--select",
                "pss",
                "--pss-level",
                "baseline",
                "examples/good-deployment.yaml",
            ],
            0,
        ),
        (vec!["scan", "examples/privileged-daemonset.yaml"], 1),
        (vec!["scan", "docs/examples/broken.yaml"], 2),
        (
            vec![
                "scan",
                "--fail-on",
                "never",
                "examples/privileged-daemonset.yaml",
            ],
            0,
        ),
        (vec!["rules"], 0),
        (vec!["rules", "explain", "NOPE001"], 2),
        (vec!["rbac", "who-can", "get", "secrets", rbac], 0),
        (
            vec![
                "rbac",
                "can",
                "ServiceAccount:team-a:ci",
                "get",
                "secrets",
                "-n",
                "team-a",
                rbac,
            ],
            0,
        ),
        (
            vec![
                "rbac",
                "can",
                "ServiceAccount:team-a:ci",
                "delete",
                "secrets",
                "-n",
                "team-a",
                rbac,
            ],
            1,
        ),
        (
            vec!["rbac", "who-can", "get", "secrets", "/nonexistent-palisade"],
            2,
        ),
        (
            vec![
                "netpol",
                "can-reach",
                "monitoring/Deployment/prometheus",
                "shop/Deployment/api",
                "--port",
                "9090",
                netpol,
            ],
            0,
        ),
        (
            vec![
                "netpol",
                "can-reach",
                "shop/StatefulSet/db",
                "shop/Deployment/api",
                netpol,
            ],
            1,
        ),
        (
            vec![
                "netpol",
                "can-reach",
                "shop/Deployment/nope",
                "shop/Deployment/api",
                netpol,
            ],
            2,
        ),
        (vec!["netpol", "report", netpol], 0),
        (
            vec!["feed", "affected", "--feed", feed, "--version", "1.27.1"],
            0,
        ),
        (
            vec![
                "feed",
                "affected",
                "--feed",
                "/nonexistent-palisade.json",
                "--version",
                "1.27.1",
            ],
            2,
        ),
        (
            vec!["cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
            0,
        ),
        (vec!["cvss", "CVSS:3.1/AV:X"], 2),
        (vec!["audit", empty], 0),
        (vec!["audit", trace], 1),
        (vec!["audit", "/nonexistent-palisade.log"], 2),
        (vec!["version"], 0),
        (vec!["completions", "tcsh"], 2),
    ];
    for (args, want) in cases {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `--output FILE` on the query commands and `rules`, as on `scan`: the file gets what standard
/// output would have, and standard output stays empty.
#[test]
fn query_commands_write_to_output_files() {
    let dir = tempfile::tempdir().unwrap();
    let rbac = "testdata/rbac/edge-cases/who-can.yaml";
    let netpol = "testdata/netpol/edge-cases/policies.yaml";
    for (name, args) in [
        (
            "who-can.json",
            vec!["rbac", "who-can", "get", "secrets", "-f", "json", rbac],
        ),
        (
            "can.json",
            vec![
                "rbac",
                "can",
                "ServiceAccount:team-a:ci",
                "--list",
                "-f",
                "json",
                rbac,
            ],
        ),
        (
            "report.json",
            vec!["netpol", "report", "-f", "json", netpol],
        ),
        ("rules.json", vec!["rules", "--format", "json"]),
        (
            "cvss.json",
            vec![
                "cvss",
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "-f",
                "json",
            ],
        ),
        (
            "affected.json",
            vec![
                "feed",
                "affected",
                "--feed",
                "testdata/cve-feed/official-cve-feed.2023-07-01.json",
                "--version",
                "1.27.1",
                "-f",
                "json",
            ],
        ),
    ] {
        let file = dir.path().join(name);
        let out = run(&[&args[..], &["--output", file.to_str().unwrap()]].concat());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(v.is_array() || v.is_object(), "{args:?}");
    }
}
