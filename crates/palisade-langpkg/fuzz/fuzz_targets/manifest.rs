//! Fuzz target `manifest`: see `palisade_langpkg_fuzz::manifest` for the input layout and what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| palisade_langpkg_fuzz::manifest(data));
