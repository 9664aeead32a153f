//! Arbitrary bytes as an audit log (JSON Lines, gzip, EventList, AKS wrappers) through the
//! reader and the built-in rules: must never panic and must keep its line limit (body in
//! `palisade_audit::fuzzing`, shared with the regression replay test).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_audit::fuzzing::decode(data);
});
