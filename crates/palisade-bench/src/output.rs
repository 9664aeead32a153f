//! Printers: kube-bench's text (`prettyPrint` + totals), kube-bench's JSON (`--json`, same
//! field names and order, so existing consumers keep working) and Palisade's JSON (the same
//! results plus how each audit was evaluated, the test items' values and the evidence).

use crate::run::{Report, State, Summary};
use serde::Serialize;
use std::fmt::Write;

/// kube-bench's text output.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.controls {
        let _ = writeln!(out, "[INFO] {} {}", c.id, c.text);
        for g in &c.groups {
            let _ = writeln!(out, "[INFO] {} {}", g.id, g.text);
            for ch in &g.checks {
                let _ = writeln!(out, "[{}] {} {}", ch.status.as_str(), ch.id, ch.text);
            }
        }
        out.push('\n');
        if c.summary.total_fail > 0 || c.summary.total_warn > 0 {
            let _ = writeln!(out, "== Remediations {} ==", c.node_type);
            for g in &c.groups {
                for ch in &g.checks {
                    match ch.status {
                        State::FAIL => {
                            let _ = writeln!(out, "{} {}", ch.id, ch.remediation);
                        }
                        State::WARN if !ch.reason.is_empty() && ch.kind != "manual" => {
                            let _ =
                                writeln!(out, "{} audit test did not run: {}", ch.id, ch.reason);
                        }
                        State::WARN => {
                            let _ = writeln!(out, "{} {}", ch.id, ch.remediation);
                        }
                        _ => {}
                    }
                }
            }
            out.push('\n');
        }
        summary(&mut out, &c.summary, &c.node_type);
    }
    summary(&mut out, &report.totals, "total");
    out
}

fn summary(out: &mut String, s: &Summary, name: &str) {
    let _ = write!(
        out,
        "== Summary {name} ==\n{} checks PASS\n{} checks FAIL\n{} checks WARN\n{} checks INFO\n\n",
        s.total_pass, s.total_fail, s.total_warn, s.total_info
    );
}

#[derive(Serialize)]
struct KbOverall<'a> {
    #[serde(rename = "Controls")]
    controls: Vec<KbControls<'a>>,
    #[serde(rename = "Totals")]
    totals: Summary,
}

#[derive(Serialize)]
struct KbControls<'a> {
    id: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    detected_version: &'a str,
    text: &'a str,
    node_type: &'a str,
    tests: Vec<KbGroup<'a>>,
    total_pass: usize,
    total_fail: usize,
    total_warn: usize,
    total_info: usize,
}

#[derive(Serialize)]
struct KbGroup<'a> {
    section: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    pass: usize,
    fail: usize,
    warn: usize,
    info: usize,
    desc: &'a str,
    results: Vec<KbCheck<'a>>,
}

#[derive(Serialize)]
struct KbCheck<'a> {
    test_number: &'a str,
    test_desc: &'a str,
    audit: &'a str,
    #[serde(rename = "AuditEnv")]
    audit_env: &'a str,
    #[serde(rename = "AuditConfig")]
    audit_config: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    remediation: &'a str,
    test_info: &'a [String],
    status: &'a str,
    actual_value: &'a str,
    scored: bool,
    #[serde(rename = "IsMultiple")]
    is_multiple: bool,
    expected_result: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
}

impl<'a> KbCheck<'a> {
    /// kube-bench's JSON shape of one check (its `--json` results and the JUnit case text).
    fn of(ch: &'a crate::run::CheckResult) -> KbCheck<'a> {
        KbCheck {
            test_number: &ch.id,
            test_desc: &ch.text,
            audit: &ch.audit,
            audit_env: &ch.audit_env,
            audit_config: &ch.audit_config,
            kind: &ch.kind,
            remediation: &ch.remediation,
            test_info: &ch.test_info,
            status: ch.status.as_str(),
            actual_value: &ch.actual_value,
            scored: ch.scored,
            is_multiple: ch.is_multiple,
            expected_result: &ch.expected_result,
            reason: &ch.reason,
        }
    }
}

/// kube-bench's `--json` document (`nototals`: only the controls array).
pub fn kube_bench_json(report: &Report, nototals: bool) -> String {
    let controls: Vec<KbControls<'_>> = report
        .controls
        .iter()
        .map(|c| KbControls {
            id: &c.id,
            version: &c.version,
            detected_version: &c.detected_version,
            text: &c.text,
            node_type: &c.node_type,
            tests: c
                .groups
                .iter()
                .map(|g| KbGroup {
                    section: &g.id,
                    kind: "",
                    pass: g.summary.total_pass,
                    fail: g.summary.total_fail,
                    warn: g.summary.total_warn,
                    info: g.summary.total_info,
                    desc: &g.text,
                    results: g.checks.iter().map(KbCheck::of).collect(),
                })
                .collect(),
            total_pass: c.summary.total_pass,
            total_fail: c.summary.total_fail,
            total_warn: c.summary.total_warn,
            total_info: c.summary.total_info,
        })
        .collect();
    let text = if nototals {
        serde_json::to_string(&controls)
    } else {
        serde_json::to_string(&KbOverall {
            controls,
            totals: report.totals,
        })
    };
    text.unwrap_or_default()
}

#[derive(Serialize)]
struct PalisadeJson<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a Report,
}

/// Palisade's JSON: every field of the run, evidence included.
pub fn palisade_json(report: &Report) -> String {
    serde_json::to_string_pretty(&PalisadeJson {
        schema: "palisade.bench/v1",
        report,
    })
    .unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            '\r' => out.push_str("&#xD;"),
            // XML 1.0 cannot carry other control characters at all.
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// kube-bench's `--junit`: one `<testsuite>` per node type inside `<testsuites>`, FAIL as
/// `<failure message=remediation>`, WARN and INFO as `<skipped/>`, the check's kube-bench JSON
/// as `system-out`.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<testsuites>\n");
    for c in &report.controls {
        let s = &c.summary;
        let _ = writeln!(
            out,
            "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"0\">",
            xml_escape(&c.text),
            s.total_pass + s.total_fail + s.total_warn + s.total_info,
            s.total_fail
        );
        for g in &c.groups {
            for ch in &g.checks {
                let json = serde_json::to_string(&KbCheck::of(ch)).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    <testcase name=\"{} {}\" classname=\"{}\" time=\"0\">",
                    xml_escape(&ch.id),
                    xml_escape(&ch.text),
                    xml_escape(&g.text)
                );
                match ch.status {
                    State::FAIL => {
                        let _ = writeln!(
                            out,
                            "        <failure message=\"{}\" type=\"\"></failure>",
                            xml_escape(&ch.remediation)
                        );
                    }
                    State::WARN | State::INFO => out.push_str("        <skipped></skipped>\n"),
                    State::PASS => {}
                }
                let _ = writeln!(
                    out,
                    "        <system-out>{}</system-out>",
                    xml_escape(&json)
                );
                out.push_str("    </testcase>\n");
            }
        }
        out.push_str("</testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// SARIF 2.1.0: one rule per check that ran (`<benchmark>/<id>`, its text and remediation),
/// one result per FAIL (`error`) and WARN (`warning`); PASS and INFO are not results. A result
/// is located at the first file its evidence names (a `file:///` URI inside the node).
pub fn sarif(report: &Report) -> String {
    use crate::audit::Evidence;
    use serde_json::{Value, json};
    let mut rules: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    for c in &report.controls {
        for g in &c.groups {
            for ch in &g.checks {
                let rule_id = format!("{}/{}", report.benchmark, ch.id);
                let index = rules.len();
                rules.push(json!({
                    "id": rule_id,
                    "name": format!("{} {}", c.node_type, ch.id),
                    "shortDescription": {"text": ch.text},
                    "help": {"text": if ch.remediation.is_empty() { ch.text.clone() } else { ch.remediation.clone() }},
                    "properties": {"scored": ch.scored, "group": g.text, "nodeType": c.node_type},
                }));
                let level = match ch.status {
                    State::FAIL => "error",
                    State::WARN => "warning",
                    State::PASS | State::INFO => continue,
                };
                let mut text = format!("[{}] {} {}", ch.status.as_str(), ch.id, ch.text);
                if !ch.expected_result.is_empty() {
                    text.push_str(&format!("; expected {}", ch.expected_result));
                }
                if !ch.actual_value.is_empty() {
                    text.push_str(&format!("; actual {:?}", ch.actual_value));
                }
                if !ch.reason.is_empty() {
                    text.push_str(&format!("; {}", ch.reason));
                }
                let mut result = json!({
                    "ruleId": rule_id,
                    "ruleIndex": index,
                    "level": level,
                    "message": {"text": text},
                    "properties": {"evaluation": ch.evaluation},
                });
                let file = ch.evidence.iter().find_map(|e| match e {
                    Evidence::File { path, .. }
                    | Evidence::Read { path, .. }
                    | Evidence::Missing { path, .. } => Some(path.clone()),
                    Evidence::Process { .. } => None,
                });
                if let (Some(path), Some(obj)) = (file, result.as_object_mut()) {
                    obj.insert(
                        "locations".into(),
                        json!([{"physicalLocation": {"artifactLocation": {"uri": file_uri(&path)}}}]),
                    );
                }
                results.push(result);
            }
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade-bench",
                "informationUri": "https://github.com/palisade-dev/palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "properties": {"benchmark": report.benchmark, "totals": report.totals},
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// `file://` URI of an absolute node path (percent-encoding what a URI path cannot hold).
fn file_uri(path: &str) -> String {
    let mut out = String::from("file://");
    if !path.starts_with('/') {
        out.push('/');
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A compact table: one row per check (status, id, scored, evaluation, text), a blank line
/// and the totals. For terminals; the text format is kube-bench's.
pub fn table(report: &Report) -> String {
    use crate::run::Evaluation;
    let mut out = String::new();
    let id_w = report
        .controls
        .iter()
        .flat_map(|c| c.groups.iter().flat_map(|g| g.checks.iter()))
        .map(|c| c.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let _ = writeln!(
        out,
        "{:<7} {:<id_w$}  {:<6}  {:<8}  CHECK",
        "STATUS", "ID", "SCORED", "AUDIT"
    );
    for c in &report.controls {
        for g in &c.groups {
            for ch in &g.checks {
                let how = match ch.evaluation {
                    Evaluation::None => "-",
                    Evaluation::Native => "native",
                    Evaluation::Shell => "shell",
                    Evaluation::NotEvaluated => "skipped",
                };
                let _ = writeln!(
                    out,
                    "{:<7} {:<id_w$}  {:<6}  {:<8}  {}",
                    ch.status.as_str(),
                    ch.id,
                    if ch.scored { "yes" } else { "no" },
                    how,
                    ch.text
                );
            }
        }
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "\n{}: {} PASS, {} FAIL, {} WARN, {} INFO",
        report.benchmark, t.total_pass, t.total_fail, t.total_warn, t.total_info
    );
    out
}
