//! Arbitrary bytes as an audit log (JSON Lines, gzip, EventList, AKS wrappers) through the
//! reader and the built-in rules: must never panic and must keep its line limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static ENGINE: OnceLock<Option<palisade_audit::Engine>> = OnceLock::new();
    let Some(engine) = ENGINE.get_or_init(|| {
        palisade_audit::RuleSet::builtin()
            .ok()
            .map(palisade_audit::Engine::new)
    }) else {
        return;
    };
    let Ok(reader) = palisade_audit::maybe_gunzip(data) else {
        return;
    };
    let _ = engine.scan(
        reader,
        "fuzz",
        64 * 1024,
        |a| {
            let _ = a.output.len();
        },
        |_| {},
    );
});
