//! palisade-sbom integration tests: readers on upstream and real SBOMs, writers validated
//! against the published schemas, round trips, bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod errors;
mod fixtures;
mod read;
mod write;
