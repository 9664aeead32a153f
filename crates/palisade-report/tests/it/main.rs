//! Integration tests of every output format on a realistic report and on a clean one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod corpus;
mod document_numbers;
mod fixtures;
mod grouped;
mod html;
mod html_browser;
mod json;
mod junit;
mod junit_reference;
mod policy_findings;
mod policyreport;
mod rules;
mod sarif;
mod table;
