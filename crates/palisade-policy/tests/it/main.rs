//! Integration tests: gatekeeper-library conformance, loader errors, limits, evaluate().
mod authorizer;
mod cel_limits;
mod conformance;
mod fuzz_regressions;
mod k8s_vap_examples;
mod policies;
mod regorus_repro;
mod requests;
mod vap;
