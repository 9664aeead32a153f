//! The JUnit printer as it was before it streamed: a whole quick-junit `Report` built from the
//! scan, then serialised by quick-junit. Kept unchanged (only string fields read through
//! deref) as the oracle the streaming printer must match byte for byte; do not "fold" it into
//! the printer, that would make the comparison test itself.

use palisade_core::{Finding, InputError, RuleMeta, SuppressedFinding};
use palisade_report::Report;
use quick_junit::{
    NonSuccessKind, Property, Report as JReport, TestCase, TestCaseStatus, TestSuite,
};
use std::collections::BTreeMap;

/// The XML quick-junit writes for `report`, with the printer's final newline.
pub fn render(report: &Report<'_>) -> String {
    let mut xml = build(report).to_string().unwrap();
    xml.push('\n');
    xml
}

fn build(report: &Report<'_>) -> JReport {
    let mut junit = JReport::new(report.tool_name);

    // Suites in rule-ID order; failing cases in the caller's finding order, then the waived.
    let mut by_rule: BTreeMap<&str, (Vec<&Finding>, Vec<&SuppressedFinding>)> = BTreeMap::new();
    for f in report.findings {
        by_rule.entry(&*f.rule).or_default().0.push(f);
    }
    for s in report.suppressed {
        by_rule.entry(&*s.finding.rule).or_default().1.push(s);
    }
    for (rule_id, (findings, suppressed)) in by_rule {
        let meta = report.rules.iter().find(|r| r.id == rule_id);
        junit.add_test_suite(rule_suite(rule_id, meta, &findings, &suppressed));
    }

    if !report.errors.is_empty() || !report.notes.is_empty() {
        let mut suite = TestSuite::new("input");
        suite.add_test_cases(report.errors.iter().map(error_case));
        suite.add_test_cases(report.notes.iter().map(note_case));
        junit.add_test_suite(suite);
    }

    if report.findings.is_empty() && report.errors.is_empty() {
        let s = &report.summary;
        let mut case = TestCase::new("no findings", TestCaseStatus::success());
        case.set_classname(report.tool_name);
        let waived = match s.suppressed {
            0 => String::new(),
            n => format!(" {n} waived (skipped cases)."),
        };
        case.set_system_out(format!(
            "No findings at PSS {}:{} in {} objects from {} files.{waived}",
            s.pss_level, s.pss_version, s.objects, s.files
        ));
        let mut suite = TestSuite::new(report.tool_name);
        suite.add_test_case(case);
        junit.add_test_suite(suite);
    }
    junit
}

fn rule_suite(
    rule_id: &str,
    meta: Option<&RuleMeta>,
    findings: &[&Finding],
    suppressed: &[&SuppressedFinding],
) -> TestSuite {
    let name = match meta {
        Some(m) => format!("{}: {}", m.id, m.title),
        None => rule_id.to_owned(),
    };
    let mut suite = TestSuite::new(name);
    if let Some(m) = meta {
        suite.add_property(Property::new("family", m.family));
        suite.add_property(Property::new("severity", m.severity.as_str()));
        suite.add_property(Property::new("help", m.docs_url()));
    }
    suite.add_test_cases(findings.iter().map(|f| finding_case(f, meta)));
    suite.add_test_cases(suppressed.iter().map(|s| suppressed_case(s, meta)));
    suite
}

fn finding_case(f: &Finding, meta: Option<&RuleMeta>) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(&*f.message);
    status.set_type(&*f.rule);
    status.set_description(finding_body(f, meta));
    case_for(f, status)
}

/// A waived finding: skipped, the waiver's reason as the message (what CI pages show), the
/// finding and the waiver in the body.
fn suppressed_case(s: &SuppressedFinding, meta: Option<&RuleMeta>) -> TestCase {
    let (f, w) = (&s.finding, &s.suppression);
    let mut status = TestCaseStatus::skipped();
    status.set_message(format!("waived: {}", w.reason));
    status.set_type(format!("suppressed-{}", w.kind));
    let mut body = finding_body(f, meta);
    body.push_str(&format!("suppressed: by {} at {}\n", w.kind, w.source));
    body.push_str(&format!("reason: {}\n", w.reason));
    if let Some(e) = &w.expires {
        body.push_str(&format!("expires: {e}\n"));
    }
    status.set_description(body);
    case_for(f, status)
}

fn case_for(f: &Finding, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(format!("{}:{} {}", f.file, f.line, f.object), status);
    case.set_classname(&*f.rule);
    case.extra.insert("file".into(), (&*f.file).into());
    case
}

fn finding_body(f: &Finding, meta: Option<&RuleMeta>) -> String {
    let mut body = match meta {
        Some(m) => format!("{} ({}): {}\n", f.rule, f.severity, m.title),
        None => format!("{} ({})\n", f.rule, f.severity),
    };
    body.push_str(&format!(
        "file: {}:{}:{} (document {})\n",
        f.file,
        f.line,
        f.column,
        f.document + 1
    ));
    body.push_str(&format!(
        "object: {} {}\n",
        if f.object.api_version.is_empty() {
            "<no apiVersion>"
        } else {
            &*f.object.api_version
        },
        f.object
    ));
    body.push_str(&format!("field: {}\n", f.field));
    if f.fields.len() > 1 {
        body.push_str(&format!("fields: {}\n", f.fields.join(", ")));
    }
    body.push_str(&format!("message: {}\n", f.message));
    if let Some(m) = meta {
        body.push_str(&format!("remediation: {}\n", m.remediation));
    }
    body
}

fn input_case_name(e: &InputError) -> String {
    let mut name = String::from(&*e.file);
    if let Some(line) = e.line {
        name.push_str(&format!(":{line}"));
    }
    if let Some(doc) = e.document {
        name.push_str(&format!(" (document {})", doc + 1));
    }
    name
}

fn error_case(e: &InputError) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(&*e.message);
    status.set_type(&*e.kind);
    status.set_description(format!("{e}\n"));
    let mut case = TestCase::new(input_case_name(e), status);
    case.set_classname("input");
    case.extra.insert("file".into(), (&*e.file).into());
    case
}

fn note_case(e: &InputError) -> TestCase {
    let mut status = TestCaseStatus::skipped();
    status.set_message(&*e.message);
    status.set_type(&*e.kind);
    let mut case = TestCase::new(input_case_name(e), status);
    case.set_classname("input");
    case.extra.insert("file".into(), (&*e.file).into());
    case
}
