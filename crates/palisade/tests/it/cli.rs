//! What every command shares at the process edge: how errors are printed and how a closed
//! standard output ends the process.

use assert_cmd::Command;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stderr_of(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
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
