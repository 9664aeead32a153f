//! Per-control compliance summary of a framework scan (like kubescape's framework view): for
//! each control, the rules that check it, whether any of them has an unsuppressed finding,
//! and how many objects failed. A control whose rules were all deselected is `skipped`.

use palisade_core::{Finding, ObjectRef};
use serde::Serialize;
use std::collections::BTreeSet;

/// A control as the caller knows it (from `palisade_rules::Framework::controls`).
#[derive(Debug, Clone)]
pub struct ControlInput<'a> {
    pub framework: &'a str,
    pub framework_title: &'a str,
    pub id: &'a str,
    pub title: &'a str,
    pub rules: Vec<&'a str>,
    /// Which of `rules` actually ran.
    pub ran: Vec<&'a str>,
    /// `(rule, field suffix)`: only findings of that rule with a field ending in the suffix
    /// count against this control (a rule that covers several controls).
    pub field_filters: Vec<(&'a str, &'a str)>,
}

impl ControlInput<'_> {
    fn counts(&self, f: &Finding) -> bool {
        // A finding that groups escalation paths counts for the control of any of them.
        if !self.rules.contains(&f.rule.as_str())
            && !f.paths.iter().any(|p| self.rules.contains(&p.as_str()))
        {
            return false;
        }
        let mut filters = self
            .field_filters
            .iter()
            .filter(|(r, _)| *r == f.rule)
            .peekable();
        if filters.peek().is_none() {
            return true;
        }
        filters.any(|(_, suffix)| {
            std::iter::once(&f.field)
                .chain(&f.fields)
                .any(|field| field.ends_with(suffix))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlStatus {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlSummary {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    /// Rules that implement the control (all of them, whether they ran or not).
    pub rules: Vec<String>,
    /// Unsuppressed findings of those rules.
    pub findings: usize,
    /// Distinct objects with at least one such finding.
    pub failed_objects: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkSummary {
    pub name: String,
    pub title: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub controls: Vec<ControlSummary>,
}

/// The `compliance` member of the JSON report: one entry per framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compliance {
    pub frameworks: Vec<FrameworkSummary>,
}

/// Computes the summary of `controls` (grouped by framework, in the order given) from the
/// unsuppressed `findings`.
pub fn compliance(controls: &[ControlInput<'_>], findings: &[Finding]) -> Compliance {
    let mut frameworks: Vec<FrameworkSummary> = Vec::new();
    for c in controls {
        let mine: Vec<&Finding> = findings.iter().filter(|f| c.counts(f)).collect();
        let objects: BTreeSet<(&str, usize, &ObjectRef)> = mine
            .iter()
            .map(|f| (f.file.as_str(), f.document, &f.object))
            .collect();
        let status = if c.ran.is_empty() {
            ControlStatus::Skipped
        } else if mine.is_empty() {
            ControlStatus::Passed
        } else {
            ControlStatus::Failed
        };
        let summary = ControlSummary {
            id: c.id.to_owned(),
            title: c.title.to_owned(),
            status,
            rules: c.rules.iter().map(|r| (*r).to_owned()).collect(),
            findings: mine.len(),
            failed_objects: objects.len(),
        };
        let fw = match frameworks.iter_mut().position(|f| f.name == c.framework) {
            Some(i) => frameworks.get_mut(i),
            None => {
                frameworks.push(FrameworkSummary {
                    name: c.framework.to_owned(),
                    title: c.framework_title.to_owned(),
                    passed: 0,
                    failed: 0,
                    skipped: 0,
                    controls: Vec::new(),
                });
                frameworks.last_mut()
            }
        };
        if let Some(fw) = fw {
            match status {
                ControlStatus::Passed => fw.passed += 1,
                ControlStatus::Failed => fw.failed += 1,
                ControlStatus::Skipped => fw.skipped += 1,
            }
            fw.controls.push(summary);
        }
    }
    Compliance { frameworks }
}
