//! `palisade rbac who-can` / `rbac can --list` and the `rbac` family in `palisade scan`,
//! through the real binary.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;

/// The binary with tables one row a line (`COLUMNS` wide enough): these tests read rows;
/// the wrapping to a narrower terminal is tested in `tables_fit_80_columns` and
/// `netpol_output_fits_80_columns`, which set their own width.
pub(crate) fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "1000");
    cmd
}

const EDGE: &str = "testdata/rbac/edge-cases/who-can.yaml";

/// Runs the binary and parses its stdout as JSON: (exit code, value).
pub(crate) fn json(args: &[&str]) -> (i32, Value) {
    let out = palisade().args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

#[test]
fn who_can_json_contract() {
    let (code, v) = json(&[
        "rbac", "who-can", "get", "secrets", "-n", "team-a", "--format", "json", EDGE,
    ]);
    assert_eq!(code, 0);
    let a = v.as_array().unwrap();
    assert_eq!(a[0]["kind"], "Group");
    assert_eq!(a[0]["name"], "system:masters");
    for g in a {
        for k in ["kind", "name", "namespace", "via"] {
            assert!(g.get(k).is_some(), "{k} missing in {g}");
        }
        for k in ["binding", "role", "scope"] {
            assert!(g["via"][k].is_string(), "via.{k} missing in {g}");
        }
    }
    let ci = a.iter().find(|g| g["name"] == "ci").unwrap();
    assert_eq!(ci["kind"], "ServiceAccount");
    assert_eq!(ci["namespace"], "team-a");
    assert_eq!(ci["via"]["binding"], "RoleBinding/team-a/team-a-secrets");
    assert_eq!(ci["via"]["role"], "ClusterRole/secrets-and-nodes");
    assert_eq!(ci["via"]["scope"], "namespace:team-a");
    // --name: the resourceNames rule applies.
    let (_, v) = json(&[
        "rbac",
        "who-can",
        "get",
        "secrets",
        "-n",
        "team-a",
        "--name",
        "db-password",
        "-f",
        "json",
        EDGE,
    ]);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "named-user")
    );
}

#[test]
fn who_can_table_and_rbac_tool_fixture() {
    let out = palisade()
        .args([
            "rbac",
            "who-can",
            "create",
            "pods",
            "testdata/rbac/rbac-tool/whocan/pod-creator.yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("who can create pods:\nKIND"), "{text}");
    for s in [
        "test-pod-creator-user",
        "test-pod-creator-group",
        "test-pod-creator-sa",
        "RoleBinding/test/pod-creator",
    ] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
}

#[test]
fn can_list_and_bad_input() {
    let (code, v) = json(&[
        "rbac",
        "can",
        "ServiceAccount:team-c:builder",
        "--list",
        "--format",
        "json",
        EDGE,
    ]);
    assert_eq!(code, 0);
    let p = v.as_array().unwrap();
    assert!(p.iter().any(|x| {
        x["rule"]
            .as_str()
            .unwrap()
            .contains("resources=[namespaces]")
            && x["through"]["name"] == "system:serviceaccounts:team-c"
            && x["scope"] == "namespace:team-c"
    }));
    let out = palisade()
        .args(["rbac", "can", "ServiceAccount:nope", "--list", EDGE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid subject \"ServiceAccount:nope\"")
    );
    let out = palisade()
        .args(["rbac", "who-can", "get", "pods/a/b", EDGE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid resource"));
    // An unreadable input is reported and makes the exit status 2 (the answer is still printed).
    let out = palisade()
        .args(["rbac", "who-can", "get", "pods", "no/such/file.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.yaml"));
}

#[test]
fn cluster_dump_list_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.json");
    std::fs::write(
        &dump,
        r#"{"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": "ops-admin"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
           "subjects": [{"kind": "Group", "name": "ops"}]}]}"#,
    )
    .unwrap();
    let d = dump.to_str().unwrap();
    let (code, v) = json(&["rbac", "who-can", "delete", "nodes", "-f", "json", d]);
    assert_eq!(code, 0);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["system:masters", "ops"],
        "built-in cluster-admin is known"
    );
    let (_, v) = json(&[
        "rbac",
        "who-can",
        "get",
        "/version",
        "-f",
        "json",
        "--rbac-defaults",
        d,
    ]);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "system:unauthenticated")
    );
}

#[test]
fn scan_reports_rbac_family() {
    let out = palisade()
        .args(["scan", "--format", "json", "--select", "rbac", EDGE])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert!(!f.is_empty());
    assert!(f.iter().all(|x| x["family"] == "rbac"));
    let ci = f
        .iter()
        .find(|x| {
            x["rule"] == "RBAC002"
                && x["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("ServiceAccount team-a/ci")
        })
        .unwrap();
    assert_eq!(ci["object"]["kind"], "RoleBinding");
    assert_eq!(ci["field"], "subjects[0]");
    assert!(ci["line"].as_u64().unwrap() > 1);
    assert_eq!(out.status.code(), Some(1));
    let out = palisade()
        .args([
            "scan",
            "--format",
            "json",
            "--select",
            "rbac",
            "--ignore",
            "RBAC002,rbac-exec-pods",
            EDGE,
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["rule"] != "RBAC002" && x["rule"] != "RBAC005")
    );
}

/// Hand-written bundle without namespaces, meant for `kubectl apply -n gitops`.
const BUNDLE: &str = "testdata/rbac/edge-cases/namespace-less-bundle.yaml";

#[test]
fn namespace_flag_places_manifests_for_queries() {
    // `can -n gitops`: the RoleBinding lands in gitops, so the account holds its Role there.
    let run = |args: &[&str]| {
        let out = palisade().args(args).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.code().unwrap(),
            v,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let can = [
        "rbac",
        "can",
        "ServiceAccount:gitops:app-controller",
        "--list",
        "-f",
        "json",
    ];
    let (code, v, stderr) = run(&[&can[..], &["-n", "gitops", BUNDLE]].concat());
    assert_eq!(code, 0, "{stderr}");
    let bindings: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["via"]["binding"].as_str().unwrap())
        .collect();
    assert!(
        bindings.contains(&"RoleBinding/gitops/app-controller"),
        "{bindings:?}"
    );
    assert!(
        bindings.contains(&"ClusterRoleBinding/app-controller"),
        "{bindings:?}"
    );
    assert!(stderr.contains("4 objects without metadata.namespace placed in namespace gitops"));
    // Without -n the RoleBinding is read as default's, and the hint says to pass -n gitops.
    let (code, v, stderr) = run(&[&can[..], &[BUNDLE]].concat());
    assert_eq!(code, 0);
    assert!(
        !v.as_array()
            .unwrap()
            .iter()
            .any(|p| p["via"]["binding"] == "RoleBinding/gitops/app-controller")
    );
    assert!(stderr.contains("scan with `-n gitops`"), "{stderr}");

    // who-can -n: the question's namespace, and namespace-less manifests are placed there.
    let (code, v, _) = run(&[
        "rbac",
        "who-can",
        "get",
        "configmaps",
        "-n",
        "gitops",
        "-f",
        "json",
        BUNDLE,
    ]);
    assert_eq!(code, 0);
    assert!(
        v.as_array().unwrap().iter().any(|g| g["via"]["binding"]
            == "RoleBinding/gitops/app-controller"
            && g["via"]["role"] == "Role/gitops/app-controller"),
        "{v:#}"
    );
    // `can -n` refuses an object in another namespace, as kubectl apply -n does.
    let (code, _, stderr) = run(&[&can[..], &["-n", "gitops", EDGE]].concat());
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does not match the namespace \"gitops\""),
        "{stderr}"
    );
}

/// `rbac can SUBJECT VERB RESOURCE` answers as `kubectl auth can-i`: yes/no, exit 0/1.
#[test]
fn can_answers_yes_or_no_with_the_exit_status() {
    let sa = "ServiceAccount:team-a:ci";
    let out = palisade()
        .args(["rbac", "can", sa, "get", "secrets", "-n", "team-a", EDGE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("yes\n"), "{text}");
    assert!(text.contains("RoleBinding/team-a/team-a-secrets"), "{text}");
    // Not in another namespace, and not a verb the role lacks.
    for args in [
        vec!["get", "secrets", "-n", "team-b"],
        vec!["delete", "secrets", "-n", "team-a"],
    ] {
        let out = palisade()
            .args(["rbac", "can", sa])
            .args(&args)
            .arg(EDGE)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "no\n", "{args:?}");
    }
    let (code, v) = json(&[
        "rbac", "can", sa, "get", "secrets", "-n", "team-a", "-f", "json", EDGE,
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["allowed"], true);
    assert_eq!(
        v["grants"][0]["via"]["binding"],
        "RoleBinding/team-a/team-a-secrets"
    );
    let (code, v) = json(&[
        "rbac",
        "can",
        "User:nobody",
        "get",
        "pods",
        "-f",
        "json",
        EDGE,
    ]);
    assert_eq!((code, &v["allowed"]), (1, &Value::Bool(false)));
    assert!(v["grants"].as_array().unwrap().is_empty());
}

/// Typos are named, not silently answered: an unknown verb or resource gets a note with the
/// closest known name (and is not pluralised), a malformed subject is an error.
#[test]
fn typos_are_noted_and_malformed_subjects_refused() {
    let out = palisade()
        .args(["rbac", "who-can", "gett", "secretz", EDGE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean \"get\""), "{err}");
    assert!(err.contains("did you mean \"secrets\""), "{err}");
    assert!(
        !err.contains("secretzs") && !String::from_utf8_lossy(&out.stdout).contains("secretzs")
    );
    let out = palisade()
        .args(["rbac", "who-can", "get", "secrets", EDGE])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
    for subject in ["Foo:bar", "Serviceacount:team-a:ci"] {
        let out = palisade()
            .args(["rbac", "can", subject, "--list", EDGE])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{subject}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid subject"),
            "{subject}"
        );
    }
}

/// `who-can` and `can --list` tables fit the terminal (`COLUMNS`): cells wrap in aligned
/// columns, or, when a terminal is too narrow for even the longest names, rows become
/// `kind: ... name: ...` records; nothing runs past the edge and nothing is lost.
#[test]
fn tables_fit_80_columns() {
    let run = |args: &[&str], columns: &str| {
        let out = palisade()
            .env("COLUMNS", columns)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.code().unwrap() < 2, "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // Every character of the cells, title, header, labels and layout aside (sorted: wrapped
    // columns interleave the pieces of a row's cells).
    let content = |t: &str, header: &[&str]| -> Vec<char> {
        let records = t.lines().nth(1).is_some_and(|l| l.starts_with("kind: "));
        let labels: Vec<String> = header
            .iter()
            .map(|h| h.to_ascii_lowercase() + ":")
            .collect();
        let mut chars: Vec<char> = t
            .lines()
            .skip(if records { 1 } else { 2 })
            .flat_map(|l| l.split_whitespace())
            .filter(|w| !records || !labels.iter().any(|l| l == w))
            .flat_map(str::chars)
            .collect();
        chars.sort_unstable();
        chars
    };
    let who_can = ["rbac", "who-can", "get", "secrets", EDGE];
    let who_header = [
        "KIND",
        "NAME",
        "NAMESPACE",
        "SCOPE",
        "BINDING",
        "ROLE",
        "RULE",
    ];
    let can_list = ["rbac", "can", "ServiceAccount:team-a:ci", "--list", EDGE];
    let can_header = ["SCOPE", "RULE", "AS", "BINDING", "FROM"];
    for (args, header, columns, records) in [
        (&who_can[..], &who_header[..], "80", true),
        (&who_can[..], &who_header[..], "100", false),
        (&can_list[..], &can_header[..], "80", false),
    ] {
        let wide = run(args, "1000");
        assert!(
            wide.lines().any(|l| l.chars().count() > 80),
            "{args:?}: no line over 80 columns unwrapped, the test would prove nothing:\n{wide}"
        );
        let narrow = run(args, columns);
        let limit: usize = columns.parse().unwrap();
        let long: Vec<&str> = narrow
            .lines()
            .filter(|l| l.chars().count() > limit)
            .collect();
        assert!(
            long.is_empty(),
            "{args:?}: over {limit} columns:\n{}",
            long.join("\n")
        );
        assert!(narrow.lines().count() > wide.lines().count(), "{narrow}");
        assert_eq!(
            content(&narrow, header),
            content(&wide, header),
            "{args:?} at {columns}: cells lost or changed:\n{narrow}"
        );
        let second = narrow.lines().nth(1).unwrap();
        if records {
            assert!(second.starts_with("kind: "), "{narrow}");
            assert!(
                narrow
                    .lines()
                    .skip(1)
                    .all(|l| l.starts_with("kind: ") || l.starts_with("    ")),
                "{narrow}"
            );
            continue;
        }
        // Columns: the last column starts at the same place on the header and every row.
        assert!(second.starts_with(header[0]), "{narrow}");
        let last = header.last().unwrap();
        let col = second.find(last).unwrap();
        for l in narrow.lines().skip(2) {
            assert!(
                l.len() <= col || l[..col].ends_with("  ") || l[..col].trim().is_empty(),
                "{args:?}: misaligned row {l:?}\n{narrow}"
            );
        }
    }
}
