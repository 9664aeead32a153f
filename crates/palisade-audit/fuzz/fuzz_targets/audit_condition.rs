//! Arbitrary text as a Falco condition, then as a one-rule rules file: parsing, compiling
//! and evaluating against a fixed event must never panic (body in `palisade_audit::fuzzing`,
//! shared with the regression replay test).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_audit::fuzzing::condition(data);
});
