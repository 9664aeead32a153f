//! The CEL `authorizer` variable of ValidatingAdmissionPolicy (Kubernetes' CEL authz library,
//! `k8s.io/apiserver/pkg/cel/library/authz.go`), answered offline from an RBAC object set by
//! palisade-graph's RBAC model (exact matching, aggregation, `--rbac-defaults` roles).
//!
//! `authorizer` is bound to the request's user (`request.userInfo`); `serviceAccount(ns, name)`
//! switches to a service account (user `system:serviceaccount:NS:NAME`, groups
//! `system:serviceaccounts` and `system:serviceaccounts:NS`, as the API server builds it).
//! `group(g).resource(r)[.subresource(s)][.namespace(ns)][.name(n)].check(verb)` and
//! `path(p).check(verb)` give a decision: `allowed()`, `reason()`, `errored()`, `error()`.
//! `authorizer.requestResource` is the request's own group/resource/subresource/namespace/name.
//!
//! An empty namespace asks about the whole cluster (as the API server's attributes do): only
//! ClusterRoleBindings answer it. A check that cannot be answered (no RBAC objects loaded, a
//! request without a user — `scan` reviews objects, not requests) is errored; reading
//! `allowed()` of an errored decision is an evaluation error, so the policy's failurePolicy
//! decides instead of a guessed "denied".

use std::sync::Arc;

use kube_cel::cel::extractors::This;
use kube_cel::cel::objects::Opaque;
use kube_cel::cel::{Context, ExecutionError, FunctionContext, Value};
use palisade_graph::rbac::{Rbac, RbacOptions, Request, Scope, Subject, Target};
use serde_json::Value as Json;

/// The RBAC set `authorizer` checks answer from.
#[derive(Debug)]
pub struct Authorizer {
    model: Result<Rbac, String>,
}

impl Authorizer {
    /// The Roles, ClusterRoles and bindings of `docs` (other objects are ignored), with the
    /// bootstrap roles and bindings when `defaults` (`--rbac-defaults`).
    pub fn from_documents(
        docs: &(impl palisade_graph::Docs + ?Sized),
        defaults: bool,
    ) -> Authorizer {
        Authorizer {
            model: Ok(Rbac::build(docs, RbacOptions { defaults })),
        }
    }

    /// No RBAC set: every check is errored with `reason`.
    pub fn unavailable(reason: impl Into<String>) -> Authorizer {
        Authorizer {
            model: Err(reason.into()),
        }
    }
}

/// Who a check is for: user name and groups, or why that is not known.
type Who = Result<(String, Vec<String>), String>;

/// `Authorizer` in CEL: the RBAC set and the principal.
#[derive(Debug, Clone)]
struct Principal {
    set: Arc<Authorizer>,
    who: Arc<Who>,
}

#[derive(Debug, Clone)]
struct GroupCheck {
    p: Principal,
    group: String,
}

#[derive(Debug, Clone)]
struct ResourceCheck {
    p: Principal,
    group: String,
    resource: String,
    sub: String,
    namespace: String,
    name: String,
}

#[derive(Debug, Clone)]
struct PathCheck {
    p: Principal,
    path: String,
}

#[derive(Debug, Clone)]
struct Decision {
    allowed: bool,
    reason: String,
    error: Option<String>,
}

// Opaque values need equality; CEL's authz types have none worth comparing, so a value is
// equal to itself only.
macro_rules! opaque {
    ($t:ty, $name:literal) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                std::ptr::eq(self, other)
            }
        }
        impl Eq for $t {}
        impl Opaque for $t {
            fn runtime_type_name(&self) -> &str {
                $name
            }
        }
    };
}
opaque!(Principal, "kubernetes.authorization.Authorizer");
opaque!(GroupCheck, "kubernetes.authorization.GroupCheck");
opaque!(ResourceCheck, "kubernetes.authorization.ResourceCheck");
opaque!(PathCheck, "kubernetes.authorization.PathCheck");
opaque!(Decision, "kubernetes.authorization.Decision");

/// The request's user from an AdmissionRequest's `userInfo`.
fn request_user(request: &Json) -> Who {
    let info = request.get("userInfo");
    let name = info
        .and_then(|u| u.get("username"))
        .and_then(Json::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(
            "the request has no user (userInfo.username is empty; palisade scan reviews objects, not requests): use authorizer.serviceAccount(namespace, name) to ask about a known principal"
                .to_owned(),
        );
    }
    let groups = info
        .and_then(|u| u.get("groups"))
        .and_then(Json::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok((name.to_owned(), groups))
}

/// Binds `authorizer` and `authorizer.requestResource` for one review.
pub(crate) fn bind(scope: &mut Context, set: Option<&Arc<Authorizer>>, request: &Json) {
    let set = set.cloned().unwrap_or_else(|| {
        Arc::new(Authorizer::unavailable(
            "no RBAC objects were given to answer authorizer checks from",
        ))
    });
    let p = Principal {
        set,
        who: Arc::new(request_user(request)),
    };
    let s = |at: &str| {
        request
            .pointer(at)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let rr = ResourceCheck {
        p: p.clone(),
        group: s("/resource/group"),
        resource: s("/resource/resource"),
        sub: s("/subResource"),
        namespace: s("/namespace"),
        name: s("/name"),
    };
    scope.add_variable_from_value("authorizer", Value::Opaque(Arc::new(p)));
    scope.add_variable_from_value("authorizer.requestResource", Value::Opaque(Arc::new(rr)));
}

/// Registers the library's functions on the base context.
pub(crate) fn register(base: &mut Context) {
    base.add_function("group", group);
    base.add_function("resource", resource);
    base.add_function("subresource", subresource);
    base.add_function("namespace", namespace);
    base.add_function("name", name);
    base.add_function("path", path);
    base.add_function("serviceAccount", service_account);
    base.add_function("check", check);
    base.add_function("allowed", allowed);
    base.add_function("reason", reason);
    base.add_function("errored", errored);
    base.add_function("error", error);
    // Selectors (Kubernetes 1.31+) narrow a check; RBAC ignores them, so do we.
    base.add_function("fieldSelector", selector);
    base.add_function("labelSelector", selector);
}

fn this_as<'a, T: 'static>(
    ftx: &FunctionContext,
    v: &'a Value,
    want: &str,
) -> Result<&'a T, ExecutionError> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<T>(),
        _ => None,
    }
    .ok_or_else(|| {
        ftx.error(format!(
            "{}() applies to a {want}, not to {:?}",
            ftx.name,
            v.type_of()
        ))
    })
}

fn opaque(v: impl Opaque) -> Value {
    Value::Opaque(Arc::new(v))
}

fn group(
    ftx: &FunctionContext,
    This(this): This<Value>,
    g: Arc<String>,
) -> Result<Value, ExecutionError> {
    let p = this_as::<Principal>(ftx, &this, "Authorizer")?;
    Ok(opaque(GroupCheck {
        p: p.clone(),
        group: g.to_string(),
    }))
}

fn path(
    ftx: &FunctionContext,
    This(this): This<Value>,
    s: Arc<String>,
) -> Result<Value, ExecutionError> {
    let p = this_as::<Principal>(ftx, &this, "Authorizer")?;
    if s.trim().is_empty() {
        return Err(ftx.error("path must not be empty"));
    }
    Ok(opaque(PathCheck {
        p: p.clone(),
        path: s.to_string(),
    }))
}

fn service_account(
    ftx: &FunctionContext,
    This(this): This<Value>,
    ns: Arc<String>,
    name: Arc<String>,
) -> Result<Value, ExecutionError> {
    let p = this_as::<Principal>(ftx, &this, "Authorizer")?;
    if !dns_subdomain(&name) {
        return Err(ftx.error(format!("invalid service account name {name:?}")));
    }
    if !dns_label(&ns) {
        return Err(ftx.error(format!("invalid service account namespace {ns:?}")));
    }
    // serviceaccount.UserInfo: the two service-account groups, not system:authenticated
    // (the authenticator adds that one; this principal never went through it).
    let who = Ok((
        format!("system:serviceaccount:{ns}:{name}"),
        vec![
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{ns}"),
        ],
    ));
    Ok(opaque(Principal {
        set: p.set.clone(),
        who: Arc::new(who),
    }))
}

fn resource(
    ftx: &FunctionContext,
    This(this): This<Value>,
    r: Arc<String>,
) -> Result<Value, ExecutionError> {
    let g = this_as::<GroupCheck>(ftx, &this, "GroupCheck")?;
    if r.trim().is_empty() {
        return Err(ftx.error("resource must not be empty"));
    }
    Ok(opaque(ResourceCheck {
        p: g.p.clone(),
        group: g.group.clone(),
        resource: r.to_string(),
        sub: String::new(),
        namespace: String::new(),
        name: String::new(),
    }))
}

/// RFC 1123 label: what a namespace name must be.
fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what a service account name must be.
fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label)
}

fn with_resource(
    ftx: &FunctionContext,
    this: &Value,
    set: impl FnOnce(&mut ResourceCheck),
) -> Result<Value, ExecutionError> {
    let mut r = this_as::<ResourceCheck>(ftx, this, "ResourceCheck")?.clone();
    set(&mut r);
    Ok(opaque(r))
}

fn subresource(
    ftx: &FunctionContext,
    This(this): This<Value>,
    s: Arc<String>,
) -> Result<Value, ExecutionError> {
    with_resource(ftx, &this, |r| r.sub = s.to_string())
}

fn namespace(
    ftx: &FunctionContext,
    This(this): This<Value>,
    s: Arc<String>,
) -> Result<Value, ExecutionError> {
    with_resource(ftx, &this, |r| r.namespace = s.to_string())
}

fn name(
    ftx: &FunctionContext,
    This(this): This<Value>,
    s: Arc<String>,
) -> Result<Value, ExecutionError> {
    with_resource(ftx, &this, |r| r.name = s.to_string())
}

fn selector(
    ftx: &FunctionContext,
    This(this): This<Value>,
    _s: Arc<String>,
) -> Result<Value, ExecutionError> {
    with_resource(ftx, &this, |_| {})
}

fn check(
    ftx: &FunctionContext,
    This(this): This<Value>,
    verb: Arc<String>,
) -> Result<Value, ExecutionError> {
    if let Ok(r) = this_as::<ResourceCheck>(ftx, &this, "ResourceCheck") {
        if r.resource.is_empty() {
            // Only `authorizer.requestResource` of a review without a resource gets here; a
            // missing user or RBAC set is the better reason.
            if let Err(e) = r.p.who.as_ref() {
                return Ok(opaque(errored_decision(e)));
            }
            return Ok(opaque(errored_decision(
                "the check names no resource (the request has none)",
            )));
        }
        let mut req = Request::resource(
            &verb,
            &r.group,
            &r.resource,
            Some(r.sub.as_str()).filter(|s| !s.is_empty()),
        );
        if !r.name.is_empty() {
            req = req.named(&r.name);
        }
        let cluster = r.namespace.is_empty();
        if !cluster {
            req = req.in_namespace(Some(&r.namespace));
        }
        return Ok(opaque(decide(&r.p, &req, cluster)));
    }
    let p = this_as::<PathCheck>(ftx, &this, "ResourceCheck or PathCheck")?;
    let req = Request {
        verb: verb.to_string(),
        target: Target::NonResource {
            path: p.path.clone(),
        },
        namespace: None,
    };
    Ok(opaque(decide(&p.p, &req, true)))
}

fn errored_decision(e: &str) -> Decision {
    Decision {
        allowed: false,
        reason: String::new(),
        error: Some(format!("authorizer: {e}")),
    }
}

/// RBAC's answer for the principal; `cluster_only`: a request without a namespace, which
/// only cluster-wide grants cover.
fn decide(p: &Principal, req: &Request, cluster_only: bool) -> Decision {
    let model = match &p.set.model {
        Ok(m) => m,
        Err(e) => return errored_decision(e),
    };
    let (user, groups) = match p.who.as_ref() {
        Ok(w) => w,
        Err(e) => return errored_decision(e),
    };
    // RBAC matches a ServiceAccount subject by its user name.
    let mut ids = vec![Subject::user(user)];
    if let Some((ns, n)) = user
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        ids.push(Subject::service_account(ns, n));
    }
    ids.extend(groups.iter().map(|g| Subject::group(g)));
    let grant = model
        .who_can(req)
        .into_iter()
        .filter(|g| !cluster_only || g.via.scope == Scope::Cluster)
        .find(|g| ids.contains(&g.subject));
    match grant {
        Some(g) if g.via.rule.is_empty() => Decision {
            allowed: true,
            reason: String::new(),
            error: None,
        },
        Some(g) => Decision {
            allowed: true,
            reason: format!(
                "RBAC: allowed by {} of {} to {}",
                g.via.binding, g.via.role, g.subject
            ),
            error: None,
        },
        None => Decision {
            allowed: false,
            reason: String::new(),
            error: None,
        },
    }
}

fn decision<'a>(ftx: &FunctionContext, v: &'a Value) -> Result<&'a Decision, ExecutionError> {
    this_as::<Decision>(ftx, v, "Decision")
}

fn allowed(ftx: &FunctionContext, This(this): This<Value>) -> Result<Value, ExecutionError> {
    let d = decision(ftx, &this)?;
    match &d.error {
        Some(e) => Err(ftx.error(e)),
        None => Ok(Value::Bool(d.allowed)),
    }
}

fn reason(ftx: &FunctionContext, This(this): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::String(Arc::new(
        decision(ftx, &this)?.reason.clone(),
    )))
}

fn errored(ftx: &FunctionContext, This(this): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(decision(ftx, &this)?.error.is_some()))
}

fn error(ftx: &FunctionContext, This(this): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::String(Arc::new(
        decision(ftx, &this)?.error.clone().unwrap_or_default(),
    )))
}
