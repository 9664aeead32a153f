//! Replays every input under testdata/audit/fuzz-regressions/ (hand-made hostile inputs and
//! whatever `cargo fuzz run` turned up) through the fuzz targets' own code
//! (`palisade_audit::fuzzing`), so CI checks them without cargo-fuzz. Names say what must
//! happen: `ok-*` conditions compile and `ok-*` logs have no bad line; `bad-*` conditions are
//! refused and `bad-*` logs report at least one bad line.

use crate::TESTDATA;
use palisade_audit::fuzzing;

fn inputs(sub: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{TESTDATA}/fuzz-regressions/{sub}");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn condition_regressions_replay() {
    let all = inputs("condition");
    assert!(all.len() >= 15, "expected the hand-made inputs at least");
    for (name, bytes) in all {
        let out = fuzzing::condition(&bytes)
            .unwrap_or_else(|| panic!("{name}: not UTF-8, or the macro memo changed a result"));
        if name.starts_with("ok-") {
            assert!(out.parsed && out.compiled, "{name} should compile: {out:?}");
        }
        if name.starts_with("bad-") {
            assert!(!out.compiled, "{name} should be refused: {out:?}");
        }
    }
}

#[test]
fn decode_regressions_replay() {
    let all = inputs("decode");
    assert!(all.len() >= 15, "expected the hand-made inputs at least");
    for (name, bytes) in all {
        let (events, bad, _alerts) = fuzzing::decode(&bytes).unwrap();
        if name.starts_with("ok-") {
            assert!(events > 0 && bad == 0, "{name}: {events} events, {bad} bad");
        }
        if name.starts_with("bad-") {
            assert!(bad > 0, "{name}: no bad line reported");
        }
    }
}
