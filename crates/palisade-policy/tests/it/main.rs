//! Integration tests: gatekeeper-library conformance, loader errors, limits, evaluate().
mod conformance;
mod policies;
mod vap;
