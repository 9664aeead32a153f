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
fn the_whole_library_passes_and_exits_0() {
    let (code, out) = policy_test(&["-q", "testdata/gatekeeper-library/library"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("208 cases: 208 passed, 0 failed"), "{out}");
    assert!(out.contains("engines disagree on 0"), "{out}");
}

#[test]
fn a_missing_path_exits_2() {
    let (code, out) = policy_test(&["testdata/no-such-suite"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no-such-suite"), "{out}");
}

/// A suite whose assertion the policy does not meet: its case FAILs and the run exits 1.
#[test]
fn a_failing_case_exits_1() {
    let lib = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("testdata/gatekeeper-library/library/general/requiredlabels");
    let dir = tempfile::tempdir().unwrap();
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    copy(&lib, dir.path());
    let suite = dir.path().join("suite.yaml");
    let text = std::fs::read_to_string(&suite).unwrap();
    // The first case expects no violation; claim one.
    std::fs::write(
        &suite,
        text.replacen("violations: no", "violations: yes", 1),
    )
    .unwrap();
    let (code, out) = policy_test(&[suite.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("1 failed"), "{out}");
}
