//! Palisade's rule catalog and engine. Rules are data ([`palisade_core::RuleMeta`]) plus small
//! pure functions over a loaded object; the Pod Security Standards family ([`pss`]) reproduces
//! Pod Security Admission's decisions and messages exactly, at every policy version; the
//! `hardening` and `reliability` families cover what hardening guides and peer scanners check
//! beyond PSS. [`check_document`] turns one loaded [`Document`] into [`Finding`]s;
//! [`Selection`] implements `--select`/`--ignore` and `--framework`; [`config`] holds the
//! `.palisade.yaml` format and waivers; [`render_docs`] and [`rule_pages`] generate the rule
//! reference (`docs/rules.md`, `docs/rules/<ID>.md`).

mod catalog;
pub mod config;
mod docs;
pub mod frameworks;
mod glob;
mod hardening;
pub mod overlaps;
pub mod pss;

use palisade_core::{Document, Finding, ObjectRef, RuleMeta};

pub use docs::{default_state, explain, render_docs, rule_pages};
pub use frameworks::Framework;

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
/// which [`check_document`] relies on; then hardening and reliability at
/// `HARDENING_START..`), then the cross-object families of `palisade-graph`.
static ALL_RULES: std::sync::LazyLock<Vec<RuleMeta>> = std::sync::LazyLock::new(|| {
    let mut all = catalog::CATALOG.to_vec();
    all.extend(hardening::RULES.iter().map(|r| r.meta));
    all.extend_from_slice(palisade_graph::rules());
    all
});

/// Catalog index of the first hardening rule.
const HARDENING_START: usize = catalog::CATALOG.len();

/// Whether a rule runs when nothing is selected: every family but `reliability`, except the
/// opt-in hardening rules (digest pinning, high UID/GID, explicit AppArmor/SELinux).
pub fn default_enabled(rule: &RuleMeta) -> bool {
    rule.family != "reliability" && !is_opt_in(rule.id)
}

/// Opt-in rules run only when selected by ID or name, by a framework, or with `--select all`.
pub fn is_opt_in(id: &str) -> bool {
    hardening::RULES.iter().any(|r| r.opt_in && r.meta.id == id)
}

/// The corrected YAML snippet a rule's docs show, when the catalog has one.
pub fn fix_snippet(id: &str) -> Option<&'static str> {
    hardening::RULES
        .iter()
        .find(|r| r.meta.id == id)
        .map(|r| r.fix)
        .or_else(|| {
            catalog::CATALOG
                .iter()
                .position(|r| r.id == id)
                .and_then(|i| catalog::PSS_FIX.get(i).copied())
        })
}

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

/// The PSA check ID of a PSS rule (e.g. `PSS007` -> `privileged`).
pub fn psa_check_for(rule_id: &str) -> Option<&'static str> {
    catalog::CATALOG
        .iter()
        .position(|r| r.id == rule_id)
        .and_then(|i| pss::CHECKS.get(i))
        .map(|c| c.id)
}

/// Which rules run: built from `--select` and `--ignore` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Parallel to [`catalog()`].
    enabled: Vec<bool>,
}

impl Default for Selection {
    fn default() -> Selection {
        Selection::defaults()
    }
}

impl Selection {
    /// Every rule enabled.
    pub fn all() -> Selection {
        Selection {
            enabled: vec![true; catalog().len()],
        }
    }

    /// The default rule set ([`default_enabled`]).
    pub fn defaults() -> Selection {
        Selection {
            enabled: catalog().iter().map(default_enabled).collect(),
        }
    }

    /// Each item is `all` (every rule, opt-in ones included), `default` (the default set), a family (`pss`: its rules
    /// except opt-in ones), a rule ID (`PSS007`, any case) or a rule name (`privileged`);
    /// items may also be comma-separated. An empty `select` means the default set
    /// ([`default_enabled`]); `ignore` then removes rules. Unknown items are an error listing
    /// the valid ones.
    pub fn new(select: &[String], ignore: &[String]) -> Result<Selection, RulesError> {
        let select_items: Vec<&str> = split_items(select).collect();
        let mut sel = if select_items.is_empty() {
            Selection::defaults()
        } else {
            Selection {
                enabled: vec![false; catalog().len()],
            }
        };
        sel.apply("select", &select_items, true)?;
        sel.apply("ignore", &split_items(ignore).collect::<Vec<_>>(), false)?;
        Ok(sel)
    }

    /// The rules of `framework`, plus `select` items, minus `ignore` items.
    pub fn for_framework(
        framework: Framework,
        select: &[String],
        ignore: &[String],
    ) -> Result<Selection, RulesError> {
        let mut sel = Selection {
            enabled: catalog().iter().map(|r| framework.includes(r)).collect(),
        };
        sel.apply("select", &split_items(select).collect::<Vec<_>>(), true)?;
        sel.apply("ignore", &split_items(ignore).collect::<Vec<_>>(), false)?;
        Ok(sel)
    }

    fn apply(&mut self, option: &'static str, items: &[&str], on: bool) -> Result<(), RulesError> {
        for item in items {
            for i in matching(option, item)? {
                if let Some(slot) = self.enabled.get_mut(i) {
                    *slot = on;
                }
            }
        }
        Ok(())
    }

    /// The enabled rules, in catalog order.
    pub fn rules(&self) -> Vec<&'static RuleMeta> {
        catalog()
            .iter()
            .zip(&self.enabled)
            .filter(|(_, on)| **on)
            .map(|(r, _)| r)
            .collect()
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
    let all = item.eq_ignore_ascii_case("all");
    let default = item.eq_ignore_ascii_case("default");
    let found: Vec<usize> = catalog()
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            all || (default && default_enabled(r))
                || (r.family.eq_ignore_ascii_case(item) && !is_opt_in(r.id))
                || r.id.eq_ignore_ascii_case(item)
                || r.name.eq_ignore_ascii_case(item)
        })
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        let mut families: Vec<&str> = catalog().iter().map(|r| r.family).collect();
        families.dedup();
        // First..last ID of each family, e.g. `PSS001..PSS019, HRD001..HRD027`.
        let ids = families
            .iter()
            .filter_map(|fam| {
                let mut of = catalog().iter().filter(|r| r.family == *fam);
                let first = of.next()?;
                Some(match of.next_back() {
                    Some(last) => format!("{}..{}", first.id, last.id),
                    None => first.id.to_owned(),
                })
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(RulesError::UnknownSelector {
            option,
            value: item.to_owned(),
            families: format!("all, default, {}", families.join(", ")),
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
/// Pod Security: for a Pod or a workload with a pod template (see [`pss::workload_template`]:
/// the kinds PSA knows, at every version of their group, and other kinds by the shape of their
/// template, whose findings say so), one finding per failed PSA check at `opts.policy` (none at `privileged`), in PSA's order.
/// PSA's overrides are kept even when the overriding rule is ignored (ignoring
/// `capabilities-restricted` at restricted does not bring back `capabilities-baseline`).
/// The finding's `field` is the first offending field (from the object root); `line`/`column`
/// point at it, or at its deepest ancestor present in the source when it is missing.
///
/// Hardening and reliability rules then add one finding per offending container, volume or
/// variable, with every offending field in `fields`.
pub fn check_document(doc: &Document, opts: &ScanOptions) -> Vec<Finding> {
    let mut findings = pss_findings(doc, opts);
    let target = hardening::Target::new(&doc.value);
    let inferred = target
        .template
        .as_ref()
        .filter(|t| t.inferred)
        .map(|t| inferred_note(&doc.value, t));
    let mut object = None;
    for (i, rule) in hardening::RULES.iter().enumerate() {
        if !opts.selection.enabled_index(HARDENING_START + i) {
            continue;
        }
        for hit in (rule.check)(&target) {
            let first = hit.fields.first().cloned().unwrap_or_default();
            let span = match hit.value_line {
                Some(at) => line_in_value(&doc.spans, &first, at),
                None => doc.locate(&first),
            };
            let mut message = hit.message;
            if let Some(note) = &inferred {
                message.push_str(note);
            }
            findings.push(Finding {
                rule: rule.meta.id.to_owned(),
                family: rule.meta.family.to_owned(),
                severity: rule.meta.severity,
                message,
                file: doc.file.to_string(),
                line: span.line,
                column: span.column,
                document: doc.index,
                object: object
                    .get_or_insert_with(|| ObjectRef::of(&doc.value))
                    .clone(),
                field: first.to_string(),
                fields: hit.fields.iter().map(ToString::to_string).collect(),
                paths: Vec::new(),
                origin: None,
                action: None,
            });
        }
    }
    findings
}

/// Where a line of the multi-line string at `path` is in the source. The span tree records
/// where a mapping entry's key is, not where its value starts; a multi-line value in a
/// manifest is a literal block scalar (`key: |`), whose line `i` is `i + 1` lines below the
/// key and whose lines no other node starts on. When some node does start on one of the lines
/// the block would take, the value was written another way (quoted with `\n` escapes, a flow
/// mapping, JSON) and the key's own position is returned.
fn line_in_value(
    tree: &palisade_core::SpanTree,
    path: &palisade_core::FieldPath,
    at: hardening::ValueLine,
) -> palisade_core::Span {
    let key = tree.locate(path);
    if tree.get(path).is_none() || at.line >= at.lines {
        return key;
    }
    let line = |n: usize| u32::try_from(n).ok().and_then(|n| key.line.checked_add(n));
    let (Some(target), Some(last)) = (line(at.line + 1), line(at.lines)) else {
        return key;
    };
    // Iterative: documents may be deep (the loader's depth limit is the only bound).
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        if node.span.line > key.line && node.span.line <= last {
            return key;
        }
        match &node.children {
            palisade_core::SpanChildren::Leaf => {}
            palisade_core::SpanChildren::Map(entries) => {
                stack.extend(entries.iter().map(|(_, t)| t));
            }
            palisade_core::SpanChildren::Seq(items) => stack.extend(items.iter()),
        }
    }
    palisade_core::Span {
        line: target,
        column: key.column,
    }
}

/// What a finding on a pod template found by shape (a kind PSA does not know) says about it.
fn inferred_note(object: &serde_json::Value, t: &pss::PodTemplate<'_>) -> String {
    let o = ObjectRef::of(object);
    format!(
        " [pod template at {} of {} {}, a kind Palisade recognises by its shape; Pod Security Admission does not evaluate it]",
        t.base, o.api_version, o.kind
    )
}

fn pss_findings(doc: &Document, opts: &ScanOptions) -> Vec<Finding> {
    if opts.policy.level == pss::Level::Privileged {
        return Vec::new();
    }
    let Some(template) = pss::workload_template(&doc.value) else {
        return Vec::new();
    };
    let note = if template.inferred {
        inferred_note(&doc.value, &template)
    } else {
        String::new()
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
                message: format!("violates PodSecurity \"{label}\": {}{note}", v.message()),
                file: doc.file.to_string(),
                line: span.line,
                column: span.column,
                document: doc.index,
                object: object.clone(),
                field: first.to_string(),
                fields: fields.iter().map(ToString::to_string).collect(),
                paths: Vec::new(),
                origin: None,
                action: None,
            })
        })
        .collect()
}

/// Whether any cross-object rule (RBAC, NetworkPolicy) is selected, i.e. whether a scan must
/// keep the [`palisade_graph::relevant`] documents for [`check_cross_object`].
pub fn needs_cross_object(opts: &ScanOptions) -> bool {
    palisade_graph::rules()
        .iter()
        .any(|r| opts.selection.enabled(r))
}

/// The cross-object rules alone, over the whole set (the second half of [`check_documents`]).
pub fn check_cross_object(
    docs: &(impl palisade_graph::Docs + ?Sized),
    opts: &ScanOptions,
) -> Vec<Finding> {
    palisade_graph::analyze(docs, &|r| opts.selection.enabled(r))
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

    /// Every rule of every family (graph rules included): unique ID and name, every field
    /// filled, kebab-case name, IDs `<PREFIX>NNN` numbered 1.. in order within their prefix,
    /// references from [`palisade_core::REFERENCE_SOURCES`] only.
    #[test]
    fn catalog_ids_and_names_unique_and_complete() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        let mut next: std::collections::HashMap<String, usize> = Default::default();
        for r in catalog() {
            assert!(ids.insert(r.id), "duplicate id {}", r.id);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            let digits = r.id.trim_start_matches(|c: char| c.is_ascii_uppercase());
            let prefix = &r.id[..r.id.len() - digits.len()];
            assert!(
                !prefix.is_empty() && digits.len() == 3,
                "{} is not PREFIXnnn",
                r.id
            );
            let n = next.entry(prefix.to_owned()).or_insert(1);
            assert_eq!(
                digits.parse::<usize>().unwrap(),
                *n,
                "{} out of order",
                r.id
            );
            *n += 1;
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
            assert!(!r.references.is_empty(), "{} has no references", r.id);
            for x in r.references {
                assert!(
                    palisade_core::REFERENCE_SOURCES.contains(&x.source),
                    "{}: reference source {:?} is not one of {:?}",
                    r.id,
                    x.source,
                    palisade_core::REFERENCE_SOURCES
                );
                assert!(!x.id.is_empty(), "{} bad reference", r.id);
            }
        }
        let pss: Vec<_> = catalog().iter().filter(|r| r.family == "pss").collect();
        assert_eq!(pss.len(), 19);
        for (i, r) in pss.iter().enumerate() {
            assert_eq!(
                r.id,
                format!("PSS{:03}", i + 1),
                "PSS rules are first, in order"
            );
            assert_eq!(
                catalog()[i].id,
                r.id,
                "PSS rules sit at catalog indices 0..19"
            );
            assert!(
                r.references
                    .iter()
                    .any(|x| x.source == "pss" && !x.url.is_empty()),
                "{} has no PSS reference",
                r.id
            );
        }
        assert_eq!(catalog::PSS_DETAILS.len(), 19);
        assert_eq!(catalog::PSS_FIX.len(), 19);
        // Palisade's own families: a fix snippet and CIS/NSA/checklist titles for every citation.
        for r in catalog()
            .iter()
            .filter(|r| matches!(r.family, "pss" | "hardening" | "reliability"))
        {
            assert!(
                fix_snippet(r.id).is_some_and(|f| f.ends_with('\n')),
                "{} fix",
                r.id
            );
            for x in r.references {
                let known = match x.source {
                    "cis" => frameworks::control_title(Framework::Cis, x.id).is_some(),
                    "nsa" => frameworks::control_title(Framework::Nsa, x.id).is_some(),
                    "k8s-checklist" => frameworks::checklist_title(x.id).is_some(),
                    _ => true,
                };
                assert!(known, "{}: no title for {} {}", r.id, x.source, x.id);
            }
        }
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
        let defaults = s(&[], &[]).unwrap();
        assert!(
            catalog()
                .iter()
                .all(|r| defaults.enabled(r) == default_enabled(r))
        );
        assert!(defaults.enabled(rule("HRD001").unwrap()));
        assert!(
            !defaults.enabled(rule("HRD007").unwrap()),
            "digest pinning is opt-in"
        );
        assert!(
            !defaults.enabled(rule("REL001").unwrap()),
            "reliability is off by default"
        );
        let all = s(&["all"], &[]).unwrap();
        assert!(catalog().iter().all(|r| all.enabled(r)));
        let hardening = s(&["hardening"], &[]).unwrap();
        assert!(hardening.enabled(rule("HRD001").unwrap()));
        assert!(
            !hardening.enabled(rule("HRD007").unwrap()),
            "a family leaves opt-in rules out"
        );
        assert!(
            s(&["image-digest"], &[])
                .unwrap()
                .enabled(rule("HRD007").unwrap())
        );
        let rel = s(&["reliability"], &[]).unwrap();
        assert_eq!(rel.rules().len(), 3);
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
            err.contains("PSS001..PSS019")
                && err.contains("HRD001..")
                && err.contains("privileged"),
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
