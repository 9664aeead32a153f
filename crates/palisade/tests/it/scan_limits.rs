//! Every loader limit's error names the flag that raises it; each of those flags exists on
//! `scan` and takes effect (before, only --max-file-size did: the others were named in errors
//! but refused as unknown arguments).

use assert_cmd::Command;

fn scan(args: &[&str], stdin: &str) -> (i32, String) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["scan", "--no-config", "--select", "pss", "-f", "json"])
        .args(args)
        .arg("-")
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn every_flag_a_limit_error_names_exists() {
    let help = Command::cargo_bin("palisade")
        .unwrap()
        .args(["scan", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--max-file-size",
        "--max-total-size",
        "--max-depth",
        "--max-nodes",
        "--max-alias-expansions",
        "--max-documents",
        "--max-tree-ratio",
    ] {
        assert!(help.contains(flag), "scan --help lacks {flag}");
    }
}

#[test]
fn the_named_flags_raise_and_lower_their_limits() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: {b: {c: {d: x}}}}\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    let (code, out) = scan(&[], pod);
    assert_ne!(code, 2, "{out}");
    let (code, out) = scan(&["--max-depth", "3"], pod);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--max-depth"), "{out}");
    let (code, out) = scan(&["--max-nodes", "5"], pod);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--max-nodes"), "{out}");
    let two = format!("{pod}---\n{pod}");
    let (code, out) = scan(&["--max-documents", "1"], &two);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--max-documents"), "{out}");
    let (code, out) = scan(&["--max-documents", "2"], &two);
    assert_ne!(code, 2, "{out}");
}
