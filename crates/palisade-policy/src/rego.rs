//! Gatekeeper's Rego driver on regorus: v0 modules (v1 on request), libs under `data.lib`,
//! input `{review, parameters}`, `data.inventory`, the `violation` set.

use std::num::NonZeroU32;
use std::sync::Mutex;

use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::{Value, json};

use crate::{Constraint, Inventory, Limits, PolicyError, Review};

/// Longest the load-time probe of a template may run.
const PROBE_TIME: std::time::Duration = std::time::Duration::from_secs(1);

const CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

pub(crate) struct RegoProgram {
    /// A prepared engine reused across reviews (cloning one per review costs more than the
    /// evaluation), with the id of the inventory last merged into its `data`.
    engine: Mutex<(regorus::Engine, Option<u64>)>,
    rule: String,
    /// Whether any module reads `data.inventory`: merging the inventory into `data` costs in
    /// proportion to its size, so templates that do not read it do not get it.
    reads_inventory: bool,
}

impl std::fmt::Debug for RegoProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoProgram")
            .field("rule", &self.rule)
            .finish()
    }
}

impl RegoProgram {
    pub(crate) fn compile(
        name: &str,
        rego: &str,
        libs: &[String],
        v1: bool,
    ) -> Result<RegoProgram, String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!v1);
        // OPA's default: a builtin given a wrong type is undefined, not an error.
        engine.set_strict_builtin_errors(false);
        // Offline there is no provider: answer with Gatekeeper's error shape so defensive
        // templates report their own violation instead of failing to compile.
        engine
            .add_extension(
                "external_data".into(),
                1,
                Box::new(|_args: Vec<regorus::Value>| {
                    Ok(regorus::Value::from(json!({
                        "responses": null,
                        "errors": null,
                        "status_code": 400,
                        "system_error": "external data unavailable offline",
                    })))
                }),
            )
            .map_err(|e| e.to_string())?;
        let fix = |src: &str| {
            if v1 {
                src.to_owned()
            } else {
                opa_v0_compat(src)
            }
        };
        for (i, lib) in libs.iter().enumerate() {
            engine
                .add_policy(format!("{name}/libs[{i}].rego"), fix(lib))
                .map_err(|e| e.to_string())?;
        }
        let pkg = engine
            .add_policy(format!("{name}.rego"), fix(rego))
            .map_err(|e| e.to_string())?;
        let rule = format!("{pkg}.violation");
        // Compile now so that errors in rule bodies surface at load, not at the first review.
        let mut probe = engine.clone();
        // Bounded like any evaluation: a template that loops without reading its input would
        // otherwise hang loading (scan, admit's start and its reloads).
        probe.set_execution_timer_config(ExecutionTimerConfig {
            limit: PROBE_TIME,
            check_interval: CHECK_INTERVAL,
        });
        probe.set_input(regorus::Value::from(
            json!({"review": {}, "parameters": {}}),
        ));
        probe
            .add_data(regorus::Value::from(
                json!({"inventory": {"cluster": {}, "namespace": {}}}),
            ))
            .map_err(|e| e.to_string())?;
        if let Err(e) = probe.eval_rule(rule.clone()) {
            let msg = e.to_string();
            // Only static problems count here; runtime errors on the empty probe input do not.
            if msg.contains("could not find function") || msg.contains("parse") {
                return Err(msg);
            }
        }
        let reads_inventory =
            rego.contains("inventory") || libs.iter().any(|l| l.contains("inventory"));
        Ok(RegoProgram {
            engine: Mutex::new((engine, None)),
            rule,
            reads_inventory,
        })
    }

    /// `(msg, details)` of every violation.
    pub(crate) fn violations(
        &self,
        c: &Constraint,
        review: &Review,
        inventory: &Inventory,
        limits: &Limits,
    ) -> Result<Vec<(String, Value)>, PolicyError> {
        let err = |message: String| PolicyError::Eval {
            policy: c.id(),
            engine: "rego",
            message,
        };
        let mut guard = self
            .engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (engine, loaded) = &mut *guard;
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.rego_time,
            // Reading the clock at every step cost ~5% of evaluation time; every 64 steps keeps
            // the overrun small.
            check_interval: CHECK_INTERVAL,
        });
        let rv = review.rego.get_or_init(|| {
            let mut request = review.request.clone();
            if let Value::Object(m) = &mut request {
                // Rego sees DELETE's oldObject as object (Gatekeeper copies it).
                if review.operation() == "DELETE" && review.object().is_null() {
                    let old = review.old_object().clone();
                    m.insert("object".into(), old);
                }
                m.insert(
                    "namespaceObject".into(),
                    review.namespace_object.clone().unwrap_or(Value::Null),
                );
            }
            regorus::Value::from(request)
        });
        let mut input = std::collections::BTreeMap::new();
        input.insert(regorus::Value::from("review"), rv.clone());
        input.insert(
            regorus::Value::from("parameters"),
            c.rego_parameters.clone(),
        );
        engine.set_input(regorus::Value::from(input));
        if self.reads_inventory && *loaded != Some(inventory.id) {
            engine.clear_data();
            *loaded = None;
            engine
                .add_data(inventory.rego_data())
                .map_err(|e| err(e.to_string()))?;
            *loaded = Some(inventory.id);
        }
        let result = engine.eval_rule(self.rule.clone()).map_err(|e| {
            let m = e.to_string();
            if m.contains("time limit") {
                err(format!(
                    "{m} (limit {} ms per evaluation; raise Limits::rego_time)",
                    limits.rego_time.as_millis()
                ))
            } else {
                err(m)
            }
        })?;
        if result == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json: Value =
            serde_json::from_str(&result.to_json_str().map_err(|e| err(e.to_string()))?)
                .map_err(|e| err(e.to_string()))?;
        let items = match json {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        Ok(items
            .into_iter()
            .map(|r| {
                let msg = match r.get("msg") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let details = r.get("details").cloned().unwrap_or_else(|| json!({}));
                (msg, details)
            })
            .collect())
    }
}

/// Two Rego v0 forms OPA accepts and regorus 0.14 does not, rewritten line by line into their
/// OPA meaning (line numbers are kept, so errors still point at the template's lines):
/// - a rule with several bodies, `head { a } { b }`: a line that is exactly `} {` at the rule's
///   indentation becomes `} head {` (one more definition of the same rule);
/// - a body line starting with `(` after a line ending in a term: OPA reads two expressions,
///   regorus a call; a `;` (Rego's expression separator) is put between them.
pub(crate) fn opa_v0_compat(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + 16);
    let mut head: Option<(usize, String)> = None;
    let mut prev_term = false;
    for line in src.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        let mut line = line.to_owned();
        if t == "} {" {
            if let Some((hi, h)) = &head
                && *hi == indent
            {
                line = format!("{}}} {h} {{", " ".repeat(indent));
            }
        } else if t.ends_with('{') && !t.starts_with('#') && !t.starts_with('}') && indent == 0 {
            let h = t.trim_end_matches('{').trim_end();
            if !h.is_empty() && !h.starts_with("package") && !h.starts_with("import") {
                head = Some((indent, h.to_owned()));
            }
        }
        if t.starts_with('(') && prev_term {
            // The `;` goes on the previous line, which is already written.
            if out.ends_with('\n') {
                out.pop();
                out.push_str(";\n");
            }
        }
        if !t.is_empty() && !t.starts_with('#') {
            prev_term = t
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ']' | ')' | '"'));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::opa_v0_compat;

    #[test]
    fn multi_body_rules_become_separate_definitions() {
        let src = "package p\nviolation[{\"msg\": m}] {\n  m := \"a\"\n} {\n  m := \"b\"\n}\n";
        let out = opa_v0_compat(src);
        assert_eq!(out.lines().nth(3), Some("} violation[{\"msg\": m}] {"));
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn a_parenthesised_line_after_a_term_is_a_new_expression() {
        let src = "f(x) {\n  input.a\n  (x - 1) > 0\n}\n";
        assert_eq!(opa_v0_compat(src), "f(x) {\n  input.a;\n  (x - 1) > 0\n}\n");
        // After an operator or an opening bracket nothing changes.
        let src = "f(x) {\n  y := [\n  (x - 1)]\n}\n";
        assert_eq!(opa_v0_compat(src), src);
    }
}
