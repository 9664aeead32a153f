use crate::fixtures::{Data, render_to_string};
use palisade_core::{Finding, InputError};
use palisade_report::Format;
use serde_json::Value;
use std::collections::BTreeSet;

const DOCS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/output-formats.md"
));

#[test]
fn realistic_json() {
    insta::assert_snapshot!(render_to_string(Format::Json, &Data::realistic().report()));
}

#[test]
fn clean_json() {
    insta::assert_snapshot!(render_to_string(Format::Json, &Data::clean().report()));
}

#[test]
fn json_has_the_documented_top_level_shape() {
    let data = Data::realistic();
    let text = render_to_string(Format::Json, &data.report());
    assert!(text.ends_with("}\n"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "findings",
            "suppressed",
            "errors",
            "notes",
            "summary",
            "compliance"
        ])
    );
    // A clean scan without a framework has no `compliance` member, but always `suppressed`.
    let clean: Value =
        serde_json::from_str(&render_to_string(Format::Json, &Data::clean().report())).unwrap();
    assert!(clean.get("compliance").is_none());
    assert_eq!(clean["suppressed"], Value::Array(vec![]));

    // Suppressed findings are the finding's own fields plus `suppression`.
    let suppressed: Vec<palisade_core::SuppressedFinding> =
        serde_json::from_value(v["suppressed"].clone()).unwrap();
    assert_eq!(suppressed, data.suppressed);
    assert_eq!(v["suppressed"][0]["rule"], "HRD003");
    assert_eq!(v["suppressed"][0]["suppression"]["kind"], "annotation");
    assert!(v["suppressed"][0]["suppression"].get("expires").is_none());
    assert_eq!(v["suppressed"][1]["suppression"]["expires"], "2999-12-31");
    assert_eq!(v["summary"]["suppressed"], 2);
    // Compliance: one entry per framework, controls with their status.
    let fws = v["compliance"]["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 2);
    assert_eq!(fws[0]["name"], "pss-baseline");
    assert_eq!(fws[0]["controls"][0]["status"], "failed");
    assert_eq!(fws[0]["controls"][0]["failed_objects"], 1);
    assert_eq!(fws[0]["controls"][1]["failed_objects"], 2);
    assert_eq!(fws[0]["controls"][2]["status"], "skipped");
    assert_eq!(
        (fws[1]["passed"].as_u64(), fws[1]["failed"].as_u64()),
        (Some(1), Some(1))
    );

    // Findings and errors are palisade_core's serde shapes, in the caller's order.
    let findings: Vec<Finding> = serde_json::from_value(v["findings"].clone()).unwrap();
    assert_eq!(findings, data.findings);
    let errors: Vec<InputError> = serde_json::from_value(v["errors"].clone()).unwrap();
    assert_eq!(errors, data.errors);
    let notes: Vec<InputError> = serde_json::from_value(v["notes"].clone()).unwrap();
    assert_eq!(notes, data.notes);

    let first = &v["findings"][0];
    for key in [
        "rule", "family", "severity", "message", "file", "line", "column", "document", "object",
        "field",
    ] {
        assert!(first.get(key).is_some(), "finding lacks {key}");
    }
    for key in ["apiVersion", "kind", "namespace", "name"] {
        assert!(first["object"].get(key).is_some(), "object lacks {key}");
    }
    assert_eq!(first["severity"], "critical");
    assert_eq!(first["line"], 18);
    // The error without a position has no line/column/document keys at all.
    assert!(v["errors"][1].get("line").is_none());
    assert!(v["errors"][1].get("document").is_none());

    let summary = &v["summary"];
    assert_eq!(summary["findings"], 6);
    assert_eq!(summary["errors"], 2);
    assert_eq!(summary["notes"], 1);
    assert_eq!(summary["fail_on"], "low");
    assert_eq!(summary["failed"], true);
    let sev: std::collections::BTreeMap<&str, u64> = summary["by_severity"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.as_str(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(
        sev,
        std::collections::BTreeMap::from([
            ("info", 1),
            ("low", 1),
            ("medium", 1),
            ("high", 2),
            ("critical", 1)
        ])
    );
}

#[test]
fn clean_json_still_lists_all_severities() {
    let text = render_to_string(Format::Json, &Data::clean().report());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["findings"], Value::Array(vec![]));
    assert_eq!(v["errors"], Value::Array(vec![]));
    assert_eq!(v["summary"]["by_severity"].as_object().unwrap().len(), 5);
    assert_eq!(v["summary"]["failed"], false);
}

fn collect_keys(v: &Value, keys: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                keys.insert(k.clone());
                collect_keys(child, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_keys(i, keys)),
        _ => {}
    }
}

/// `docs/output-formats.md` is the contract: every key the JSON output can contain is named
/// there (as `` `key` ``), so adding a field without documenting it fails here.
#[test]
fn every_json_key_is_documented() {
    let mut keys = BTreeSet::new();
    for data in [Data::realistic(), Data::clean()] {
        let v: Value =
            serde_json::from_str(&render_to_string(Format::Json, &data.report())).unwrap();
        collect_keys(&v, &mut keys);
    }
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !DOCS.contains(&format!("`{k}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented JSON keys: {missing:?}");
}

/// `fields` is written only when a rule found several offending fields, as documented; a
/// single one would repeat `field`.
#[test]
fn fields_appear_only_with_several() {
    let mut data = Data::realistic();
    let one = data.findings[0].field.clone();
    data.findings[0].fields = vec![one];
    assert!(data.findings[2].fields.len() > 1);
    let v: Value = serde_json::from_str(&render_to_string(Format::Json, &data.report())).unwrap();
    assert!(
        v["findings"][0].get("fields").is_none(),
        "{}",
        v["findings"][0]
    );
    assert_eq!(v["findings"][2]["fields"].as_array().unwrap().len(), 2);
    let sarif: Value =
        serde_json::from_str(&render_to_string(Format::Sarif, &data.report())).unwrap();
    let results = &sarif["runs"][0]["results"];
    assert!(results[0]["properties"].get("fields").is_none());
    assert_eq!(
        results[2]["properties"]["fields"].as_array().unwrap().len(),
        2
    );
}
