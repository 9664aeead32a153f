//! Findings that group several RBAC escalation paths (`paths`): every printer shows the paths
//! and a framework control of any path counts the finding.

use crate::fixtures::{Data, render_to_string};
use palisade_report::{ControlInput, ControlStatus, Format, compliance};
use serde_json::Value;

fn grouped() -> Data {
    let mut data = Data::realistic();
    let f = &mut data.findings[0];
    f.paths = vec!["PSS001".to_owned(), "HRD003".to_owned()];
    data
}

#[test]
fn a_control_of_any_grouped_path_fails() {
    let data = grouped();
    let control = |rule: &'static str| ControlInput {
        framework: "fw",
        framework_title: "Framework",
        id: "c1",
        title: "control",
        rules: vec![rule],
        ran: vec![rule],
        field_filters: vec![],
    };
    // HRD003 is only a path of the grouped finding (its `rule` is PSS001), and the realistic
    // data's own HRD003 finding is dropped, so only the path can fail the control.
    let findings: Vec<_> = data
        .findings
        .iter()
        .filter(|f| f.rule != "HRD003")
        .cloned()
        .collect();
    let c = compliance(&[control("HRD003")], &findings);
    assert_eq!(c.frameworks[0].controls[0].status, ControlStatus::Failed);
    let mut plain = findings.clone();
    plain[0].paths.clear();
    let c = compliance(&[control("HRD003")], &plain);
    assert_eq!(c.frameworks[0].controls[0].status, ControlStatus::Passed);
}

#[test]
fn every_format_shows_the_paths() {
    let data = grouped();
    let report = data.report();
    let json: Value = serde_json::from_str(&render_to_string(Format::Json, &report)).unwrap();
    assert_eq!(
        json["findings"][0]["paths"],
        serde_json::json!(["PSS001", "HRD003"])
    );
    assert!(json["findings"][1].get("paths").is_none());
    let sarif: Value = serde_json::from_str(&render_to_string(Format::Sarif, &report)).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["paths"],
        serde_json::json!(["PSS001", "HRD003"])
    );
    let junit = render_to_string(Format::Junit, &report);
    assert!(junit.contains("paths: PSS001, HRD003"), "{junit}");
}
