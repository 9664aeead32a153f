//! OSV records as matching needs them (schema 1.7: `id`, `aliases`, `summary`, `withdrawn`,
//! `severity`, `affected[]` with `package`, `ranges`, `versions`, `references`,
//! `database_specific`), read from JSON with every problem named by field path, and the
//! schema's range evaluation.

use crate::version::Scheme;
use serde_json::Value;
use std::cmp::Ordering;

/// One range event (`introduced`, `fixed`, `last_affected`, `limit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeKind {
    SemVer,
    Ecosystem,
    /// `GIT` ranges need a commit graph; they never match here.
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    pub ecosystem: String,
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// `affected[].severity[]` (type, score).
    pub severity: Vec<(String, String)>,
    /// `affected[].database_specific.severity` or `ecosystem_specific.severity` when text.
    pub stated_severity: Option<String>,
}

/// A record reduced to what matching reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub withdrawn: bool,
    pub severity: Vec<(String, String)>,
    pub stated_severity: Option<String>,
    pub url: Option<String>,
    pub affected: Vec<Affected>,
}

fn string_list(v: Option<&Value>, path: &str, warnings: &mut Vec<String>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    warnings.push(format!("{path}[{i}]: not a string"));
                    None
                }
            })
            .collect(),
        Some(_) => {
            warnings.push(format!("{path}: not an array"));
            Vec::new()
        }
    }
}

fn severities(v: Option<&Value>, path: &str, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        warnings.push(format!("{path}: not an array"));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let kind = s.get("type").and_then(Value::as_str);
            let score = s.get("score").and_then(Value::as_str);
            match (kind, score) {
                (Some(k), Some(sc)) => Some((k.to_owned(), sc.to_owned())),
                _ => {
                    warnings.push(format!("{path}[{i}]: needs string `type` and `score`"));
                    None
                }
            }
        })
        .collect()
}

fn text_severity(v: Option<&Value>) -> Option<String> {
    v.and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn range(v: &Value, path: &str) -> Result<Range, String> {
    let kind = match v.get("type").and_then(Value::as_str) {
        Some("SEMVER") => RangeKind::SemVer,
        Some("ECOSYSTEM") => RangeKind::Ecosystem,
        Some("GIT") => RangeKind::Git,
        Some(other) => return Err(format!("{path}.type: unknown range type {other:?}")),
        None => return Err(format!("{path}.type: missing")),
    };
    let Some(events) = v.get("events").and_then(Value::as_array) else {
        return Err(format!("{path}.events: missing or not an array"));
    };
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let p = format!("{path}.events[{i}]");
        let Some(obj) = e.as_object() else {
            return Err(format!("{p}: not an object"));
        };
        let mut it = obj.iter();
        let (Some((key, val)), None) = (it.next(), it.next()) else {
            return Err(format!(
                "{p}: needs exactly one of introduced/fixed/last_affected/limit"
            ));
        };
        let Some(val) = val.as_str().map(str::to_owned) else {
            return Err(format!("{p}.{key}: not a string"));
        };
        out.push(match key.as_str() {
            "introduced" => Event::Introduced(val),
            "fixed" => Event::Fixed(val),
            "last_affected" => Event::LastAffected(val),
            "limit" => Event::Limit(val),
            other => return Err(format!("{p}: unknown event {other:?}")),
        });
    }
    if kind != RangeKind::Git && !out.iter().any(|e| matches!(e, Event::Introduced(_))) {
        return Err(format!("{path}.events: no `introduced` event"));
    }
    Ok(Range { kind, events: out })
}

/// Reads a record from its JSON. `Err` (a field path and what is wrong) when it cannot be
/// used at all; problems inside single `affected` entries or ranges skip only those and are
/// added to `warnings`.
pub fn parse_record(doc: &Value, warnings: &mut Vec<String>) -> Result<Record, String> {
    if !doc.is_object() {
        return Err("not a JSON object".into());
    }
    let id = match doc.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err("id: not a non-empty string".into()),
        None => return Err("id: missing".into()),
    };
    let aliases = string_list(doc.get("aliases"), "aliases", warnings);
    let summary = doc
        .get("summary")
        .and_then(Value::as_str)
        .or_else(|| doc.get("details").and_then(Value::as_str).map(first_line))
        .unwrap_or_default()
        .to_owned();
    let withdrawn = doc.get("withdrawn").is_some_and(|w| !w.is_null());
    let severity = severities(doc.get("severity"), "severity", warnings);
    let stated_severity = text_severity(doc.get("database_specific"));
    let url = doc
        .pointer("/database_specific/url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned)
        .or_else(|| {
            doc.get("references")
                .and_then(Value::as_array)
                .and_then(|refs| {
                    refs.iter()
                        .find(|r| r.get("type").and_then(Value::as_str) == Some("ADVISORY"))
                })
                .and_then(|r| r.get("url"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let mut affected = Vec::new();
    match doc.get("affected") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, a) in items.iter().enumerate() {
                match affected_entry(a, &format!("affected[{i}]"), warnings) {
                    Ok(Some(a)) => affected.push(a),
                    Ok(None) => {}
                    Err(e) => warnings.push(e),
                }
            }
        }
        Some(_) => return Err("affected: not an array".into()),
    }
    Ok(Record {
        id,
        aliases,
        summary,
        withdrawn,
        severity,
        stated_severity,
        url,
        affected,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// `Ok(None)`: an entry without `package` (a GIT-only entry), which no package can match.
fn affected_entry(
    a: &Value,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Affected>, String> {
    let Some(pkg) = a.get("package") else {
        return Ok(None);
    };
    let ecosystem = pkg.get("ecosystem").and_then(Value::as_str);
    let name = pkg.get("name").and_then(Value::as_str);
    let (Some(ecosystem), Some(name)) = (ecosystem, name) else {
        return Err(format!(
            "{path}.package: needs string `ecosystem` and `name`"
        ));
    };
    let mut ranges = Vec::new();
    match a.get("ranges") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rs)) => {
            for (i, r) in rs.iter().enumerate() {
                match range(r, &format!("{path}.ranges[{i}]")) {
                    Ok(r) => ranges.push(r),
                    Err(e) => warnings.push(e),
                }
            }
        }
        Some(_) => warnings.push(format!("{path}.ranges: not an array")),
    }
    let versions = string_list(a.get("versions"), &format!("{path}.versions"), warnings);
    let severity = severities(a.get("severity"), &format!("{path}.severity"), warnings);
    let stated_severity = text_severity(a.get("database_specific"))
        .or_else(|| text_severity(a.get("ecosystem_specific")));
    Ok(Some(Affected {
        ecosystem: ecosystem.to_owned(),
        name: name.to_owned(),
        ranges,
        versions,
        severity,
        stated_severity,
    }))
}

/// Why a version could not be evaluated against an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

/// Whether `version` is affected by `entry` (OSV schema, "Evaluation"): listed in
/// `versions`, or inside a `SEMVER`/`ECOSYSTEM` range. Returns the fixed versions of the
/// ranges that contain it (the first `fixed` event above it in each).
pub fn affects(
    entry: &Affected,
    scheme: Option<Scheme>,
    version: &str,
) -> Result<Option<Vec<String>>, EvalError> {
    // Listed versions are equal in the ecosystem's order (Go's `v1.2.3` is OSV's `1.2.3`).
    let listed = entry.versions.iter().any(|v| {
        v == version || scheme.and_then(|s| s.compare(v, version)) == Some(Ordering::Equal)
    });
    let mut hit = listed;
    let mut fixed = Vec::new();
    for r in &entry.ranges {
        let s = match r.kind {
            RangeKind::Git => continue,
            RangeKind::SemVer => Scheme::SemVer,
            RangeKind::Ecosystem => match scheme {
                Some(s) => s,
                // No ordering for this ecosystem: only its `versions` list counts.
                None => continue,
            },
        };
        if let Some(f) = range_affects(r, s, version)? {
            hit = true;
            if let Some(f) = f
                && !fixed.contains(&f)
            {
                fixed.push(f);
            }
        }
    }
    Ok(hit.then_some(fixed))
}

/// `Some(fixed)` when the range contains `v`; `fixed` is the first fixed event above it.
fn range_affects(r: &Range, s: Scheme, v: &str) -> Result<Option<Option<String>>, EvalError> {
    let cmp = |a: &str, b: &str| -> Result<Ordering, EvalError> {
        s.compare(a, b)
            .ok_or_else(|| EvalError(format!("cannot order {a:?} and {b:?} as {s:?} versions")))
    };
    if !s.is_valid(v) {
        return Err(EvalError(format!("{v:?} is not a {s:?} version")));
    }
    // Limits: the version must be below one of them (`*` = no limit).
    let limits: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Limit(l) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    if !limits.is_empty() {
        let mut below = false;
        for l in limits {
            if l == "*" || cmp(v, l)? == Ordering::Less {
                below = true;
                break;
            }
        }
        if !below {
            return Ok(None);
        }
    }
    // Sort events by version; `introduced: "0"` is before everything.
    let mut events: Vec<&Event> = r
        .events
        .iter()
        .filter(|e| !matches!(e, Event::Limit(_)))
        .collect();
    for e in &events {
        let ev = e.version();
        if !(matches!(e, Event::Introduced(x) if x == "0")) && !s.is_valid(ev) {
            return Err(EvalError(format!(
                "range event {ev:?} is not a {s:?} version"
            )));
        }
    }
    let key_cmp = |a: &&Event, b: &&Event| -> Ordering {
        let zero = |e: &Event| matches!(e, Event::Introduced(x) if x == "0");
        match (zero(a), zero(b)) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => s
                .compare(a.version(), b.version())
                .unwrap_or(Ordering::Equal),
        }
    };
    events.sort_by(key_cmp);
    let mut affected = false;
    let mut fixed_above = None;
    for e in &events {
        match e {
            Event::Introduced(x) => {
                if x == "0" || cmp(v, x)? != Ordering::Less {
                    affected = true;
                }
            }
            Event::Fixed(x) => {
                if cmp(v, x)? != Ordering::Less {
                    affected = false;
                } else if affected && fixed_above.is_none() {
                    // Events are sorted: nothing later can change the answer.
                    fixed_above = Some(x.clone());
                    break;
                }
            }
            Event::LastAffected(x) => {
                if cmp(v, x)? == Ordering::Greater {
                    affected = false;
                } else if affected {
                    break;
                }
            }
            Event::Limit(_) => {}
        }
    }
    Ok(affected.then_some(fixed_above))
}
