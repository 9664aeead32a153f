//! Gatekeeper's Rego driver on regorus: v0 modules (v1 on request), libs under `data.lib`,
//! input `{review, parameters}`, `data.inventory`, the `violation` set.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};

use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::{Value, json};

use crate::{Constraint, Inventory, Limits, PolicyError, Review};

/// Longest the load-time probe of a template may run.
const PROBE_TIME: std::time::Duration = std::time::Duration::from_secs(1);

const CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// Engines kept for reuse per template: about one per thread that evaluates at once.
const POOL_MAX: usize = 64;

/// One evaluator: regorus's Rego VM where the template compiles to it, else its interpreter.
enum Runner {
    Vm(Box<RegoVM>),
    Interpreter(Box<regorus::Engine>),
}

pub(crate) struct RegoProgram {
    /// The prepared interpreter (also the fallback where the VM compiler refuses a template).
    prototype: regorus::Engine,
    /// The template compiled for regorus's register VM: 4-6x faster than the tree-walking
    /// interpreter on the library's templates (K8sContainerLimits: 1 ms -> 160 us per
    /// review), the same results on every suite case (conformance test).
    program: Option<Arc<Program>>,
    /// Prepared evaluators reused across reviews, each with the id of the inventory last
    /// loaded into its `data`. An evaluation takes one out and puts it back, so threads never
    /// wait on each other's evaluation (a single engine behind a Mutex serialised admit's
    /// workers).
    pool: Mutex<Vec<(Runner, Option<u64>)>>,
    rule: String,
    /// Whether any module reads `data.inventory`: loading the inventory into `data` costs in
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
            let src = sprintf_missing_arguments(src);
            if v1 { src } else { opa_v0_compat(&src) }
        };
        for (i, lib) in libs.iter().enumerate() {
            engine
                .add_policy(format!("{name}/libs[{i}].rego"), fix(lib))
                .map_err(|e| e.to_string())?;
        }
        let pkg = engine
            .add_policy(format!("{name}.rego"), fix(rego))
            .map_err(|e| e.to_string())?;
        // regorus does not refuse recursion as OPA does, and a recursive function overflows
        // the native stack (the process aborts) before any time limit can stop it. Checked
        // after parsing, so a syntax error is reported with its own line first.
        for (what, src) in std::iter::once((name.to_owned(), rego)).chain(
            libs.iter()
                .enumerate()
                .map(|(i, l)| (format!("libs[{i}]"), l.as_str())),
        ) {
            if let Some(cycle) = recursion(src) {
                return Err(format!(
                    "{what}: recursive reference {cycle} (Rego forbids recursion; rego_recursion_error in OPA)"
                ));
            }
        }
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
        // Extensions (external_data) are the interpreter's only.
        let program = if rego.contains("external_data") {
            None
        } else {
            let mut e = engine.clone();
            e.compile_with_entrypoint(&rule.as_str().into())
                .ok()
                .and_then(|compiled| {
                    Compiler::compile_from_policy(&compiled, &[rule.as_str()]).ok()
                })
        };
        Ok(RegoProgram {
            prototype: engine,
            program,
            pool: Mutex::new(Vec::new()),
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
        let mut slot = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_else(|| (self.runner(), None));
        let result = self.eval_on(&mut slot, c, review, inventory, limits);
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < POOL_MAX {
            pool.push(slot);
        }
        result
    }

    /// Whether evaluations run on regorus's VM (else on its interpreter).
    pub(crate) fn on_vm(&self) -> bool {
        self.program.is_some()
    }

    fn runner(&self) -> Runner {
        match &self.program {
            Some(p) => {
                let mut vm = RegoVM::new();
                vm.load_program(p.clone());
                // OPA's default, as for the interpreter below.
                vm.set_strict_builtin_errors(false);
                // The VM's default stops at 25,000 instructions, which a large object
                // passes legitimately; the time limit bounds evaluations instead.
                vm.set_max_instructions(usize::MAX);
                Runner::Vm(Box::new(vm))
            }
            None => Runner::Interpreter(Box::new(self.prototype.clone())),
        }
    }

    fn eval_on(
        &self,
        slot: &mut (Runner, Option<u64>),
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
        let (runner, loaded) = slot;
        let timer = ExecutionTimerConfig {
            limit: limits.rego_time,
            // Reading the clock at every step cost ~5% of evaluation time; every 64 steps keeps
            // the overrun small.
            check_interval: CHECK_INTERVAL,
        };
        let rv = review.rego.get_or_init(|| review_value(review));
        let mut input = std::collections::BTreeMap::new();
        input.insert(regorus::Value::from("review"), rv.clone());
        input.insert(
            regorus::Value::from("parameters"),
            c.rego_parameters.clone(),
        );
        let input = regorus::Value::from(input);
        let result = match runner {
            Runner::Vm(vm) => {
                if self.reads_inventory && *loaded != Some(inventory.id) {
                    *loaded = None;
                    vm.set_data(inventory.rego_data())
                        .map_err(|e| err(e.to_string()))?;
                    *loaded = Some(inventory.id);
                }
                // `execute` resets the registers and the per-evaluation rule cache itself.
                vm.set_execution_timer_config(Some(timer));
                vm.set_input(input);
                vm.execute().map_err(|e| e.to_string())
            }
            Runner::Interpreter(engine) => {
                engine.set_execution_timer_config(timer);
                engine.set_input(input);
                if self.reads_inventory && *loaded != Some(inventory.id) {
                    engine.clear_data();
                    *loaded = None;
                    engine
                        .add_data(inventory.rego_data())
                        .map_err(|e| err(e.to_string()))?;
                    *loaded = Some(inventory.id);
                }
                engine
                    .eval_rule(self.rule.clone())
                    .map_err(|e| e.to_string())
            }
        };
        let result = result.map_err(|m| {
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

/// Gatekeeper's `input.review` for Rego: the request with `namespaceObject`, and on DELETE the
/// old object as `object`.
pub(crate) fn review_value(review: &Review) -> regorus::Value {
    let mut keys = Interner::default();
    let mut request: std::collections::BTreeMap<regorus::Value, regorus::Value> =
        match &review.request {
            Value::Object(m) => m
                .iter()
                .map(|(k, x)| (regorus::Value::String(keys.key(k)), keys.convert(x)))
                .collect(),
            _ => std::collections::BTreeMap::new(),
        };
    if review.request.is_object() {
        // Rego sees DELETE's oldObject as object (Gatekeeper copies it).
        if review.operation() == "DELETE" && review.object().is_null() {
            request.insert(
                regorus::Value::from("object"),
                keys.convert(review.old_object()),
            );
        }
        request.insert(
            regorus::Value::from("namespaceObject"),
            review
                .namespace_object
                .as_ref()
                .map_or(regorus::Value::Null, |n| keys.convert(n)),
        );
        regorus::Value::from(request)
    } else {
        keys.convert(&review.request)
    }
}

/// Converts JSON into regorus values directly (no intermediate copy, unlike
/// `regorus::Value::from(serde_json::Value)`, which takes the value by ownership and goes
/// through serde), sharing one allocation per distinct object key: the inventory's thousands
/// of objects repeat the same few hundred keys.
#[derive(Default)]
pub(crate) struct Interner {
    keys: std::collections::HashSet<Arc<str>>,
}

impl Interner {
    pub(crate) fn convert(&mut self, v: &Value) -> regorus::Value {
        match v {
            Value::Null => regorus::Value::Null,
            Value::Bool(b) => regorus::Value::from(*b),
            Value::String(s) => regorus::Value::from(s.as_str()),
            Value::Array(a) => {
                regorus::Value::from(a.iter().map(|x| self.convert(x)).collect::<Vec<_>>())
            }
            Value::Object(m) => {
                let map: std::collections::BTreeMap<regorus::Value, regorus::Value> = m
                    .iter()
                    .map(|(k, x)| (regorus::Value::String(self.key(k)), self.convert(x)))
                    .collect();
                regorus::Value::from(map)
            }
            // As regorus's deserializer reads them: unsigned, signed, else float.
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => regorus::Value::from(u),
                (None, Some(i), _) => regorus::Value::from(i),
                (None, None, Some(f)) => regorus::Value::from(f),
                (None, None, None) => regorus::Value::Undefined,
            },
        }
    }

    fn key(&mut self, k: &str) -> Arc<str> {
        if let Some(have) = self.keys.get(k) {
            return Arc::clone(have);
        }
        let new: Arc<str> = Arc::from(k);
        self.keys.insert(Arc::clone(&new));
        new
    }
}

/// A cycle among the rules and functions of one module (`f -> g -> f`), if any. Token-level:
/// a definition starts with a name at the start of a line outside any bracket; its text up to
/// the next definition refers to every other top-level name it mentions (not after `.`).
/// Comments and strings are skipped.
pub(crate) fn recursion(src: &str) -> Option<String> {
    const KEYWORDS: &[&str] = &[
        "package", "import", "default", "else", "if", "contains", "some", "every", "in", "not",
        "with", "as", "true", "false", "null",
    ];
    let mut defs: Vec<(String, Vec<String>)> = Vec::new();
    let mut depth: i64 = 0;
    let mut line_start = true;
    let mut after_dot = false;
    let mut skip_line = false;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                line_start = true;
                skip_line = false;
                continue;
            }
            '"' => {
                let mut escaped = false;
                for n in chars.by_ref() {
                    match (escaped, n) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for n in chars.by_ref() {
                    if n == '`' {
                        break;
                    }
                }
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            '\n' => {
                line_start = true;
                skip_line = false;
                after_dot = false;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if line_start && depth <= 0 && !skip_line {
                    if word == "package" || word == "import" {
                        skip_line = true;
                    } else if word != "default" {
                        defs.push((word, Vec::new()));
                    }
                } else if !after_dot
                    && !skip_line
                    && !KEYWORDS.contains(&word.as_str())
                    && let Some((_, mentions)) = defs.last_mut()
                {
                    mentions.push(word);
                }
                line_start = false;
                after_dot = false;
                continue;
            }
            c if c.is_whitespace() => continue,
            _ => {}
        }
        after_dot = c == '.';
        line_start = false;
    }
    // Edges between defined names; several definitions of one name merge.
    let names: std::collections::BTreeSet<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
    let mut edges: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        std::collections::BTreeMap::new();
    for (n, mentions) in &defs {
        let e = edges.entry(n.as_str()).or_default();
        for m in mentions {
            if names.contains(m.as_str()) {
                e.insert(m.as_str());
            }
        }
    }
    // Depth-first search for a back edge, with an explicit stack: a long chain of rules
    // must not overflow the native one.
    let mut done = std::collections::BTreeSet::new();
    for &start in edges.keys() {
        if done.contains(start) {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut on_path: std::collections::HashSet<&str> = std::collections::HashSet::from([start]);
        let mut next = vec![edges.get(start).into_iter().flatten()];
        while let Some(it) = next.last_mut() {
            match it.next() {
                Some(&m) if on_path.contains(m) => {
                    let i = path.iter().position(|p| *p == m).unwrap_or(0);
                    let mut cycle: Vec<&str> =
                        path.get(i..).map(<[&str]>::to_vec).unwrap_or_default();
                    cycle.push(m);
                    return Some(cycle.join(" -> "));
                }
                Some(&m) => {
                    if !done.contains(m) {
                        path.push(m);
                        on_path.insert(m);
                        next.push(edges.get(m).into_iter().flatten());
                    }
                }
                None => {
                    next.pop();
                    if let Some(n) = path.pop() {
                        on_path.remove(n);
                        done.insert(n);
                    }
                }
            }
        }
    }
    None
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

/// OPA's `sprintf` (Go's fmt) prints `%!v(MISSING)` for a verb without an argument; regorus's
/// fails, leaving the message, and the violation it is part of, undefined
/// (`general/horizontalpodautoscaler`'s message has six verbs and five arguments). Where a
/// call's format is a string literal and its arguments an array literal with fewer elements
/// than verbs, the verbs without an argument are rewritten to OPA's output (`%%!v(MISSING)`,
/// which `sprintf` prints as `%!v(MISSING)`). Other calls, and formats with `*` or explicit
/// argument indexes, are left alone. No line breaks are added or removed.
pub(crate) fn sprintf_missing_arguments(src: &str) -> String {
    const CALL: &str = "sprintf";
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    // Start of the source not yet copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'#' => {
                i = src
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(b.len(), |n| i + n);
                continue;
            }
            b'"' => {
                i = string_end(b, i).unwrap_or(b.len());
                continue;
            }
            b'`' => {
                i = src
                    .get(i + 1..)
                    .and_then(|r| r.find('`'))
                    .map_or(b.len(), |n| i + 1 + n + 1);
                continue;
            }
            _ => {}
        }
        let word_start = i == 0
            || !b
                .get(i - 1)
                .is_some_and(|p| p.is_ascii_alphanumeric() || matches!(p, b'_' | b'.'));
        if word_start
            && src.get(i..).is_some_and(|r| r.starts_with(CALL))
            && let Some((fmt_start, fmt_end, args)) = sprintf_call(b, i + CALL.len())
            && let Some(fmt) = src.get(fmt_start + 1..fmt_end - 1)
            && let Some(fixed) = mark_missing(fmt, args)
        {
            out.push_str(src.get(copied..=fmt_start).unwrap_or_default());
            out.push_str(&fixed);
            copied = fmt_end - 1;
            i = fmt_end;
            continue;
        }
        i += 1;
    }
    out.push_str(src.get(copied..).unwrap_or_default());
    out
}

/// Index just past the `"..."` literal starting at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            b'\n' => return None,
            _ => j += 1,
        }
    }
}

/// For `("fmt", [a, b])` at `i`: the format literal's span (quotes included) and the number of
/// array elements; `None` for any other shape.
fn sprintf_call(b: &[u8], mut i: usize) -> Option<(usize, usize, usize)> {
    let skip_ws = |mut j: usize| {
        while b.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        j
    };
    i = skip_ws(i);
    (b.get(i)? == &b'(').then_some(())?;
    let fmt_start = skip_ws(i + 1);
    (b.get(fmt_start)? == &b'"').then_some(())?;
    let fmt_end = string_end(b, fmt_start)?;
    i = skip_ws(fmt_end);
    (b.get(i)? == &b',').then_some(())?;
    i = skip_ws(i + 1);
    (b.get(i)? == &b'[').then_some(())?;
    i += 1;
    // Top-level elements of the array literal: separated by commas outside brackets/strings.
    let mut depth = 0usize;
    let mut elems = 0usize;
    let mut pending = false;
    loop {
        match b.get(i)? {
            b'"' => {
                i = string_end(b, i)?;
                pending = true;
                continue;
            }
            b'`' | b'#' => return None,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b']' => break,
            b')' | b'}' => return None,
            b',' if depth == 0 => {
                if pending {
                    elems += 1;
                }
                pending = false;
                i += 1;
                continue;
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {}
        }
        pending = true;
        i += 1;
    }
    if pending {
        elems += 1;
    }
    i = skip_ws(i + 1);
    (b.get(i)? == &b')').then_some((fmt_start, fmt_end, elems))
}

/// The format with verbs past the `args`-th replaced by OPA's `%!v(MISSING)`; `None` when every
/// verb has an argument or the format uses `*` or `[n]`.
fn mark_missing(fmt: &str, args: usize) -> Option<String> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut verbs = 0usize;
    let mut chars = fmt.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, n)| n == '%') {
            chars.next();
            out.push_str("%%");
            continue;
        }
        let mut spec = String::from('%');
        let verb = loop {
            let (_, n) = chars.next()?;
            spec.push(n);
            if n.is_ascii_alphabetic() {
                break n;
            }
            if !matches!(n, '+' | '-' | '#' | ' ' | '.' | '0'..='9') {
                return None;
            }
        };
        if verbs >= args {
            out.push_str(&format!("%%!{verb}(MISSING)"));
        } else {
            out.push_str(&spec);
        }
        verbs += 1;
    }
    (verbs > args).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::opa_v0_compat;

    #[test]
    fn sprintf_verbs_without_an_argument_print_opas_missing_marker() {
        use super::sprintf_missing_arguments as fix;
        let src = "m := sprintf(\"%v <%v> %d: %v\", [a, f(b, c)])\n";
        assert_eq!(
            fix(src),
            "m := sprintf(\"%v <%v> %%!d(MISSING): %%!v(MISSING)\", [a, f(b, c)])\n"
        );
        // Across lines, with strings and nested arrays among the arguments.
        let src = "m := sprintf(\"%v%v%v\", [\n  \"x,]\",\n  [1, 2]\n])";
        assert_eq!(
            fix(src),
            "m := sprintf(\"%v%v%%!v(MISSING)\", [\n  \"x,]\",\n  [1, 2]\n])"
        );
        // Unchanged: enough arguments, `%%`, a variable as arguments, comments, other names.
        for same in [
            "sprintf(\"%v %v\", [a, b])",
            "sprintf(\"100%% %v\", [a])",
            "sprintf(\"%v %v\", args)",
            "# sprintf(\"%v %v\", [a])",
            "x.sprintf(\"%v %v\", [a])",
            "my_sprintf(\"%v %v\", [a])",
            "sprintf(\"%*d\", [a])",
        ] {
            assert_eq!(fix(same), same);
        }
        // regorus prints the rewritten verb as OPA prints the missing one.
        let mut e = regorus::Engine::new();
        let got = e
            .eval_query(fix("sprintf(\"%v %v\", [1])"), false)
            .map(|r| {
                format!(
                    "{:?}",
                    r.result
                        .first()
                        .and_then(|x| x.expressions.first())
                        .map(|x| &x.value)
                )
            });
        assert_eq!(
            got.ok(),
            Some(format!(
                "{:?}",
                Some(&regorus::Value::from("1 %!v(MISSING)"))
            ))
        );
    }

    #[test]
    fn recursion_is_found_and_ordinary_modules_pass() {
        use super::recursion;
        assert_eq!(
            recursion("package p\nf(x) = y { x > 0; y := f(x - 1) }\nf(0) = 0\n").as_deref(),
            Some("f -> f")
        );
        assert_eq!(
            recursion("package p\na { b }\nb {\n  c\n}\nc { a }\n").as_deref(),
            Some("a -> b -> c -> a")
        );
        // Names in strings, comments, after dots, and local variables: no edges.
        let ok = "package p\n# f calls f\nf(x) = y {\n  y := input.f\n  msg := \"f(f)\"\n}\nviolation[{\"msg\": m}] {\n  f(1)\n  m := \"x\"\n}\n";
        assert_eq!(recursion(ok), None);
    }

    #[test]
    fn a_long_chain_of_rules_does_not_overflow_the_stack() {
        use super::recursion;
        use std::fmt::Write as _;
        let mut src = String::from("package p\n");
        let n = 100_000;
        for i in 0..n {
            let _ = writeln!(src, "r{i} {{ r{} }}", i + 1);
        }
        let _ = writeln!(src, "r{n} {{ true }}");
        let small_stack = std::thread::Builder::new().stack_size(256 * 1024);
        let found = small_stack.spawn(move || recursion(&src)).map(|h| h.join());
        assert!(matches!(found, Ok(Ok(None))), "{found:?}");
    }

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
