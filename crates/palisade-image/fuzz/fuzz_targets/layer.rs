//! Fuzz target `layer`: see `palisade_image_fuzz::layer` for the input layout and what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| palisade_image_fuzz::layer(data));
