use crate::fixtures::{Data, render_to_string, variants};
use palisade_report::Format;
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

#[test]
fn realistic_junit() {
    insta::assert_snapshot!(render_to_string(Format::Junit, &Data::realistic().report()));
}

#[test]
fn clean_junit() {
    insta::assert_snapshot!(render_to_string(Format::Junit, &Data::clean().report()));
}

/// Parses the XML back (quick-junit's reader is built on quick-xml, so malformed XML fails
/// here) and checks what CI systems count.
#[test]
fn junit_parses_back_with_the_right_counts() {
    let data = Data::realistic();
    let xml = render_to_string(Format::Junit, &data.report());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert!(!data.suppressed.is_empty());
    assert_eq!(
        report.tests,
        data.findings.len() + data.suppressed.len() + data.errors.len() + data.notes.len()
    );
    assert_eq!(report.failures, data.findings.len());
    assert_eq!(report.errors, data.errors.len());
    // Waived findings are skipped cases, as are skipped documents.
    assert_eq!(report.skipped, data.notes.len() + data.suppressed.len());

    // One suite per rule with findings (PSS002 has two), then the input suite.
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "HRD003: Images should be pinned",
            "PSS001: Host namespaces must not be shared",
            "PSS002: Privileged containers are disallowed",
            "PSS013: Privilege escalation must be disallowed",
            "PSS016: A seccomp profile must be set",
            "input",
        ]
    );
    let pss002 = &report.test_suites[2];
    assert_eq!(pss002.failures, 2);
    // PSS001 has one finding and one waived finding (skipped, after the failure).
    let pss001 = &report.test_suites[1];
    assert_eq!((pss001.failures, pss001.skipped), (1, 1));
    for case in report.test_suites.iter().flat_map(|s| &s.test_cases) {
        match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                ty,
                description,
                ..
            } => {
                let rule = ty.as_ref().unwrap().as_str();
                assert_eq!(case.classname.as_ref().unwrap().as_str(), rule);
                let f = data
                    .findings
                    .iter()
                    .find(|f| {
                        f.rule == rule
                            && case.name.as_str() == format!("{}:{} {}", f.file, f.line, f.object)
                    })
                    .unwrap_or_else(|| panic!("no finding for {:?}", case.name));
                assert_eq!(message.as_ref().unwrap().as_str(), f.message);
                let body = description.as_ref().unwrap().as_str();
                assert!(
                    body.contains(&format!("file: {}:{}:{}", f.file, f.line, f.column)),
                    "{body}"
                );
                assert!(body.contains(&format!("field: {}", f.field)), "{body}");
                assert!(body.contains(&f.object.to_string()), "{body}");
                assert_eq!(case.extra.get("file").unwrap().as_str(), f.file);
            }
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                ty,
                ..
            } => {
                let kind = ty.as_ref().unwrap().as_str();
                assert!(data.errors.iter().any(|e| e.kind == kind));
            }
            TestCaseStatus::Skipped {
                message,
                ty,
                description,
            } if case.classname.as_ref().unwrap().as_str() != "input" => {
                let rule = case.classname.as_ref().unwrap().as_str();
                let s = data
                    .suppressed
                    .iter()
                    .find(|s| {
                        s.finding.rule == rule
                            && case.name.as_str()
                                == format!(
                                    "{}:{} {}",
                                    s.finding.file, s.finding.line, s.finding.object
                                )
                    })
                    .unwrap_or_else(|| panic!("no waived finding for {:?}", case.name));
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    format!("waived: {}", s.suppression.reason)
                );
                assert_eq!(
                    ty.as_ref().unwrap().as_str(),
                    format!("suppressed-{}", s.suppression.kind)
                );
                let body = description.as_ref().unwrap().as_str();
                assert!(body.contains(&s.suppression.source), "{body}");
                assert!(
                    body.contains(&format!("field: {}", s.finding.field)),
                    "{body}"
                );
                if let Some(e) = &s.suppression.expires {
                    assert!(body.contains(&format!("expires: {e}")), "{body}");
                }
            }
            TestCaseStatus::Skipped { message, .. } => {
                assert_eq!(message.as_ref().unwrap().as_str(), data.notes[0].message);
            }
            TestCaseStatus::Success { .. } => panic!("no passing case expected: {:?}", case.name),
        }
    }
}

#[test]
fn clean_junit_has_one_passing_case() {
    let xml = render_to_string(Format::Junit, &Data::clean().report());
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures, report.errors), (1, 0, 0));
}

/// Everything waived: CI shows one pass and the waived findings as skipped, not an empty or
/// failing report.
#[test]
fn only_waived_findings_pass_with_skipped_cases() {
    let mut data = Data::clean();
    data.suppressed = crate::fixtures::suppressed();
    let xml = render_to_string(Format::Junit, &data.report());
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(
        (report.tests, report.failures, report.errors, report.skipped),
        (3, 0, 0, 2)
    );
    assert!(xml.contains("2 waived (skipped cases)"), "{xml}");
}

#[test]
fn xml_special_characters_are_escaped() {
    let mut data = Data::realistic();
    data.findings[0].message = "a <b> & \"c\" ]]> \u{1b}[31m".to_owned();
    data.findings[0].file = "dir/<odd> & name.yaml".to_owned();
    let xml = render_to_string(Format::Junit, &data.report());
    let report = Report::deserialize_from_str(&xml).unwrap();
    let case = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| c.name.as_str().starts_with("dir/<odd> & name.yaml:18"))
        .unwrap();
    let TestCaseStatus::NonSuccess { message, .. } = &case.status else {
        panic!("not a failure")
    };
    // The control character is not allowed in XML 1.0 and is dropped; the rest survives.
    assert!(
        message
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("a <b> & \"c\" ]]>")
    );
}

/// The XML is streamed; the bytes must be what the printer wrote before, when it built a whole
/// quick-junit `Report` and let quick-junit serialise it (kept in `junit_reference`).
#[test]
fn streamed_junit_is_byte_identical_to_quick_junit() {
    for (name, data) in variants() {
        let xml = render_to_string(Format::Junit, &data.report());
        assert_eq!(
            xml,
            crate::junit_reference::render(&data.report()),
            "{name}"
        );
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(
            parsed.tests,
            data.findings.len()
                + data.suppressed.len()
                + data.errors.len()
                + data.notes.len()
                + usize::from(data.findings.is_empty() && data.errors.is_empty()),
            "{name}"
        );
    }
}
