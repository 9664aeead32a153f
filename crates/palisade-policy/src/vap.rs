//! ValidatingAdmissionPolicy (`admissionregistration.k8s.io/v1`): policies, their bindings and
//! param objects; matchConstraints / binding matchResources (resource rules with operations
//! and subresources, excludeResourceRules, namespaceSelector, objectSelector), params by name
//! or selector, matchConditions, variables, validations with message/messageExpression/reason,
//! auditAnnotations, failurePolicy, validationActions. Each (binding, param) evaluation that
//! denies is one violation. Admission requests are reviewed as they come (operation, userInfo,
//! oldObject, ...); a scanned object is reviewed as a CREATE.

use palisade_core::{Document, FieldPath, Severity};
use serde_json::Value;

use crate::cel::{CelProgram, to_cel};
use crate::matching::selector;
use crate::{Action, EngineKind, Limits, Outcome, PolicyError, Review, VAP_REASONS, Violation};

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

    /// Whether a policy's expressions read `authorizer`.
    pub(crate) fn reads_authorizer(&self) -> bool {
        self.policies
            .iter()
            .any(|p| p.program.as_ref().is_ok_and(CelProgram::reads_authorizer))
    }

    pub(crate) fn binding_count(&self) -> usize {
        self.bindings.len()
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
                let program = match bad_reason(&spec) {
                    // The API server refuses such a policy; here it errors every evaluation.
                    Some((field, message)) => {
                        errors.push(PolicyError::Invalid {
                            file: file.clone(),
                            line: line_of(&format!("spec.{field}")),
                            what: format!("ValidatingAdmissionPolicy {name}"),
                            message: format!("spec.{field}: {message}"),
                        });
                        Err(format!("spec.{field}: {message}"))
                    }
                    None => CelProgram::compile_as(&spec, false).map_err(|(field, message)| {
                        errors.push(PolicyError::Compile {
                            file: file.clone(),
                            line: line_of(&format!("spec.{field}")),
                            template: name.clone(),
                            engine: "CEL",
                            message: message.clone(),
                        });
                        format!("spec.{field}: {message}")
                    }),
                };
                let param_kind = spec.get("paramKind").map(|p| {
                    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    // v1alpha1's `{group, version, kind}` shape names the same thing.
                    let api = match (s("apiVersion"), s("group"), s("version")) {
                        (a, _, _) if !a.is_empty() => a,
                        (_, g, v) if g.is_empty() => v,
                        (_, g, v) => format!("{g}/{v}"),
                    };
                    (api, s("kind"))
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

    /// Violations of every policy and binding for one review (an AdmissionRequest, or an
    /// object reviewed as a CREATE), and the audit annotations `POLICY/KEY = value` of the
    /// evaluations that ran.
    pub(crate) fn evaluate(&self, review: &Review, limits: &Limits, out: &mut Outcome) {
        let target = Target::of(review);
        for p in &self.policies {
            if !target.matches(&p.match_constraints) {
                continue;
            }
            for b in self.bindings.iter().filter(|b| b.policy == p.name) {
                if !b.match_resources.is_null() && !target.matches(&b.match_resources) {
                    continue;
                }
                let id = format!("{}/{}", p.name, b.name);
                let program = match &p.program {
                    Ok(pr) => pr,
                    Err(e) => {
                        out.errors.push(PolicyError::Eval {
                            policy: id,
                            engine: "cel",
                            message: e.clone(),
                        });
                        continue;
                    }
                };
                let params: Vec<Result<&Value, String>> =
                    match self.params_for(p, b, target.namespace) {
                        Ok(ps) => ps.into_iter().map(Ok).collect(),
                        // A configuration error: denied under failurePolicy Fail.
                        Err(message) => vec![Err(message)],
                    };
                for param in params {
                    let found = match param {
                        Err(message) if program.fails_closed() => vec![(message, Value::Null)],
                        Err(_) => Vec::new(),
                        Ok(param) => match program.eval_all(&to_cel(param), review, limits) {
                            Ok((found, annotations)) => {
                                for (key, value) in annotations {
                                    out.audit_annotations
                                        .push((format!("{}/{key}", p.name), value));
                                }
                                found
                            }
                            Err(message) => {
                                out.errors.push(PolicyError::Eval {
                                    policy: id.clone(),
                                    engine: "cel",
                                    message,
                                });
                                continue;
                            }
                        },
                    };
                    for (message, reason) in found {
                        // Unset, and for evaluation errors: Invalid, as the API server does.
                        let reason = reason.as_str().unwrap_or("Invalid").to_owned();
                        for &action in &b.actions {
                            out.violations.push(Violation {
                                policy: id.clone(),
                                action,
                                message: message.clone(),
                                severity: p.severity.unwrap_or(action.default_severity()),
                                details: Value::Null,
                                engine: EngineKind::Cel,
                                reason: Some(reason.clone()),
                            });
                        }
                    }
                }
            }
        }
    }

    /// The params of one evaluation each: `[null]` without paramKind or paramRef; none when
    /// nothing is found and parameterNotFoundAction is Allow; Err when it is Deny.
    fn params_for<'s>(
        &'s self,
        p: &Vap,
        b: &Binding,
        request_namespace: Option<&str>,
    ) -> Result<Vec<&'s Value>, String> {
        static NO_PARAMS: Value = Value::Null;
        let (Some((api, kind)), Some(r)) = (&p.param_kind, &b.param_ref) else {
            return Ok(vec![&NO_PARAMS]);
        };
        let want_ns = r
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or(request_namespace);
        let name = r.get("name").and_then(Value::as_str);
        let found: Vec<&Value> = self
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

/// The first validation whose `reason` is not one the API server accepts:
/// `(validations[i].reason, message)` in apimachinery's `field.NotSupported` wording.
fn bad_reason(spec: &Value) -> Option<(String, String)> {
    let validations = spec.get("validations").and_then(Value::as_array)?;
    validations.iter().enumerate().find_map(|(i, v)| {
        let r = v.get("reason").filter(|r| !r.is_null())?;
        let ok = r
            .as_str()
            .is_some_and(|s| VAP_REASONS.iter().any(|(k, _)| *k == s));
        if ok {
            return None;
        }
        let supported: Vec<String> = VAP_REASONS.iter().map(|(k, _)| format!("{k:?}")).collect();
        Some((
            format!("validations[{i}].reason"),
            format!(
                "Unsupported value: {r}: supported values: {}",
                supported.join(", ")
            ),
        ))
    })
}

/// What MatchResources are matched against, from the request (or the object's own fields).
struct Target<'a> {
    operation: &'a str,
    group: &'a str,
    version: &'a str,
    /// `RESOURCE` or `RESOURCE/SUBRESOURCE`.
    resource: String,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    /// The object's labels (the old object's on DELETE).
    labels: Option<&'a Value>,
    namespace_object: Option<&'a Value>,
}

impl<'a> Target<'a> {
    fn of(review: &'a Review) -> Target<'a> {
        let req = &review.request;
        let s = |v: Option<&'a Value>| v.and_then(Value::as_str).unwrap_or("");
        let object = match review.object() {
            Value::Object(_) => review.object(),
            _ => review.old_object(),
        };
        let api = s(object.get("apiVersion"));
        let (og, ov) = api.rsplit_once('/').unwrap_or(("", api));
        // The request's kind and resource when it has them (admission), else the object's.
        let (group, version, kind) = match req.get("kind").filter(|k| k.is_object()) {
            Some(k) if !s(k.get("kind")).is_empty() => {
                (s(k.get("group")), s(k.get("version")), s(k.get("kind")))
            }
            _ => (og, ov, s(object.get("kind"))),
        };
        let resource = match s(req.pointer("/resource/resource")) {
            "" => plural(kind),
            r => r.to_owned(),
        };
        let resource = match s(req.get("subResource")) {
            "" => resource,
            sub => format!("{resource}/{sub}"),
        };
        let name = match s(req.get("name")) {
            "" => s(object.pointer("/metadata/name")),
            n => n,
        };
        let namespace = match s(req.get("namespace")) {
            "" => object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty()),
            n => Some(n),
        };
        Target {
            operation: review.operation(),
            group,
            version,
            resource,
            kind,
            name,
            namespace,
            labels: object.pointer("/metadata/labels"),
            namespace_object: review.namespace_object.as_ref(),
        }
    }

    /// MatchResources: resourceRules (apiGroups, apiVersions, resources with `*` and
    /// `RES/*` / `*/SUB` forms, operations, resourceNames, scope), excludeResourceRules,
    /// namespaceSelector, objectSelector.
    fn matches(&self, m: &Value) -> bool {
        let rule_hits = |r: &Value| {
            let has = |key: &str, want: &str| {
                r.get(key).and_then(Value::as_array).is_some_and(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .any(|s| s == "*" || s == want)
                })
            };
            let resource_ok = r
                .get("resources")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter().filter_map(Value::as_str).any(|s| {
                        if s == self.resource {
                            return true;
                        }
                        match (s.split_once('/'), self.resource.split_once('/')) {
                            (None, None) => s == "*",
                            (Some((rs, ss)), Some((res, sub))) => {
                                (rs == "*" || rs == res) && (ss == "*" || ss == sub)
                            }
                            _ => false,
                        }
                    })
                });
            let ops = r.get("operations").and_then(Value::as_array);
            let op_ok = ops.is_none_or(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s == "*" || s == self.operation)
            });
            let names_ok = r
                .get("resourceNames")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .is_none_or(|a| a.iter().any(|n| n.as_str() == Some(self.name)));
            let scope_ok = match r.get("scope").and_then(Value::as_str) {
                Some("Cluster") => self.namespace.is_none(),
                Some("Namespaced") => self.namespace.is_some(),
                _ => true,
            };
            op_ok
                && has("apiGroups", self.group)
                && has("apiVersions", self.version)
                && resource_ok
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
            && !selector(sel, self.labels)
        {
            return false;
        }
        if let Some(sel) = m.get("namespaceSelector") {
            let labels = if self.kind == "Namespace" && self.group.is_empty() {
                self.labels
            } else if self.namespace.is_some() {
                // Without the Namespace the selector cannot hold unless it selects everything.
                self.namespace_object
                    .and_then(|n| n.pointer("/metadata/labels"))
            } else {
                return true;
            };
            if !selector(sel, labels) {
                return false;
            }
        }
        true
    }
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
