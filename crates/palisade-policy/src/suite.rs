//! gator-format test suites (`test.gatekeeper.sh` `Suite`), with `gator verify`'s semantics:
//! every assertion must hold; `violations` is yes (default, >= 1), no (0) or an exact count;
//! `message` is an unanchored regular expression selecting which violations count. Where a
//! template has both Rego and CEL, each case runs on both engines and must pass on both.

use std::path::{Path, PathBuf};

use palisade_core::Document;
use serde_json::Value;

use crate::{EngineKind, Inventory, Limits, PolicyError, PolicySet, Review};

/// One case on one engine.
#[derive(Debug, Clone)]
pub struct EngineOutcome {
    pub engine: EngineKind,
    /// None: passed; Some(reason): failed.
    pub failure: Option<String>,
}

/// One case (or one `invalid` test) of one suite.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub suite: String,
    pub test: String,
    pub case: String,
    pub skipped: bool,
    pub outcomes: Vec<EngineOutcome>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.skipped || self.outcomes.iter().all(|o| o.failure.is_none())
    }
    /// Both engines ran and one passed where the other failed.
    pub fn disagreement(&self) -> bool {
        self.outcomes.len() > 1
            && self.outcomes.iter().any(|o| o.failure.is_none())
            && self.outcomes.iter().any(|o| o.failure.is_some())
    }
}

/// Results of the suites run, and the suites (or their files) that could not be read.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    pub errors: Vec<PolicyError>,
}

/// Files holding a `Suite` under `paths` (directories are walked, in name order).
pub fn find_suites(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PolicyError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        // A named path that is not a directory is read (and its absence reported).
        walk(p, &mut out, &mut errors, !p.is_dir());
    }
    (out, errors)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<PolicyError>, explicit: bool) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push(read_err(p, e));
                return;
            }
        };
        entries.sort();
        for e in entries {
            walk(&e, out, errors, false);
        }
        return;
    }
    let is_yaml = matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if !explicit && !is_yaml {
        return;
    }
    match std::fs::read(p) {
        Ok(bytes) => {
            // Cheap filter before parsing: only suites are read.
            if explicit || bytes.windows(10).any(|w| w == b"kind: Suit") {
                out.push(p.to_path_buf());
            }
        }
        Err(e) => errors.push(read_err(p, e)),
    }
}

fn read_err(p: &Path, e: impl std::fmt::Display) -> PolicyError {
    PolicyError::Read {
        file: p.display().to_string(),
        message: e.to_string(),
    }
}

fn load(p: &Path) -> Result<Vec<Document>, PolicyError> {
    let bytes = std::fs::read(p).map_err(|e| read_err(p, e))?;
    let name = p.display().to_string();
    let loaded = palisade_yaml::load_bytes(&name, &bytes, &palisade_yaml::Limits::default());
    if let Some(e) = loaded.errors.first() {
        return Err(PolicyError::Read {
            file: name,
            message: e.to_string(),
        });
    }
    Ok(loaded.documents)
}

fn is_suite(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Suite")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("test.gatekeeper.sh/"))
}

/// Runs every suite in `files` (files that are not suites are ignored, as gator does).
pub fn run(files: &[PathBuf], limits: Limits) -> Report {
    run_tests(files, limits, None)
}

/// Like [`run`], for the tests whose name matches `pattern` (gator's `--run`, unanchored).
pub fn run_matching(
    files: &[PathBuf],
    limits: Limits,
    pattern: &str,
) -> Result<Report, PolicyError> {
    let re = regex::Regex::new(pattern).map_err(|e| PolicyError::Read {
        file: "--run".into(),
        message: format!("{pattern:?} is not a valid regular expression: {e}"),
    })?;
    Ok(run_tests(files, limits, Some(&re)))
}

fn run_tests(files: &[PathBuf], limits: Limits, filter: Option<&regex::Regex>) -> Report {
    let mut report = Report::default();
    for f in files {
        match load(f) {
            Ok(docs) => {
                for d in docs.iter().filter(|d| is_suite(&d.value)) {
                    run_suite(f, &d.value, limits, filter, &mut report);
                }
            }
            Err(e) => report.errors.push(e),
        }
    }
    report
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

fn run_suite(
    file: &Path,
    suite: &Value,
    limits: Limits,
    filter: Option<&regex::Regex>,
    report: &mut Report,
) {
    let dir = file.parent().unwrap_or(Path::new("."));
    let sname = file.display().to_string();
    let suite_skip = truthy(suite.get("skip"));
    for t in suite
        .get("tests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let tname = t
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if filter.is_some_and(|re| !re.is_match(&tname)) {
            continue;
        }
        let skip = suite_skip || truthy(t.get("skip"));
        let cases = t
            .get("cases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let result = |case: &str, skipped: bool, outcomes: Vec<EngineOutcome>| CaseResult {
            suite: sname.clone(),
            test: tname.clone(),
            case: case.to_owned(),
            skipped,
            outcomes,
        };
        if skip {
            for c in &cases {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
                report.cases.push(result(cname, true, Vec::new()));
            }
            continue;
        }
        let rel = |key: &str| -> Result<PathBuf, String> {
            let p = t
                .get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("test {tname}: {key} is missing"))?;
            if Path::new(p).is_absolute() {
                return Err(format!("test {tname}: {key} must be relative to the suite"));
            }
            Ok(dir.join(p))
        };
        // Template and constraint, loaded as one policy set.
        let setup = (|| -> Result<(PolicySet, Vec<PolicyError>), String> {
            let mut docs = load(&rel("template")?).map_err(|e| e.to_string())?;
            docs.extend(load(&rel("constraint")?).map_err(|e| e.to_string())?);
            Ok(PolicySet::from_documents(&docs, limits))
        })();
        let invalid_expected = truthy(t.get("invalid"));
        let (set, errors) = match setup {
            Ok(s) => s,
            Err(e) => {
                report
                    .cases
                    .push(result("(setup)", false, vec![fail_all(e)]));
                continue;
            }
        };
        let engines: Vec<EngineKind> = set.templates().first().map_or(Vec::new(), |t| {
            let mut e = Vec::new();
            if t.has_rego() {
                e.push(EngineKind::Rego);
            }
            if t.has_cel() {
                e.push(EngineKind::Cel);
            }
            e
        });
        let constraint_error = errors.iter().find(|e| {
            matches!(e, PolicyError::Invalid { what, .. } if what.starts_with("constraint"))
                || matches!(e, PolicyError::MissingTemplate { .. })
        });
        if invalid_expected {
            let failure = match constraint_error {
                Some(_) => None,
                None => Some(
                    "the constraint was expected to be invalid for the template, and loaded".into(),
                ),
            };
            report.cases.push(result(
                "(invalid constraint)",
                false,
                engines
                    .iter()
                    .map(|&engine| EngineOutcome {
                        engine,
                        failure: failure.clone(),
                    })
                    .collect(),
            ));
            continue;
        }
        let Some(constraint) = set.constraints().first() else {
            let why = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            for c in &cases {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
                report.cases.push(result(
                    cname,
                    false,
                    vec![fail_all(format!("no constraint loaded: {why}"))],
                ));
            }
            continue;
        };
        for c in &cases {
            let cname = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if truthy(c.get("skip")) {
                report.cases.push(result(&cname, true, Vec::new()));
                continue;
            }
            let outcomes = match prepare_case(dir, c) {
                Err(e) => vec![fail_all(e)],
                Ok((review, inventory)) => engines
                    .iter()
                    .map(|&engine| EngineOutcome {
                        engine,
                        failure: set
                            .review(constraint, &review, &inventory, Some(engine))
                            .map_err(|e| e.to_string())
                            .and_then(|v| {
                                let msgs: Vec<&str> =
                                    v.iter().map(|v| v.message.as_str()).collect();
                                check(c, &msgs)
                            })
                            .err(),
                    })
                    .collect(),
            };
            report.cases.push(result(&cname, false, outcomes));
        }
    }
}

fn fail_all(reason: String) -> EngineOutcome {
    EngineOutcome {
        engine: EngineKind::Rego,
        failure: Some(reason),
    }
}

/// The review and inventory of one case.
fn prepare_case(dir: &Path, c: &Value) -> Result<(Review, Inventory), String> {
    let mut inv_objects = Vec::new();
    for p in c
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = p.as_str().ok_or("inventory entries must be paths")?;
        inv_objects.extend(
            load(&dir.join(p))
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|d| d.value),
        );
    }
    let inventory = Inventory::from_objects(&inv_objects);
    let op = c
        .get("object")
        .and_then(Value::as_str)
        .ok_or("case has no object")?;
    let path = dir.join(op);
    let mut docs = load(&path).map_err(|e| e.to_string())?;
    if docs.len() != 1 {
        return Err(format!(
            "{}: a case object file must hold exactly one object, found {}",
            path.display(),
            docs.len()
        ));
    }
    let obj = docs.pop().map(|d| d.value).unwrap_or(Value::Null);
    let is_review = obj.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
        && obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("admission.k8s.io/"));
    if is_review {
        let request = obj
            .get("request")
            .cloned()
            .ok_or_else(|| format!("{}: AdmissionReview without request", path.display()))?;
        let (o, old) = (request.get("object"), request.get("oldObject"));
        if o.is_none_or(Value::is_null) && old.is_none_or(Value::is_null) {
            return Err(format!(
                "{}: the request has neither object nor oldObject",
                path.display()
            ));
        }
        let ns = request
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let namespace_object = inventory.namespace(ns).cloned();
        return Ok((Review::new(request, namespace_object), inventory));
    }
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let namespace_object = inventory.namespace(ns).cloned();
    Ok((
        Review::of_object(&obj, namespace_object.as_ref()),
        inventory,
    ))
}

/// gator's assertions over the violation messages.
fn check(case: &Value, msgs: &[&str]) -> Result<(), String> {
    let none = Vec::new();
    let assertions = case
        .get("assertions")
        .and_then(Value::as_array)
        .unwrap_or(&none);
    if assertions.is_empty() && !msgs.is_empty() {
        return Err(format!(
            "expected no violations, got {}: {msgs:?}",
            msgs.len()
        ));
    }
    for a in assertions {
        let re = match a
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            Some(m) => Some(
                regex::Regex::new(m)
                    .map_err(|e| format!("assertion message {m:?} is not a valid regex: {e}"))?,
            ),
            None => None,
        };
        let n = msgs
            .iter()
            .filter(|m| re.as_ref().is_none_or(|r| r.is_match(m)))
            .count();
        let about = re
            .as_ref()
            .map_or(String::new(), |r| format!(" matching {:?}", r.as_str()));
        // go-yaml v3 reads yes/no as strings; palisade-yaml (YAML 1.1) reads them as booleans.
        let ok = match a.get("violations") {
            None | Some(Value::Null) => n >= 1,
            Some(Value::Bool(true)) => n >= 1,
            Some(Value::Bool(false)) => n == 0,
            Some(Value::String(s)) if s == "yes" => n >= 1,
            Some(Value::String(s)) if s == "no" => n == 0,
            Some(Value::Number(k)) if k.as_u64().is_some() => Some(n as u64) == k.as_u64(),
            Some(Value::String(s)) if s.parse::<u64>().is_ok() => Some(n as u64) == s.parse().ok(),
            Some(other) => {
                return Err(format!(
                    "assertion violations: {other} is not yes, no or a count"
                ));
            }
        };
        if !ok {
            let want = match a.get("violations") {
                None | Some(Value::Null | Value::Bool(true)) => "yes".to_owned(),
                Some(Value::Bool(false)) => "no".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            return Err(format!(
                "expected violations: {want}{about}, got {n}: {msgs:?}"
            ));
        }
    }
    Ok(())
}
