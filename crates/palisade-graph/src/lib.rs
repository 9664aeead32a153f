//! Cross-object analysis: RBAC and NetworkPolicy over the whole set of scanned objects.
//!
//! Unlike the per-object rules in `palisade-rules`, these rules need every object at once (who
//! is bound to what, which policies select which pods). `palisade-rules` merges [`rules`] into
//! the one catalog and calls [`analyze`] once per scan with all loaded documents.

use palisade_core::{Document, Finding, RuleMeta};

/// The cross-object rules (families `rbac` and `netpol`), in ID order. IDs are stable.
pub fn rules() -> &'static [RuleMeta] {
    &[]
}

/// Runs every cross-object rule for which `enabled` is true over the whole document set.
pub fn analyze(docs: &[Document], enabled: &dyn Fn(&RuleMeta) -> bool) -> Vec<Finding> {
    let _ = (docs, enabled);
    Vec::new()
}
