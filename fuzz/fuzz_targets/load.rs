//! Fuzz target: any bytes through the manifest loader must never panic, hang or blow up
//! memory, and what it returns must be consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_yaml::{Limits, load_bytes};

fuzz_target!(|data: &[u8]| {
    // Smaller limits than the defaults so the fuzzer explores them, not giant inputs.
    let limits = Limits {
        max_file_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 20_000,
        max_alias_expansions: 5_000,
        max_documents_per_file: 200,
        ..Limits::default()
    };
    let loaded = load_bytes("fuzz.yaml", data, &limits);
    for doc in &loaded.documents {
        assert!(doc.value.is_object());
        assert!(doc.value.get("kind").is_some_and(|k| k.is_string()));
        assert!(doc.spans.span.line >= 1 && doc.spans.span.column >= 1);
    }
    for e in loaded.errors.iter().chain(&loaded.notes) {
        assert!(!e.message.is_empty());
    }
    // The default limits too, on the same input.
    let _ = load_bytes("fuzz.yaml", data, &Limits::default());
});
