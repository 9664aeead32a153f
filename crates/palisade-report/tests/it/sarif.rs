use crate::fixtures::{Data, RULES, render_to_string, variants};
use palisade_report::{Format, fingerprint};
use serde_json::Value;
use std::collections::BTreeSet;

const SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/sarif-schema/sarif-schema-2.1.0.json"
));

fn sarif(data: &Data) -> Value {
    let text = render_to_string(Format::Sarif, &data.report());
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).unwrap()
}

fn validate(instance: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    // Format assertions are opt-in in jsonschema; the schema is draft-04, which knows `uri` and
    // `date-time` (not `uri-reference`, so artifact URIs are checked by `to_sarif_uri`'s tests).
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn realistic_sarif() {
    insta::assert_json_snapshot!(sarif(&Data::realistic()), {
        ".runs[].tool.driver.version" => "[version]",
        ".runs[].tool.driver.semanticVersion" => "[version]",
    });
}

#[test]
fn clean_sarif() {
    insta::assert_json_snapshot!(sarif(&Data::clean()), {
        ".runs[].tool.driver.version" => "[version]",
        ".runs[].tool.driver.semanticVersion" => "[version]",
    });
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    for data in [Data::realistic(), Data::clean()] {
        let errors = validate(&sarif(&data));
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

/// The validator really checks: a log with a wrong version, a result without a message, a
/// region starting at line 0 and a malformed URI is rejected.
#[test]
fn schema_validation_catches_broken_logs() {
    let mut v = sarif(&Data::realistic());
    v["version"] = Value::from("2.0.0");
    v["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    v["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    v["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = Value::from("no scheme here");
    let errors = validate(&v);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("/helpUri")), "{errors:#?}");
}

#[test]
fn results_point_at_their_rules_and_files() {
    let data = Data::realistic();
    let v = sarif(&data);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    // Every rule that ran is described, in catalog order.
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids, expected);
    for r in rules {
        let props = &r["properties"];
        assert!(
            props["tags"]
                .as_array()
                .unwrap()
                .contains(&Value::from("security"))
        );
        let score: f64 = props["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
    }

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), data.findings.len() + data.suppressed.len());
    // Waived findings come last, each with one accepted suppression carrying the reason.
    for (res, s) in results[data.findings.len()..].iter().zip(&data.suppressed) {
        assert_eq!(res["ruleId"], s.finding.rule.as_str());
        let sup = &res["suppressions"][0];
        assert_eq!(sup["justification"], s.suppression.reason.as_str());
        assert_eq!(sup["status"], "accepted");
        let kind = if s.suppression.kind == "annotation" {
            "inSource"
        } else {
            "external"
        };
        assert_eq!(sup["kind"], kind);
    }
    assert!(
        results[..data.findings.len()]
            .iter()
            .all(|r| r.get("suppressions").is_none())
    );
    for (res, f) in results.iter().zip(&data.findings) {
        let idx = usize::try_from(res["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert_eq!(res["ruleId"], f.rule.as_str());
        let expected_level = match f.severity.as_str() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], expected_level);
        let phys = &res["locations"][0]["physicalLocation"];
        assert_eq!(phys["region"]["startLine"], f.line);
        assert_eq!(phys["region"]["startColumn"], f.column);
        let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with("./") && !uri.contains('\\') && !uri.contains(' '),
            "{uri}"
        );
        assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let logical = &res["locations"][0]["logicalLocations"];
        assert_eq!(logical[0]["fullyQualifiedName"], f.object.to_string());
        assert_eq!(logical[1]["name"], f.field.as_str());
        assert_eq!(res["partialFingerprints"]["palisade/v1"], fingerprint(f));
    }
    let uris: BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        BTreeSet::from([
            "charts/backup/cronjob.yaml",
            "deploy/agent.yaml",
            "examples/bad/deployment.yaml",
            "examples/bad/pod%20list.yaml",
        ])
    );
}

#[test]
fn input_errors_are_execution_notifications() {
    let data = Data::realistic();
    let v = sarif(&data);
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), data.errors.len() + data.notes.len());
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(notes[0]["message"]["text"], data.errors[0].message.as_str());
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    // No line: a location without a region.
    assert!(
        notes[1]["locations"][0]["physicalLocation"]
            .get("region")
            .is_none()
    );
    assert_eq!(notes[2]["level"], "note");

    let clean = sarif(&Data::clean());
    assert_eq!(
        clean["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(clean["runs"][0]["results"], Value::Array(vec![]));
}

#[test]
fn fingerprints_ignore_lines_but_not_identity() {
    let data = Data::realistic();
    let f = &data.findings[1];
    let mut moved = f.clone();
    moved.line += 10;
    moved.column = 1;
    moved.message.push_str(" (reworded)");
    assert_eq!(fingerprint(f), fingerprint(&moved));
    let mut other = f.clone();
    other.field = "spec.template.spec.containers[1].securityContext.privileged".to_owned();
    assert_ne!(fingerprint(f), fingerprint(&other));
    let mut relative = f.clone();
    relative.file = format!("./{}", f.file);
    assert_eq!(fingerprint(f), fingerprint(&relative));
    let all: BTreeSet<String> = data.findings.iter().map(fingerprint).collect();
    assert_eq!(all.len(), data.findings.len());
    assert_eq!(fingerprint(f).len(), 32);
}

#[test]
fn findings_of_unknown_rules_still_get_a_descriptor() {
    let mut data = Data::realistic();
    data.findings[0].rule = "XYZ999".to_owned();
    let v = sarif(&data);
    let res = &v["runs"][0]["results"][0];
    let idx = usize::try_from(res["ruleIndex"].as_u64().unwrap()).unwrap();
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"][idx]["id"], "XYZ999");
    assert!(validate(&v).is_empty());
}

/// The log is streamed through mirrors of serde_sarif's types; the bytes must be exactly what
/// serialising serde_sarif's own `Sarif` gives (the printer's output before it streamed). A
/// member written out of order, misnamed or unknown to serde_sarif makes the two differ.
#[test]
fn streamed_sarif_is_byte_identical_to_serde_sarif() {
    for (name, data) in variants() {
        let text = render_to_string(Format::Sarif, &data.report());
        let log: serde_sarif::sarif::Sarif = serde_json::from_str(&text).unwrap();
        let mut reference = serde_json::to_string_pretty(&log).unwrap();
        reference.push('\n');
        assert_eq!(text, reference, "{name}");
        let run = &log.runs[0];
        assert_eq!(
            run.results.as_ref().map(Vec::len),
            Some(data.findings.len() + data.suppressed.len()),
            "{name}"
        );
        assert!(
            validate(&serde_json::from_str(&text).unwrap()).is_empty(),
            "{name}"
        );
    }
}
