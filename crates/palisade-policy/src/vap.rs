//! ValidatingAdmissionPolicy (`admissionregistration.k8s.io/v1`) offline: policies, their
//! bindings and param objects; matchConstraints / binding matchResources (resource rules for
//! CREATE, excludeResourceRules, namespaceSelector, objectSelector), params by name or
//! selector, matchConditions, variables, validations with message/messageExpression,
//! failurePolicy, validationActions. Each (binding, param) evaluation that denies is one
//! violation; the object is reviewed as a CREATE.

use palisade_core::{Document, FieldPath, Severity};
use serde_json::Value;

use crate::cel::{CelProgram, to_cel};
use crate::matching::selector;
use crate::{Action, EngineKind, PolicyError, Review, Violation};

#[derive(Debug)]
pub(crate) struct Vap {
    name: String,
    param_kind: Option<(String, String)>,
    match_constraints: Value,
    program: Result<CelProgram, String>,
    severity: Option<Severity>,
}

#[derive(Debug)]
pub(crate) struct Binding {
    name: String,
    policy: String,
    param_ref: Option<Value>,
    match_resources: Value,
    actions: Vec<Action>,
}

#[derive(Debug, Default)]
pub(crate) struct VapSet {
    policies: Vec<Vap>,
    bindings: Vec<Binding>,
    /// Every loaded object that is not a policy or binding, for params.
    params: Vec<Value>,
}

const GROUP: &str = "admissionregistration.k8s.io/";

fn is(v: &Value, kind: &str) -> bool {
    v.get("kind").and_then(Value::as_str) == Some(kind)
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with(GROUP))
}

impl VapSet {
    pub(crate) fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub(crate) fn load(docs: &[Document], errors: &mut Vec<PolicyError>) -> VapSet {
        let mut set = VapSet::default();
        let mut others: Vec<&Value> = Vec::new();
        for d in docs {
            let v = &d.value;
            let file = d.file.to_string();
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let line_of = |p: &str| d.spans.locate(&FieldPath::parse(p)).line;
            if is(v, "ValidatingAdmissionPolicy") {
                let spec = v.get("spec").cloned().unwrap_or(Value::Null);
                let program = CelProgram::compile_as(&spec, false).map_err(|(field, message)| {
                    errors.push(PolicyError::Compile {
                        file: file.clone(),
                        line: line_of(&format!("spec.{field}")),
                        template: name.clone(),
                        engine: "CEL",
                        message: message.clone(),
                    });
                    format!("spec.{field}: {message}")
                });
                let param_kind = spec.get("paramKind").map(|p| {
                    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    (s("apiVersion"), s("kind"))
                });
                let severity = v
                    .pointer("/metadata/annotations/palisade.dev~1severity")
                    .and_then(Value::as_str)
                    .and_then(Severity::parse);
                set.policies.push(Vap {
                    name,
                    param_kind,
                    match_constraints: spec.get("matchConstraints").cloned().unwrap_or(Value::Null),
                    program,
                    severity,
                });
            } else if is(v, "ValidatingAdmissionPolicyBinding") {
                let spec = v.get("spec").cloned().unwrap_or(Value::Null);
                let mut actions = Vec::new();
                for a in spec
                    .get("validationActions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match a.as_str() {
                        Some("Deny") => actions.push(Action::Deny),
                        Some("Warn") => actions.push(Action::Warn),
                        // Audit-only: recorded, not enforced; reported like Gatekeeper's dryrun.
                        Some("Audit") => actions.push(Action::Dryrun),
                        other => errors.push(PolicyError::Invalid {
                            file: file.clone(),
                            line: line_of("spec.validationActions"),
                            what: format!("ValidatingAdmissionPolicyBinding {name}"),
                            message: format!(
                                "unknown validationAction {other:?} (Deny, Warn, Audit)"
                            ),
                        }),
                    }
                }
                actions.sort();
                set.bindings.push(Binding {
                    name,
                    policy: spec
                        .get("policyName")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    param_ref: spec.get("paramRef").cloned(),
                    match_resources: spec.get("matchResources").cloned().unwrap_or(Value::Null),
                    actions,
                });
            } else {
                others.push(v);
            }
        }
        // Only objects of a paramKind are kept (not every loaded object).
        let kinds: Vec<&(String, String)> = set
            .policies
            .iter()
            .filter_map(|p| p.param_kind.as_ref())
            .collect();
        set.params = others
            .into_iter()
            .filter(|o| {
                kinds.iter().any(|(a, k)| {
                    o.get("apiVersion").and_then(Value::as_str) == Some(a.as_str())
                        && o.get("kind").and_then(Value::as_str) == Some(k.as_str())
                })
            })
            .cloned()
            .collect();
        set
    }

    /// Violations of every policy and binding for one object, reviewed as a CREATE.
    pub(crate) fn evaluate(
        &self,
        object: &Value,
        namespace_object: Option<&Value>,
        out: &mut Vec<Violation>,
        errors: &mut Vec<PolicyError>,
    ) {
        let mut review = Review::of_object(object, namespace_object);
        if let Value::Object(m) = &mut review.request {
            m.insert("operation".into(), Value::String("CREATE".into()));
        }
        let is_ns = object.get("kind").and_then(Value::as_str) == Some("Namespace");
        if is_ns {
            // namespaceObject is null for requests on Namespaces themselves.
            review.namespace_object = None;
        }
        for p in &self.policies {
            if !resources_match(&p.match_constraints, object, namespace_object) {
                continue;
            }
            for b in self.bindings.iter().filter(|b| b.policy == p.name) {
                if !b.match_resources.is_null()
                    && !resources_match(&b.match_resources, object, namespace_object)
                {
                    continue;
                }
                let id = format!("{}/{}", p.name, b.name);
                let program = match &p.program {
                    Ok(pr) => pr,
                    Err(e) => {
                        errors.push(PolicyError::Eval {
                            policy: id,
                            engine: "cel",
                            message: e.clone(),
                        });
                        continue;
                    }
                };
                let params: Vec<Value> = match self.params_for(p, b, object) {
                    Ok(ps) => ps,
                    Err(message) => {
                        // A configuration error: denied under failurePolicy Fail.
                        vec![Value::String(format!("\0{message}"))]
                    }
                };
                for param in &params {
                    let found = match param.as_str().and_then(|s| s.strip_prefix('\0')) {
                        Some(message) => vec![(message.to_owned(), Value::Null)],
                        None => program.eval(&to_cel(param), &review),
                    };
                    for (message, _) in found {
                        for &action in &b.actions {
                            out.push(Violation {
                                policy: id.clone(),
                                action,
                                message: message.clone(),
                                severity: p.severity.unwrap_or(match action {
                                    Action::Deny => Severity::High,
                                    _ => Severity::Medium,
                                }),
                                details: Value::Null,
                                engine: EngineKind::Cel,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The params of one evaluation each: `[null]` without paramKind or paramRef; none when
    /// nothing is found and parameterNotFoundAction is Allow; Err when it is Deny.
    fn params_for(&self, p: &Vap, b: &Binding, object: &Value) -> Result<Vec<Value>, String> {
        let (Some((api, kind)), Some(r)) = (&p.param_kind, &b.param_ref) else {
            return Ok(vec![Value::Null]);
        };
        let want_ns = r
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| {
                object
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
            });
        let name = r.get("name").and_then(Value::as_str);
        let found: Vec<Value> = self
            .params
            .iter()
            .filter(|o| {
                o.get("apiVersion").and_then(Value::as_str) == Some(api.as_str())
                    && o.get("kind").and_then(Value::as_str) == Some(kind.as_str())
                    && want_ns.is_none_or(|ns| {
                        o.pointer("/metadata/namespace")
                            .and_then(Value::as_str)
                            .is_none_or(|n| n == ns)
                    })
                    && match (name, r.get("selector")) {
                        (Some(n), _) => {
                            o.pointer("/metadata/name").and_then(Value::as_str) == Some(n)
                        }
                        (None, Some(sel)) => selector(sel, o.pointer("/metadata/labels")),
                        (None, None) => false,
                    }
            })
            .cloned()
            .collect();
        if found.is_empty()
            && r.get("parameterNotFoundAction").and_then(Value::as_str) == Some("Deny")
        {
            return Err(format!(
                "no params found for policy {} binding {}: {kind} {}",
                p.name,
                b.name,
                name.unwrap_or("(selector)")
            ));
        }
        Ok(found)
    }
}

/// MatchResources for a CREATE of `object`: resourceRules (apiGroups, apiVersions,
/// resources, scope; CREATE among operations), excludeResourceRules, namespaceSelector,
/// objectSelector.
fn resources_match(m: &Value, o: &Value, namespace_object: Option<&Value>) -> bool {
    let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
    let resource = plural(kind);
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let namespaced = o
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let rule_hits = |r: &Value| {
        let has = |key: &str, want: &str| {
            r.get(key).and_then(Value::as_array).is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s == "*" || s == want)
            })
        };
        let ops = r.get("operations").and_then(Value::as_array);
        let op_ok = ops.is_none_or(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s == "*" || s == "CREATE")
        });
        let names_ok = r
            .get("resourceNames")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .is_none_or(|a| a.iter().any(|n| n.as_str() == Some(name)));
        let scope_ok = match r.get("scope").and_then(Value::as_str) {
            Some("Cluster") => !namespaced,
            Some("Namespaced") => namespaced,
            _ => true,
        };
        op_ok
            && has("apiGroups", group)
            && has("apiVersions", version)
            && has("resources", &resource)
            && names_ok
            && scope_ok
    };
    let rules = m.get("resourceRules").and_then(Value::as_array);
    if let Some(rules) = rules
        && !rules.iter().any(rule_hits)
    {
        return false;
    }
    if m.get("excludeResourceRules")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(rule_hits))
    {
        return false;
    }
    if let Some(sel) = m.get("objectSelector")
        && !selector(sel, o.pointer("/metadata/labels"))
    {
        return false;
    }
    if let Some(sel) = m.get("namespaceSelector") {
        let labels = if kind == "Namespace" && group.is_empty() {
            o.pointer("/metadata/labels")
        } else if namespaced {
            // Without the Namespace the selector cannot hold unless it selects everything.
            namespace_object.and_then(|n| n.pointer("/metadata/labels"))
        } else {
            return true;
        };
        if !selector(sel, labels) {
            return false;
        }
    }
    true
}

/// The resource name of a kind: Kubernetes' plural for built-in kinds (lowercase, -s/-es/-ies)
/// and the few irregular ones.
fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" {
        return k;
    }
    if let Some(stem) = k.strip_suffix('y')
        && !stem.ends_with('e')
        && !stem.ends_with('a')
    {
        format!("{stem}ies")
    } else if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        format!("{k}es")
    } else {
        format!("{k}s")
    }
}
