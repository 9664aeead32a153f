//! RBAC: the model ([`Rbac`]), queries (`who_can`, `can_list`) and the `rbac` rule family.

mod defaults;
mod model;
mod paths;

pub use model::{
    Binding, Grant, Permission, PolicyRule, Rbac, RbacOptions, Request, Role, RoleKind, Scope,
    ServiceAccount, Subject, SubjectKind, Target, Via,
};
pub use paths::{Escalation, escalations, role_power};

use crate::Docs;
use crate::catalog::{RULES, ids};
use crate::finding;
use crate::objects::Workload;
use palisade_core::{FieldPath, Finding, InputError, RuleMeta, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// Subjects that mean "everyone" (or every holder of any token).
fn is_everyone(s: &Subject) -> bool {
    match s.kind {
        SubjectKind::Group => matches!(
            s.name.as_str(),
            "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts"
        ),
        SubjectKind::User => s.name == "system:anonymous",
        SubjectKind::ServiceAccount => false,
    }
}

fn scope_phrase(scope: &Scope) -> String {
    match scope {
        Scope::Cluster => "cluster-wide".to_owned(),
        Scope::Namespace(ns) => format!("in namespace {ns}"),
    }
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

/// Message of a power finding: subject, what, scope, binding -> role (rule), workloads.
pub fn escalation_message(m: &Rbac, e: &Escalation) -> String {
    let binding = m
        .bindings
        .get(e.binding)
        .map(Binding::display)
        .unwrap_or_default();
    let mut msg = format!(
        "{} can {} {} via {} -> {} ({})",
        e.subject,
        e.what,
        scope_phrase(&e.scope),
        binding,
        e.role.as_deref().unwrap_or("?"),
        e.rule_ref
    );
    if !e.workloads.is_empty() {
        msg.push_str(&format!(
            "; held by workloads mounting its token: {}",
            list(&e.workloads)
        ));
    }
    msg
}

/// The enabled escalations grouped by subject, binding and granting role rule, in order of
/// first appearance, each group in catalog order: one finding per thing a person must fix.
fn paths_by_rule<'a>(
    reported: &'a [Escalation],
    enabled: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Vec<&'a Escalation>> {
    let mut groups: Vec<Vec<&Escalation>> = Vec::new();
    let mut index: BTreeMap<(usize, &Subject, &str), usize> = BTreeMap::new();
    for e in reported.iter().filter(|e| enabled(e.rule)) {
        let key = (e.binding, &e.subject, e.rule_ref.as_str());
        match index.get(&key) {
            Some(&g) => {
                if let Some(group) = groups.get_mut(g) {
                    group.push(e);
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(vec![e]);
            }
        }
    }
    groups
}

/// [`escalation_message`] for one path; for several granted by one rule, each path's
/// permission with its rule ID.
fn grouped_message(m: &Rbac, group: &[&Escalation]) -> String {
    match group {
        [] => String::new(),
        [one] => escalation_message(m, one),
        [first, ..] => {
            let what: Vec<String> = group
                .iter()
                .map(|e| format!("{} ({})", e.what, e.rule.id))
                .collect();
            let combined = Escalation {
                what: what.join(", "),
                ..(*first).clone()
            };
            escalation_message(m, &combined)
        }
    }
}

/// The `rbac` family's findings over `docs`.
pub fn findings(
    docs: &(impl Docs + ?Sized),
    m: &Rbac,
    enabled: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let all = escalations(m, &|_| true);
    let own;
    let reported: &[Escalation] = if enabled(&RULES[ids::CLUSTER_ADMIN]) {
        &all
    } else {
        own = escalations(m, enabled);
        &own
    };
    // Escalations come binding by binding: decode each binding's object once, not once per
    // escalation (a packed set decodes on every `doc` call).
    let mut cached: Option<(usize, std::borrow::Cow<'_, palisade_core::Document>)> = None;
    for group in paths_by_rule(reported, enabled) {
        let Some(e) = group.first() else {
            continue;
        };
        let Some(d) = m.bindings.get(e.binding).and_then(|b| b.doc) else {
            continue;
        };
        if cached.as_ref().is_none_or(|(i, _)| *i != d) {
            cached = docs.doc(d).map(|doc| (d, doc));
        }
        let Some((_, doc)) = &cached else {
            continue;
        };
        let doc = &**doc;
        let path = model::subject_path(&doc.value, &e.subject);
        // The most severe path names the finding (the first of equals: catalog order).
        let mut top = *e;
        for x in &group {
            if x.severity > top.severity {
                top = x;
            }
        }
        let mut f = finding(
            doc,
            top.rule,
            top.severity,
            grouped_message(m, &group),
            &path,
        );
        f.paths = group.iter().map(|x| x.rule.id.to_owned()).collect();
        out.push(f);
    }
    binding_rules(docs, m, &all, enabled, &mut out);
    workload_rules(docs, m, &all, enabled, &mut out);
    service_account_rules(docs, m, enabled, &mut out);
    out
}

/// RBAC026 (everyone) and RBAC027 (system:masters).
fn binding_rules(
    docs: &(impl Docs + ?Sized),
    m: &Rbac,
    all: &[Escalation],
    enabled: &dyn Fn(&RuleMeta) -> bool,
    out: &mut Vec<Finding>,
) {
    let everyone = &RULES[ids::EVERYONE];
    let masters = &RULES[ids::SYSTEM_MASTERS];
    let to_everyone = |s: &Subject| enabled(everyone) && is_everyone(s);
    let to_masters = |s: &Subject| {
        enabled(masters) && s.kind == SubjectKind::Group && s.name == "system:masters"
    };
    // Escalations come binding by binding: each binding's are one run of `all`.
    let mut runs: BTreeMap<usize, &[Escalation]> = BTreeMap::new();
    let mut start = 0;
    while let Some(first) = all.get(start) {
        let len = all
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.binding == first.binding)
            .count();
        runs.insert(
            first.binding,
            all.get(start..start + len).unwrap_or_default(),
        );
        start += len;
    }
    for (bi, b) in m.bindings.iter().enumerate() {
        // Most bindings have neither subject: skip them before decoding their object.
        if b.bootstrap || !b.subjects.iter().any(|s| to_everyone(s) || to_masters(s)) {
            continue;
        }
        let Some(doc) = b.doc.and_then(|d| docs.doc(d)) else {
            continue;
        };
        let doc = &*doc;
        let role = format!(
            "{}/{}",
            match b.role_kind {
                RoleKind::Role => "Role",
                RoleKind::ClusterRole => "ClusterRole",
            },
            b.role_name
        );
        for s in &b.subjects {
            let path = model::subject_path(&doc.value, s);
            if to_everyone(s) {
                let powers: Vec<String> = runs
                    .get(&bi)
                    .copied()
                    .unwrap_or_default()
                    .iter()
                    .filter(|e| &e.subject == s)
                    .map(|e| format!("{} ({})", e.what, e.rule.id))
                    .collect();
                let (sev, tail) = if powers.is_empty() {
                    (Severity::Medium, String::new())
                } else {
                    (Severity::High, format!(", which can {}", list(&powers)))
                };
                out.push(finding(
                    doc,
                    everyone,
                    sev,
                    format!(
                        "{} grants {role} {} to {s}{tail}",
                        b.display(),
                        scope_phrase(&b.scope())
                    ),
                    &path,
                ));
            }
            if to_masters(s) {
                out.push(finding(
                    doc,
                    masters,
                    masters.severity,
                    format!(
                        "{} binds {role} to Group system:masters, which bypasses authorization anyway; members hold unrevocable superuser credentials",
                        b.display()
                    ),
                    &path,
                ));
            }
        }
    }
}

fn sa_path(w: &Workload) -> FieldPath {
    w.template.clone().key("spec").key("serviceAccountName")
}

/// RBAC028 (powerful token mounted) and RBAC030 (token of a bound account mounted).
fn workload_rules(
    docs: &(impl Docs + ?Sized),
    m: &Rbac,
    all: &[Escalation],
    enabled: &dyn Fn(&RuleMeta) -> bool,
    out: &mut Vec<Finding>,
) {
    let powerful = &RULES[ids::POWERFUL_TOKEN];
    let bound = &RULES[ids::BOUND_TOKEN];
    if !enabled(powerful) && !enabled(bound) {
        return;
    }
    // What a workload's token can do depends only on its namespace and account: worked out
    // once per account from escalations and bindings indexed by subject (scanning them all
    // for every workload made this quadratic).
    let mut by_subject: BTreeMap<&Subject, Vec<usize>> = BTreeMap::new();
    for (i, e) in all.iter().enumerate() {
        if e.severity >= Severity::High {
            by_subject.entry(&e.subject).or_default().push(i);
        }
    }
    let mut bound_by: BTreeMap<&Subject, Vec<usize>> = BTreeMap::new();
    for (bi, b) in m.bindings.iter().enumerate() {
        if b.bootstrap {
            continue;
        }
        for s in &b.subjects {
            let list = bound_by.entry(s).or_default();
            if list.last() != Some(&bi) {
                list.push(bi);
            }
        }
    }
    let mut cache: BTreeMap<(&str, &str), Account> = BTreeMap::new();
    for w in &m.workloads {
        if !m.token_mounted(w) {
            continue;
        }
        let key = (w.namespace.as_str(), w.service_account.as_str());
        let account = cache.entry(key).or_insert_with(|| {
            account_summary(
                m,
                all,
                &by_subject,
                &bound_by,
                w,
                enabled(powerful),
                enabled(bound),
            )
        });
        if account.power.is_none() && account.bound.is_none() {
            continue;
        }
        let Some(doc) = docs.doc(w.doc) else {
            continue;
        };
        let doc = &*doc;
        let sa = format!("ServiceAccount {}/{}", w.namespace, w.service_account);
        if let Some((sev, through, powers)) = &account.power {
            out.push(finding(
                doc,
                powerful,
                *sev,
                format!(
                    "{} runs as {sa} with its token mounted; through {through} that token can {powers}",
                    w.display(),
                ),
                &sa_path(w),
            ));
        }
        if let Some(bindings) = &account.bound {
            out.push(finding(
                doc,
                bound,
                bound.severity,
                format!(
                    "{} mounts the token of {sa}, which is bound by {bindings}",
                    w.display(),
                ),
                &w.template
                    .clone()
                    .key("spec")
                    .key("automountServiceAccountToken"),
            ));
        }
    }
}

/// What RBAC028 and RBAC030 say about one service account: (severity, through whom, what
/// its token can do) and the bindings naming it.
struct Account {
    power: Option<(Severity, String, String)>,
    bound: Option<String>,
}

fn account_summary(
    m: &Rbac,
    all: &[Escalation],
    by_subject: &BTreeMap<&Subject, Vec<usize>>,
    bound_by: &BTreeMap<&Subject, Vec<usize>>,
    w: &Workload,
    powerful: bool,
    bound: bool,
) -> Account {
    let me = Subject::service_account(&w.namespace, &w.service_account);
    let mut power = None;
    if powerful {
        // Every subject `model::holds` says covers the account: itself, its username, and
        // the groups its token carries.
        let user = Subject::user(&format!(
            "system:serviceaccount:{}:{}",
            w.namespace, w.service_account
        ));
        let mut idx: Vec<usize> = me
            .identities()
            .iter()
            .chain(std::iter::once(&user))
            .filter_map(|s| by_subject.get(s))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.dedup();
        let mut hits: Vec<&Escalation> = idx.iter().filter_map(|&i| all.get(i)).collect();
        hits.sort_by_key(|e| std::cmp::Reverse(e.severity));
        if let Some(top) = hits.first() {
            let sev = if top.severity == Severity::Critical {
                Severity::Critical
            } else {
                Severity::High
            };
            let powers = crate::objects::distinct(hits.iter().map(|e| {
                let b = m.bindings.get(e.binding);
                (
                    format!(
                        "{} {} ({} via {})",
                        e.what,
                        scope_phrase(&e.scope),
                        e.rule.id,
                        b.map(Binding::display).unwrap_or_default()
                    ),
                    b.and_then(|b| b.file.as_deref()).unwrap_or(""),
                )
            }));
            let through = if top.subject.kind == SubjectKind::ServiceAccount {
                "the account".to_owned()
            } else {
                top.subject.to_string()
            };
            power = Some((sev, through, list(&powers)));
        }
    }
    let bound = bound.then(|| bound_by.get(&me)).flatten().map(|bs| {
        let names = crate::objects::distinct(
            bs.iter()
                .filter_map(|&bi| m.bindings.get(bi))
                .map(|b| (b.display(), b.file.as_deref().unwrap_or(""))),
        );
        list(&names)
    });
    Account { power, bound }
}

const IAM_ANNOTATIONS: &[&str] = &[
    "eks.amazonaws.com/role-arn",
    "iam.gke.io/gcp-service-account",
    "azure.workload.identity/client-id",
];

/// RBAC029 (default account automounts) and RBAC031 (cloud IAM link).
fn service_account_rules(
    docs: &(impl Docs + ?Sized),
    m: &Rbac,
    enabled: &dyn Fn(&RuleMeta) -> bool,
    out: &mut Vec<Finding>,
) {
    let default_sa = &RULES[ids::DEFAULT_SA];
    let iam = &RULES[ids::CLOUD_IAM];
    for sa in &m.service_accounts {
        let default_hit =
            enabled(default_sa) && sa.name == "default" && sa.automount != Some(false);
        let iam_hit = enabled(iam)
            && IAM_ANNOTATIONS
                .iter()
                .any(|k| sa.annotations.contains_key(*k));
        // Decode the object only for the accounts a finding points at.
        if !default_hit && !iam_hit {
            continue;
        }
        let Some(doc) = docs.doc(sa.doc) else {
            continue;
        };
        let doc = &*doc;
        if default_hit {
            out.push(finding(
                doc,
                default_sa,
                default_sa.severity,
                format!(
                    "ServiceAccount {}/default does not set automountServiceAccountToken: false, so every pod without serviceAccountName gets an API token",
                    sa.namespace
                ),
                &FieldPath::root().key("automountServiceAccountToken"),
            ));
        }
        if enabled(iam) {
            for key in IAM_ANNOTATIONS {
                let Some(val) = sa.annotations.get(*key) else {
                    continue;
                };
                let users = crate::objects::distinct(
                    m.token_holders(&Subject::service_account(&sa.namespace, &sa.name))
                        .iter()
                        .map(|w| (w.display(), &*w.file)),
                );
                let tail = if users.is_empty() {
                    String::new()
                } else {
                    format!("; used by {}", list(&users))
                };
                out.push(finding(
                    doc,
                    iam,
                    iam.severity,
                    format!(
                        "ServiceAccount {}/{} is linked to cloud identity {val} ({key}){tail}",
                        sa.namespace, sa.name
                    ),
                    &FieldPath::root()
                        .key("metadata")
                        .key("annotations")
                        .key(*key),
                ));
            }
        }
    }
}

/// Notes suggesting `-n`: workloads without `metadata.namespace` (read as `default`) whose
/// service account is bound, by bindings that write its namespace, only in other namespaces.
/// That is the shape of an install bundle meant for `kubectl apply -n NS` (Argo CD binds
/// `argocd:argocd-application-controller` while its workloads carry no namespace): read as
/// `default`, the workloads would not be linked to their grants. Only bindings from the
/// workload's own directory count (one bundle: a scan of many projects binds many accounts),
/// and not the account `default`, which every namespace has.
pub fn namespace_notes(docs: &(impl Docs + ?Sized), m: &Rbac) -> Vec<InputError> {
    fn dir(file: &str) -> &str {
        file.rsplit_once(['/', '\\']).map_or("", |(d, _)| d)
    }
    let mut bound_in: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for b in m
        .bindings
        .iter()
        .filter(|b| !b.bootstrap && b.doc.is_some())
    {
        let d = dir(b.file.as_deref().unwrap_or(""));
        for s in &b.explicit_accounts {
            if let Some(ns) = &s.namespace
                && s.name != "default"
            {
                bound_in.entry((d, &s.name)).or_default().insert(ns);
            }
        }
    }
    // Workloads by the namespaces their accounts are bound in.
    let mut groups: BTreeMap<Vec<&str>, Vec<&Workload>> = BTreeMap::new();
    for w in m.workloads.iter().filter(|w| !w.namespace_given) {
        let Some(nss) = bound_in.get(&(dir(&w.file), w.service_account.as_str())) else {
            continue;
        };
        if nss.contains(w.namespace.as_str()) {
            continue;
        }
        groups
            .entry(nss.iter().copied().collect())
            .or_default()
            .push(w);
    }
    let mut out = Vec::new();
    for (nss, ws) in groups {
        let Some(first) = ws.first() else {
            continue;
        };
        let names = crate::objects::distinct(ws.iter().map(|w| (w.display(), &*w.file)));
        let accounts: BTreeSet<&str> = ws.iter().map(|w| w.service_account.as_str()).collect();
        let accounts: Vec<String> = accounts.into_iter().map(str::to_owned).collect();
        let (where_, suggest) = match nss.as_slice() {
            [one] => (format!("namespace {one}"), (*one).to_owned()),
            _ => (format!("namespaces {}", nss.join(", ")), "NS".to_owned()),
        };
        let (line, column) = docs
            .doc(first.doc)
            .map(|d| {
                let s = d.locate(&FieldPath::root().key("metadata"));
                (Some(s.line), Some(s.column))
            })
            .unwrap_or_default();
        out.push(InputError {
            file: first.file.to_string(),
            document: docs.doc(first.doc).map(|d| d.index),
            line,
            column,
            kind: "namespace".to_owned(),
            message: format!(
                "{} {} no metadata.namespace and {} read as namespace {}, but {} {} bound in {where_} only; if these manifests are applied with `kubectl apply -n {suggest}`, scan with `-n {suggest}`",
                list(&names),
                if names.len() == 1 { "has" } else { "have" },
                if names.len() == 1 { "is" } else { "are" },
                first.namespace,
                if accounts.len() == 1 {
                    format!("its ServiceAccount {}", list(&accounts))
                } else {
                    format!("their ServiceAccounts {}", list(&accounts))
                },
                if accounts.len() == 1 { "is" } else { "are" },
            ),
        });
    }
    out
}
