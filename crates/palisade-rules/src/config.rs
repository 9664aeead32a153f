//! The scan configuration file (`.palisade.yaml`) and waivers.
//!
//! The file is a Kubernetes-style object, loaded by the same span-aware loader as manifests
//! (so errors carry `file:line`), and parsed here from the loaded [`Document`]:
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: Config
//! rules:
//!   enable: [reliability, HRD007]   # like --select, added to the default set
//!   disable: [HRD008]               # like --ignore
//!   severity: {HRD022: medium}      # severity overrides
//! exceptions:
//!   - rules: [HRD013]               # IDs, names, families or "all"
//!     namespaces: [kube-system]     # globs; unset = any
//!     kinds: [DaemonSet]            # exact, case-insensitive
//!     names: ["calico-*"]           # globs on metadata.name
//!     paths: ["deploy/calico/**"]   # globs on the file path, relative to this file's directory
//!     reason: CNI agents need the host network stack   # required
//!     expires: 2027-01-31           # optional; from that day on the exception stops applying
//! ```
//!
//! Waivers never hide a finding: a waived finding is returned as a
//! [`SuppressedFinding`] with its reason, a waiver without a reason or naming an unknown rule
//! is rejected with a note, and an expired exception stops applying and is reported.

use palisade_core::{
    Document, FieldPath, Finding, InputError, PathSeg, Severity, SuppressedFinding, Suppression,
};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

use crate::glob;

/// `apiVersion` of the configuration file.
pub const API_VERSION: &str = "palisade.dev/v1alpha1";
/// Object-wide waiver annotation: `palisade.dev/ignore: "<RULE>[,<RULE>]: <reason>"`.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
/// Container-scoped form: `palisade.dev/ignore.<container-name>: "<RULE>[,...]: <reason>"`.
pub const IGNORE_CONTAINER_PREFIX: &str = "palisade.dev/ignore.";

/// A configuration file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {field}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: u32,
    /// Path of the offending field, e.g. `exceptions[0].reason`.
    pub field: String,
    pub message: String,
}

/// A calendar date (`YYYY-MM-DD`), for waiver expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` with a real month and day (leap years included).
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0;
        let days = match date.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&date.day).then_some(date)
    }

    /// The UTC date of a Unix time (days since 1970-01-01; Howard Hinnant's civil algorithm).
    pub fn from_unix_seconds(secs: i64) -> Date {
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A waiver in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub rules: Vec<String>,
    pub namespaces: Vec<String>,
    pub kinds: Vec<String>,
    pub names: Vec<String>,
    pub paths: Vec<String>,
    pub reason: String,
    pub expires: Option<Date>,
    /// `file:line` of the exception, for reports.
    pub source: String,
}

/// A parsed `.palisade.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub file: String,
    /// The configuration file's directory, absolute: exception `paths` globs match scanned
    /// files relative to it, however the files were named on the command line (`examples/`,
    /// `./examples/` and `$PWD/examples/` alike). None for a configuration read from stdin.
    pub base: Option<std::path::PathBuf>,
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    pub severity: Vec<(String, Severity)>,
    pub exceptions: Vec<Exception>,
}

struct Ctx<'a> {
    doc: &'a Document,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.doc.file.to_string(),
            line: self.doc.locate(path).line,
            field: path.to_string(),
            message: message.into(),
        });
    }

    /// A list of strings (a single string is accepted as a one-item list).
    fn strings(&mut self, v: Option<&Value>, path: &FieldPath) -> Vec<String> {
        match v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push(s.to_owned()),
                        None => self.err(&path.clone().index(i), "expected a string"),
                    }
                }
                out
            }
            Some(_) => {
                self.err(path, "expected a list of strings");
                Vec::new()
            }
        }
    }

    /// `waiver`: the items of an exception, which may also name `--policy` findings.
    fn check_rules(&mut self, items: &[String], path: &FieldPath, waiver: bool) {
        for (i, item) in items.iter().enumerate() {
            if waiver && !waiver_pattern_known(item) {
                self.err(&path.clone().index(i), unknown_waiver_rule(item));
            } else if !waiver && !rule_pattern_known(item) {
                self.err(
                    &path.clone().index(i),
                    format!("unknown rule {item:?}: give a rule ID, rule name, family or \"all\" (see `palisade rules`)"),
                );
            }
        }
    }

    fn check_keys(&mut self, v: &Value, path: &FieldPath, allowed: &[&str]) {
        if let Some(map) = v.as_object() {
            for k in map.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.err(
                        &path.clone().key(k.as_str()),
                        format!("unknown field; expected one of {}", allowed.join(", ")),
                    );
                }
            }
        }
    }
}

fn rule_pattern_known(item: &str) -> bool {
    item.eq_ignore_ascii_case("all")
        || item.eq_ignore_ascii_case("default")
        || crate::catalog().iter().any(|r| {
            r.id.eq_ignore_ascii_case(item)
                || r.name.eq_ignore_ascii_case(item)
                || r.family.eq_ignore_ascii_case(item)
        })
}

/// Family of the findings of a user's policies (`scan --policy`; palisade-scan's
/// `policies::FAMILY`). Their rule is a constraint's `KIND/NAME` or a
/// ValidatingAdmissionPolicy's name, never a catalog ID.
pub const POLICY_FAMILY: &str = "policy";

/// How a waiver names one ValidatingAdmissionPolicy: `ValidatingAdmissionPolicy/NAME` (its
/// finding's rule is the bare name, which alone could read as a catalog rule).
const VAP_WAIVER_PREFIX: &str = "ValidatingAdmissionPolicy/";

/// A waiver item naming `--policy` findings: the family `policy`, a constraint `KIND/NAME`
/// or a policy `ValidatingAdmissionPolicy/NAME` (`*` as NAME: every constraint of the kind,
/// every policy). Catalog IDs, names and families never hold a `/`, so these cannot be
/// confused with them, and no form holds a `:` (the annotation's separator).
fn policy_pattern(item: &str) -> bool {
    if item.eq_ignore_ascii_case(POLICY_FAMILY) {
        return true;
    }
    let Some((kind, name)) = item.split_once('/') else {
        return false;
    };
    // A Kubernetes kind (a CRD's names.kind) and an object name (DNS subdomain, matched
    // without regard to case like every waiver item).
    kind.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric())
        && (name == "*"
            || (!name.is_empty()
                && name.len() <= 253
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')))
}

/// What an exception or waiver annotation may name: catalog patterns and policy findings.
fn waiver_pattern_known(item: &str) -> bool {
    rule_pattern_known(item) || policy_pattern(item)
}

fn unknown_waiver_rule(item: &str) -> String {
    format!(
        "unknown rule {item:?}: give a rule ID, rule name, family or \"all\" (see `palisade rules`), \
         or for a --policy finding `policy`, the constraint's `KIND/NAME` or \
         `ValidatingAdmissionPolicy/NAME`"
    )
}

/// Whether waiver item `item` covers a `--policy` finding of rule `rule`: only `all`, the
/// family and the policy forms do, so a catalog ID never waives a policy whose name happens
/// to spell it.
fn policy_item_matches(item: &str, rule: &str) -> bool {
    if item.eq_ignore_ascii_case("all") || item.eq_ignore_ascii_case(POLICY_FAMILY) {
        return true;
    }
    let Some((kind, name)) = item.split_once('/') else {
        return false;
    };
    let vap = item
        .get(..VAP_WAIVER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(VAP_WAIVER_PREFIX));
    match rule.split_once('/') {
        // A constraint.
        Some((rule_kind, rule_name)) => {
            rule_kind.eq_ignore_ascii_case(kind)
                && (name == "*" || rule_name.eq_ignore_ascii_case(name))
        }
        // A ValidatingAdmissionPolicy.
        None => vap && (name == "*" || rule.eq_ignore_ascii_case(name)),
    }
}

fn rule_pattern_matches(item: &str, rule: &str, family: &str) -> bool {
    if family == POLICY_FAMILY {
        return policy_item_matches(item, rule);
    }
    item.eq_ignore_ascii_case("all")
        || (item.eq_ignore_ascii_case("default")
            && crate::rule(rule).is_some_and(crate::default_enabled))
        || rule.eq_ignore_ascii_case(item)
        || family.eq_ignore_ascii_case(item)
        || crate::rule(rule).is_some_and(|r| r.name.eq_ignore_ascii_case(item))
}

/// Whether a waiver naming `items` covers `f`: its rule, or for a finding that groups several
/// escalation paths (`paths`), every one of them — waiving the most severe path alone must
/// not hide the others.
fn waiver_covers(items: &[String], f: &Finding) -> bool {
    let covered = |rule: &str| {
        items
            .iter()
            .any(|i| rule_pattern_matches(i, rule, &f.family))
    };
    if f.paths.is_empty() {
        covered(&f.rule)
    } else {
        covered(&f.rule) && f.paths.iter().all(|p| covered(p))
    }
}

impl Config {
    /// Parses the configuration from its loaded document; every problem is reported, each
    /// with the file, line and field.
    pub fn from_document(doc: &Document) -> Result<Config, Vec<ConfigError>> {
        let mut cx = Ctx {
            doc,
            errors: Vec::new(),
        };
        let v = &doc.value;
        let root = FieldPath::root();
        if v.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION)
            || v.get("kind").and_then(Value::as_str) != Some("Config")
        {
            cx.err(
                &root.clone().key("apiVersion"),
                format!("a Palisade configuration starts with `apiVersion: {API_VERSION}` and `kind: Config`"),
            );
        }
        cx.check_keys(
            v,
            &root,
            &["apiVersion", "kind", "metadata", "rules", "exceptions"],
        );
        let mut cfg = Config {
            file: doc.file.to_string(),
            base: config_dir(&doc.file),
            ..Config::default()
        };
        if let Some(rules) = v.get("rules").filter(|r| !r.is_null()) {
            let rp = root.clone().key("rules");
            if !rules.is_object() {
                cx.err(&rp, "expected a mapping with enable, disable, severity");
            }
            cx.check_keys(rules, &rp, &["enable", "disable", "severity"]);
            cfg.enable = cx.strings(rules.get("enable"), &rp.clone().key("enable"));
            cx.check_rules(&cfg.enable.clone(), &rp.clone().key("enable"), false);
            cfg.disable = cx.strings(rules.get("disable"), &rp.clone().key("disable"));
            cx.check_rules(&cfg.disable.clone(), &rp.clone().key("disable"), false);
            if let Some(sev) = rules.get("severity").filter(|s| !s.is_null()) {
                let sp = rp.clone().key("severity");
                match sev.as_object() {
                    Some(map) => {
                        for (k, val) in map {
                            let kp = sp.clone().key(k.as_str());
                            let Some(rule) = crate::catalog().iter().find(|r| {
                                r.id.eq_ignore_ascii_case(k) || r.name.eq_ignore_ascii_case(k)
                            }) else {
                                cx.err(&kp, format!("unknown rule {k:?}"));
                                continue;
                            };
                            match val.as_str().and_then(Severity::parse) {
                                Some(s) => cfg.severity.push((rule.id.to_owned(), s)),
                                None => cx.err(
                                    &kp,
                                    "expected a severity: info, low, medium, high or critical",
                                ),
                            }
                        }
                    }
                    None => cx.err(&sp, "expected a mapping of rule to severity"),
                }
            }
        }
        if let Some(ex) = v.get("exceptions").filter(|e| !e.is_null()) {
            let ep = root.clone().key("exceptions");
            match ex.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(e) = parse_exception(&mut cx, item, &ep.clone().index(i)) {
                            cfg.exceptions.push(e);
                        }
                    }
                }
                None => cx.err(&ep, "expected a list of exceptions"),
            }
        }
        if cx.errors.is_empty() {
            Ok(cfg)
        } else {
            Err(cx.errors)
        }
    }

    /// Applies the severity overrides to `findings` in place.
    pub fn apply_severity(&self, findings: &mut [Finding]) {
        if self.severity.is_empty() {
            return;
        }
        let map: HashMap<&str, Severity> = self
            .severity
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        for f in findings {
            if let Some(s) = map.get(f.rule.as_str()) {
                f.severity = *s;
            }
        }
    }
}

fn parse_exception(cx: &mut Ctx<'_>, v: &Value, path: &FieldPath) -> Option<Exception> {
    if !v.is_object() {
        cx.err(path, "expected a mapping");
        return None;
    }
    cx.check_keys(
        v,
        path,
        &[
            "rules",
            "namespaces",
            "kinds",
            "names",
            "paths",
            "reason",
            "expires",
        ],
    );
    let rules = cx.strings(v.get("rules"), &path.clone().key("rules"));
    if rules.is_empty() {
        cx.err(
            &path.clone().key("rules"),
            "an exception must name the rules it waives (IDs, names, families or \"all\")",
        );
    }
    cx.check_rules(&rules, &path.clone().key("rules"), true);
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if reason.is_empty() {
        cx.err(
            &path.clone().key("reason"),
            "an exception needs a non-empty `reason` (say why the finding is acceptable)",
        );
    }
    let expires = match v.get("expires") {
        None | Some(Value::Null) => None,
        Some(e) => match e.as_str().and_then(Date::parse) {
            Some(d) => Some(d),
            None => {
                cx.err(&path.clone().key("expires"), "expected a date YYYY-MM-DD");
                None
            }
        },
    };
    Some(Exception {
        rules,
        namespaces: cx.strings(v.get("namespaces"), &path.clone().key("namespaces")),
        kinds: cx.strings(v.get("kinds"), &path.clone().key("kinds")),
        names: cx.strings(v.get("names"), &path.clone().key("names")),
        paths: cx.strings(v.get("paths"), &path.clone().key("paths")),
        reason: reason.to_owned(),
        expires,
        source: format!("{}:{}", cx.doc.file, cx.doc.locate(path).line),
    })
}

/// The absolute directory of the configuration file named `file` (symlinks resolved).
fn config_dir(file: &str) -> Option<std::path::PathBuf> {
    if file.starts_with('<') {
        return None;
    }
    let path = std::path::Path::new(file);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::canonicalize(dir).ok()
}

/// `file` (as the scan named it) relative to `base`, with `/` separators, when it is under
/// it; else as given without leading `./`.
fn relative_to(base: Option<&std::path::Path>, file: &str) -> String {
    let given = normalize_path(file).to_owned();
    let Some(base) = base else { return given };
    let path = std::path::Path::new(file);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return given,
        }
    };
    let resolved = std::fs::canonicalize(&absolute).unwrap_or(absolute);
    match resolved.strip_prefix(base) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => given,
    }
}

fn normalize_path(p: &str) -> &str {
    let mut p = p;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p
}

impl Exception {
    /// Whether the exception covers `f`; `file` is `f.file` relative to the configuration's
    /// directory (see [`Config::base`]).
    fn matches(&self, f: &Finding, file: &str) -> bool {
        let any = |pats: &[String], text: &str| {
            pats.is_empty() || pats.iter().any(|p| glob::matches(p, text))
        };
        waiver_covers(&self.rules, f)
            && any(
                &self.namespaces,
                f.object.namespace.as_deref().unwrap_or(""),
            )
            && (self.kinds.is_empty()
                || self
                    .kinds
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&f.object.kind)))
            && any(&self.names, f.object.name.as_deref().unwrap_or(""))
            && any(
                &self
                    .paths
                    .iter()
                    .map(|p| normalize_path(p).to_owned())
                    .collect::<Vec<_>>(),
                file,
            )
    }
}

/// Findings after waivers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waived {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<SuppressedFinding>,
    /// Invalid waiver annotations and expired exceptions (kinds `invalid-waiver`,
    /// `expired-waiver`): reported as notes, never silently dropped.
    pub notes: Vec<InputError>,
    /// How many configuration exceptions had expired.
    pub expired: usize,
}

/// One parsed waiver annotation.
struct AnnotationWaiver {
    rules: Vec<String>,
    reason: String,
    /// `None` = the whole object; `Some(name)` = that container only.
    container: Option<String>,
    source: String,
}

/// Parses `"<RULE>[,<RULE>]: <reason>"`.
fn parse_waiver_value(value: &str) -> Result<(Vec<String>, String), String> {
    let Some((rules, reason)) = value.split_once(':') else {
        return Err("expected \"<RULE>[,<RULE>]: <reason>\" (the reason is required)".to_owned());
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("the waiver has no reason after the colon".to_owned());
    }
    let rules: Vec<String> = rules
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if rules.is_empty() {
        return Err("the waiver names no rule before the colon".to_owned());
    }
    if let Some(bad) = rules.iter().find(|r| !waiver_pattern_known(r)) {
        return Err(unknown_waiver_rule(bad));
    }
    Ok((rules, reason.to_owned()))
}

/// Where waiver annotations may sit: the object's annotations and its pod template's.
fn annotation_paths(doc: &Document) -> Vec<FieldPath> {
    let mut paths = vec![FieldPath::root().key("metadata").key("annotations")];
    if let Some(t) = crate::pss::workload_template(&doc.value) {
        paths.push(t.base.key("metadata").key("annotations"));
    }
    paths
}

/// For a waiver annotation key, the container it is limited to (`None`: the whole object);
/// `None` for any other key.
fn waiver_key(k: &str) -> Option<Option<&str>> {
    if k == IGNORE_ANNOTATION {
        Some(None)
    } else {
        k.strip_prefix(IGNORE_CONTAINER_PREFIX).map(Some)
    }
}

/// Whether `doc` carries a waiver annotation, valid or not: the documents [`waive`] must be
/// given again for findings made after their first pass (the cross-object rules).
pub fn has_waiver_annotations(doc: &Document) -> bool {
    annotation_paths(doc).iter().any(|p| {
        value_at(&doc.value, p)
            .and_then(Value::as_object)
            .is_some_and(|ann| ann.keys().any(|k| waiver_key(k).is_some()))
    })
}

/// Waiver annotations of an object and of its pod template, with invalid ones as notes.
fn annotation_waivers(doc: &Document, notes: &mut Vec<InputError>) -> Vec<AnnotationWaiver> {
    let mut out = Vec::new();
    for ann_path in annotation_paths(doc) {
        let Some(ann) = value_at(&doc.value, &ann_path).and_then(Value::as_object) else {
            continue;
        };
        for (k, v) in ann {
            let Some(container) = waiver_key(k) else {
                continue;
            };
            let container = container.map(str::to_owned);
            let field = ann_path.clone().key(k.as_str());
            let source = field.to_string();
            match v
                .as_str()
                .ok_or_else(|| "the annotation value must be a string".to_owned())
                .and_then(parse_waiver_value)
            {
                Ok((rules, reason)) => out.push(AnnotationWaiver {
                    rules,
                    reason,
                    container,
                    source,
                }),
                Err(msg) => {
                    let span = doc.locate(&field);
                    notes.push(InputError {
                        file: doc.file.to_string(),
                        document: Some(doc.index),
                        line: Some(span.line),
                        column: Some(span.column),
                        kind: "invalid-waiver".to_owned(),
                        message: format!("{source} is ignored: {msg}"),
                    });
                }
            }
        }
    }
    out
}

fn value_at<'a>(v: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.segments().iter().try_fold(v, |v, seg| match seg {
        PathSeg::Key(k) => v.get(k.as_str()),
        PathSeg::Index(i) => v.get(*i),
    })
}

/// The container a field belongs to: the name of the `containers[i]` /
/// `initContainers[i]` / `ephemeralContainers[i]` on its path.
fn container_of(doc: &Document, field: &str) -> Option<String> {
    let path = FieldPath::parse(field);
    let segs = path.segments();
    let pos = segs.windows(2).position(|w| {
        matches!(w, [PathSeg::Key(k), PathSeg::Index(_)]
            if k == "containers" || k == "initContainers" || k == "ephemeralContainers")
    })?;
    let prefix = FieldPath(segs.get(..pos + 2)?.to_vec());
    value_at(&doc.value, &prefix)?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

type DocKey<'a> = (&'a str, usize, &'a str, Option<&'a str>, Option<&'a str>);

/// Applies severity overrides, annotation waivers and configuration exceptions.
/// `today` decides which exceptions have expired (an exception expiring today no longer applies).
pub fn apply(
    docs: &[Document],
    findings: Vec<Finding>,
    config: Option<&Config>,
    today: Date,
) -> Waived {
    let mut out = expired(config, today);
    let waived = waive(docs, findings, config, today);
    out.findings = waived.findings;
    out.suppressed = waived.suppressed;
    out.notes.extend(waived.notes);
    out
}

/// The expired exceptions of `config`: their count and one `expired-waiver` note each.
/// Split from [`waive`] so a streaming scan, which waives file by file, reports them once.
pub fn expired(config: Option<&Config>, today: Date) -> Waived {
    let mut out = Waived::default();
    for e in config.map(|c| c.exceptions.as_slice()).unwrap_or(&[]) {
        match e.expires {
            Some(d) if d <= today => {
                out.expired += 1;
                let (file, line) = e
                    .source
                    .rsplit_once(':')
                    .map_or((e.source.as_str(), None), |(f, l)| (f, l.parse().ok()));
                out.notes.push(InputError {
                    file: file.to_owned(),
                    document: None,
                    line,
                    column: None,
                    kind: "expired-waiver".to_owned(),
                    message: format!(
                        "exception for {} expired on {d} and no longer applies (reason was: {})",
                        e.rules.join(", "),
                        e.reason
                    ),
                });
            }
            _ => {}
        }
    }
    out
}

/// Applies severity overrides, annotation waivers and the live (unexpired) exceptions to
/// findings on `docs` (the documents the findings point at; others are not waived by
/// annotation). Expired exceptions are skipped silently here: see [`expired`].
pub fn waive(
    docs: &[Document],
    mut findings: Vec<Finding>,
    config: Option<&Config>,
    today: Date,
) -> Waived {
    let mut out = Waived::default();
    if let Some(c) = config {
        c.apply_severity(&mut findings);
    }
    let live: Vec<&Exception> = config
        .map(|c| c.exceptions.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter(|e| !matches!(e.expires, Some(d) if d <= today))
        .collect();
    // Scanned file -> its path relative to the configuration's directory, worked out once.
    let base = config.and_then(|c| c.base.as_deref());
    let mut relative: HashMap<String, String> = HashMap::new();
    // Objects with waiver annotations, parsed once each.
    let mut waivers: HashMap<DocKey<'_>, (&Document, Vec<AnnotationWaiver>)> = HashMap::new();
    for doc in docs {
        let w = annotation_waivers(doc, &mut out.notes);
        if !w.is_empty() {
            let obj = &doc.value;
            let meta = obj.get("metadata");
            let s = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
            waivers.insert(
                (
                    &doc.file,
                    doc.index,
                    obj.get("kind").and_then(Value::as_str).unwrap_or(""),
                    s("namespace"),
                    s("name").or_else(|| s("generateName")),
                ),
                (doc, w),
            );
        }
    }
    for f in findings {
        let key: DocKey<'_> = (
            &f.file,
            f.document,
            &f.object.kind,
            f.object.namespace.as_deref(),
            f.object.name.as_deref(),
        );
        let by_annotation = waivers.get(&key).and_then(|(doc, ws)| {
            ws.iter().find(|w| {
                waiver_covers(&w.rules, &f)
                    && match &w.container {
                        None => true,
                        Some(name) => {
                            let fields: Vec<&str> = if f.fields.is_empty() {
                                vec![f.field.as_str()]
                            } else {
                                f.fields.iter().map(String::as_str).collect()
                            };
                            fields
                                .iter()
                                .all(|fl| container_of(doc, fl).as_deref() == Some(name.as_str()))
                        }
                    }
            })
        });
        let suppression = match by_annotation {
            Some(w) => Some(Suppression {
                kind: "annotation".to_owned(),
                reason: w.reason.clone(),
                source: w.source.clone(),
                expires: None,
            }),
            None => live
                .iter()
                .find(|e| {
                    let file: &str = if e.paths.is_empty() {
                        ""
                    } else {
                        relative
                            .entry(f.file.clone())
                            .or_insert_with(|| relative_to(base, &f.file))
                    };
                    e.matches(&f, file)
                })
                .map(|e| Suppression {
                    kind: "config".to_owned(),
                    reason: e.reason.clone(),
                    source: e.source.clone(),
                    expires: e.expires.map(|d| d.to_string()),
                }),
        };
        match suppression {
            Some(suppression) => out.suppressed.push(SuppressedFinding {
                finding: f,
                suppression,
            }),
            None => out.findings.push(f),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2024-02-29"),
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
        assert_eq!(Date::parse("23-01-01"), None);
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_unix_seconds(951_782_400).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_unix_seconds(1_798_761_599).to_string(),
            "2026-12-31"
        );
    }

    /// A finding grouping several escalation paths is waived only when the waiver names every
    /// path (or their family): naming the most severe path alone must not hide the others.
    #[test]
    fn grouped_findings_need_every_path_waived() {
        let rbac: Vec<&str> = crate::catalog()
            .iter()
            .filter(|r| r.family == "rbac")
            .map(|r| r.id)
            .take(2)
            .collect();
        let f = Finding {
            rule: rbac[0].to_owned(),
            family: "rbac".to_owned(),
            severity: Severity::High,
            message: String::new(),
            file: "f.yaml".to_owned(),
            line: 1,
            column: 1,
            document: 0,
            object: palisade_core::ObjectRef::default(),
            field: String::new(),
            fields: Vec::new(),
            paths: vec![rbac[0].to_owned(), rbac[1].to_owned()],
            origin: None,
            action: None,
        };
        let items = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(!waiver_covers(&items(&[rbac[0]]), &f));
        assert!(waiver_covers(&items(&[rbac[0], rbac[1]]), &f));
        assert!(waiver_covers(&items(&["rbac"]), &f));
        assert!(waiver_covers(&items(&["all"]), &f));
        let single = Finding {
            paths: Vec::new(),
            ..f.clone()
        };
        assert!(waiver_covers(&items(&[rbac[0]]), &single));
    }

    #[test]
    fn waiver_values() {
        assert_eq!(
            parse_waiver_value("HRD001, privileged: needs it").unwrap(),
            (
                vec!["HRD001".to_owned(), "privileged".to_owned()],
                "needs it".to_owned()
            )
        );
        assert!(parse_waiver_value("HRD001").is_err());
        assert!(parse_waiver_value("HRD001:  ").is_err());
        assert!(parse_waiver_value(": reason").is_err());
        assert!(parse_waiver_value("NOPE999: reason").is_err());
        // `--policy` findings: a constraint `KIND/NAME`, a policy, the family; the `:` of the
        // annotation still separates the reason.
        assert_eq!(
            parse_waiver_value("K8sRequiredLabels/must-have-owner: owners are set by CI").unwrap(),
            (
                vec!["K8sRequiredLabels/must-have-owner".to_owned()],
                "owners are set by CI".to_owned()
            )
        );
        assert_eq!(
            parse_waiver_value("ValidatingAdmissionPolicy/demo.example.com, policy: r")
                .unwrap()
                .0,
            ["ValidatingAdmissionPolicy/demo.example.com", "policy"]
        );
        for bad in [
            "K8sRequiredLabels/: r",
            "/name: r",
            "8Kind/name: r",
            "K8s-Labels/name: r",
            "K8sRequiredLabels/a/b: r",
            "K8sRequiredLabels/na_me: r",
        ] {
            let e = parse_waiver_value(bad).unwrap_err();
            assert!(e.contains("KIND/NAME"), "{bad}: {e}");
        }
        // Why no form holds a `:`: the first one ends the rule list.
        assert_eq!(
            parse_waiver_value("policy:name: r").unwrap(),
            (vec!["policy".to_owned()], "name: r".to_owned())
        );
    }

    /// No catalog ID, name or family could be read as a policy form (they never hold a `/`),
    /// and the policy family is not a catalog family.
    #[test]
    fn policy_forms_cannot_collide_with_the_catalog() {
        for r in crate::catalog() {
            for s in [r.id, r.name, r.family] {
                assert!(!s.contains('/') && !s.contains(':'), "{s}");
                assert!(!s.eq_ignore_ascii_case(POLICY_FAMILY), "{s}");
            }
        }
    }

    #[test]
    fn policy_findings_are_waived_only_by_policy_forms() {
        let finding = |rule: &str, family: &str| Finding {
            rule: rule.to_owned(),
            family: family.to_owned(),
            severity: Severity::High,
            message: String::new(),
            file: "f.yaml".to_owned(),
            line: 1,
            column: 1,
            document: 0,
            object: palisade_core::ObjectRef::default(),
            field: String::new(),
            fields: Vec::new(),
            paths: Vec::new(),
            origin: None,
            action: Some("deny".to_owned()),
        };
        let covers = |item: &str, f: &Finding| waiver_covers(&[item.to_owned()], f);
        let constraint = finding("K8sRequiredLabels/must-have-owner", POLICY_FAMILY);
        for yes in [
            "K8sRequiredLabels/must-have-owner",
            "k8srequiredlabels/MUST-HAVE-OWNER",
            "K8sRequiredLabels/*",
            "policy",
            "all",
        ] {
            assert!(covers(yes, &constraint), "{yes}");
        }
        for no in [
            "K8sRequiredLabels/other",
            "K8sAllowedRepos/*",
            "ValidatingAdmissionPolicy/must-have-owner",
            "ValidatingAdmissionPolicy/*",
            "default",
        ] {
            assert!(!covers(no, &constraint), "{no}");
        }
        // A policy whose name spells a catalog rule's: only its own form waives it.
        let catalog = crate::catalog().first().unwrap();
        let name = catalog.name.to_ascii_lowercase();
        let vap = finding(&name, POLICY_FAMILY);
        assert!(covers(&format!("ValidatingAdmissionPolicy/{name}"), &vap));
        assert!(covers("ValidatingAdmissionPolicy/*", &vap));
        assert!(!covers(catalog.id, &vap));
        assert!(!covers(catalog.name, &vap));
        assert!(!covers(catalog.family, &vap));
        assert!(!covers(&format!("Other/{name}"), &vap));
        // And the policy forms never waive a catalog finding.
        let cat = finding(catalog.id, catalog.family);
        assert!(covers(catalog.id, &cat));
        assert!(!covers("policy", &cat));
        assert!(!covers(
            &format!("ValidatingAdmissionPolicy/{}", catalog.id),
            &cat
        ));
    }

    fn config(text: &str) -> Result<Config, Vec<ConfigError>> {
        let mut loaded = palisade_yaml::load_bytes(
            "cfg.yaml",
            text.as_bytes(),
            &palisade_yaml::Limits::default(),
        );
        Config::from_document(&loaded.documents.remove(0))
    }

    #[test]
    fn exceptions_name_policies_but_enable_and_disable_do_not() {
        let c = config(
            "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [K8sRequiredLabels/must-have-owner, ValidatingAdmissionPolicy/replicas-limit, policy]\n    reason: tracked in TICKET-1\n",
        )
        .unwrap();
        assert_eq!(c.exceptions[0].rules.len(), 3);
        let e = config(
            "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [NOPE999, K8sRequiredLabels/]\n    reason: r\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].field, "exceptions[0].rules[0]");
        assert!(e[1].message.contains("KIND/NAME"), "{e:?}");
        // --select/--ignore and enable/disable choose catalog rules: a policy form there
        // would do nothing, so it is refused.
        let e = config(
            "apiVersion: palisade.dev/v1alpha1\nkind: Config\nrules:\n  disable: [K8sRequiredLabels/must-have-owner]\n",
        )
        .unwrap_err();
        assert_eq!(e[0].field, "rules.disable[0]");
    }
}
