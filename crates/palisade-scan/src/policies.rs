//! `--policy`: Gatekeeper constraints and ValidatingAdmissionPolicies (`palisade-policy`) over
//! the scanned objects. Every object is reviewed once all are known, because referential
//! templates read `data.inventory` (the whole scanned set, as Gatekeeper's sync gives it) and
//! `namespaceSelector` reads the object's Namespace from the set. Findings are family
//! [`FAMILY`], one rule per constraint (`KIND/NAME`) or policy (its name).

use palisade_core::{
    Document, FieldPath, Finding, InputError, ObjectRef, Origin, RuleMeta, Severity,
    SuppressedFinding,
};
use palisade_policy::{Action, Authorizer, Inventory, PolicyError, PolicySet, Review, Violation};
use palisade_rules::config::{Config, Date};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Family of every policy finding (the one waivers know: `policy`, `KIND/NAME`,
/// `ValidatingAdmissionPolicy/NAME`).
pub const FAMILY: &str = palisade_rules::config::POLICY_FAMILY;

/// Kind of the input errors and notes about policies.
const KIND: &str = "policy";

/// The policies loaded for a scan.
pub struct Policies {
    set: PolicySet,
    /// One descriptor per constraint that applies offline and per ValidatingAdmissionPolicy.
    rules: Vec<RuleMeta>,
    /// `KIND/NAME` of each of `set.constraints()`, in order.
    ids: Vec<String>,
    /// Constraints whose template did not compile: the load error names it once, rather than
    /// once per object reviewed.
    broken: HashSet<String>,
    /// Whether a template reads `data.inventory` (otherwise no inventory of objects is built).
    reads_inventory: bool,
    /// (group, kind) pairs Gatekeeper's sync configuration (`Config` `spec.sync.syncOnly`,
    /// `SyncSet` `spec.gvks`) names among the policies; None without one: every object.
    sync: Option<HashSet<(String, String)>>,
    /// (apiGroup, kind) patterns (`*` for any) the constraints' `match.kinds` name; None when
    /// some policy may match any object (a constraint without kinds, any VAP).
    kinds: Option<Vec<(String, String)>>,
    /// Whether a CEL expression reads `authorizer`: the scanned RBAC objects are then kept and
    /// answer its checks.
    reads_authorizer: bool,
    /// `--rbac-defaults`: the bootstrap roles and bindings join the scanned RBAC objects.
    rbac_defaults: bool,
    /// Load errors (file, line, the compiler's message).
    errors: Vec<InputError>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("rules", &self.ids)
            .field("errors", &self.errors.len())
            .finish_non_exhaustive()
    }
}

/// Objects that are policy machinery, not workloads: Gatekeeper's templates, constraints, sync
/// configuration and gator suites, and the admission configuration kinds the API server
/// exempts from admission policies and webhooks. They are never reviewed by the policies nor
/// put in the inventory.
pub(crate) fn is_policy_object(v: &Value) -> bool {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    [
        "templates.gatekeeper.sh/",
        "constraints.gatekeeper.sh/",
        "config.gatekeeper.sh/",
        "syncset.gatekeeper.sh/",
        "test.gatekeeper.sh/",
    ]
    .iter()
    .any(|g| api.starts_with(g))
        || (api.starts_with("admissionregistration.k8s.io/")
            && matches!(
                kind,
                "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
                    | "MutatingAdmissionPolicy"
                    | "MutatingAdmissionPolicyBinding"
                    | "ValidatingWebhookConfiguration"
                    | "MutatingWebhookConfiguration"
            ))
}

/// `RuleMeta` holds `&'static str` (the catalog's type): a policy's texts are interned once per
/// distinct text, so scanning again in the same process does not grow memory.
fn intern(s: String) -> &'static str {
    static SEEN: std::sync::OnceLock<std::sync::Mutex<HashSet<&'static str>>> =
        std::sync::OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = seen.get(s.as_str()) {
        return s;
    }
    let s: &'static str = Box::leak(s.into_boxed_str());
    seen.insert(s);
    s
}

fn default_severity(action: Action) -> Severity {
    match action {
        Action::Deny => Severity::High,
        Action::Warn | Action::Dryrun => Severity::Medium,
    }
}

fn annotation<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn load_error(e: &PolicyError) -> InputError {
    let (file, line, message) = match e {
        PolicyError::Read { file, message } => (file.clone(), None, message.clone()),
        PolicyError::Invalid {
            file,
            line,
            what,
            message,
        } => (file.clone(), Some(*line), format!("{what}: {message}")),
        PolicyError::Compile {
            file,
            line,
            template,
            engine,
            message,
        } => (
            file.clone(),
            Some(*line),
            format!("template {template}: {engine} does not compile: {message}"),
        ),
        PolicyError::MissingTemplate {
            file,
            line,
            kind,
            name,
        } => (
            file.clone(),
            Some(*line),
            format!(
                "constraint {kind}/{name}: no ConstraintTemplate defines kind {kind} (pass the template with --policy too)"
            ),
        ),
        other => (String::new(), None, other.to_string()),
    };
    InputError {
        file,
        document: None,
        line: line.filter(|l| *l > 0),
        column: None,
        kind: KIND.to_owned(),
        message,
    }
}

impl Policies {
    /// Reads every ConstraintTemplate, Constraint, ValidatingAdmissionPolicy, binding and param
    /// object under `paths` (never rendered). Problems become [`Policies::errors`]; every
    /// policy that loads still runs.
    pub fn load(paths: &[PathBuf], yaml: &palisade_yaml::Limits, timeout: Duration) -> Policies {
        let yaml = palisade_yaml::Limits {
            render: None,
            ..yaml.clone()
        };
        let loaded = palisade_yaml::load_paths(paths, &yaml);
        let mut errors = loaded.errors;
        #[allow(clippy::needless_update)] // the limits may grow
        let limits = palisade_policy::Limits {
            rego_time: timeout,
            ..palisade_policy::Limits::default()
        };
        let (set, problems) = PolicySet::from_documents(&loaded.documents, limits);
        errors.extend(problems.iter().map(load_error));
        let docs = &loaded.documents;

        // Template title and description by constraint kind; whether any reads the inventory.
        let mut about: HashMap<String, (String, String)> = HashMap::new();
        let mut reads_inventory = false;
        for d in docs
            .iter()
            .filter(|d| d.value.get("kind").and_then(Value::as_str) == Some("ConstraintTemplate"))
        {
            let v = &d.value;
            let Some(kind) = v
                .pointer("/spec/crd/spec/names/kind")
                .and_then(Value::as_str)
            else {
                continue;
            };
            reads_inventory |= v
                .pointer("/spec/targets")
                .is_some_and(|t| t.to_string().contains("inventory"));
            about.insert(
                kind.to_owned(),
                (
                    annotation(v, "metadata.gatekeeper.sh/title")
                        .unwrap_or(kind)
                        .to_owned(),
                    annotation(v, "description").unwrap_or("").to_owned(),
                ),
            );
        }
        let broken_templates: HashSet<&str> = problems
            .iter()
            .filter_map(|e| match e {
                PolicyError::Compile { template, .. } => Some(template.as_str()),
                _ => None,
            })
            .collect();
        let broken_kinds: HashSet<&str> = set
            .templates()
            .iter()
            .filter(|t| broken_templates.contains(t.name.as_str()))
            .map(|t| t.kind.as_str())
            .collect();

        let mut rules = Vec::new();
        let mut ids = Vec::new();
        let mut broken = HashSet::new();
        for c in set.constraints() {
            let id = c.id();
            if broken_kinds.contains(c.kind.as_str()) {
                broken.insert(id.clone());
            }
            if let Some(action) = c.action {
                let (title, description) = about
                    .get(&c.kind)
                    .cloned()
                    .unwrap_or_else(|| (c.kind.clone(), String::new()));
                rules.push(meta(
                    &id,
                    title,
                    description,
                    format!("Gatekeeper constraint {id} ({}:{})", c.file, c.line),
                    c.severity.unwrap_or(default_severity(action)),
                ));
            }
            ids.push(id);
        }
        for d in docs {
            let v = &d.value;
            let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if v.get("kind").and_then(Value::as_str) != Some("ValidatingAdmissionPolicy")
                || !api.starts_with("admissionregistration.k8s.io/")
            {
                continue;
            }
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            rules.push(meta(
                name,
                format!("ValidatingAdmissionPolicy {name}"),
                annotation(v, "description").unwrap_or("").to_owned(),
                format!(
                    "ValidatingAdmissionPolicy {name} ({}:{})",
                    d.file, d.spans.span.line
                ),
                annotation(v, "palisade.dev/severity")
                    .and_then(Severity::parse)
                    .unwrap_or(Severity::High),
            ));
        }
        let sync = sync_kinds(docs);
        let has_vap = rules.len()
            > set
                .constraints()
                .iter()
                .filter(|c| c.action.is_some())
                .count();
        let kinds = if has_vap { None } else { match_kinds(&set) };
        rules.sort_by(|a, b| a.id.cmp(b.id));
        rules.dedup_by(|a, b| a.id == b.id);
        Policies {
            reads_authorizer: set.reads_authorizer(),
            rbac_defaults: false,
            set,
            rules,
            ids,
            broken,
            reads_inventory,
            sync,
            kinds,
            errors,
        }
    }

    /// With `on`, `authorizer` also answers from the roles and bindings every cluster is
    /// created with (`--rbac-defaults`).
    pub fn with_rbac_defaults(mut self, on: bool) -> Policies {
        self.rbac_defaults = on;
        self
    }

    /// Whether the scan keeps `v` for the review: an object some policy may match, a
    /// Namespace (namespaceSelector), or an object of `data.inventory`. Policy objects never.
    pub(crate) fn keeps(&self, v: &Value) -> bool {
        if is_policy_object(v) {
            return false;
        }
        let (group, kind) = group_kind(v);
        let matched = match &self.kinds {
            None => true,
            Some(k) => k
                .iter()
                .any(|(g, n)| (g == "*" || g == group) && (n == "*" || n == kind)),
        };
        matched
            || (kind == "Namespace" && group.is_empty())
            || (self.reads_inventory && self.synced(v))
            || (self.reads_authorizer
                && group == "rbac.authorization.k8s.io"
                && matches!(
                    kind,
                    "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
                ))
    }

    /// Whether `v` goes into `data.inventory`.
    fn synced(&self, v: &Value) -> bool {
        let Some(sync) = &self.sync else {
            return true;
        };
        let (group, kind) = group_kind(v);
        sync.contains(&(group.to_owned(), kind.to_owned()))
    }

    /// A descriptor per policy (SARIF lists them with the catalog's rules).
    pub fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }

    /// Problems loading the policies.
    pub fn errors(&self) -> &[InputError] {
        &self.errors
    }

    pub fn set(&self) -> &PolicySet {
        &self.set
    }
}

/// An object's API group (empty for the core group) and kind.
fn group_kind(v: &Value) -> (&str, &str) {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    (group, v.get("kind").and_then(Value::as_str).unwrap_or(""))
}

/// What the constraints that apply offline can match by `spec.match.kinds` (apiGroups x kinds;
/// an empty or missing list, or `*`, matches any), or None when one matches every kind.
fn match_kinds(set: &PolicySet) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for c in set.constraints().iter().filter(|c| c.action.is_some()) {
        let entries = c
            .object()
            .pointer("/spec/match/kinds")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())?;
        for e in entries {
            let list = |k: &str| -> Vec<String> {
                let v: Vec<String> = e
                    .get(k)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect();
                if v.is_empty() {
                    vec!["*".to_owned()]
                } else {
                    v
                }
            };
            for g in list("apiGroups") {
                for k in list("kinds") {
                    out.push((g.clone(), k));
                }
            }
        }
    }
    Some(out)
}

/// The kinds Gatekeeper would replicate into `data.inventory`: the union of every `Config`'s
/// `spec.sync.syncOnly` and every `SyncSet`'s `spec.gvks` (by group and kind; offline there is
/// no version conversion, so an object's version does not matter). None when there is none.
fn sync_kinds(docs: &[Document]) -> Option<HashSet<(String, String)>> {
    let mut out: Option<HashSet<(String, String)>> = None;
    for d in docs {
        let v = &d.value;
        let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        let list = if api.starts_with("config.gatekeeper.sh/") && kind == "Config" {
            v.pointer("/spec/sync/syncOnly")
        } else if api.starts_with("syncset.gatekeeper.sh/") && kind == "SyncSet" {
            v.pointer("/spec/gvks")
        } else {
            continue;
        };
        let set = out.get_or_insert_with(HashSet::new);
        for e in list.and_then(Value::as_array).into_iter().flatten() {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            set.insert((s("group"), s("kind")));
        }
    }
    out
}

fn meta(
    id: &str,
    title: String,
    description: String,
    source: String,
    severity: Severity,
) -> RuleMeta {
    let id = intern(id.to_owned());
    RuleMeta {
        id,
        name: id,
        family: FAMILY,
        title: intern(title),
        severity,
        rationale: intern(if description.is_empty() {
            format!("{source}.")
        } else {
            format!("{description} ({source})")
        }),
        remediation: intern(format!(
            "Change the object so that it satisfies {source}, or waive the finding with a reason."
        )),
        references: &[],
        // No page under docs/rules/ for a user's policy: printers give no link.
        help_uri: "",
        own_page: false,
    }
}

/// What reviewing the scanned set gave.
#[derive(Default)]
pub(crate) struct Reviewed {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<SuppressedFinding>,
    pub errors: Vec<InputError>,
    pub notes: Vec<InputError>,
}

/// One problem evaluating a policy, however many objects it came up on.
struct Problem {
    /// The first object it came up on (by file and document).
    first: (String, usize, u32, u32, String),
    count: usize,
    note: bool,
    timeout: bool,
}

/// What one worker found.
#[derive(Default)]
struct Part {
    findings: Vec<Finding>,
    suppressed: Vec<SuppressedFinding>,
    problems: BTreeMap<(String, String), Problem>,
}

/// Reviews every object of `docs` (on all cores) with the policies, then waives the findings
/// like any other (annotations of the reviewed object, the configuration's exceptions).
pub(crate) fn review_all(
    policies: &Policies,
    docs: &palisade_graph::Packed,
    namespaces: &[Value],
    origins: &HashMap<String, Origin>,
    config: Option<&Config>,
    today: Date,
) -> Reviewed {
    use palisade_graph::Docs;
    let inventory = if policies.reads_inventory {
        // Objects one at a time, each dropped once converted: never all held as JSON at once.
        Inventory::from_objects(
            (0..docs.count())
                .filter_map(|i| docs.doc_value(i).map(|d| d.into_owned().value))
                .filter(|v| policies.synced(v)),
        )
    } else {
        // Only Namespaces: what namespaceSelector reads.
        Inventory::from_objects(namespaces)
    };
    // `authorizer` answers from the scanned Roles and bindings. A scanned object has no
    // requesting user, so checks on `authorizer` itself are errored (failurePolicy decides);
    // `authorizer.serviceAccount(ns, name)` checks are answered.
    let authorizer = policies
        .reads_authorizer
        .then(|| std::sync::Arc::new(Authorizer::from_documents(docs, policies.rbac_defaults)));
    let ns_by_name: HashMap<&str, &Value> = namespaces
        .iter()
        .filter_map(|n| Some((n.pointer("/metadata/name")?.as_str()?, n)))
        .collect();
    let disabled: Vec<AtomicBool> = policies
        .ids
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    let count = docs.count();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    // Small slices taken in turn keep the threads busy to the end however costs vary.
    let next = std::sync::atomic::AtomicUsize::new(0);
    const SLICE: usize = 16;
    let work = || {
        let mut part = Part::default();
        loop {
            let lo = next.fetch_add(SLICE, Ordering::Relaxed);
            if lo >= count {
                break;
            }
            for i in lo..(lo + SLICE).min(count) {
                if let Some(doc) = docs.doc(i) {
                    review_one(
                        policies,
                        &doc,
                        &inventory,
                        authorizer.as_ref(),
                        &ns_by_name,
                        &disabled,
                        origins,
                        config,
                        today,
                        &mut part,
                    );
                }
            }
        }
        part
    };
    let parts: Vec<Option<Part>> = if threads <= 1 || count <= SLICE {
        vec![Some(work())]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            handles.into_iter().map(|h| h.join().ok()).collect()
        })
    };
    let mut out = Reviewed::default();
    let mut problems: BTreeMap<(String, String), Problem> = BTreeMap::new();
    for p in parts {
        // A policy evaluation that panicked must not pass for a clean review.
        let Some(p) = p else {
            out.errors.push(InputError {
                file: String::new(),
                document: None,
                line: None,
                column: None,
                kind: "internal".to_owned(),
                message: "reviewing objects with the policies failed (a bug: please report it); some policy findings are missing".to_owned(),
            });
            continue;
        };
        out.findings.extend(p.findings);
        out.suppressed.extend(p.suppressed);
        for (k, v) in p.problems {
            match problems.get_mut(&k) {
                Some(have) => {
                    have.count += v.count;
                    if (&v.first.0, v.first.1) < (&have.first.0, have.first.1) {
                        have.first = v.first;
                    }
                }
                None => {
                    problems.insert(k, v);
                }
            }
        }
    }
    for ((_, message), p) in problems {
        let (file, document, line, column, object) = p.first;
        let more = match p.count {
            1 => String::new(),
            n => format!(
                " (and {} more object{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        let message = if p.note {
            format!("{message}: {object}{more} not reviewed by this policy")
        } else if p.timeout {
            format!(
                "{message}; reviewing {object}{more}; the policy was not run on the objects after it"
            )
        } else {
            format!("{message}; reviewing {object}{more}")
        };
        let e = InputError {
            file,
            document: Some(document),
            line: Some(line),
            column: Some(column),
            kind: KIND.to_owned(),
            message,
        };
        if p.note {
            out.notes.push(e);
        } else {
            out.errors.push(e);
        }
    }
    out
}

/// `Kind namespace/name` of an object, for messages.
fn describe(o: &ObjectRef) -> String {
    let name = o.name.as_deref().unwrap_or("<unnamed>");
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{name}", o.kind),
        None => format!("{} {name}", o.kind),
    }
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn review_one(
    policies: &Policies,
    doc: &Document,
    inventory: &Inventory,
    authorizer: Option<&std::sync::Arc<Authorizer>>,
    namespaces: &HashMap<&str, &Value>,
    disabled: &[AtomicBool],
    origins: &HashMap<String, Origin>,
    config: Option<&Config>,
    today: Date,
    part: &mut Part,
) {
    let v = &doc.value;
    let ns_obj = v
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .and_then(|n| namespaces.get(n).copied());
    let review = Review::of_object(v, ns_obj).with_authorizer(authorizer.cloned());
    let mut violations: Vec<(Violation, Option<String>)> = Vec::new();
    let mut problems: Vec<PolicyError> = Vec::new();
    let set = &policies.set;
    for ((c, id), off) in set.constraints().iter().zip(&policies.ids).zip(disabled) {
        if policies.broken.contains(id) || off.load(Ordering::Relaxed) {
            continue;
        }
        match set.review(c, &review, inventory, None) {
            Ok(found) => violations.extend(found.into_iter().map(|x| (x, None))),
            Err(e) => {
                if is_timeout(&e) {
                    off.store(true, Ordering::Relaxed);
                }
                problems.push(e);
            }
        }
    }
    let (found, errs) = set.evaluate_vaps_with(v, ns_obj, authorizer.cloned());
    problems.extend(errs);
    // A VAP violation names `POLICY/BINDING`: the rule is the policy, the binding goes in the
    // message.
    violations.extend(found.into_iter().map(|mut x| {
        let binding = x
            .policy
            .split_once('/')
            .map(|(p, b)| (p.to_owned(), b.to_owned()));
        match binding {
            Some((p, b)) => {
                x.policy = p;
                (x, Some(b))
            }
            None => (x, Some(String::new())),
        }
    }));
    let object = ObjectRef::of(v);
    if !problems.is_empty() {
        let at = doc.locate(&FieldPath::root());
        for e in problems {
            let note = matches!(&e, PolicyError::Match { message, .. } if message.contains("namespaceSelector"));
            let key = match &e {
                PolicyError::Eval { policy, .. } | PolicyError::Match { policy, .. } => {
                    policy.clone()
                }
                _ => String::new(),
            };
            let timeout = is_timeout(&e);
            let entry = part
                .problems
                .entry((key, e.to_string()))
                .or_insert_with(|| Problem {
                    first: (
                        doc.file.to_string(),
                        doc.index,
                        at.line,
                        at.column,
                        describe(&object),
                    ),
                    count: 0,
                    note,
                    timeout,
                });
            entry.count += 1;
        }
    }
    if violations.is_empty() {
        return;
    }
    // One finding per policy and message: a VAP binding with several validationActions gives
    // one violation per action.
    // (policy, message) -> (severity, actions, details, VAP binding).
    type Merged = (Severity, BTreeSet<Action>, Value, Option<String>);
    let mut merged: BTreeMap<(String, String), Merged> = BTreeMap::new();
    for (x, binding) in violations {
        let e = merged.entry((x.policy, x.message)).or_insert((
            x.severity,
            BTreeSet::new(),
            x.details,
            binding,
        ));
        e.0 = e.0.max(x.severity);
        e.1.insert(x.action);
    }
    let origin = origins.get(&*doc.file).cloned().map(Box::new);
    let mut findings = Vec::with_capacity(merged.len());
    for ((policy, message), (severity, actions, details, binding)) in merged {
        let field = details
            .get("field")
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty())
            .unwrap_or("");
        let at = doc.locate(&if field.is_empty() {
            FieldPath::root()
        } else {
            FieldPath::parse(field)
        });
        let message = if message.trim().is_empty() {
            format!("violates {policy}")
        } else {
            message
        };
        let (message, action) = match binding {
            // A Gatekeeper constraint: its enforcementAction.
            None => (
                message,
                actions
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Some(b) => {
                // validationActions in the API's own spelling and order: Deny, Warn, Audit.
                let vap_actions = [
                    (Action::Deny, "Deny"),
                    (Action::Warn, "Warn"),
                    (Action::Dryrun, "Audit"),
                ]
                .iter()
                .filter(|(a, _)| actions.contains(a))
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(",");
                if b.is_empty() {
                    (message, vap_actions)
                } else {
                    (format!("{message} (binding {b})"), vap_actions)
                }
            }
        };
        findings.push(Finding {
            rule: policy,
            family: FAMILY.to_owned(),
            severity,
            message,
            file: doc.file.to_string(),
            line: at.line,
            column: at.column,
            document: doc.index,
            object: object.clone(),
            field: field.to_owned(),
            fields: Vec::new(),
            paths: Vec::new(),
            origin: origin.clone(),
            action: Some(action).filter(|a| !a.is_empty()),
        });
    }
    let annotated = palisade_rules::config::has_waiver_annotations(doc);
    let docs: &[Document] = if annotated {
        std::slice::from_ref(doc)
    } else {
        &[]
    };
    let waived = palisade_rules::config::waive(docs, findings, config, today);
    // waived.notes repeats the annotation notes of the first pass.
    part.findings.extend(waived.findings);
    part.suppressed.extend(waived.suppressed);
}

fn is_timeout(e: &PolicyError) -> bool {
    matches!(e, PolicyError::Eval { message, .. } if message.contains("time limit"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// `--rbac-defaults` adds the bootstrap roles to what `authorizer` answers from: a scanned
    /// ClusterRoleBinding of `system:discovery` grants only when that role exists.
    #[test]
    fn rbac_defaults_join_the_authorizer_set() {
        let dir = tempfile::tempdir().unwrap();
        let vap = dir.path().join("vap.yaml");
        std::fs::write(
            &vap,
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: no-jwks\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [\"\"]\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [configmaps]\n  validations:\n  - expression: \"!authorizer.serviceAccount('a', 'b').path('/version').check('get').allowed()\"\n    message: discovers\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: no-jwks-binding\nspec:\n  policyName: no-jwks\n  validationActions: [Deny]\n",
        )
        .unwrap();
        let cm = palisade_yaml::load_str(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: b-discovers\nsubjects:\n- kind: ServiceAccount\n  name: b\n  namespace: a\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: system:discovery\n",
            &palisade_yaml::Limits::default(),
        );
        let mut docs = palisade_graph::Packed::new();
        for d in &cm.documents {
            docs.push(d, false);
        }
        let today = Date::parse("2026-01-01").unwrap();
        let run = |defaults: bool| {
            let p = Policies::load(
                std::slice::from_ref(&vap),
                &palisade_yaml::Limits::default(),
                Duration::from_secs(5),
            )
            .with_rbac_defaults(defaults);
            assert!(p.errors().is_empty(), "{:?}", p.errors());
            let r = review_all(&p, &docs, &[], &HashMap::new(), None, today);
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            r.findings.len()
        };
        assert_eq!(run(false), 0);
        assert_eq!(run(true), 1);
    }
}
