//! Gatekeeper's K8sNativeValidation driver and ValidatingAdmissionPolicy expressions on
//! kube-cel: variables `object` (null on DELETE), `oldObject`, `request` (the AdmissionRequest
//! without its objects, as the API server binds it), `params`, `namespaceObject`, `variables`;
//! Gatekeeper's prelude variables `anyObject` and `params`; `matchCondition(s)`; validations
//! with message and messageExpression; `failurePolicy` (Fail by default).
//!
//! Speed: `cel` 0.13 deep-copies a value each time it is bound to a context or a map field is
//! selected, so (1) the review's objects are bound once per review in a scope every policy's
//! scope sits on, (2) `variables.NAME` is rewritten at compile time into a variable of its own
//! (`variables.NAME` as one identifier, which no user expression can spell) so reading one
//! variable does not copy the map of all of them, and (3) Gatekeeper's two prelude variables
//! are computed in Rust.
//!
//! Limits (`cel` has no cost tracking): every comprehension step calls a guard that counts
//! steps ([`MAX_STEPS`] per evaluation of one policy, like the API server's per-call cost
//! limit) and checks the wall clock against the evaluation's time budget; each variable's
//! value is size-checked ([`MAX_VALUE_BYTES`]). Expressions the interpreter would panic on
//! (message literals `Foo{...}`) are refused at compile time.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::operators::CONDITIONAL;
use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, LiteralValue};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::parser::Parser;
use kube_cel::cel::{Context, ExecutionError, FunctionContext, Value};
use serde_json::Value as Json;

use crate::{Limits, Review};

/// Comprehension steps (loop iterations of `all`, `exists`, `map`, `filter`, ...) allowed in
/// one evaluation of one policy (all its expressions together).
pub const MAX_STEPS: u64 = 1_000_000;
/// Largest value one variable may produce (string bytes plus 16 bytes per list or map entry).
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;
/// How many steps pass between two looks at the clock.
const CLOCK_EVERY: u64 = 64;
/// Whether Gatekeeper's `anyObject` is `oldObject` for this review (else `object`).
const ANY_IS_OLD: &str = "variables.anyObject is oldObject";
/// The guard the compiler wraps around every comprehension's loop condition.
const GUARD: &str = "__palisade_step";

/// The review's values bound once per review; every policy evaluates in a scope on top.
pub(crate) struct CelReview {
    scope: Context<'static>,
    /// Values of variables that do not read `params`, by (program, variable index): the
    /// constraints of one template share them within a review (None: the variable errored).
    shared: std::sync::Mutex<HashMap<(usize, usize), Option<Value>>>,
}

impl std::fmt::Debug for CelReview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CelReview")
    }
}

// `dyn(x)` is a type-checker hint in cel-go; at run time it is the identity.
fn dyn_fn(_: &FunctionContext, v: Value) -> Result<Value, ExecutionError> {
    Ok(v)
}

/// The functions every expression sees: the CEL standard library, kube-cel's Kubernetes
/// libraries, `dyn`, and the step guard. Built once per process.
fn base() -> &'static Context<'static> {
    static BASE: OnceLock<Context<'static>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut base = Context::default().with_all();
        base.add_function("dyn", dyn_fn);
        base.add_function(GUARD, step_guard);
        crate::authz::register(&mut base);
        base
    })
}

impl CelReview {
    pub(crate) fn new(review: &Review) -> CelReview {
        let mut scope = base().new_inner_scope();
        let delete = review.operation() == "DELETE";
        // On DELETE `object` is null, as a real VAP sees it.
        let object = if delete {
            Json::Null
        } else {
            review.object().clone()
        };
        // Gatekeeper's `anyObject` is the old object when a DELETE has no object: compiled as
        // `ANY_IS_OLD ? oldObject : object`, which borrows instead of binding a third copy.
        scope.add_variable_from_value(ANY_IS_OLD, Value::Bool(delete && object.is_null()));
        scope.add_variable_from_value("object", to_cel(&object));
        scope.add_variable_from_value("oldObject", to_cel(review.old_object()));
        // The API server's `request` carries the AdmissionRequest's fields but not the objects.
        // The API server always sets `dryRun`; a request that left it out is not a dry run.
        let request = match &review.request {
            Json::Object(m) => {
                let mut map: std::collections::HashMap<Key, Value> = m
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "object" | "oldObject" | "namespaceObject")
                    })
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect();
                map.entry(Key::String(Arc::new("dryRun".to_owned())))
                    .or_insert(Value::Bool(false));
                Value::Map(Map { map: Arc::new(map) })
            }
            other => to_cel(other),
        };
        scope.add_variable_from_value("request", request);
        scope.add_variable_from_value(
            "namespaceObject",
            review.namespace_object.as_ref().map_or(Value::Null, to_cel),
        );
        crate::authz::bind(&mut scope, review.authorizer.as_ref(), &review.request);
        CelReview {
            scope,
            shared: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

/// Per-thread budget of the evaluation running on this thread.
struct Budget {
    steps: u64,
    deadline: Option<Instant>,
    /// Set once the budget is exhausted; every later step fails at once.
    exceeded: Option<String>,
}

thread_local! {
    static BUDGET: RefCell<Budget> = const {
        RefCell::new(Budget { steps: 0, deadline: None, exceeded: None })
    };
}

/// Arms the thread's budget for one evaluation; disarms it when dropped (also on unwind).
struct Armed;

impl Armed {
    fn new(limits: &Limits) -> Armed {
        BUDGET.with(|b| {
            *b.borrow_mut() = Budget {
                steps: 0,
                deadline: Instant::now().checked_add(limits.rego_time),
                exceeded: None,
            }
        });
        Armed
    }

    fn exceeded(&self) -> Option<String> {
        BUDGET.with(|b| b.borrow().exceeded.clone())
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        BUDGET.with(|b| {
            *b.borrow_mut() = Budget {
                steps: 0,
                deadline: None,
                exceeded: None,
            }
        });
    }
}

fn step_guard(ftx: &FunctionContext, v: Value) -> Result<Value, ExecutionError> {
    BUDGET.with(|b| {
        let mut b = b.borrow_mut();
        if let Some(e) = &b.exceeded {
            return Err(ftx.error(e));
        }
        b.steps += 1;
        if b.steps > MAX_STEPS {
            let e = format!("cost limit exceeded: more than {MAX_STEPS} comprehension steps");
            b.exceeded = Some(e.clone());
            return Err(ftx.error(e));
        }
        if b.steps.is_multiple_of(CLOCK_EVERY)
            && let Some(d) = b.deadline
            && Instant::now() > d
        {
            let e = format!(
                "time limit exceeded after {} comprehension steps (raise the policy timeout)",
                b.steps
            );
            b.exceeded = Some(e.clone());
            return Err(ftx.error(e));
        }
        Ok(v)
    })
}

/// One compiled expression with its source (for messages).
#[derive(Debug)]
struct Compiled {
    source: String,
    expr: IdedExpr,
}

impl Compiled {
    fn run(&self, ctx: &Context) -> Result<Value, ExecutionError> {
        Value::resolve(&self.expr, ctx)
    }
}

/// Failed validations `(message, null)` (a VAP validation's `reason` string instead of null
/// when set) and VAP audit annotations `(key, value)`.
type Found = (Vec<(String, Json)>, Vec<(String, String)>);

pub(crate) struct CelProgram {
    gatekeeper: bool,
    /// The template's variables in order, each bound as `variables.NAME`, and whether it
    /// reads `params` (directly or through an earlier variable).
    variables: Vec<(String, Compiled, bool)>,
    conditions: Vec<(String, Compiled)>,
    validations: Vec<Validation>,
    /// VAP `auditAnnotations`: key and valueExpression.
    audit_annotations: Vec<(String, Compiled)>,
    fail: bool,
    /// Whether any expression reads `params` / `variables.params`: binding the constraint
    /// copies it, so a program that does not read it does not get it.
    reads_params: bool,
    reads_gatekeeper_params: bool,
    /// Whether any expression reads `authorizer` (the caller then needs an RBAC set).
    reads_authorizer: bool,
}

struct Validation {
    program: Compiled,
    message: Option<String>,
    message_expression: Option<Compiled>,
    /// VAP `reason` (checked by the caller); reported with the failure.
    reason: Option<String>,
}

impl std::fmt::Debug for CelProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelProgram")
            .field("validations", &self.validations.len())
            .finish()
    }
}

/// Parses `src` and rewrites it for evaluation (see the module comment). `declared`: the
/// variable names `variables.NAME` may refer to.
fn compile(
    src: &str,
    field: String,
    declared: &HashSet<String>,
) -> Result<Compiled, (String, String)> {
    let mut expr = Parser::new()
        .enable_optional_syntax(true)
        .parse(src)
        .map_err(|e| (field.clone(), format!("{e} in {src:?}")))?;
    rewrite(&mut expr, declared).map_err(|m| (field, format!("{m} in {src:?}")))?;
    Ok(Compiled {
        source: src.to_owned(),
        expr,
    })
}

/// Whether `declared` holds Gatekeeper's prelude (a template's own variable may not be called
/// `anyObject`; a ValidatingAdmissionPolicy's may).
fn gatekeeper_prelude(declared: &HashSet<String>) -> bool {
    declared.contains(GATEKEEPER_MARK)
}

/// Put in the declared names of Gatekeeper programs; no variable name can contain a space.
const GATEKEEPER_MARK: &str = "gatekeeper prelude";

fn rewrite(e: &mut IdedExpr, declared: &HashSet<String>) -> Result<(), String> {
    let replacement = match &mut e.expr {
        Expr::Unspecified => return Err("incomplete expression".to_owned()),
        Expr::Struct(s) => {
            return Err(format!(
                "message literal {}{{...}} is not supported",
                s.type_name
            ));
        }
        Expr::Select(sel) => {
            if let Expr::Ident(root) = &sel.operand.expr
                && root == "variables"
                && declared.contains(&sel.field)
            {
                let ident = |name: &str| IdedExpr {
                    id: e.id,
                    expr: Expr::Ident(name.to_owned()),
                };
                Some(if sel.test {
                    Expr::Literal(LiteralValue::Boolean(true.into()))
                } else if sel.field == "anyObject" && gatekeeper_prelude(declared) {
                    Expr::Call(CallExpr {
                        func_name: CONDITIONAL.to_owned(),
                        target: None,
                        args: vec![ident(ANY_IS_OLD), ident("oldObject"), ident("object")],
                    })
                } else {
                    Expr::Ident(format!("variables.{}", sel.field))
                })
            } else if let Expr::Ident(root) = &sel.operand.expr
                && root == "authorizer"
                && sel.field == "requestResource"
                && !sel.test
            {
                // Bound as a variable of its own, as the API server declares it.
                Some(Expr::Ident("authorizer.requestResource".to_owned()))
            } else {
                rewrite(&mut sel.operand, declared)?;
                None
            }
        }
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                rewrite(t, declared)?;
            }
            for a in &mut call.args {
                rewrite(a, declared)?;
            }
            None
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range, declared)?;
            rewrite(&mut c.accu_init, declared)?;
            rewrite(&mut c.loop_cond, declared)?;
            rewrite(&mut c.loop_step, declared)?;
            rewrite(&mut c.result, declared)?;
            let cond = std::mem::take(&mut c.loop_cond);
            c.loop_cond = IdedExpr {
                id: cond.id,
                expr: Expr::Call(CallExpr {
                    func_name: GUARD.to_owned(),
                    target: None,
                    args: vec![cond],
                }),
            };
            None
        }
        Expr::List(l) => {
            for x in &mut l.elements {
                rewrite(x, declared)?;
            }
            None
        }
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key, declared)?;
                        rewrite(&mut me.value, declared)?;
                    }
                    EntryExpr::StructField(_) => {
                        return Err("message field in a map literal is not supported".to_owned());
                    }
                }
            }
            None
        }
        Expr::Ident(_) | Expr::Literal(_) => None,
    };
    if let Some(r) = replacement {
        e.expr = r;
    }
    Ok(())
}

impl CelProgram {
    /// Compiles a Gatekeeper `K8sNativeValidation` source; on error, the field (relative to
    /// `source`) and the message.
    pub(crate) fn compile(source: &Json) -> Result<CelProgram, (String, String)> {
        CelProgram::compile_as(source, true)
    }

    /// `gatekeeper`: Gatekeeper's prelude variables and reserved names; otherwise a
    /// ValidatingAdmissionPolicy spec (`matchConditions`, `auditAnnotations`, no prelude).
    pub(crate) fn compile_as(
        source: &Json,
        gatekeeper: bool,
    ) -> Result<CelProgram, (String, String)> {
        // Gatekeeper's prelude variables; matchConditions see only these.
        let prelude: HashSet<String> = if gatekeeper {
            ["anyObject", "params", GATEKEEPER_MARK]
                .map(str::to_owned)
                .into()
        } else {
            HashSet::new()
        };
        let mut declared = prelude.clone();
        let mut variables = Vec::new();
        for (i, v) in arr(source, "variables").iter().enumerate() {
            let name = v.get("name").and_then(Json::as_str).unwrap_or("");
            if name.is_empty()
                || (gatekeeper
                    && (name == "params"
                        || name == "anyObject"
                        || name.starts_with("gatekeeper_internal_")))
            {
                return Err((
                    format!("variables[{i}].name"),
                    format!("variable name {name:?} is reserved or empty"),
                ));
            }
            let expr = v.get("expression").and_then(Json::as_str).unwrap_or("");
            // A variable sees the ones declared before it.
            let compiled = compile(expr, format!("variables[{i}].expression"), &declared)?;
            declared.insert(name.to_owned());
            let mut names = HashSet::new();
            idents(&compiled.expr, &mut names);
            let reads_params = names.iter().any(|n| {
                n == "params"
                    || n == "variables.params"
                    || variables
                        .iter()
                        .any(|(v, _, p): &(String, Compiled, bool)| *p && v == n)
            });
            variables.push((format!("variables.{name}"), compiled, reads_params));
        }
        let mut conditions = Vec::new();
        // The key is singular in Gatekeeper's schema; the plural is accepted as well.
        let mc = if source.get("matchCondition").is_some() {
            "matchCondition"
        } else {
            "matchConditions"
        };
        // matchConditions cannot read the template's variables (only the prelude's).
        for (i, c) in arr(source, mc).iter().enumerate() {
            let name = c
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            let expr = c.get("expression").and_then(Json::as_str).unwrap_or("");
            conditions.push((
                name,
                compile(expr, format!("{mc}[{i}].expression"), &prelude)?,
            ));
        }
        let mut validations = Vec::new();
        for (i, v) in arr(source, "validations").iter().enumerate() {
            let expr = v.get("expression").and_then(Json::as_str).unwrap_or("");
            let message_expression = match v.get("messageExpression").and_then(Json::as_str) {
                Some(m) => Some(compile(
                    m,
                    format!("validations[{i}].messageExpression"),
                    &declared,
                )?),
                None => None,
            };
            validations.push(Validation {
                program: compile(expr, format!("validations[{i}].expression"), &declared)?,
                message: v.get("message").and_then(Json::as_str).map(str::to_owned),
                message_expression,
                reason: if gatekeeper {
                    None
                } else {
                    v.get("reason").and_then(Json::as_str).map(str::to_owned)
                },
            });
        }
        let mut audit_annotations = Vec::new();
        if !gatekeeper {
            for (i, a) in arr(source, "auditAnnotations").iter().enumerate() {
                let key = a.get("key").and_then(Json::as_str).unwrap_or("").to_owned();
                let expr = a
                    .get("valueExpression")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                audit_annotations.push((
                    key,
                    compile(
                        expr,
                        format!("auditAnnotations[{i}].valueExpression"),
                        &declared,
                    )?,
                ));
            }
        }
        let fail = source.get("failurePolicy").and_then(Json::as_str) != Some("Ignore");
        let mut read = HashSet::new();
        for c in variables
            .iter()
            .map(|(_, c, _)| c)
            .chain(conditions.iter().map(|(_, c)| c))
            .chain(
                validations
                    .iter()
                    .flat_map(|v| std::iter::once(&v.program).chain(v.message_expression.as_ref())),
            )
            .chain(audit_annotations.iter().map(|(_, c)| c))
        {
            idents(&c.expr, &mut read);
        }
        // Build the shared function table now, not on the first review.
        let _ = base();
        Ok(CelProgram {
            gatekeeper,
            variables,
            conditions,
            validations,
            audit_annotations,
            fail,
            reads_params: read.contains("params"),
            reads_gatekeeper_params: read.contains("variables.params"),
            reads_authorizer: read.contains("authorizer")
                || read.contains("authorizer.requestResource"),
        })
    }

    /// Whether any expression reads `authorizer` or `authorizer.requestResource`.
    pub(crate) fn reads_authorizer(&self) -> bool {
        self.reads_authorizer
    }

    /// Whether errors deny (`failurePolicy: Fail`, the default).
    pub(crate) fn fails_closed(&self) -> bool {
        self.fail
    }

    /// `(message, null)` per failed validation (and per error under `failurePolicy: Fail`).
    /// `params`: the constraint (Gatekeeper) or the param object (VAP). Err: the evaluation
    /// ran out of its budget, or the interpreter failed; the caller names the policy.
    pub(crate) fn eval(
        &self,
        params: &Value,
        review: &Review,
        limits: &Limits,
    ) -> Result<Vec<(String, Json)>, String> {
        Ok(self.eval_all(params, review, limits)?.0)
    }

    /// As [`CelProgram::eval`], plus the VAP audit annotations `(key, value)` that evaluated to
    /// a non-empty string.
    pub(crate) fn eval_all(
        &self,
        params: &Value,
        review: &Review,
        limits: &Limits,
    ) -> Result<Found, String> {
        let r = review.cel.get_or_init(|| Arc::new(CelReview::new(review)));
        let armed = Armed::new(limits);
        // cel 0.13 has panicking paths on some values; a panic here must not take the
        // webhook's worker down with it.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.eval_in(&r.scope, &r.shared, params, &armed)
        }));
        match run {
            Ok(result) => result,
            Err(_) => Err("the CEL interpreter failed on this input".to_owned()),
        }
    }

    fn eval_in(
        &self,
        scope: &Context,
        shared: &std::sync::Mutex<HashMap<(usize, usize), Option<Value>>>,
        params: &Value,
        armed: &Armed,
    ) -> Result<Found, String> {
        let mut ctx = scope.new_inner_scope();
        if self.reads_params {
            ctx.add_variable_from_value("params", params.clone());
        }
        if self.gatekeeper && self.reads_gatekeeper_params {
            ctx.add_variable_from_value("variables.params", gatekeeper_params(params));
        }
        let over = |armed: &Armed| armed.exceeded().map_or(Ok(()), Err);
        let mut out = Vec::new();
        let mut cond_error = None;
        for (name, p) in &self.conditions {
            match p.run(&ctx) {
                Ok(Value::Bool(false)) => return Ok((out, Vec::new())),
                Ok(Value::Bool(true)) => {}
                Ok(other) => {
                    cond_error
                        .get_or_insert(format!("matchCondition {name}: not a bool: {other:?}"));
                }
                Err(e) => {
                    over(armed)?;
                    cond_error.get_or_insert(format!("matchCondition {name}: {e}"));
                }
            }
        }
        if let Some(e) = cond_error {
            if self.fail {
                out.push((e, Json::Null));
            }
            return Ok((out, Vec::new()));
        }
        // Variables in order, each seeing the earlier ones. A variable that errors is left
        // unbound, so the error surfaces only in an expression that reads it (as lazy
        // evaluation in the API server does).
        let me = self as *const CelProgram as usize;
        for (i, (name, p, reads_params)) in self.variables.iter().enumerate() {
            let cached = if *reads_params {
                None
            } else {
                shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&(me, i))
                    .cloned()
            };
            let result = match cached {
                Some(Some(v)) => Ok(v),
                Some(None) => Err(()),
                None => {
                    let r = p.run(&ctx).map_err(|_| ());
                    // An error from the budget is this evaluation's, not the variable's.
                    if r.is_err() {
                        over(armed)?;
                    }
                    if !*reads_params {
                        shared
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert((me, i), r.clone().ok());
                    }
                    r
                }
            };
            match result {
                Ok(v) => {
                    let size = value_size(&v, MAX_VALUE_BYTES);
                    if size > MAX_VALUE_BYTES {
                        return Err(format!(
                            "{name} produced a value over the size limit ({MAX_VALUE_BYTES} bytes)"
                        ));
                    }
                    ctx.add_variable_from_value(name.clone(), v);
                }
                Err(_) => over(armed)?,
            }
        }
        for v in &self.validations {
            match v.program.run(&ctx) {
                Ok(Value::Bool(true)) => {}
                Ok(_) => out.push((
                    message(v, &ctx),
                    v.reason.clone().map_or(Json::Null, Json::String),
                )),
                Err(e) => {
                    over(armed)?;
                    if self.fail {
                        out.push((format!("{e} evaluating {}", v.program.source), Json::Null));
                    }
                }
            }
        }
        let mut annotations = Vec::new();
        for (key, p) in &self.audit_annotations {
            match p.run(&ctx) {
                Ok(Value::String(s)) if !s.is_empty() => {
                    // The API server truncates values to 10 KiB.
                    let mut s = s.to_string();
                    if s.len() > 10 * 1024 {
                        let mut cut = 10 * 1024;
                        while !s.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        s.truncate(cut);
                    }
                    annotations.push((key.clone(), s));
                }
                Ok(_) => {}
                Err(e) => {
                    over(armed)?;
                    if self.fail {
                        out.push((format!("{e} evaluating auditAnnotations {key}"), Json::Null));
                    }
                }
            }
        }
        over(armed)?;
        Ok((out, annotations))
    }
}

/// Every identifier `e` reads.
fn idents(e: &IdedExpr, out: &mut HashSet<String>) {
    match &e.expr {
        Expr::Ident(n) => {
            out.insert(n.clone());
        }
        Expr::Select(s) => idents(&s.operand, out),
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                idents(t, out);
            }
            for a in &c.args {
                idents(a, out);
            }
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                idents(x, out);
            }
        }
        Expr::List(l) => {
            for x in &l.elements {
                idents(x, out);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    idents(&me.key, out);
                    idents(&me.value, out);
                }
            }
        }
        Expr::Struct(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Gatekeeper's prelude `params`: the constraint's `spec.parameters`, null when absent.
fn gatekeeper_params(constraint: &Value) -> Value {
    let get = |v: &Value, k: &str| match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(k.to_owned()))).cloned(),
        _ => None,
    };
    get(constraint, "spec")
        .and_then(|s| get(&s, "parameters"))
        .unwrap_or(Value::Null)
}

/// Approximate size of a value, counting stops once past `cap`.
fn value_size(v: &Value, cap: usize) -> usize {
    fn walk(v: &Value, total: &mut usize, cap: usize) {
        if *total > cap {
            return;
        }
        match v {
            Value::String(s) => *total += s.len(),
            Value::Bytes(b) => *total += b.len(),
            Value::List(l) => {
                *total += 16 * l.len();
                for x in l.iter() {
                    walk(x, total, cap);
                }
            }
            Value::Map(m) => {
                *total += 16 * m.map.len();
                for (k, x) in m.map.iter() {
                    if let Key::String(s) = k {
                        *total += s.len();
                    }
                    walk(x, total, cap);
                }
            }
            _ => *total += 8,
        }
    }
    let mut total = 0;
    walk(v, &mut total, cap);
    total
}

/// messageExpression (a non-empty single-line string), then message, then the expression.
fn message(v: &Validation, ctx: &Context) -> String {
    if let Some(p) = &v.message_expression
        && let Ok(Value::String(s)) = p.run(ctx)
    {
        let s = s.trim();
        if !s.is_empty() && !s.contains('\n') && s.len() <= 5 * 1024 {
            return s.to_owned();
        }
    }
    match v.message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => format!("failed expression: {}", v.program.source),
    }
}

fn arr<'v>(v: &'v Json, key: &str) -> &'v [Json] {
    v.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// JSON -> CEL without field-name escaping: Gatekeeper binds unstructured objects, which have
/// no schema, so keys stay as they are. Integral numbers become Int (cel-go compares numbers
/// across types; cel-rust does not).
pub(crate) fn to_cel(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::Int(f as i64)
                } else {
                    Value::Float(f)
                }
            }
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Json::Object(o) => Value::Map(Map {
            map: Arc::new(
                o.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect(),
            ),
        }),
    }
}
