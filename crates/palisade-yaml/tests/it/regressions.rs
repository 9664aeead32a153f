//! Replays every input under testdata/loader/fuzz-regressions/ (crashes and interesting
//! inputs found by `cargo fuzz run load`, plus hand-made hostile files) through
//! `load_bytes`, so CI checks them without cargo-fuzz. Each must load without panicking and
//! give a consistent result: every document is an object with a kind, every error and note
//! names the file. The parallel path loader must give exactly the same on each.

use palisade_yaml::{Limits, load_bytes};

#[test]
fn fuzz_regressions_replay() {
    let dir = crate::testdata("loader/fuzz-regressions");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().unwrap() != "README.md")
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 8,
        "expected the hand-made regressions at least"
    );
    for path in entries {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let l = load_bytes(&name, &bytes, &Limits::default());
        for d in &l.documents {
            assert!(d.value.is_object(), "{name}");
            assert!(d.value["kind"].is_string(), "{name}");
        }
        for e in l.errors.iter().chain(&l.notes) {
            assert_eq!(e.file, name);
            assert!(!e.message.is_empty());
        }
        // Files named `bad-*` must give at least one error; `ok-*` none.
        if name.starts_with("bad-") {
            assert!(!l.errors.is_empty(), "{name} should be rejected");
        }
        if name.starts_with("ok-") {
            assert!(l.errors.is_empty(), "{name}: {:#?}", l.errors);
            assert!(!l.documents.is_empty(), "{name}");
        }
        let want = load_bytes(&path.display().to_string(), &bytes, &Limits::default());
        let got = palisade_yaml::load_paths(&[&path], &Limits::default());
        assert!(
            crate::pieces::summary(&got) == crate::pieces::summary(&want),
            "{name}"
        );
    }
}
