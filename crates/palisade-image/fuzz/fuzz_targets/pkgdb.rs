//! Fuzz target `pkgdb`: see `palisade_image_fuzz::pkgdb` for the input layout and what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| palisade_image_fuzz::pkgdb(data));
