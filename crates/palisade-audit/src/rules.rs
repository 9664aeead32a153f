//! Falco rules files: loading (`rule`, `macro`, `list`, `append`, `override`, `enabled`,
//! `exceptions`), merging across files in order, and compiling to a [`RuleSet`] once all
//! files are in (like Falco, later definitions of lists and macros apply to every rule).

use crate::cond::{self, Cmp, Expr, Item, Node, Op, Rhs};
use crate::error::RulesError;
use crate::fields;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Falco's built-in k8saudit rules (falcosecurity/plugins, see rules/PROVENANCE.md).
pub const FALCO_K8S_AUDIT_RULES: &str = include_str!("../rules/k8s_audit_rules.yaml");
/// Palisade's extra rules, filling the gaps of Falco's file.
pub const PALISADE_EXTRA_RULES: &str = include_str!("../rules/palisade_audit_rules.yaml");

/// Largest rules file accepted (bytes).
pub const MAX_RULES_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Largest macro expansion depth.
const MAX_MACRO_DEPTH: usize = 64;

/// Falco priorities, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Debug,
    Informational,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "debug" => Priority::Debug,
            "info" | "informational" => Priority::Informational,
            "notice" => Priority::Notice,
            "warning" | "warn" => Priority::Warning,
            "error" | "err" => Priority::Error,
            "critical" => Priority::Critical,
            "alert" => Priority::Alert,
            "emergency" => Priority::Emergency,
            _ => return None,
        })
    }

    /// The name Falco prints (`Warning`, `Informational`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Debug => "Debug",
            Priority::Informational => "Informational",
            Priority::Notice => "Notice",
            Priority::Warning => "Warning",
            Priority::Error => "Error",
            Priority::Critical => "Critical",
            Priority::Alert => "Alert",
            Priority::Emergency => "Emergency",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------
// A small YAML tree with line numbers.

#[derive(Debug, Clone)]
enum Y {
    Str(String, usize),
    Null(usize),
    Seq(Vec<Y>, usize),
    Map(Vec<(String, Y)>, usize),
}

impl Y {
    fn line(&self) -> usize {
        match self {
            Y::Str(_, l) | Y::Null(l) | Y::Seq(_, l) | Y::Map(_, l) => *l,
        }
    }
    fn get(&self, k: &str) -> Option<&Y> {
        match self {
            Y::Map(m, _) => m.iter().find(|(kk, _)| kk == k).map(|(_, v)| v),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Y::Str(s, _) => Some(s),
            _ => None,
        }
    }
}

fn convert(node: &MarkedYaml<'_>, depth: usize) -> Result<Y, String> {
    if depth > 64 {
        return Err("YAML nested deeper than 64 levels".into());
    }
    let line = node.span.start.line();
    Ok(match &node.data {
        YamlData::Representation(s, _, _) => Y::Str(s.to_string(), line),
        YamlData::Value(sc) => match sc {
            Scalar::Null => Y::Null(line),
            Scalar::Boolean(b) => Y::Str(b.to_string(), line),
            Scalar::Integer(i) => Y::Str(i.to_string(), line),
            Scalar::FloatingPoint(f) => Y::Str(f.to_string(), line),
            Scalar::String(s) => Y::Str(s.to_string(), line),
        },
        YamlData::Sequence(v) => Y::Seq(
            v.iter()
                .map(|n| convert(n, depth + 1))
                .collect::<Result<_, _>>()?,
            line,
        ),
        YamlData::Mapping(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                let key = match convert(k, depth + 1)? {
                    Y::Str(s, _) => s,
                    _ => return Err(format!("line {line}: mapping keys must be strings")),
                };
                out.push((key, convert(v, depth + 1)?));
            }
            Y::Map(out, line)
        }
        YamlData::Tagged(_, inner) => convert(inner, depth + 1)?,
        YamlData::Alias(_) => {
            return Err(format!(
                "line {line}: YAML aliases are not supported in rules files"
            ));
        }
        YamlData::BadValue => return Err(format!("line {line}: invalid YAML value")),
    })
}

fn strings(y: &Y) -> Vec<String> {
    match y {
        Y::Seq(v, _) => v
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Y::Str(s, _) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn truthy(y: &Y) -> Option<bool> {
    match y.as_str()?.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Raw (merged, uncompiled) definitions.

#[derive(Debug, Clone)]
struct Loc {
    file: Arc<str>,
    line: usize,
}

#[derive(Debug, Clone)]
struct RawList {
    items: Vec<String>,
}

#[derive(Debug, Clone)]
struct RawMacro {
    condition: String,
    loc: Loc,
}

#[derive(Debug, Clone)]
struct RawException {
    name: String,
    /// `None` only in an append that adds values to an existing exception.
    fields: Option<Y>,
    comps: Option<Y>,
    values: Vec<Y>,
}

#[derive(Debug, Clone)]
struct RawRule {
    name: String,
    desc: String,
    condition: String,
    output: String,
    priority: Priority,
    source: String,
    tags: Vec<String>,
    enabled: bool,
    exceptions: Vec<RawException>,
    skip_if_unknown_filter: bool,
    loc: Loc,
}

/// Collects rules files in order; [`RuleSetBuilder::build`] compiles them.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    lists: HashMap<String, RawList>,
    macros: HashMap<String, RawMacro>,
    rules: Vec<RawRule>,
    rule_index: HashMap<String, usize>,
    /// Non-fatal notes (ignored keys, skipped rules of other sources).
    pub warnings: Vec<String>,
}

const OVERRIDABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "items",
    "source",
];

impl RuleSetBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder holding Falco's k8saudit rules and, when `extra` is set, Palisade's.
    pub fn with_defaults(extra: bool) -> Result<Self, RulesError> {
        let mut b = Self::new();
        b.add_str("<builtin:k8s_audit_rules.yaml>", FALCO_K8S_AUDIT_RULES)?;
        if extra {
            b.add_str("<builtin:palisade_audit_rules.yaml>", PALISADE_EXTRA_RULES)?;
        }
        Ok(b)
    }

    /// Adds one rules file's text. `file` names it in errors.
    pub fn add_str(&mut self, file: &str, text: &str) -> Result<(), RulesError> {
        let file: Arc<str> = Arc::from(file);
        if text.len() > MAX_RULES_FILE_BYTES {
            return Err(RulesError::Yaml {
                file: file.to_string(),
                message: format!(
                    "file is {} bytes, above the {MAX_RULES_FILE_BYTES}-byte limit for rules files",
                    text.len()
                ),
            });
        }
        // saphyr's loader expands aliases by copying, so an alias bomb would explode in
        // memory: refuse aliases before building the tree (rules files do not need them).
        for ev in saphyr_parser::Parser::new_from_str(text) {
            match ev {
                Ok((saphyr_parser::Event::Alias(_), span)) => {
                    return Err(RulesError::Yaml {
                        file: file.to_string(),
                        message: format!(
                            "line {}: YAML aliases are not supported in rules files",
                            span.start.line()
                        ),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(RulesError::Yaml {
                        file: file.to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
        let docs = MarkedYaml::load_from_str(text).map_err(|e| RulesError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        for doc in &docs {
            let y = convert(doc, 0).map_err(|message| RulesError::Yaml {
                file: file.to_string(),
                message,
            })?;
            match y {
                Y::Null(_) => {}
                Y::Seq(items, _) => {
                    for item in &items {
                        self.add_item(&file, item)?;
                    }
                }
                other => {
                    return Err(RulesError::Item {
                        file: file.to_string(),
                        line: other.line(),
                        item: "top level".into(),
                        message: "a rules file must be a YAML sequence of rule/macro/list items"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }

    fn add_item(&mut self, file: &Arc<str>, item: &Y) -> Result<(), RulesError> {
        let line = item.line();
        let err = |what: &str, message: String| RulesError::Item {
            file: file.to_string(),
            line,
            item: what.to_string(),
            message,
        };
        let Y::Map(_, _) = item else {
            return Err(err("item", "each item must be a mapping".into()));
        };
        let loc = Loc {
            file: file.clone(),
            line,
        };
        let append = item.get("append").and_then(truthy).unwrap_or(false);
        let overrides: Vec<(String, String)> = match item.get("override") {
            Some(Y::Map(m, _)) => m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            Some(_) => return Err(err("override", "`override` must be a mapping".into())),
            None => Vec::new(),
        };
        for (k, v) in &overrides {
            if !OVERRIDABLE.contains(&k.as_str()) || !(v == "append" || v == "replace") {
                return Err(err(
                    "override",
                    format!(
                        "unsupported override '{k}: {v}' (use append or replace on {OVERRIDABLE:?})"
                    ),
                ));
            }
            if v == "append" && matches!(k.as_str(), "enabled" | "priority" | "source") {
                return Err(err("override", format!("'{k}' can only be replaced")));
            }
        }
        if let Some(name) = item.get("list") {
            let name = name.as_str().unwrap_or_default().to_string();
            let what = format!("list '{name}'");
            let items = item.get("items").map(strings).unwrap_or_default();
            let mode = overrides
                .iter()
                .find(|(k, _)| k == "items")
                .map(|(_, v)| v.as_str())
                .or(if append { Some("append") } else { None });
            match mode {
                Some("append") => {
                    let Some(l) = self.lists.get_mut(&name) else {
                        return Err(err(
                            &what,
                            "append to a list that is not defined yet".into(),
                        ));
                    };
                    l.items.extend(items);
                }
                Some(_) if !self.lists.contains_key(&name) => {
                    return Err(err(
                        &what,
                        "override of a list that is not defined yet".into(),
                    ));
                }
                _ => {
                    if item.get("items").is_none() {
                        return Err(err(&what, "a list needs `items`".into()));
                    }
                    self.lists.insert(name, RawList { items });
                }
            }
            return Ok(());
        }
        if let Some(name) = item.get("macro") {
            let name = name.as_str().unwrap_or_default().to_string();
            let what = format!("macro '{name}'");
            let condition = item
                .get("condition")
                .and_then(Y::as_str)
                .map(str::to_string);
            let mode = overrides
                .iter()
                .find(|(k, _)| k == "condition")
                .map(|(_, v)| v.as_str())
                .or(if append { Some("append") } else { None });
            let Some(condition) = condition else {
                return Err(err(&what, "a macro needs `condition`".into()));
            };
            if mode != Some("append") {
                check_syntax(&condition)
                    .map_err(|e| cond_error(file, line, &what, &condition, e))?;
            }
            match mode {
                Some("append") => {
                    let Some(m) = self.macros.get_mut(&name) else {
                        return Err(err(
                            &what,
                            "append to a macro that is not defined yet".into(),
                        ));
                    };
                    m.condition = format!("{} {}", m.condition, condition);
                    check_syntax(&m.condition)
                        .map_err(|e| cond_error(file, line, &what, &m.condition.clone(), e))?;
                }
                _ => {
                    self.macros.insert(name, RawMacro { condition, loc });
                }
            }
            return Ok(());
        }
        if let Some(name) = item.get("rule") {
            let name = name.as_str().unwrap_or_default().to_string();
            return self.add_rule(file, item, name, append, &overrides, loc);
        }
        if item.get("required_engine_version").is_some()
            || item.get("required_plugin_versions").is_some()
        {
            return Ok(());
        }
        let keys = match item {
            Y::Map(m, _) => m
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        self.warnings.push(format!(
            "{file}:{line}: ignored an item with unknown keys ({keys})"
        ));
        Ok(())
    }

    fn add_rule(
        &mut self,
        file: &Arc<str>,
        item: &Y,
        name: String,
        append: bool,
        overrides: &[(String, String)],
        loc: Loc,
    ) -> Result<(), RulesError> {
        let line = loc.line;
        let what = format!("rule '{name}'");
        let err = |message: String| RulesError::Item {
            file: file.to_string(),
            line,
            item: what.clone(),
            message,
        };
        let str_key = |k: &str| {
            item.get(k)
                .and_then(Y::as_str)
                .map(|s| s.trim().to_string())
        };
        let priority = match str_key("priority") {
            Some(p) => {
                Some(Priority::parse(&p).ok_or_else(|| err(format!("unknown priority '{p}'")))?)
            }
            None => None,
        };
        let enabled = match item.get("enabled") {
            Some(y) => {
                Some(truthy(y).ok_or_else(|| err("`enabled` must be true or false".into()))?)
            }
            None => None,
        };
        let exceptions = match item.get("exceptions") {
            Some(y) => parse_exceptions(y).map_err(err)?,
            None => Vec::new(),
        };
        let existing = self.rule_index.get(&name).copied();
        let is_merge = append || !overrides.is_empty();
        if let Some(c) = str_key("condition").filter(|_| !is_merge) {
            check_syntax(&c).map_err(|e| cond_error(file, line, &what, &c, e))?;
        }
        if is_merge {
            let Some(idx) = existing else {
                return Err(err(
                    "append/override of a rule that is not defined yet".into()
                ));
            };
            let Some(rule) = self.rules.get_mut(idx) else {
                return Err(err("internal: rule index out of range".into()));
            };
            let mode = |k: &str| -> Option<&str> {
                overrides
                    .iter()
                    .find(|(kk, _)| kk == k)
                    .map(|(_, v)| v.as_str())
                    .or(if append && item.get(k).is_some() {
                        Some("append")
                    } else {
                        None
                    })
            };
            if let Some(m) = mode("condition") {
                let c = str_key("condition").ok_or_else(|| {
                    err("override names `condition` but the item has none".into())
                })?;
                rule.condition = if m == "append" {
                    format!("{} {}", rule.condition, c)
                } else {
                    c
                };
                check_syntax(&rule.condition)
                    .map_err(|e| cond_error(file, line, &what, &rule.condition.clone(), e))?;
            }
            if let Some(m) = mode("exceptions") {
                if m == "append" {
                    for ex in exceptions {
                        match rule.exceptions.iter_mut().find(|e| e.name == ex.name) {
                            Some(e) => e.values.extend(ex.values),
                            None => rule.exceptions.push(ex),
                        }
                    }
                } else {
                    rule.exceptions = exceptions;
                }
            }
            if let Some(m) = mode("output") {
                let o = str_key("output").unwrap_or_default();
                rule.output = if m == "append" {
                    format!("{} {}", rule.output, o)
                } else {
                    o
                };
            }
            if let Some(m) = mode("desc") {
                let d = str_key("desc").unwrap_or_default();
                rule.desc = if m == "append" {
                    format!("{} {}", rule.desc, d)
                } else {
                    d
                };
            }
            if let Some(m) = mode("tags") {
                let t = item.get("tags").map(strings).unwrap_or_default();
                if m == "append" {
                    rule.tags.extend(t);
                } else {
                    rule.tags = t;
                }
            }
            if mode("priority").is_some()
                && let Some(p) = priority
            {
                rule.priority = p;
            }
            if let Some(e) = enabled {
                rule.enabled = e;
            }
            return Ok(());
        }
        // `- rule: X` with only `enabled:` toggles an existing rule (Falco behaviour).
        let only_enabled =
            matches!(item, Y::Map(m, _) if m.iter().all(|(k, _)| k == "rule" || k == "enabled"));
        if only_enabled {
            if let (Some(idx), Some(e)) = (existing, enabled) {
                if let Some(rule) = self.rules.get_mut(idx) {
                    rule.enabled = e;
                }
                return Ok(());
            }
            return Err(err(
                "`enabled` alone needs an existing rule of that name".into()
            ));
        }
        let condition =
            str_key("condition").ok_or_else(|| err("a rule needs `condition`".into()))?;
        let output = str_key("output").ok_or_else(|| err("a rule needs `output`".into()))?;
        let priority = priority.ok_or_else(|| err("a rule needs `priority`".into()))?;
        let raw = RawRule {
            name: name.clone(),
            desc: str_key("desc").unwrap_or_default(),
            condition,
            output,
            priority,
            // Palisade only reads audit events, so a rule without `source` is taken as
            // k8s_audit (Falco would default to syscall); see docs/audit.md.
            source: str_key("source").unwrap_or_else(|| "k8s_audit".into()),
            tags: item.get("tags").map(strings).unwrap_or_default(),
            enabled: enabled.unwrap_or(true),
            exceptions,
            skip_if_unknown_filter: item
                .get("skip-if-unknown-filter")
                .and_then(truthy)
                .unwrap_or(false),
            loc,
        };
        match existing {
            Some(idx) => {
                if let Some(slot) = self.rules.get_mut(idx) {
                    *slot = raw;
                }
            }
            None => {
                self.rule_index.insert(name, self.rules.len());
                self.rules.push(raw);
            }
        }
        Ok(())
    }

    /// Compiles every enabled `k8s_audit` rule.
    pub fn build(self) -> Result<RuleSet, RulesError> {
        let mut c = Compiler {
            b: &self,
            macro_cache: HashMap::new(),
            list_cache: HashMap::new(),
        };
        let mut rules = Vec::new();
        let mut warnings = self.warnings.clone();
        for raw in &self.rules {
            if !is_audit_source(&raw.source) {
                warnings.push(format!(
                    "{}:{}: skipped rule '{}' of source '{}'",
                    raw.loc.file, raw.loc.line, raw.name, raw.source
                ));
                continue;
            }
            if !raw.enabled {
                continue;
            }
            let what = format!("rule '{}'", raw.name);
            let expr = cond::parse(&raw.condition)
                .map_err(|e| cond_error(&raw.loc.file, raw.loc.line, &what, &raw.condition, e))?;
            let mut stack = Vec::new();
            let node = match c.compile(&expr, &raw.loc, &what, &raw.condition, &mut stack) {
                Ok(n) => n,
                Err(CompileErr::UnknownField(_)) if raw.skip_if_unknown_filter => continue,
                Err(CompileErr::UnknownField(e)) | Err(CompileErr::Other(e)) => return Err(e),
            };
            let exc = c.exceptions(raw, &what).map_err(|e| match e {
                CompileErr::UnknownField(e) | CompileErr::Other(e) => e,
            })?;
            let cond = match exc {
                Some(x) => Node::And(vec![node, Node::Not(Box::new(x))]),
                None => node,
            };
            let output = Output::parse(&raw.output).map_err(|message| RulesError::Item {
                file: raw.loc.file.to_string(),
                line: raw.loc.line,
                item: what.clone(),
                message,
            })?;
            rules.push(Rule {
                name: Arc::from(raw.name.as_str()),
                desc: raw.desc.clone(),
                priority: raw.priority,
                tags: Arc::from(raw.tags.as_slice()),
                stages: cond.required_values(&|f: &fields::Field| f.is_stage()),
                resources: cond.required_values(&|f: &fields::Field| f.is_resource()),
                verbs: cond.required_values(&|f: &fields::Field| f.is_verb()),
                cond,
                output,
            });
        }
        Ok(RuleSet {
            rules,
            warnings,
            memo_slots: c.macro_cache.len(),
        })
    }
}

fn is_audit_source(s: &str) -> bool {
    matches!(
        s,
        "k8s_audit"
            | "k8saudit"
            | "k8s_audit_aks"
            | "k8saudit-aks"
            | "k8saudit-eks"
            | "k8saudit-gke"
            | "k8saudit-ovh"
    )
}

fn check_syntax(c: &str) -> Result<(), cond::ParseError> {
    cond::parse(c).map(|_| ())
}

fn cond_error(file: &str, line: usize, what: &str, text: &str, e: cond::ParseError) -> RulesError {
    RulesError::Condition {
        file: file.to_string(),
        line,
        item: what.to_string(),
        position: e.pos,
        message: e.message,
        snippet: snippet(text, e.pos),
    }
}

/// The condition with a caret under `pos` (single-lined, clipped around the position).
fn snippet(text: &str, pos: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let pos = pos.min(flat.len());
    let start = flat
        .char_indices()
        .map(|(i, _)| i)
        .filter(|&i| i + 60 >= pos)
        .find(|_| true)
        .unwrap_or(0);
    let end = flat
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i > pos + 40)
        .unwrap_or(flat.len());
    let shown = flat.get(start..end).unwrap_or_default();
    let caret_at = flat.get(start..pos).map(|s| s.chars().count()).unwrap_or(0);
    format!("    {shown}\n    {}^", " ".repeat(caret_at))
}

fn parse_exceptions(y: &Y) -> Result<Vec<RawException>, String> {
    let Y::Seq(items, _) = y else {
        return Err("`exceptions` must be a sequence".into());
    };
    let mut out = Vec::new();
    for it in items {
        let name = it
            .get("name")
            .and_then(Y::as_str)
            .ok_or("each exception needs a `name`")?
            .to_string();
        let fields = it.get("fields").cloned();
        let values = match it.get("values") {
            Some(Y::Seq(v, _)) => v.clone(),
            Some(Y::Null(_)) | None => Vec::new(),
            Some(_) => return Err(format!("exception '{name}': `values` must be a sequence")),
        };
        out.push(RawException {
            name,
            fields,
            comps: it.get("comps").cloned(),
            values,
        });
    }
    Ok(out)
}

enum CompileErr {
    UnknownField(RulesError),
    Other(RulesError),
}

struct Compiler<'a> {
    b: &'a RuleSetBuilder,
    macro_cache: HashMap<String, (Arc<Node>, u32)>,
    list_cache: HashMap<String, Vec<String>>,
}

impl Compiler<'_> {
    fn expand_list(&mut self, name: &str, depth: usize) -> Option<Vec<String>> {
        if let Some(v) = self.list_cache.get(name) {
            return Some(v.clone());
        }
        let raw = self.b.lists.get(name)?;
        let mut out = Vec::new();
        for item in &raw.items {
            if depth < 16 && item != name && self.b.lists.contains_key(item) {
                out.extend(self.expand_list(item, depth + 1).unwrap_or_default());
            } else {
                out.push(item.clone());
            }
        }
        self.list_cache.insert(name.to_string(), out.clone());
        Some(out)
    }

    fn values(&mut self, items: &[Item]) -> Vec<String> {
        let mut out = Vec::new();
        for it in items {
            if !it.quoted && self.b.lists.contains_key(&it.text) {
                out.extend(self.expand_list(&it.text, 0).unwrap_or_default());
            } else {
                out.push(it.text.clone());
            }
        }
        out
    }

    fn compile(
        &mut self,
        e: &Expr,
        loc: &Loc,
        what: &str,
        text: &str,
        stack: &mut Vec<String>,
    ) -> Result<Node, CompileErr> {
        let at = |pos: usize, message: String| RulesError::Condition {
            file: loc.file.to_string(),
            line: loc.line,
            item: what.to_string(),
            position: pos,
            message,
            snippet: snippet(text, pos),
        };
        Ok(match e {
            Expr::And(v) => Node::And(
                v.iter()
                    .map(|x| self.compile(x, loc, what, text, stack))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Node::Or(
                v.iter()
                    .map(|x| self.compile(x, loc, what, text, stack))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(x) => Node::Not(Box::new(self.compile(x, loc, what, text, stack)?)),
            Expr::Macro { name, pos } => {
                if let Some((n, id)) = self.macro_cache.get(name) {
                    return Ok(Node::Shared(n.clone(), *id));
                }
                let Some(m) = self.b.macros.get(name) else {
                    let msg = if fields::resolve(name, None).is_some() {
                        format!("field '{name}' needs an operator")
                    } else {
                        format!("undefined macro '{name}'")
                    };
                    return Err(CompileErr::Other(at(*pos, msg)));
                };
                if stack.iter().any(|s| s == name) || stack.len() > MAX_MACRO_DEPTH {
                    return Err(CompileErr::Other(at(
                        *pos,
                        format!(
                            "macro '{name}' refers to itself (cycle: {})",
                            stack.join(" -> ")
                        ),
                    )));
                }
                let mwhat = format!("macro '{name}'");
                let mexpr = cond::parse(&m.condition).map_err(|e| {
                    CompileErr::Other(cond_error(&m.loc.file, m.loc.line, &mwhat, &m.condition, e))
                })?;
                stack.push(name.clone());
                let node =
                    self.compile(&mexpr, &m.loc.clone(), &mwhat, &m.condition.clone(), stack);
                stack.pop();
                let node = Arc::new(node?);
                let id = u32::try_from(self.macro_cache.len()).unwrap_or(u32::MAX);
                self.macro_cache.insert(name.clone(), (node.clone(), id));
                Node::Shared(node, id)
            }
            Expr::Cmp {
                field,
                arg,
                op,
                rhs,
                pos,
            } => {
                let Some(f) = fields::resolve(field, arg.as_deref()) else {
                    let shown = match arg {
                        Some(a) => format!("{field}[{a}]"),
                        None => field.clone(),
                    };
                    return Err(CompileErr::UnknownField(at(
                        *pos,
                        format!("unknown field '{shown}' (see docs/audit.md for the field table)"),
                    )));
                };
                let vals = match rhs {
                    Rhs::None => Vec::new(),
                    Rhs::One(i) => vec![i.text.clone()],
                    Rhs::List(items) => self.values(items),
                };
                let cmp = Cmp::new(f, *op, vals).map_err(|m| CompileErr::Other(at(*pos, m)))?;
                Node::Cmp(Box::new(cmp))
            }
        })
    }

    /// Builds `exc_1 or exc_2 ...` for a rule's exceptions (`None` when there are none).
    fn exceptions(&mut self, raw: &RawRule, what: &str) -> Result<Option<Node>, CompileErr> {
        let mut alts = Vec::new();
        let err = |m: String| {
            CompileErr::Other(RulesError::Item {
                file: raw.loc.file.to_string(),
                line: raw.loc.line,
                item: what.to_string(),
                message: m,
            })
        };
        for ex in &raw.exceptions {
            let resolve = |name: &str| -> Result<fields::Field, CompileErr> {
                let (n, a) = match name.split_once('[') {
                    Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
                    None => (name, None),
                };
                fields::resolve(n, a).ok_or_else(|| {
                    CompileErr::UnknownField(RulesError::Item {
                        file: raw.loc.file.to_string(),
                        line: raw.loc.line,
                        item: what.to_string(),
                        message: format!("exception '{}': unknown field '{name}'", ex.name),
                    })
                })
            };
            let op_of = |s: &str| -> Result<Op, CompileErr> {
                Ok(match s {
                    "=" | "==" => Op::Eq,
                    "!=" => Op::Ne,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    other => match cond::parse(&format!("x.y {other} (z)")) {
                        Ok(Expr::Cmp { op, .. }) => op,
                        _ => {
                            return Err(err(format!(
                                "exception '{}': unknown comparison '{other}'",
                                ex.name
                            )));
                        }
                    },
                })
            };
            let Some(fields_y) = &ex.fields else {
                return Err(err(format!("exception '{}' needs `fields`", ex.name)));
            };
            match fields_y {
                Y::Str(fname, _) => {
                    let f = resolve(fname)?;
                    let comp = ex.comps.as_ref().and_then(Y::as_str).unwrap_or("in");
                    let op = op_of(comp)?;
                    let items: Vec<Item> = ex
                        .values
                        .iter()
                        .filter_map(|v| v.as_str())
                        .map(|s| Item {
                            text: s.to_string(),
                            quoted: false,
                        })
                        .collect();
                    if items.is_empty() {
                        continue;
                    }
                    let vals = self.values(&items);
                    let c = Cmp::new(f, op, vals)
                        .map_err(|m| err(format!("exception '{}': {m}", ex.name)))?;
                    alts.push(Node::Cmp(Box::new(c)));
                }
                Y::Seq(fs, _) => {
                    let names: Vec<String> = fs
                        .iter()
                        .filter_map(|f| f.as_str().map(str::to_string))
                        .collect();
                    let comps: Vec<String> = match &ex.comps {
                        Some(c) => strings(c),
                        None => vec!["=".into(); names.len()],
                    };
                    if comps.len() != names.len() {
                        return Err(err(format!(
                            "exception '{}': {} fields but {} comps",
                            ex.name,
                            names.len(),
                            comps.len()
                        )));
                    }
                    for tuple in &ex.values {
                        let Y::Seq(parts, _) = tuple else {
                            return Err(err(format!(
                                "exception '{}': each value must be a sequence matching `fields`",
                                ex.name
                            )));
                        };
                        if parts.len() != names.len() {
                            return Err(err(format!(
                                "exception '{}': a value has {} items for {} fields",
                                ex.name,
                                parts.len(),
                                names.len()
                            )));
                        }
                        let mut conj = Vec::new();
                        for ((fname, comp), part) in names.iter().zip(&comps).zip(parts) {
                            let f = resolve(fname)?;
                            let op = op_of(comp)?;
                            let items: Vec<Item> = strings(part)
                                .into_iter()
                                .map(|s| Item {
                                    text: s,
                                    quoted: false,
                                })
                                .collect();
                            let vals = if matches!(op, Op::In | Op::Intersects | Op::PMatch) {
                                self.values(&items)
                            } else {
                                items.into_iter().map(|i| i.text).collect()
                            };
                            let c = Cmp::new(f, op, vals)
                                .map_err(|m| err(format!("exception '{}': {m}", ex.name)))?;
                            conj.push(Node::Cmp(Box::new(c)));
                        }
                        alts.push(Node::And(conj));
                    }
                }
                _ => {
                    return Err(err(format!(
                        "exception '{}': `fields` must be a string or a sequence",
                        ex.name
                    )));
                }
            }
        }
        Ok(if alts.is_empty() {
            None
        } else {
            Some(Node::Or(alts))
        })
    }
}

// ---------------------------------------------------------------------------------------
// Outputs.

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Field(fields::Field),
}

/// The fields an output used, with their rendered values (`None`: not available).
pub type UsedFields = Vec<(Arc<str>, Option<String>)>;

/// A compiled `output` template.
#[derive(Debug, Clone)]
pub struct Output {
    pieces: Vec<Piece>,
    /// Starting capacity of a rendered message: the literal text plus 32 bytes a field.
    capacity: usize,
    /// Whether a field may print request/response bodies (then secrets are redacted first).
    body: bool,
}

impl Output {
    /// Parses `%field`, `%field[arg]` and `%(field)` references; an unknown field is an error.
    pub fn parse(s: &str) -> Result<Output, String> {
        let s = s.trim();
        let b = s.as_bytes();
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        let mut last = 0;
        while let Some(&c) = b.get(i) {
            if c != b'%' {
                i += 1;
                continue;
            }
            let paren = b.get(i + 1) == Some(&b'(');
            let start = if paren { i + 2 } else { i + 1 };
            let mut j = start;
            while b
                .get(j)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            {
                j += 1;
            }
            let name = s.get(start..j).unwrap_or_default().trim_end_matches('.');
            j = start + name.len();
            if name.is_empty() || !name.contains('.') {
                i += 1;
                continue;
            }
            let mut arg = None;
            if b.get(j) == Some(&b'[')
                && let Some(rel) = b
                    .get(j + 1..)
                    .and_then(|r| r.iter().position(|&c| c == b']'))
            {
                arg = s.get(j + 1..j + 1 + rel);
                j += rel + 2;
            }
            if paren {
                if b.get(j) != Some(&b')') {
                    return Err(format!("output: unterminated '%(' at byte {i}"));
                }
                j += 1;
            }
            let f = fields::resolve(name, arg)
                .ok_or_else(|| format!("output: unknown field '%{name}' at byte {i}"))?;
            lit.push_str(s.get(last..i).unwrap_or_default());
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Field(f));
            i = j;
            last = j;
        }
        lit.push_str(s.get(last..).unwrap_or_default());
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let body = pieces
            .iter()
            .any(|p| matches!(p, Piece::Field(f) if f.reads_body()));
        let capacity = pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.len(),
                Piece::Field(_) => 32,
            })
            .sum();
        Ok(Output {
            pieces,
            capacity,
            body,
        })
    }

    /// Whether rendering may print request/response bodies.
    pub fn reads_body(&self) -> bool {
        self.body
    }

    /// Renders the template against an event, also returning the field values used.
    pub fn render(&self, ev: &crate::event::Event) -> (String, UsedFields) {
        let mut out = String::with_capacity(self.capacity);
        let mut used: UsedFields = Vec::with_capacity(self.pieces.len());
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field(f) => {
                    let v = f.extract(ev);
                    if matches!(v, fields::Vals::Missing) {
                        out.push_str("<NA>");
                        if !used.iter().any(|(n, _)| *n == f.name) {
                            used.push((f.name.clone(), None));
                        }
                        continue;
                    }
                    let text = v.into_rendered(f.list);
                    out.push_str(&text);
                    if !used.iter().any(|(n, _)| *n == f.name) {
                        used.push((f.name.clone(), Some(text)));
                    }
                }
            }
        }
        (out, used)
    }
}

/// One prefilter value of an event, as the field extraction would see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Key<'a> {
    /// Absent: a rule that requires a value cannot match.
    #[default]
    Missing,
    /// A string, number or literal, as its field text.
    Text(&'a str),
    /// An object or array: not used for filtering.
    Other,
}

/// The event values the rule prefilter looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a> {
    pub stage: Key<'a>,
    pub resource: Key<'a>,
    pub verb: Key<'a>,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: Arc<str>,
    pub desc: String,
    pub priority: Priority,
    pub tags: Arc<[String]>,
    pub cond: Node,
    pub output: Output,
    /// Prefilter: the `stage` / `objectRef.resource` values the condition requires, if any.
    pub stages: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
    pub verbs: Option<Vec<String>>,
}

impl Rule {
    /// Cheap check that the rule could match an event with this stage, resource and verb.
    pub fn applies_to(&self, k: &Keys<'_>) -> bool {
        Self::allowed(&self.stages, k.stage)
            && Self::allowed(&self.resources, k.resource)
            && Self::allowed(&self.verbs, k.verb)
    }

    fn allowed(req: &Option<Vec<String>>, v: Key<'_>) -> bool {
        match (req, v) {
            (None, _) | (_, Key::Other) => true,
            (Some(req), Key::Text(v)) => req.iter().any(|r| r == v),
            (Some(_), Key::Missing) => false,
        }
    }

    /// Cheap check that the rule could match an event with this stage and resource.
    pub fn applies(&self, stage: Option<&str>, resource: Option<&str>) -> bool {
        let ok = |req: &Option<Vec<String>>, v: Option<&str>| match (req, v) {
            (None, _) => true,
            (Some(req), Some(v)) => req.iter().any(|r| r == v),
            (Some(_), None) => false,
        };
        ok(&self.stages, stage) && ok(&self.resources, resource)
    }
}

/// The enabled `k8s_audit` rules, ready to evaluate.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub warnings: Vec<String>,
    /// Number of compiled macros (size of a [`cond::Memo`]).
    pub memo_slots: usize,
}

impl RuleSet {
    /// Falco's rules plus Palisade's extra rules.
    pub fn builtin() -> Result<RuleSet, RulesError> {
        RuleSetBuilder::with_defaults(true)?.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(files: &[&str]) -> Result<RuleSet, RulesError> {
        let mut b = RuleSetBuilder::new();
        for (i, f) in files.iter().enumerate() {
            b.add_str(&format!("f{i}.yaml"), f)?;
        }
        b.build()
    }

    fn fired(rs: &RuleSet, ev: &serde_json::Value) -> Vec<String> {
        let ev = crate::event::Event::from_value(ev);
        rs.rules
            .iter()
            .filter(|r| r.cond.eval(&ev))
            .map(|r| r.name.to_string())
            .collect()
    }

    const BASE: &str = r#"
- required_engine_version: 15
- required_plugin_versions:
    - name: k8saudit
      version: 0.1.0
- list: users
  items: [alice, more_users]
- list: more_users
  items: ["bob"]
- macro: is_create
  condition: ka.verb=create
- rule: R1
  desc: d
  condition: is_create and ka.user.name in (users)
  output: "user=%ka.user.name verb=%ka.verb grp=%ka.user.groups x=%(ka.target.name) none=%ka.impuser.name"
  priority: WARNING
  source: k8s_audit
  tags: [a]
"#;

    #[test]
    fn lists_macros_nested_lists() {
        let rs = build(&[BASE]).unwrap();
        assert_eq!(
            fired(&rs, &json!({"verb":"create","user":{"username":"bob"}})),
            ["R1"]
        );
        assert!(fired(&rs, &json!({"verb":"get","user":{"username":"bob"}})).is_empty());
        assert!(fired(&rs, &json!({"verb":"create","user":{"username":"eve"}})).is_empty());
    }

    #[test]
    fn output_substitution() {
        let rs = build(&[BASE]).unwrap();
        let ev = json!({"verb":"create","user":{"username":"bob","groups":["g1","g2"]},"objectRef":{"name":"n"}});
        let ev = crate::event::Event::from_value(&ev);
        let (text, used) = rs.rules[0].output.render(&ev);
        assert_eq!(text, "user=bob verb=create grp=(g1,g2) x=n none=<NA>");
        assert_eq!(used.len(), 5);
        assert_eq!(used[4], (Arc::from("ka.impuser.name"), None));
        assert!(Output::parse("x %ka.nope y").is_err());
        assert_eq!(
            Output::parse("100% sure").unwrap().render(&ev).0,
            "100% sure"
        );
    }

    #[test]
    fn append_forms() {
        let extra = r#"
- list: users
  items: [eve]
  append: true
- macro: is_create
  condition: or ka.verb=update
  append: true
- rule: R1
  condition: and ka.target.namespace=prod
  append: true
"#;
        let rs = build(&[BASE, extra]).unwrap();
        assert_eq!(
            fired(
                &rs,
                &json!({"verb":"update","user":{"username":"eve"},"objectRef":{"namespace":"prod"}})
            ),
            ["R1"]
        );
        assert!(fired(&rs, &json!({"verb":"update","user":{"username":"eve"}})).is_empty());
    }

    #[test]
    fn override_forms() {
        let extra = r#"
- list: users
  items: [zed]
  override:
    items: replace
- rule: R1
  condition: or ka.verb=delete
  priority: ERROR
  override:
    condition: append
    priority: replace
"#;
        let rs = build(&[BASE, extra]).unwrap();
        assert_eq!(rs.rules[0].priority, Priority::Error);
        assert!(fired(&rs, &json!({"verb":"create","user":{"username":"bob"}})).is_empty());
        assert_eq!(
            fired(&rs, &json!({"verb":"create","user":{"username":"zed"}})),
            ["R1"]
        );
        assert_eq!(
            fired(&rs, &json!({"verb":"delete","user":{"username":"x"}})),
            ["R1"]
        );
        let bad = "- rule: R1\n  condition: x\n  override:\n    condition: merge\n";
        assert!(build(&[BASE, bad]).is_err());
    }

    #[test]
    fn redefinition_replaces_and_enabled_toggles() {
        let macro_redef = "- macro: is_create\n  condition: ka.verb=patch\n";
        let rs = build(&[BASE, macro_redef]).unwrap();
        assert_eq!(
            fired(&rs, &json!({"verb":"patch","user":{"username":"bob"}})),
            ["R1"]
        );
        let off = "- rule: R1\n  enabled: false\n";
        assert!(build(&[BASE, off]).unwrap().rules.is_empty());
        let off_missing = "- rule: Nope\n  enabled: false\n";
        assert!(build(&[BASE, off_missing]).is_err());
    }

    #[test]
    fn exceptions_tuple_and_single_field_forms() {
        let rules = r#"
- rule: X
  desc: d
  condition: ka.verb=create
  output: o
  priority: NOTICE
  exceptions:
    - name: by_user_ns
      fields: [ka.user.name, ka.target.namespace]
      comps: [=, in]
      values:
        - [alice, [ns1, ns2]]
    - name: by_user
      fields: ka.user.name
      values: [root]
"#;
        let rs = build(&[rules]).unwrap();
        let ev = |u: &str, ns: &str| json!({"verb":"create","user":{"username":u},"objectRef":{"namespace":ns}});
        assert!(fired(&rs, &ev("alice", "ns2")).is_empty());
        assert_eq!(fired(&rs, &ev("alice", "ns3")), ["X"]);
        assert!(fired(&rs, &ev("root", "any")).is_empty());
        let more = r#"
- rule: X
  exceptions:
    - name: by_user
      values: [bob]
  append: true
"#;
        let rs = build(&[rules, more]).unwrap();
        assert!(fired(&rs, &ev("bob", "any")).is_empty());
    }

    #[test]
    fn errors_name_rule_and_position() {
        let bad = "- rule: Broken\n  desc: d\n  condition: ka.verb = create and (ka.uri startswith /x\n  output: o\n  priority: INFO\n";
        let e = build(&[bad]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("rule 'Broken'") && msg.contains("f0.yaml:1"),
            "{msg}"
        );
        assert!(
            matches!(e, RulesError::Condition { position: 42, .. }),
            "{e:?}"
        );
        let unknown =
            "- rule: U\n  desc: d\n  condition: ka.nope = 1\n  output: o\n  priority: INFO\n";
        assert!(
            build(&[unknown])
                .unwrap_err()
                .to_string()
                .contains("unknown field 'ka.nope'")
        );
        let undef = "- rule: U\n  desc: d\n  condition: nomacro\n  output: o\n  priority: INFO\n";
        assert!(
            build(&[undef])
                .unwrap_err()
                .to_string()
                .contains("undefined macro 'nomacro'")
        );
        let cyc = "- macro: a\n  condition: b\n- macro: b\n  condition: a\n- rule: U\n  desc: d\n  condition: a\n  output: o\n  priority: INFO\n";
        assert!(build(&[cyc]).unwrap_err().to_string().contains("cycle"));
        let prio = "- rule: U\n  desc: d\n  condition: ka.verb=x\n  output: o\n  priority: LOUD\n";
        assert!(
            build(&[prio])
                .unwrap_err()
                .to_string()
                .contains("unknown priority")
        );
        assert!(build(&["- list: l\n  items: [a]\n  append: true\n"]).is_err());
        assert!(build(&["key: value\n"]).is_err());
    }

    #[test]
    fn source_filter_and_skip_unknown() {
        let f = r#"
- rule: Sys
  desc: d
  condition: proc.name = bash
  output: o
  priority: INFO
  source: syscall
- rule: Skip
  desc: d
  condition: fd.name = x
  output: o
  priority: INFO
  skip-if-unknown-filter: true
"#;
        let rs = build(&[f]).unwrap();
        assert!(rs.rules.is_empty());
        assert!(rs.warnings.iter().any(|w| w.contains("Sys")));
    }

    #[test]
    fn builtin_rules_load_unchanged() {
        let rs = RuleSetBuilder::with_defaults(false)
            .unwrap()
            .build()
            .unwrap();
        // 48 rules; 'All K8s Audit Events', 'Full K8s Administrative Access' and the two
        // 'Untrusted Node' rules are disabled by macro, not by `enabled`, so all 48 compile.
        assert_eq!(rs.rules.len(), 48);
        assert!(RuleSet::builtin().unwrap().rules.len() > 48);
    }

    #[test]
    fn rules_file_size_limit() {
        let big = format!("# {}\n", "x".repeat(MAX_RULES_FILE_BYTES));
        let e = RuleSetBuilder::new().add_str("big.yaml", &big).unwrap_err();
        assert!(e.to_string().contains("byte limit"), "{e}");
        assert!(
            RuleSetBuilder::new()
                .add_str("a.yaml", "- &a {list: x, items: []}\n- *a\n")
                .is_err()
        );
    }

    #[test]
    fn priorities() {
        assert_eq!(Priority::parse("info"), Some(Priority::Informational));
        assert!(Priority::Warning > Priority::Notice);
        assert_eq!(Priority::Error.as_str(), "Error");
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::*;

    #[test]
    fn prefilter_keys_of_builtin_rules() {
        let rs = RuleSetBuilder::with_defaults(false)
            .unwrap()
            .build()
            .unwrap();
        let get = |n: &str| rs.rules.iter().find(|r| &*r.name == n).unwrap();
        let r = get("Create Privileged Pod");
        assert_eq!(
            r.stages.as_deref(),
            Some(&["ResponseComplete".to_string()][..])
        );
        assert_eq!(r.resources.as_deref(), Some(&["pods".to_string()][..]));
        let r = get("System ClusterRole Modified/Deleted");
        assert_eq!(
            r.resources.as_deref(),
            Some(&["clusterroles".to_string(), "roles".to_string()][..])
        );
        let r = get("port-forward");
        assert!(r.stages.is_none() && r.resources.is_none());
        assert!(get("Attach/Exec Pod").applies(Some("ResponseStarted"), Some("pods")));
        assert!(!get("Attach/Exec Pod").applies(Some("ResponseComplete"), Some("pods")));
        assert!(!get("Create Privileged Pod").applies(Some("ResponseComplete"), None));
        assert_eq!(
            get("Create Privileged Pod").verbs.as_deref(),
            Some(&["create".to_string()][..])
        );
        let k = |verb| Keys {
            stage: Key::Text("ResponseComplete"),
            resource: Key::Text("pods"),
            verb,
        };
        assert!(get("Create Privileged Pod").applies_to(&k(Key::Text("create"))));
        assert!(!get("Create Privileged Pod").applies_to(&k(Key::Text("get"))));
        assert!(!get("Create Privileged Pod").applies_to(&k(Key::Missing)));
        assert!(get("Create Privileged Pod").applies_to(&k(Key::Other)));
    }
}
