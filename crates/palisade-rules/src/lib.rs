//! Palisade's rule catalog and engine. Rules are data ([`palisade_core::RuleMeta`]) plus small
//! pure functions over a loaded object; the Pod Security Standards family ([`pss`]) reproduces
//! Pod Security Admission's decisions and messages exactly, at every policy version.
//! [`check_document`] turns one loaded [`Document`] into [`Finding`]s; [`Selection`] implements
//! `--select`/`--ignore`; [`render_docs`] generates the rule reference (`docs/rules.md`).

mod catalog;
mod docs;
pub mod pss;

use palisade_core::{Document, Finding, ObjectRef, RuleMeta};

pub use docs::render_docs;

/// Errors from parsing user choices (levels, versions, rule selectors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error(
        "invalid Pod Security level {value:?}: must be one of privileged, baseline, restricted"
    )]
    InvalidLevel { value: String },
    #[error(
        "invalid Pod Security version {value:?}: must be \"latest\" or \"v1.x\" (for example v1.30, no leading zeros)"
    )]
    InvalidVersion { value: String },
    #[error(
        "unknown rule {value:?} in --{option}: give a rule family ({families}), a rule ID ({ids}) or a rule name ({names}); `palisade rules` lists them all"
    )]
    UnknownSelector {
        option: &'static str,
        value: String,
        families: String,
        ids: String,
        names: String,
    },
}

/// The one catalog: the per-object families first (PSS at indices 0..19, in PSA's check order,
/// which [`check_document`] relies on), then the cross-object families of `palisade-graph`.
static ALL_RULES: std::sync::LazyLock<Vec<RuleMeta>> = std::sync::LazyLock::new(|| {
    let mut all = catalog::CATALOG.to_vec();
    all.extend_from_slice(palisade_graph::rules());
    all
});

/// Every rule, grouped by family, in ID order within a family. IDs are stable and never reused.
pub fn catalog() -> &'static [RuleMeta] {
    &ALL_RULES
}

/// The rule with this ID, if any.
pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    catalog().iter().find(|r| r.id == id)
}

/// The catalog rule for a PSA check ID (e.g. `privileged` -> `PSS007`).
pub fn rule_for_check(check_id: &str) -> Option<&'static RuleMeta> {
    pss::check_index(check_id).and_then(|i| catalog::CATALOG.get(i))
}

/// Which rules run: built from `--select` and `--ignore` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Parallel to [`catalog()`].
    enabled: Vec<bool>,
}

impl Default for Selection {
    fn default() -> Selection {
        Selection::all()
    }
}

impl Selection {
    /// Every rule enabled.
    pub fn all() -> Selection {
        Selection {
            enabled: vec![true; catalog().len()],
        }
    }

    /// Each item is a family (`pss`), a rule ID (`PSS007`, any case) or a rule name
    /// (`privileged`); items may also be comma-separated. An empty `select` means every rule;
    /// `ignore` then removes rules. Unknown items are an error listing the valid ones.
    pub fn new(select: &[String], ignore: &[String]) -> Result<Selection, RulesError> {
        let select_items: Vec<&str> = split_items(select).collect();
        let mut enabled = vec![select_items.is_empty(); catalog().len()];
        for item in select_items {
            for i in matching("select", item)? {
                if let Some(slot) = enabled.get_mut(i) {
                    *slot = true;
                }
            }
        }
        for item in split_items(ignore) {
            for i in matching("ignore", item)? {
                if let Some(slot) = enabled.get_mut(i) {
                    *slot = false;
                }
            }
        }
        Ok(Selection { enabled })
    }

    pub fn enabled(&self, rule: &RuleMeta) -> bool {
        catalog()
            .iter()
            .position(|r| r.id == rule.id)
            .and_then(|i| self.enabled.get(i))
            .copied()
            .unwrap_or(false)
    }

    fn enabled_index(&self, i: usize) -> bool {
        self.enabled.get(i).copied().unwrap_or(false)
    }
}

fn split_items(items: &[String]) -> impl Iterator<Item = &str> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn matching(option: &'static str, item: &str) -> Result<Vec<usize>, RulesError> {
    let found: Vec<usize> = catalog()
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.family.eq_ignore_ascii_case(item)
                || r.id.eq_ignore_ascii_case(item)
                || r.name.eq_ignore_ascii_case(item)
        })
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        let mut families: Vec<&str> = catalog().iter().map(|r| r.family).collect();
        families.dedup();
        let ids = match (catalog().first(), catalog().last()) {
            (Some(a), Some(b)) => format!("{}..{}", a.id, b.id),
            _ => String::new(),
        };
        return Err(RulesError::UnknownSelector {
            option,
            value: item.to_owned(),
            families: families.join(", "),
            ids,
            names: catalog()
                .iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(found)
}

/// What a scan checks.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub policy: pss::Policy,
    pub selection: Selection,
}

/// Runs every selected rule on one loaded object.
///
/// Pod Security: for a Pod or a workload with a pod template (see [`pss::pod_template`]),
/// one finding per failed PSA check at `opts.policy` (none at `privileged`), in PSA's order.
/// PSA's overrides are kept even when the overriding rule is ignored (ignoring
/// `capabilities-restricted` at restricted does not bring back `capabilities-baseline`).
/// The finding's `field` is the first offending field (from the object root); `line`/`column`
/// point at it, or at its deepest ancestor present in the source when it is missing.
pub fn check_document(doc: &Document, opts: &ScanOptions) -> Vec<Finding> {
    if opts.policy.level == pss::Level::Privileged {
        return Vec::new();
    }
    let Some(template) = pss::pod_template(&doc.value) else {
        return Vec::new();
    };
    // What the API server does to a Pod (not to a template) before PSA sees it.
    let eval = pss::EvalOptions {
        default_host_network_ports: template.is_pod,
        apparmor_annotation_sync: template.is_pod,
        ..pss::EvalOptions::default()
    };
    let violations =
        pss::evaluate_filtered(&opts.policy, template.metadata, template.spec, &eval, |i| {
            opts.selection.enabled_index(i)
        });
    if violations.is_empty() {
        return Vec::new();
    }
    let label = opts.policy.to_string();
    let object = ObjectRef::of(&doc.value);
    violations
        .into_iter()
        .filter_map(|v| {
            let rule = rule_for_check(v.check_id)?;
            let fields: Vec<_> = v.fields.iter().map(|f| template.base.join(f)).collect();
            let first = fields
                .first()
                .cloned()
                .unwrap_or_else(|| template.base.clone());
            let span = doc.locate(&first);
            Some(Finding {
                rule: rule.id.to_owned(),
                family: rule.family.to_owned(),
                severity: rule.severity,
                message: format!("violates PodSecurity \"{label}\": {}", v.message()),
                file: doc.file.to_string(),
                line: span.line,
                column: span.column,
                document: doc.index,
                object: object.clone(),
                field: first.to_string(),
                fields: fields.iter().map(ToString::to_string).collect(),
            })
        })
        .collect()
}

/// Runs every selected rule over a whole scan: the per-object rules on each document
/// ([`check_document`]), then the cross-object rules (RBAC, NetworkPolicy) on the set.
pub fn check_documents(docs: &[Document], opts: &ScanOptions) -> Vec<Finding> {
    let mut findings: Vec<Finding> = docs
        .iter()
        .flat_map(|doc| check_document(doc, opts))
        .collect();
    findings.extend(palisade_graph::analyze(docs, &|r| {
        opts.selection.enabled(r)
    }));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalog_ids_and_names_unique_and_complete() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, r) in catalog().iter().filter(|r| r.family == "pss").enumerate() {
            assert!(ids.insert(r.id), "duplicate id {}", r.id);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert_eq!(
                r.id,
                format!("PSS{:03}", i + 1),
                "IDs are PSS001.. in order"
            );
            for (what, s) in [
                ("name", r.name),
                ("family", r.family),
                ("title", r.title),
                ("rationale", r.rationale),
                ("remediation", r.remediation),
                ("help_uri", r.help_uri),
            ] {
                assert!(!s.trim().is_empty(), "{} has an empty {what}", r.id);
            }
            assert!(
                r.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} name is not kebab-case",
                r.id
            );
            assert!(
                r.references
                    .iter()
                    .any(|x| x.source == "PSS" && !x.url.is_empty()),
                "{} has no PSS reference",
                r.id
            );
            for x in r.references {
                assert!(
                    !x.source.is_empty() && !x.id.is_empty(),
                    "{} bad reference",
                    r.id
                );
            }
        }
        assert_eq!(ids.len(), 19);
        assert_eq!(catalog::PSS_DETAILS.len(), ids.len());
    }

    #[test]
    fn catalog_rule_names_follow_psa_check_ids() {
        // The rule at index i is PSA check i: its name is the kebab-case of the check ID.
        for (r, c) in catalog().iter().zip(pss::CHECKS.iter()) {
            let mut kebab = String::new();
            for ch in
                c.id.replace("appArmor", "apparmor")
                    .replace("seLinux", "selinux")
                    .chars()
            {
                if ch.is_ascii_uppercase() {
                    kebab.push('-');
                    kebab.push(ch.to_ascii_lowercase());
                } else if ch == '_' {
                    kebab.push('-');
                } else {
                    kebab.push(ch);
                }
            }
            assert_eq!(r.name, kebab, "{} vs {}", r.id, c.id);
            let restricted = c.level == pss::Level::Restricted;
            assert_eq!(r.help_uri.ends_with("#restricted"), restricted, "{}", r.id);
        }
    }

    #[test]
    fn selection_by_family_id_and_name() {
        let s = |sel: &[&str], ign: &[&str]| {
            let sel: Vec<String> = sel.iter().map(|x| x.to_string()).collect();
            let ign: Vec<String> = ign.iter().map(|x| x.to_string()).collect();
            Selection::new(&sel, &ign)
        };
        let all = s(&[], &[]).unwrap();
        assert!(catalog().iter().all(|r| all.enabled(r)));
        let pss = s(&["pss"], &[]).unwrap();
        assert!(
            catalog()
                .iter()
                .all(|r| pss.enabled(r) == (r.family == "pss"))
        );
        let one = s(&["pss007"], &[]).unwrap();
        assert_eq!(catalog().iter().filter(|r| one.enabled(r)).count(), 1);
        assert!(one.enabled(rule("PSS007").unwrap()));
        let named = s(&["privileged,host-ports"], &[]).unwrap();
        assert!(named.enabled(rule("PSS007").unwrap()));
        assert!(named.enabled(rule("PSS005").unwrap()));
        assert!(!named.enabled(rule("PSS001").unwrap()));
        let ignored = s(&[], &["PSS017", "run-as-user"]).unwrap();
        assert!(!ignored.enabled(rule("PSS017").unwrap()));
        assert!(!ignored.enabled(rule("PSS018").unwrap()));
        assert!(ignored.enabled(rule("PSS001").unwrap()));
        let err = s(&["nope"], &[]).unwrap_err().to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("--select"),
            "{err}"
        );
        assert!(
            err.contains("PSS001..PSS019") && err.contains("privileged"),
            "{err}"
        );
        assert!(
            s(&[], &["PSS999"])
                .unwrap_err()
                .to_string()
                .contains("--ignore")
        );
    }
}
