//! Gatekeeper's K8sNativeValidation driver on kube-cel: variables `object` (null on DELETE),
//! `oldObject`, `request`, `params` (the whole constraint), `namespaceObject`; the prelude
//! variables `anyObject` and `params`; `matchCondition`; validations with message and
//! messageExpression; `failurePolicy` (Fail by default).

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, FunctionContext, Program, Value};
use serde_json::Value as Json;

use crate::{Constraint, PolicyError, Review};

const ANY_OBJECT: &str = r#"has(request.operation) && request.operation == "DELETE" && object == null ? oldObject : object"#;
const PARAMS: &str =
    "!has(params.spec) ? null : !has(params.spec.parameters) ? null : params.spec.parameters";

/// The review's values, converted once per review.
#[derive(Debug, Clone)]
pub(crate) struct CelReview {
    object: Value,
    old_object: Value,
    request: Value,
    namespace_object: Value,
}

impl CelReview {
    fn new(review: &Review) -> CelReview {
        // On DELETE the driver clears `object`, as a real VAP sees it.
        let object = if review.operation() == "DELETE" {
            Value::Null
        } else {
            to_cel(review.object())
        };
        CelReview {
            object,
            old_object: to_cel(review.old_object()),
            request: to_cel(&review.request),
            namespace_object: review.namespace_object.as_ref().map_or(Value::Null, to_cel),
        }
    }
}

pub(crate) struct CelProgram {
    base: Context<'static>,
    /// Prelude first, then the template's variables, in order.
    variables: Vec<(String, Program)>,
    conditions: Vec<(String, Program)>,
    validations: Vec<Validation>,
    fail: bool,
}

struct Validation {
    expression: String,
    program: Program,
    message: Option<String>,
    message_expression: Option<Program>,
}

impl std::fmt::Debug for CelProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelProgram")
            .field("validations", &self.validations.len())
            .finish()
    }
}

// `dyn(x)` is a type-checker hint in cel-go; at run time it is the identity.
fn dyn_fn(_: &FunctionContext, v: Value) -> Result<Value, ExecutionError> {
    Ok(v)
}

fn compile(src: &str, field: String) -> Result<Program, (String, String)> {
    Program::compile(src).map_err(|e| (field, format!("{e} in {src:?}")))
}

impl CelProgram {
    /// Compiles `source`; on error, the field (relative to `source`) and the message.
    pub(crate) fn compile(source: &Json) -> Result<CelProgram, (String, String)> {
        CelProgram::compile_as(source, true)
    }

    /// `gatekeeper`: Gatekeeper's prelude variables and reserved names; otherwise a
    /// ValidatingAdmissionPolicy spec (`matchConditions`, no prelude).
    pub(crate) fn compile_as(
        source: &Json,
        gatekeeper: bool,
    ) -> Result<CelProgram, (String, String)> {
        let mut variables = Vec::new();
        if gatekeeper {
            variables.push(("anyObject".to_owned(), compile(ANY_OBJECT, String::new())?));
            variables.push(("params".to_owned(), compile(PARAMS, String::new())?));
        }
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
            variables.push((
                name.to_owned(),
                compile(expr, format!("variables[{i}].expression"))?,
            ));
        }
        let mut conditions = Vec::new();
        // The key is singular in Gatekeeper's schema; the plural is accepted as well.
        let mc = if source.get("matchCondition").is_some() {
            "matchCondition"
        } else {
            "matchConditions"
        };
        for (i, c) in arr(source, mc).iter().enumerate() {
            let name = c
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            let expr = c.get("expression").and_then(Json::as_str).unwrap_or("");
            conditions.push((name, compile(expr, format!("{mc}[{i}].expression"))?));
        }
        let mut validations = Vec::new();
        for (i, v) in arr(source, "validations").iter().enumerate() {
            let expr = v.get("expression").and_then(Json::as_str).unwrap_or("");
            let message_expression = match v.get("messageExpression").and_then(Json::as_str) {
                Some(m) => Some(compile(m, format!("validations[{i}].messageExpression"))?),
                None => None,
            };
            validations.push(Validation {
                expression: expr.to_owned(),
                program: compile(expr, format!("validations[{i}].expression"))?,
                message: v.get("message").and_then(Json::as_str).map(str::to_owned),
                message_expression,
            });
        }
        let fail = source.get("failurePolicy").and_then(Json::as_str) != Some("Ignore");
        let mut base = Context::default().with_all();
        base.add_function("dyn", dyn_fn);
        Ok(CelProgram {
            base,
            variables,
            conditions,
            validations,
            fail,
        })
    }

    pub(crate) fn violations(
        &self,
        c: &Constraint,
        review: &Review,
    ) -> Result<Vec<(String, Json)>, PolicyError> {
        Ok(self.eval(&c.cel_object, review))
    }

    /// `(message, null)` per failed validation (and per error under `failurePolicy: Fail`).
    pub(crate) fn eval(&self, params: &Value, review: &Review) -> Vec<(String, Json)> {
        let r = review.cel.get_or_init(|| CelReview::new(review));
        let mut ctx = self.base.new_inner_scope();
        ctx.add_variable_from_value("object", r.object.clone());
        ctx.add_variable_from_value("oldObject", r.old_object.clone());
        ctx.add_variable_from_value("request", r.request.clone());
        ctx.add_variable_from_value("params", params.clone());
        ctx.add_variable_from_value("namespaceObject", r.namespace_object.clone());
        // Variables in order, each seeing the earlier ones. A variable that errors is left
        // out, so the error surfaces only in an expression that reads it (as lazy evaluation
        // in the API server does).
        let mut vars: HashMap<Key, Value> = HashMap::new();
        for (name, p) in &self.variables {
            ctx.add_variable_from_value(
                "variables",
                Value::Map(Map {
                    map: Arc::new(vars.clone()),
                }),
            );
            if let Ok(v) = p.execute(&ctx) {
                vars.insert(Key::String(Arc::new(name.clone())), v);
            }
        }
        ctx.add_variable_from_value(
            "variables",
            Value::Map(Map {
                map: Arc::new(vars),
            }),
        );
        let mut out = Vec::new();
        let mut cond_error = None;
        for (name, p) in &self.conditions {
            match p.execute(&ctx) {
                Ok(Value::Bool(false)) => return out,
                Ok(Value::Bool(true)) => {}
                Ok(other) => {
                    cond_error
                        .get_or_insert(format!("matchCondition {name}: not a bool: {other:?}"));
                }
                Err(e) => {
                    cond_error.get_or_insert(format!("matchCondition {name}: {e}"));
                }
            }
        }
        if let Some(e) = cond_error {
            if self.fail {
                out.push((e, Json::Null));
            }
            return out;
        }
        for v in &self.validations {
            match v.program.execute(&ctx) {
                Ok(Value::Bool(true)) => {}
                Ok(_) => out.push((message(v, &ctx), Json::Null)),
                Err(e) if self.fail => {
                    out.push((format!("{e} evaluating {}", v.expression), Json::Null))
                }
                Err(_) => {}
            }
        }
        out
    }
}

/// messageExpression (a non-empty single-line string), then message, then the expression.
fn message(v: &Validation, ctx: &Context) -> String {
    if let Some(p) = &v.message_expression
        && let Ok(Value::String(s)) = p.execute(ctx)
    {
        let s = s.trim();
        if !s.is_empty() && !s.contains('\n') && s.len() <= 5 * 1024 {
            return s.to_owned();
        }
    }
    match v.message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => format!("failed expression: {}", v.expression),
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
