//! `palisade cvss` through the real binary: table, JSON, stdin, error entries and exit 2.

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

#[test]
fn json_scores_and_error_entries() {
    let out = palisade()
        .args([
            "cvss",
            "--format",
            "json",
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N",
            "CVSS:3.1/av:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an invalid vector gives exit 2 after the others are printed"
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(
        list[0],
        serde_json::json!({"vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N", "version": "3.1", "base_score": 6.5, "severity": "medium"})
    );
    assert_eq!(
        list[1]["vector"],
        "CVSS:3.1/av:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    );
    assert!(
        list[1]["error"]
            .as_str()
            .unwrap()
            .contains("must be upper case")
    );
    assert_eq!(
        (list[2]["base_score"].as_f64(), list[2]["severity"].as_str()),
        (Some(9.3), Some("critical"))
    );
    assert_eq!(list[3]["version"], "3.0");
    assert_eq!(list[3]["base_score"], 8.8);
}

#[test]
fn stdin_and_table() {
    let out = palisade()
        .args(["cvss", "-"])
        .write_stdin("CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L\n\nCVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("VECTOR"));
    let cols = |l: &str| {
        l.split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(cols(lines[1]), ["3.1", "5.1", "medium"], "{}", lines[1]);
    assert_eq!(cols(lines[2]), ["3.1", "3.4", "low"], "{}", lines[2]);

    let out = palisade().args(["cvss", "not-a-vector"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error: missing the `CVSS:3.0/`"));
}
