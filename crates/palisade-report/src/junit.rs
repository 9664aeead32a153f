//! JUnit XML for CI systems (GitLab, Jenkins, Azure DevOps, CircleCI).
//!
//! Layout, as Checkov does it (one suite per check, one case per resource): one `<testsuite>`
//! per rule that has findings, named `ID: title`, so a CI test-report page reads "which check
//! failed, on what"; each finding is a failing `<testcase>` whose `classname` is the rule ID
//! (GitLab shows it as the suite, Jenkins as the class), whose name is `file:line object`,
//! and whose `file` attribute lets GitLab link the file. Input errors are `<error>` cases in a
//! suite named `input`, skipped non-Kubernetes documents are `<skipped>` cases there. Waived
//! findings are `<skipped>` cases in their rule's suite whose message is the waiver's reason,
//! so CI counts them as skipped (never silently gone, never failing), as JSON and SARIF list
//! them as suppressed. A scan without unwaived findings has one passing case, so CI shows
//! "1 passed" rather than an empty report. No timestamps or durations: the output is
//! reproducible.

use crate::{Format, Report, ReportError};
use palisade_core::{Finding, InputError, RuleMeta, SuppressedFinding};
use quick_junit::XmlString;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::collections::BTreeMap;
use std::io::{self, Write};

// The XML is written as it goes, with the quick-xml writer quick-junit uses, issuing the
// events quick-junit's serializer issues for the same report (same escaping, indentation and
// attribute order; every string goes through quick-junit's `XmlString`, which drops ANSI
// escapes and characters XML 1.0 forbids). Building a quick-junit `Report` first would hold
// every case of a large scan at once; here only one case exists at a time, and the counts a
// `<testsuite>` carries are counted from the findings before its cases are written.
// tests/it/junit.rs checks the bytes against quick-junit's own serializer.

pub(crate) fn render(report: &Report<'_>, out: &mut dyn Write) -> Result<(), ReportError> {
    write_report(report, &mut *out)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(ReportError::io(Format::Junit))
}

/// Attribute values of a `<testsuite>` or `<testsuites>`.
#[derive(Clone, Copy, Default)]
struct Counts {
    tests: usize,
    skipped: usize,
    failures: usize,
    errors: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.skipped += other.skipped;
        self.failures += other.failures;
        self.errors += other.errors;
    }
}

/// Where one rule's cases are: its counts and the first index of each kind, so writing the
/// suite scans from there and stops after the last one.
#[derive(Clone, Copy, Default)]
struct RuleCases {
    findings: usize,
    first_finding: usize,
    suppressed: usize,
    first_suppressed: usize,
}

impl RuleCases {
    fn counts(&self) -> Counts {
        Counts {
            tests: self.findings + self.suppressed,
            skipped: self.suppressed,
            failures: self.findings,
            errors: 0,
        }
    }
}

fn write_report(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    // Suites in rule-ID order; failing cases in the caller's finding order, then the waived.
    // O(rules): each rule keeps counts and positions, not its findings.
    let mut by_rule: BTreeMap<&str, RuleCases> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        let r = by_rule.entry(&*f.rule).or_insert(RuleCases {
            first_finding: i,
            ..RuleCases::default()
        });
        r.findings += 1;
    }
    for (i, s) in report.suppressed.iter().enumerate() {
        let r = by_rule.entry(&*s.finding.rule).or_default();
        if r.suppressed == 0 {
            r.first_suppressed = i;
        }
        r.suppressed += 1;
    }
    let input = Counts {
        tests: report.errors.len() + report.notes.len(),
        skipped: report.notes.len(),
        failures: 0,
        errors: report.errors.len(),
    };
    let has_input = input.tests > 0;
    let clean = report.findings.is_empty() && report.errors.is_empty();
    let passed = Counts {
        tests: 1,
        ..Counts::default()
    };

    let mut total = Counts::default();
    by_rule.values().for_each(|r| total.add(r.counts()));
    if has_input {
        total.add(input);
    }
    if clean {
        total.add(passed);
    }

    let mut w = Writer::new_with_indent(out, b' ', 4);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", XmlString::new(report.tool_name).as_str()));
    push_counts(
        &mut root,
        &[
            ("tests", total.tests),
            ("skipped", total.skipped),
            ("failures", total.failures),
            ("errors", total.errors),
        ],
    );
    w.write_event(Event::Start(root))?;

    for (rule_id, cases) in by_rule {
        let meta = report.rules.iter().find(|r| r.id == rule_id);
        let name = match meta {
            Some(m) => format!("{}: {}", m.id, m.title),
            None => rule_id.to_owned(),
        };
        start_suite(&mut w, &name, cases.counts())?;
        if let Some(m) = meta {
            w.write_event(Event::Start(BytesStart::new("properties")))?;
            property(&mut w, "family", m.family)?;
            property(&mut w, "severity", m.severity.as_str())?;
            if let Some(url) = m.link() {
                property(&mut w, "help", &url)?;
            }
            end(&mut w, "properties")?;
        }
        let of_rule = |f: &&Finding| &*f.rule == rule_id;
        for f in report
            .findings
            .iter()
            .skip(cases.first_finding)
            .filter(of_rule)
            .take(cases.findings)
        {
            finding_case(f, meta).write(&mut w)?;
        }
        for s in report
            .suppressed
            .iter()
            .skip(cases.first_suppressed)
            .filter(|s| of_rule(&&s.finding))
            .take(cases.suppressed)
        {
            suppressed_case(s, meta).write(&mut w)?;
        }
        end(&mut w, "testsuite")?;
    }

    if has_input {
        start_suite(&mut w, "input", input)?;
        for e in report.errors {
            error_case(e).write(&mut w)?;
        }
        for e in report.notes {
            note_case(e).write(&mut w)?;
        }
        end(&mut w, "testsuite")?;
    }

    if clean {
        let s = &report.summary;
        let waived = match s.suppressed {
            0 => String::new(),
            n => format!(" {n} waived (skipped cases)."),
        };
        let case = Case {
            name: XmlString::new("no findings"),
            classname: XmlString::new(report.tool_name),
            file: None,
            status: None,
            system_out: Some(XmlString::new(format!(
                "No findings at PSS {}:{} in {} objects from {} files.{waived}",
                s.pss_level, s.pss_version, s.objects, s.files
            ))),
        };
        start_suite(&mut w, report.tool_name, passed)?;
        case.write(&mut w)?;
        end(&mut w, "testsuite")?;
    }

    end(&mut w, "testsuites")?;
    // quick-junit ends with a newline at the outer indentation.
    w.write_indent()
}

fn push_counts(tag: &mut BytesStart<'_>, counts: &[(&str, usize)]) {
    for (name, n) in counts {
        tag.push_attribute((*name, n.to_string().as_str()));
    }
}

/// Every suite written has cases, so none is the self-closing `<testsuite/>`.
fn start_suite<W: Write>(w: &mut Writer<W>, name: &str, c: Counts) -> io::Result<()> {
    let mut tag = BytesStart::new("testsuite");
    tag.push_attribute(("name", XmlString::new(name).as_str()));
    // quick-junit's order on a suite: errors before failures (unlike on `<testsuites>`).
    push_counts(
        &mut tag,
        &[
            ("tests", c.tests),
            ("skipped", c.skipped),
            ("errors", c.errors),
            ("failures", c.failures),
        ],
    );
    w.write_event(Event::Start(tag))
}

fn property<W: Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    let mut tag = BytesStart::new("property");
    tag.push_attribute(("name", XmlString::new(name).as_str()));
    tag.push_attribute(("value", XmlString::new(value).as_str()));
    w.write_event(Event::Empty(tag))
}

fn end<W: Write>(w: &mut Writer<W>, tag: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// One `<testcase>`, alive only while it is written.
struct Case {
    name: XmlString,
    classname: XmlString,
    /// The `file` attribute GitLab uses to link the file.
    file: Option<XmlString>,
    /// `None`: the case passed.
    status: Option<Status>,
    system_out: Option<XmlString>,
}

/// `<failure>`, `<error>` or `<skipped>` with its message, type and optional body.
struct Status {
    tag: &'static str,
    message: XmlString,
    ty: XmlString,
    description: Option<XmlString>,
}

impl Case {
    fn write<W: Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        let mut tag = BytesStart::new("testcase");
        tag.push_attribute(("name", self.name.as_str()));
        tag.push_attribute(("classname", self.classname.as_str()));
        if let Some(file) = &self.file {
            tag.push_attribute(("file", file.as_str()));
        }
        if self.status.is_none() && self.system_out.is_none() {
            return w.write_event(Event::Empty(tag));
        }
        w.write_event(Event::Start(tag))?;
        if let Some(s) = &self.status {
            let mut tag = BytesStart::new(s.tag);
            tag.push_attribute(("message", s.message.as_str()));
            tag.push_attribute(("type", s.ty.as_str()));
            match &s.description {
                Some(d) => {
                    w.write_event(Event::Start(tag))?;
                    w.write_event(Event::Text(BytesText::new(d.as_str())))?;
                    end(w, s.tag)?;
                }
                None => w.write_event(Event::Empty(tag))?,
            }
        }
        if let Some(text) = &self.system_out {
            w.write_event(Event::Start(BytesStart::new("system-out")))?;
            w.write_event(Event::Text(BytesText::new(text.as_str())))?;
            end(w, "system-out")?;
        }
        end(w, "testcase")
    }
}

fn finding_case(f: &Finding, meta: Option<&RuleMeta>) -> Case {
    case_for(
        f,
        Status {
            tag: "failure",
            message: XmlString::new(&*f.message),
            ty: XmlString::new(&*f.rule),
            description: Some(XmlString::new(finding_body(f, meta))),
        },
    )
}

/// A waived finding: skipped, the waiver's reason as the message (what CI pages show), the
/// finding and the waiver in the body.
fn suppressed_case(s: &SuppressedFinding, meta: Option<&RuleMeta>) -> Case {
    let (f, w) = (&s.finding, &s.suppression);
    let mut body = finding_body(f, meta);
    body.push_str(&format!("suppressed: by {} at {}\n", w.kind, w.source));
    body.push_str(&format!("reason: {}\n", w.reason));
    if let Some(e) = &w.expires {
        body.push_str(&format!("expires: {e}\n"));
    }
    case_for(
        f,
        Status {
            tag: "skipped",
            message: XmlString::new(format!("waived: {}", w.reason)),
            ty: XmlString::new(format!("suppressed-{}", w.kind)),
            description: Some(XmlString::new(body)),
        },
    )
}

fn case_for(f: &Finding, status: Status) -> Case {
    Case {
        name: XmlString::new(format!("{}:{} {}", f.file, f.line, f.object)),
        classname: XmlString::new(&*f.rule),
        file: Some(XmlString::new(&*f.file)),
        status: Some(status),
        system_out: None,
    }
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
    if !f.paths.is_empty() {
        body.push_str(&format!("paths: {}\n", f.paths.join(", ")));
    }
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

/// An input error (`<error>`) or a skipped document (`<skipped>`, no body) in the `input` suite.
fn input_case(e: &InputError, tag: &'static str, description: Option<String>) -> Case {
    Case {
        name: XmlString::new(input_case_name(e)),
        classname: XmlString::new("input"),
        file: Some(XmlString::new(&*e.file)),
        status: Some(Status {
            tag,
            message: XmlString::new(&*e.message),
            ty: XmlString::new(&*e.kind),
            description: description.map(XmlString::new),
        }),
        system_out: None,
    }
}

fn error_case(e: &InputError) -> Case {
    input_case(e, "error", Some(format!("{e}\n")))
}

fn note_case(e: &InputError) -> Case {
    input_case(e, "skipped", None)
}
