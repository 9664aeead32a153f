//! Printers for `palisade image` / `palisade sbom`: table, JSON (field names documented in
//! docs/images.md) and SARIF 2.1.0. CycloneDX and SPDX come from palisade-sbom.

use palisade_core::Severity;
use palisade_core::inventory::{InventoryNote, Package};
use palisade_vuln::VulnFinding;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

use crate::cmd_image::{InputReport, sorted_packages};

/// `SOURCE: layer L: entry E: message`, the parts that are known.
pub fn note_text(source: &str, note: &InventoryNote) -> String {
    let mut text = source.to_owned();
    if let Some(layer) = &note.layer {
        text.push_str(&format!(": layer {layer}"));
    }
    if let Some(entry) = &note.entry {
        text.push_str(&format!(": {entry}"));
    }
    text.push_str(": ");
    text.push_str(&note.message);
    text
}

/// Findings in report order: most severe first, then ID, package, path.
fn sorted_findings(findings: &[VulnFinding]) -> Vec<&VulnFinding> {
    let mut v: Vec<&VulnFinding> = findings.iter().collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.path.cmp(&b.package.path))
    });
    v
}

fn by_severity<'a>(findings: impl Iterator<Item = &'a VulnFinding>) -> BTreeMap<Severity, usize> {
    let mut map: BTreeMap<Severity, usize> = Severity::ALL.into_iter().map(|s| (s, 0)).collect();
    for f in findings {
        *map.entry(f.severity).or_insert(0) += 1;
    }
    map
}

fn kind_name(p: &Package) -> String {
    serde_json::to_value(p.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- table

/// Columns padded to the widest cell; the last column is not padded.
fn write_rows(w: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let width = widths.get(i).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

fn paint(text: &str, sev: Severity, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub fn table(w: &mut dyn Write, reports: &[InputReport], color: bool) -> std::io::Result<()> {
    let mut total_pkgs = 0;
    let mut total_findings = 0;
    for (n, r) in reports.iter().enumerate() {
        if n > 0 {
            writeln!(w)?;
        }
        let Some(inv) = &r.inventory else {
            writeln!(
                w,
                "{}: not read: {}",
                r.source,
                r.error.as_deref().unwrap_or("")
            )?;
            continue;
        };
        let mut head = r.source.clone();
        let mut about = Vec::new();
        if let Some(d) = &inv.distro {
            about.push(match &d.pretty_name {
                Some(p) => p.clone(),
                None => format!("{} {}", d.id, d.version_id).trim().to_owned(),
            });
        }
        if let Some(image) = &inv.image {
            about.push(image.clone());
        }
        if !about.is_empty() {
            head.push_str(&format!(" ({})", about.join(", ")));
        }
        writeln!(
            w,
            "{head}: {} packages, {} vulnerabilities{}",
            inv.packages.len(),
            r.findings.len(),
            match inv.notes.len() + r.match_notes.len() {
                0 => String::new(),
                n => format!(", {n} notes (standard error)"),
            }
        )?;
        total_pkgs += inv.packages.len();
        total_findings += r.findings.len();
        writeln!(w)?;
        let mut rows = vec![vec![
            "KIND".to_owned(),
            "NAME".to_owned(),
            "VERSION".to_owned(),
            "PATH".to_owned(),
        ]];
        for p in sorted_packages(inv) {
            rows.push(vec![
                kind_name(p),
                p.name.clone(),
                p.version.clone(),
                p.path.clone().unwrap_or_default(),
            ]);
        }
        write_rows(w, &rows)?;
        if !r.findings.is_empty() {
            writeln!(w)?;
            let mut rows = vec![vec![
                "VULNERABILITY".to_owned(),
                "SEVERITY".to_owned(),
                "PACKAGE".to_owned(),
                "INSTALLED".to_owned(),
                "FIXED".to_owned(),
                "SUMMARY".to_owned(),
            ]];
            let mut sevs = Vec::new();
            for f in sorted_findings(&r.findings) {
                sevs.push(f.severity);
                rows.push(vec![
                    f.id.clone(),
                    f.severity.as_str().to_owned(),
                    f.package.name.clone(),
                    f.installed.clone(),
                    if f.fixed.is_empty() {
                        "-".to_owned()
                    } else {
                        f.fixed.join(", ")
                    },
                    f.summary.clone(),
                ]);
            }
            if color {
                // Pad first, then colour the severity cell, so escapes do not skew the widths.
                let mut buf = Vec::new();
                write_rows(&mut buf, &rows)?;
                let text = String::from_utf8_lossy(&buf);
                for (i, line) in text.lines().enumerate() {
                    match i.checked_sub(1).and_then(|k| sevs.get(k)) {
                        Some(&sev) => {
                            let name = sev.as_str();
                            let painted = line.replacen(
                                &format!("  {name}"),
                                &format!("  {}", paint(name, sev, true)),
                                1,
                            );
                            writeln!(w, "{painted}")?;
                        }
                        None => writeln!(w, "{line}")?,
                    }
                }
            } else {
                write_rows(w, &rows)?;
            }
        }
    }
    if reports.len() > 1 {
        writeln!(w)?;
        writeln!(
            w,
            "{} inputs: {total_pkgs} packages, {total_findings} vulnerabilities",
            reports.len()
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- JSON

fn finding_json(f: &VulnFinding) -> Value {
    json!({
        "id": f.id,
        "aliases": f.aliases,
        "severity": f.severity,
        "score": f.score,
        "cvss": f.cvss,
        "package": f.package,
        "installed": f.installed,
        "fixed": f.fixed,
        "summary": f.summary,
        "url": f.url,
        "source": f.source,
    })
}

/// An input's notes: reading (`stage` `read`, with `layer` and `entry` when known), then
/// matching (`stage` `match`: what could not be evaluated).
fn notes_json(read: &[InventoryNote], matched: &[String]) -> Vec<Value> {
    let mut out = Vec::with_capacity(read.len() + matched.len());
    for n in read {
        let mut v = json!({"stage": "read", "message": n.message});
        if let Some(obj) = v.as_object_mut() {
            if let Some(layer) = &n.layer {
                obj.insert("layer".into(), json!(layer));
            }
            if let Some(entry) = &n.entry {
                obj.insert("entry".into(), json!(entry));
            }
        }
        out.push(v);
    }
    out.extend(
        matched
            .iter()
            .map(|m| json!({"stage": "match", "message": m})),
    );
    out
}

/// The JSON report; field names are a contract (docs/images.md).
pub fn json(reports: &[InputReport], version: &str) -> Value {
    let mut inputs = Vec::new();
    let mut packages = 0;
    for r in reports {
        let mut obj = serde_json::Map::new();
        obj.insert("source".into(), json!(r.source));
        match &r.inventory {
            Some(inv) => {
                packages += inv.packages.len();
                obj.insert("image".into(), json!(inv.image));
                obj.insert("distro".into(), json!(inv.distro));
                obj.insert("packages".into(), json!(sorted_packages(inv)));
                obj.insert(
                    "findings".into(),
                    Value::Array(
                        sorted_findings(&r.findings)
                            .into_iter()
                            .map(finding_json)
                            .collect(),
                    ),
                );
                obj.insert(
                    "notes".into(),
                    Value::Array(notes_json(&inv.notes, &r.match_notes)),
                );
            }
            None => {
                obj.insert("error".into(), json!(r.error));
            }
        }
        inputs.push(Value::Object(obj));
    }
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    json!({
        "tool": {"name": "palisade", "version": version},
        "inputs": inputs,
        "summary": {
            "inputs": reports.len(),
            "errors": reports.iter().filter(|r| r.error.is_some()).count(),
            "packages": packages,
            "findings": findings,
            "by_severity": by_severity(reports.iter().flat_map(|r| &r.findings)),
        },
    })
}

// ---------------------------------------------------------------- SARIF

/// The run's invocation: unsuccessful when an input could not be read; one
/// `toolExecutionNotification` per unreadable input (`error`), per reading note (`note`, at
/// the entry) and per matching note (`warning`: a package or record not evaluated).
fn invocation(reports: &[InputReport]) -> Value {
    let mut notes = Vec::new();
    let input = |source: &str| json!({"fullyQualifiedName": source, "kind": "module"});
    for r in reports {
        if let Some(error) = &r.error {
            notes.push(json!({
                "level": "error",
                "message": {"text": error},
                "locations": [{"logicalLocations": [input(&r.source)]}],
            }));
        }
        for n in r.inventory.iter().flat_map(|i| &i.notes) {
            let mut location = json!({"logicalLocations": [input(&r.source)]});
            if let (Some(entry), Some(obj)) = (&n.entry, location.as_object_mut()) {
                obj.insert(
                    "physicalLocation".into(),
                    json!({"artifactLocation": {"uri": uri_path(entry)}}),
                );
            }
            notes.push(json!({
                "level": "note",
                "message": {"text": note_text(&r.source, n)},
                "locations": [location],
                "properties": {"stage": "read"},
            }));
        }
        for m in &r.match_notes {
            notes.push(json!({
                "level": "warning",
                "message": {"text": format!("{}: not matched: {m}", r.source)},
                "locations": [{"logicalLocations": [input(&r.source)]}],
                "properties": {"stage": "match"},
            }));
        }
    }
    json!({
        "executionSuccessful": reports.iter().all(|r| r.error.is_none()),
        "toolExecutionNotifications": notes,
    })
}

/// A path inside the image as a relative URI reference (RFC 3986: unreserved characters and
/// `/` kept, everything else percent-encoded).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF 2.1.0: one rule per vulnerability ID (its most severe finding sets the default
/// level and `security-severity`), one result per finding located at the file that records
/// the package (`Package.path`; the SBOM or input itself when there is none), the input named
/// as a logical location.
pub fn sarif(reports: &[InputReport], version: &str) -> Value {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<(&VulnFinding, Severity, Option<f64>)> = Vec::new();
    let mut results = Vec::new();
    for r in reports {
        for f in sorted_findings(&r.findings) {
            let idx = match rule_index.get(f.id.as_str()) {
                Some(&i) => {
                    if let Some(rule) = rules.get_mut(i) {
                        rule.1 = rule.1.max(f.severity);
                        rule.2 = match (rule.2, f.score) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    i
                }
                None => {
                    rule_index.insert(&f.id, rules.len());
                    rules.push((f, f.severity, f.score));
                    rules.len() - 1
                }
            };
            let fixed = if f.fixed.is_empty() {
                "no fixed version known".to_owned()
            } else {
                format!("fixed in {}", f.fixed.join(", "))
            };
            let uri = uri_path(f.package.path.as_deref().unwrap_or(&r.source));
            let mut props = json!({
                "package": f.package.name,
                "purl": f.package.purl,
                "installed": f.installed,
                "fixed": f.fixed,
                "input": r.source,
                "source": f.source,
            });
            if let (Some(layer), Some(obj)) = (&f.package.layer, props.as_object_mut()) {
                obj.insert("layer".into(), json!(layer));
            }
            results.push(json!({
                "ruleId": f.id,
                "ruleIndex": idx,
                "level": palisade_report::sarif_level(f.severity),
                "message": {"text": format!(
                    "{} {} is affected by {} ({fixed}): {}",
                    f.package.name, f.installed, f.id, f.summary
                )},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": uri}},
                    "logicalLocations": [{"fullyQualifiedName": r.source, "kind": "module"}],
                }],
                "properties": props,
            }));
        }
    }
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(f, sev, score)| {
            let mut props = json!({"tags": ["security", "vulnerability"], "aliases": f.aliases});
            if let (Some(score), Some(obj)) = (score, props.as_object_mut()) {
                obj.insert("security-severity".into(), json!(format!("{score:.1}")));
            }
            let text = if f.summary.is_empty() {
                f.id.clone()
            } else {
                f.summary.clone()
            };
            let mut rule = json!({
                "id": f.id,
                "shortDescription": {"text": text},
                "defaultConfiguration": {"level": palisade_report::sarif_level(sev)},
                "properties": props,
            });
            if let (Some(url), Some(obj)) = (&f.url, rule.as_object_mut()) {
                obj.insert("helpUri".into(), json!(url));
            }
            rule
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": version,
                "semanticVersion": version,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "invocations": [invocation(reports)],
            "results": results,
        }],
    })
}
