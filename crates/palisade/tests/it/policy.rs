//! `palisade policy test` through the binary: gator-format suites from the vendored
//! gatekeeper-library, with the exit status the README's table promises.

use assert_cmd::Command;

fn policy_test(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["policy", "test"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_passing_suite_exits_0_with_a_line_per_case() {
    let (code, out) = policy_test(&["testdata/gatekeeper-library/library/general/allowedrepos"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS"), "{out}");
    assert!(out.contains("0 failed"), "{out}");
}

#[test]
fn the_library_runs_and_its_one_known_failure_exits_1() {
    let (code, out) = policy_test(&["-q", "testdata/gatekeeper-library/library"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("208 cases: 207 passed, 1 failed"), "{out}");
    assert!(out.contains("engines disagree on 0"), "{out}");
}

#[test]
fn a_missing_path_exits_2() {
    let (code, out) = policy_test(&["testdata/no-such-suite"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no-such-suite"), "{out}");
}
