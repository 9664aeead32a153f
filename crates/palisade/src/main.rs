//! The `palisade` command: argument parsing, dispatch and printing over the library crates.

fn main() {}
