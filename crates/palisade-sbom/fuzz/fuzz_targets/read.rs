//! Fuzz target `read`: see `palisade_sbom_fuzz::read` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| palisade_sbom_fuzz::read(data));
