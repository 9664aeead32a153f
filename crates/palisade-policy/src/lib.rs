//! Gatekeeper policies, offline: ConstraintTemplates (Rego on regorus, CEL `K8sNativeValidation`
//! on kube-cel), their Constraints with Gatekeeper's `match` semantics and enforcement actions,
//! `data.inventory` for referential templates, and gator-format test suites (`suite`).
//! [`PolicySet`] is the one entry point the scanner and the binary use; it never prints.

mod authz;
mod cel;
mod matching;
mod model;
mod rego;
pub mod suite;
mod vap;

use std::collections::BTreeMap;
use std::time::Duration;

pub use authz::Authorizer;
pub use cel::{MAX_STEPS as CEL_MAX_STEPS, MAX_VALUE_BYTES as CEL_MAX_VALUE_BYTES};
pub use model::{Action, Constraint, Template};
use palisade_core::Severity;
use serde_json::{Map, Value, json};

/// Which engine produced a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EngineKind {
    Rego,
    Cel,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Rego => "rego",
            EngineKind::Cel => "cel",
        }
    }
}

/// Problems loading or running policies. Every variant names the file (and line) or the policy.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}:{line}: {what}: {message}")]
    Invalid {
        file: String,
        line: u32,
        what: String,
        message: String,
    },
    #[error("{file}:{line}: template {template}: {engine} does not compile: {message}")]
    Compile {
        file: String,
        line: u32,
        template: String,
        engine: &'static str,
        message: String,
    },
    #[error(
        "{file}:{line}: constraint {kind}/{name}: no ConstraintTemplate defines kind {kind} (load the template with the constraint)"
    )]
    MissingTemplate {
        file: String,
        line: u32,
        kind: String,
        name: String,
    },
    #[error("policy {policy}: {engine} evaluation failed: {message}")]
    Eval {
        policy: String,
        engine: &'static str,
        message: String,
    },
    #[error("policy {policy}: match: {message}")]
    Match { policy: String, message: String },
}

/// Execution limits per evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock budget of one evaluation of one policy, in both engines: regorus's execution
    /// timer for Rego; for CEL, checked every 64 comprehension steps (besides the fixed
    /// [`CEL_MAX_STEPS`] and [`CEL_MAX_VALUE_BYTES`]). Exceeding it is an error naming the
    /// policy. Raise with `--policy-timeout` where the binary exposes it.
    pub rego_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rego_time: Duration::from_secs(1),
        }
    }
}

/// Objects that referential templates read through `data.inventory`, and the Namespaces the
/// matcher's `namespaceSelector` reads.
///
/// Built once, straight into regorus's value form (keys interned across objects), and shared
/// by every engine: an evaluation only takes a reference-counted handle to it.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Cluster-scoped `v1` Namespaces by name.
    namespaces: BTreeMap<String, Value>,
    /// `{"inventory": {cluster: ..., namespace: ...}}`, regorus's `data`.
    rego: regorus::Value,
    /// Unique per built inventory: engines keep the last one merged into their data.
    pub(crate) id: u64,
}

static INVENTORY_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_inventory_id() -> u64 {
    INVENTORY_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory::from_objects(std::iter::empty::<Value>())
    }
}

impl Inventory {
    /// Builds `{cluster: {GV: {KIND: {NAME: obj}}}, namespace: {NS: {GV: {KIND: {NAME: obj}}}}}`.
    /// Objects without apiVersion, kind or name are skipped (Gatekeeper rejects them); of two
    /// objects with the same place the later one stays. Takes objects by value or by
    /// reference: given owned objects, each is dropped once converted, so the caller need
    /// not hold them all.
    pub fn from_objects<I>(objects: I) -> Inventory
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<Value>,
    {
        use std::borrow::Borrow;
        type Names = BTreeMap<regorus::Value, regorus::Value>;
        type Kinds = BTreeMap<String, BTreeMap<String, Names>>;
        let mut cluster: Kinds = BTreeMap::new();
        let mut namespaced: BTreeMap<String, Kinds> = BTreeMap::new();
        let mut namespaces = BTreeMap::new();
        let mut keys = rego::Interner::default();
        for item in objects {
            let obj: &Value = item.borrow();
            let (Some(gv), Some(kind), Some(name)) = (
                obj.get("apiVersion").and_then(Value::as_str),
                obj.get("kind").and_then(Value::as_str),
                obj.pointer("/metadata/name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let slot = match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() => namespaced.entry(ns.to_owned()).or_default(),
                _ => {
                    if gv == "v1" && kind == "Namespace" {
                        namespaces.insert(name.to_owned(), obj.clone());
                    }
                    &mut cluster
                }
            };
            slot.entry(gv.to_owned())
                .or_default()
                .entry(kind.to_owned())
                .or_default()
                .insert(regorus::Value::from(name), keys.convert(obj));
        }
        let kinds = |k: Kinds| {
            let m: BTreeMap<regorus::Value, regorus::Value> = k
                .into_iter()
                .map(|(gv, kinds)| {
                    let kinds: BTreeMap<regorus::Value, regorus::Value> = kinds
                        .into_iter()
                        .map(|(kind, names)| {
                            (regorus::Value::from(kind), regorus::Value::from(names))
                        })
                        .collect();
                    (regorus::Value::from(gv), regorus::Value::from(kinds))
                })
                .collect();
            regorus::Value::from(m)
        };
        let namespaced: BTreeMap<regorus::Value, regorus::Value> = namespaced
            .into_iter()
            .map(|(ns, k)| (regorus::Value::from(ns), kinds(k)))
            .collect();
        let tree = BTreeMap::from([
            (regorus::Value::from("cluster"), kinds(cluster)),
            (
                regorus::Value::from("namespace"),
                regorus::Value::from(namespaced),
            ),
        ]);
        let rego = regorus::Value::from(BTreeMap::from([(
            regorus::Value::from("inventory"),
            regorus::Value::from(tree),
        )]));
        Inventory {
            namespaces,
            rego,
            id: next_inventory_id(),
        }
    }

    /// The Namespace object of that name, when the inventory holds it.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces.get(name)
    }

    /// regorus's `data` (a reference-counted handle: cheap to clone).
    pub(crate) fn rego_data(&self) -> regorus::Value {
        self.rego.clone()
    }
}

/// What is reviewed: Gatekeeper's `input.review` for one object (an AdmissionRequest-like map).
#[derive(Debug, Clone)]
pub struct Review {
    /// The AdmissionRequest JSON (`kind`, `object`, `oldObject`, `operation`, `userInfo`, ...).
    pub request: Value,
    /// The Namespace of a namespaced object, when known (`namespaceObject`, `namespaceSelector`).
    pub namespace_object: Option<Value>,
    /// The review converted for each engine once, shared by every constraint.
    pub(crate) rego: std::sync::OnceLock<regorus::Value>,
    pub(crate) cel: std::sync::OnceLock<std::sync::Arc<cel::CelReview>>,
    /// The RBAC set CEL's `authorizer` answers from (None: its checks are errored).
    pub(crate) authorizer: Option<std::sync::Arc<Authorizer>>,
}

impl Review {
    /// A review of an AdmissionRequest (`request` of an AdmissionReview).
    pub fn new(request: Value, namespace_object: Option<Value>) -> Review {
        Review {
            request,
            namespace_object,
            rego: std::sync::OnceLock::new(),
            cel: std::sync::OnceLock::new(),
            authorizer: None,
        }
    }

    /// The RBAC set CEL's `authorizer` answers from for this review.
    pub fn with_authorizer(mut self, authorizer: Option<std::sync::Arc<Authorizer>>) -> Review {
        self.authorizer = authorizer;
        self
    }

    /// A plain object as audit and gator review it: `{kind, object, name, namespace}`,
    /// operation `""`, empty userInfo.
    pub fn of_object(object: &Value, namespace_object: Option<&Value>) -> Review {
        let mut req = Map::new();
        req.insert("kind".into(), gvk(object));
        req.insert("object".into(), object.clone());
        req.insert("oldObject".into(), Value::Null);
        if let Some(n) = object.pointer("/metadata/name").and_then(Value::as_str) {
            req.insert("name".into(), Value::String(n.to_owned()));
        }
        if let Some(n) = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
        {
            req.insert("namespace".into(), Value::String(n.to_owned()));
        }
        req.insert("operation".into(), Value::String(String::new()));
        req.insert("userInfo".into(), json!({}));
        Review::new(Value::Object(req), namespace_object.cloned())
    }

    pub(crate) fn operation(&self) -> &str {
        self.request
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub(crate) fn object(&self) -> &Value {
        self.request.get("object").unwrap_or(&Value::Null)
    }
    pub(crate) fn old_object(&self) -> &Value {
        self.request.get("oldObject").unwrap_or(&Value::Null)
    }
}

fn gvk(object: &Value) -> Value {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    json!({
        "group": group,
        "version": version,
        "kind": object.get("kind").and_then(Value::as_str).unwrap_or(""),
    })
}

/// One violation of one constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `KIND/NAME` of the constraint.
    pub policy: String,
    pub action: Action,
    pub message: String,
    pub severity: Severity,
    /// Rego `details` (`{}` when absent; null for CEL).
    pub details: Value,
    pub engine: EngineKind,
    /// A ValidatingAdmissionPolicy violation's `reason` (a Kubernetes `StatusReason`, one of
    /// [`VAP_REASONS`]; `Invalid` when the validation sets none); None for constraints.
    pub reason: Option<String>,
}

/// The `reason`s a ValidatingAdmissionPolicy validation may set (the API server's sorted list)
/// and the HTTP code of each.
pub const VAP_REASONS: [(&str, u16); 4] = [
    ("Forbidden", 403),
    ("Invalid", 422),
    ("RequestEntityTooLarge", 413),
    ("Unauthorized", 401),
];

/// The HTTP code of a ValidatingAdmissionPolicy `reason`; 400 (BadRequest) for any other,
/// as the API server answers.
pub fn vap_reason_code(reason: &str) -> u16 {
    VAP_REASONS
        .iter()
        .find(|(r, _)| *r == reason)
        .map_or(400, |(_, c)| *c)
}

/// What the policies found for one admission request ([`PolicySet::evaluate_request`]).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Constraints' violations (load order), then the ValidatingAdmissionPolicies'.
    pub violations: Vec<Violation>,
    /// Policies that could not be evaluated (compile errors, runaway policies, the deadline).
    pub errors: Vec<PolicyError>,
    /// ValidatingAdmissionPolicy `auditAnnotations`: `POLICY/KEY` and the value.
    pub audit_annotations: Vec<(String, String)>,
    /// Evaluations run: one per constraint, one for all the ValidatingAdmissionPolicies.
    pub evaluated: usize,
}

/// Templates and constraints loaded together.
#[derive(Debug, Default)]
pub struct PolicySet {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
    vaps: vap::VapSet,
    limits: Limits,
    /// The RBAC set CEL's `authorizer` answers from in the reviews this set builds.
    authorizer: Option<std::sync::Arc<Authorizer>>,
}

impl PolicySet {
    /// Loads every ConstraintTemplate and Constraint found under `paths` (files or directories);
    /// other objects are ignored. Broken templates and constraints without a template become
    /// errors; everything else still loads.
    pub fn load<P: AsRef<std::path::Path>>(paths: &[P]) -> (PolicySet, Vec<PolicyError>) {
        let loaded = palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default());
        let mut errors: Vec<PolicyError> = loaded
            .errors
            .iter()
            .map(|e| PolicyError::Read {
                file: e.file.clone(),
                message: e.to_string(),
            })
            .collect();
        let (set, more) = PolicySet::from_documents(&loaded.documents, Limits::default());
        errors.extend(more);
        (set, errors)
    }

    /// The RBAC set CEL's `authorizer` answers from in [`PolicySet::evaluate`],
    /// [`PolicySet::evaluate_request`] and [`PolicySet::evaluate_vaps`] (None: every check is
    /// errored, saying no RBAC objects were given).
    pub fn set_authorizer(&mut self, authorizer: Option<std::sync::Arc<Authorizer>>) {
        self.authorizer = authorizer;
    }

    /// Same as [`PolicySet::load`] over documents already read.
    pub fn from_documents(
        docs: &[palisade_core::Document],
        limits: Limits,
    ) -> (PolicySet, Vec<PolicyError>) {
        let mut set = PolicySet {
            limits,
            ..PolicySet::default()
        };
        let mut errors = Vec::new();
        set.vaps = vap::VapSet::load(docs, &mut errors);
        for doc in docs.iter().filter(|d| model::is_template(&d.value)) {
            match Template::from_document(doc) {
                Ok((t, errs)) => {
                    errors.extend(errs);
                    set.templates.push(t);
                }
                Err(e) => errors.push(e),
            }
        }
        for doc in docs.iter().filter(|d| model::is_constraint(&d.value)) {
            match Constraint::from_document(doc) {
                Ok(c) => {
                    if set.template(&c.kind).is_some() {
                        set.constraints.push(c);
                    } else {
                        errors.push(PolicyError::MissingTemplate {
                            file: doc.file.to_string(),
                            line: doc.spans.span.line,
                            kind: c.kind,
                            name: c.name,
                        });
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        (set, errors)
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The template defining constraint kind `kind`, if it loaded (compile errors included:
    /// such a template has no engine and evaluation reports the error).
    pub fn template(&self, kind: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.kind == kind)
    }

    /// Every violation of every constraint for one object, as gator reviews it. The engine is
    /// Gatekeeper's choice: CEL where the template has it, else Rego. Errors (a policy that does
    /// not compile, a runaway policy, a namespaceSelector without the Namespace) are returned
    /// beside the violations of the other policies.
    pub fn evaluate(
        &self,
        object: &Value,
        namespace_object: Option<&Value>,
        inventory: &Inventory,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        let ns_owned;
        let namespace_object = match namespace_object {
            Some(n) => Some(n),
            None => {
                ns_owned = object
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .and_then(|ns| inventory.namespace(ns).cloned());
                ns_owned.as_ref()
            }
        };
        let review =
            Review::of_object(object, namespace_object).with_authorizer(self.authorizer.clone());
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for c in &self.constraints {
            match self.review(c, &review, inventory, None) {
                Ok(v) => out.extend(v),
                Err(e) => errors.push(e),
            }
        }
        let (v, e) = self.evaluate_vaps(object, namespace_object);
        out.extend(v);
        errors.extend(e);
        (out, errors)
    }

    /// Every policy on one admission request (the `request` of an AdmissionReview: `kind`,
    /// `resource`, `subResource`, `name`, `namespace`, `operation`, `userInfo`, `object`,
    /// `oldObject`, `dryRun`, `options`), as the API server and Gatekeeper's webhook see it:
    /// Rego's `input.review` is the request (on DELETE `object` is the old object, as
    /// Gatekeeper does); CEL's `object` (null on DELETE), `oldObject`, `request` and
    /// `namespaceObject` are bound from it; ValidatingAdmissionPolicies match on its operation,
    /// resource and subresource. `namespace_object`: the request's Namespace (null for
    /// cluster-scoped objects and Namespaces). A policy not started by `deadline` is not
    /// evaluated: one error says how many were left (message contains "time limit").
    pub fn evaluate_request(
        &self,
        request: &Value,
        namespace_object: Option<&Value>,
        inventory: &Inventory,
        deadline: Option<std::time::Instant>,
    ) -> Outcome {
        let mut out = Outcome::default();
        let review = Review::new(request.clone(), namespace_object.cloned())
            .with_authorizer(self.authorizer.clone());
        let object = match review.object() {
            Value::Object(_) => review.object(),
            _ => review.old_object(),
        };
        if !object.is_object() {
            return out;
        }
        let late = |done: usize| {
            deadline
                .filter(|d| std::time::Instant::now() > *d)
                .map(|_| PolicyError::Eval {
                    policy: format!(
                        "{} of {} policies",
                        self.policy_count() - done,
                        self.policy_count()
                    ),
                    engine: "budget",
                    message: "not evaluated: the review's time limit was reached".to_owned(),
                })
        };
        for (i, c) in self.constraints.iter().enumerate() {
            if let Some(e) = late(i) {
                out.errors.push(e);
                return out;
            }
            out.evaluated += 1;
            match self.review(c, &review, inventory, None) {
                Ok(v) => out.violations.extend(v),
                Err(e) => out.errors.push(e),
            }
        }
        if !self.vaps.is_empty() {
            if let Some(e) = late(self.constraints.len()) {
                out.errors.push(e);
                return out;
            }
            out.evaluated += 1;
            self.vaps.evaluate(&review, &self.limits, &mut out);
        }
        out
    }

    /// Whether a ValidatingAdmissionPolicy or a CEL template reads `authorizer`: only then
    /// does a caller need to build the RBAC set ([`PolicySet::set_authorizer`]).
    pub fn reads_authorizer(&self) -> bool {
        self.vaps.reads_authorizer()
            || self.templates.iter().any(|t| {
                t.cel
                    .as_ref()
                    .is_some_and(cel::CelProgram::reads_authorizer)
            })
    }

    /// Constraints plus ValidatingAdmissionPolicyBindings loaded.
    pub fn policy_count(&self) -> usize {
        self.constraints.len() + self.vaps.binding_count()
    }

    /// The ValidatingAdmissionPolicy part of [`PolicySet::evaluate`] alone, for callers that
    /// review constraints one by one with [`PolicySet::review`] (the scanner, which stops
    /// running a constraint that timed out).
    pub fn evaluate_vaps(
        &self,
        object: &Value,
        namespace_object: Option<&Value>,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        self.evaluate_vaps_with(object, namespace_object, self.authorizer.clone())
    }

    /// [`PolicySet::evaluate_vaps`] with `authorizer` answering from that RBAC set.
    pub fn evaluate_vaps_with(
        &self,
        object: &Value,
        namespace_object: Option<&Value>,
        authorizer: Option<std::sync::Arc<Authorizer>>,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        if !self.vaps.is_empty() {
            // A scanned object is reviewed as its CREATE.
            let mut review =
                Review::of_object(object, namespace_object).with_authorizer(authorizer);
            if let Value::Object(m) = &mut review.request {
                m.insert("operation".into(), Value::String("CREATE".into()));
            }
            if object.get("kind").and_then(Value::as_str) == Some("Namespace") {
                // namespaceObject is null for requests on Namespaces themselves.
                review.namespace_object = None;
            }
            let mut vap = Outcome::default();
            self.vaps.evaluate(&review, &self.limits, &mut vap);
            out.extend(vap.violations);
            errors.extend(vap.errors);
        }
        (out, errors)
    }

    /// Violations of one constraint for one review, on `engine` (None: Gatekeeper's choice).
    /// An empty list when the constraint does not match or does not apply at gator's point.
    pub fn review(
        &self,
        c: &Constraint,
        review: &Review,
        inventory: &Inventory,
        engine: Option<EngineKind>,
    ) -> Result<Vec<Violation>, PolicyError> {
        let Some(action) = c.action else {
            return Ok(Vec::new());
        };
        let t = self.template(&c.kind).ok_or_else(|| PolicyError::Eval {
            policy: c.id(),
            engine: "match",
            message: format!("no template for kind {}", c.kind),
        })?;
        if !matching::matches(c, review, inventory)? {
            return Ok(Vec::new());
        }
        let engine = match engine {
            Some(e) => e,
            None if t.cel.is_some() || t.cel_error.is_some() => EngineKind::Cel,
            None => EngineKind::Rego,
        };
        let found = match engine {
            EngineKind::Rego => match (&t.rego, &t.rego_error) {
                (Some(r), _) => r.violations(c, review, inventory, &self.limits)?,
                (None, Some(e)) => return Err(eval_error(c, "rego", e)),
                (None, None) => return Err(eval_error(c, "rego", "the template has no Rego")),
            },
            EngineKind::Cel => match (&t.cel, &t.cel_error) {
                (Some(p), _) => p
                    .eval(&c.cel_object, review, &self.limits)
                    .map_err(|m| eval_error(c, "cel", m))?,
                (None, Some(e)) => return Err(eval_error(c, "cel", e)),
                (None, None) => return Err(eval_error(c, "cel", "the template has no CEL")),
            },
        };
        Ok(found
            .into_iter()
            .map(|(message, details)| Violation {
                policy: c.id(),
                action,
                message,
                severity: c.severity.unwrap_or(action.default_severity()),
                details,
                engine,
                reason: None,
            })
            .collect())
    }
}

fn eval_error(
    c: &Constraint,
    engine: &'static str,
    message: impl std::fmt::Display,
) -> PolicyError {
    PolicyError::Eval {
        policy: c.id(),
        engine,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Inventory, Review};
    use serde_json::{Value, json};

    /// Objects covering every JSON shape: integers of each sign and size, floats, nested
    /// arrays and objects, empty containers, an object in the "" namespace, a duplicate
    /// (the later one stays) and objects Gatekeeper skips.
    fn objects() -> Vec<Value> {
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "namespace": ""}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "a"},
                   "spec": {"replicas": 3, "min": -7, "big": u64::MAX, "ratio": 0.25, "e": 1e300,
                            "list": [[1, "two", null, true], {}, []], "none": null, "empty": {}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "a"}, "spec": {"replicas": 4}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "a"}}),
            json!({"kind": "Service", "metadata": {"name": "no-api-version"}}),
            json!("not an object"),
        ]
    }

    /// The inventory as it was built before it went straight to regorus values: the JSON tree
    /// converted by regorus's own serde reading.
    fn through_json(objects: &[Value]) -> regorus::Value {
        let mut tree = json!({"cluster": {}, "namespace": {}});
        for obj in objects {
            let (Some(gv), Some(kind), Some(name)) = (
                obj.get("apiVersion").and_then(Value::as_str),
                obj.get("kind").and_then(Value::as_str),
                obj.pointer("/metadata/name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let path = match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() => vec!["namespace", ns, gv, kind],
                _ => vec!["cluster", gv, kind],
            };
            let mut at = &mut tree;
            for p in path {
                at = at
                    .as_object_mut()
                    .map(|m| m.entry(p).or_insert_with(|| json!({})))
                    .unwrap_or_else(|| unreachable!());
            }
            if let Some(m) = at.as_object_mut() {
                m.insert(name.to_owned(), obj.clone());
            }
        }
        regorus::Value::from(json!({ "inventory": tree }))
    }

    #[test]
    fn inventory_holds_what_the_json_tree_held() {
        let objects = objects();
        let inv = Inventory::from_objects(&objects);
        assert_eq!(inv.rego_data(), through_json(&objects));
        // Owned objects give the same inventory.
        assert_eq!(
            Inventory::from_objects(objects.clone()).rego_data(),
            inv.rego_data()
        );
        assert_eq!(
            inv.rego_data()["inventory"]["namespace"]["a"]["apps/v1"]["Deployment"]["d"]["spec"]["replicas"],
            regorus::Value::from(4u64)
        );
        assert_eq!(inv.namespace("a"), objects.first());
        assert_eq!(inv.namespace("b"), objects.get(1));
        assert_eq!(inv.namespace("c"), None);
        assert_eq!(Inventory::default().rego_data(), through_json(&[]));
    }

    #[test]
    fn review_input_is_the_request_converted_by_regorus() {
        let objects = objects();
        let ns = objects.first();
        for object in &objects {
            let review = Review::of_object(object, ns);
            let mut expected = review.request.clone();
            if let Some(m) = expected.as_object_mut() {
                m.insert("namespaceObject".into(), ns.cloned().unwrap_or(Value::Null));
            }
            assert_eq!(
                crate::rego::review_value(&review),
                regorus::Value::from(expected)
            );
        }
        // DELETE: Rego's object is the old object.
        let old = objects.get(2).cloned().unwrap_or_default();
        let review = Review::new(
            json!({"operation": "DELETE", "object": null, "oldObject": old.clone()}),
            None,
        );
        assert_eq!(
            crate::rego::review_value(&review),
            regorus::Value::from(json!({"operation": "DELETE", "object": old.clone(),
                "oldObject": old, "namespaceObject": null}))
        );
    }
}
