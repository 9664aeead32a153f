//! One base for document numbers in every output: 1-based, like lines and columns (the first
//! document of a file is "document 1" in the table, in JSON, in SARIF and in JUnit alike).

use crate::fixtures::{Data, render_to_string};
use palisade_core::{Finding, InputError};
use palisade_report::Format;
use serde_json::Value;

#[test]
fn document_numbers_are_one_based_in_every_format() {
    let data = Data::realistic();
    let report = data.report();
    assert!(data.findings.iter().any(|f| f.document == 0));
    assert!(data.errors.iter().any(|e| e.document == Some(1)));

    let json: Value = serde_json::from_str(&render_to_string(Format::Json, &report)).unwrap();
    for (f, j) in data
        .findings
        .iter()
        .zip(json["findings"].as_array().unwrap())
    {
        assert_eq!(j["document"], f.document + 1, "JSON finding {j}");
    }
    for (e, j) in data.errors.iter().zip(json["errors"].as_array().unwrap()) {
        match e.document {
            Some(d) => assert_eq!(j["document"], d + 1, "JSON error {j}"),
            None => assert!(j.get("document").is_none()),
        }
    }
    // Reading the contract back gives the same in-memory (0-based) values.
    let back: Vec<Finding> = serde_json::from_value(json["findings"].clone()).unwrap();
    assert_eq!(back, data.findings);
    let back: Vec<InputError> = serde_json::from_value(json["errors"].clone()).unwrap();
    assert_eq!(back, data.errors);
    assert!(
        serde_json::from_value::<Finding>({
            let mut f = json["findings"][0].clone();
            f["document"] = 0.into();
            f
        })
        .is_err()
    );

    let sarif: Value = serde_json::from_str(&render_to_string(Format::Sarif, &report)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    for (f, r) in data.findings.iter().zip(results) {
        assert_eq!(r["properties"]["document"], f.document + 1, "SARIF {r}");
    }
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let mut sarif_docs: Vec<u64> = notes
        .iter()
        .filter_map(|n| n["properties"]["document"].as_u64())
        .collect();
    let mut expected: Vec<u64> = data
        .errors
        .iter()
        .chain(&data.notes)
        .filter_map(|e| e.document.map(|d| d as u64 + 1))
        .collect();
    sarif_docs.sort_unstable();
    expected.sort_unstable();
    assert!(!expected.is_empty());
    assert_eq!(sarif_docs, expected, "SARIF notifications");

    // Human-readable forms: the error in the second document says "document 2" everywhere.
    let broken = data.errors.iter().find(|e| e.document == Some(1)).unwrap();
    assert!(broken.to_string().contains("(document 2)"), "{broken}");
    let table = render_to_string(Format::Table, &report);
    assert!(table.contains("(document 2)"), "{table}");
    assert!(!table.contains("(document 0)"));
    let junit = render_to_string(Format::Junit, &report);
    assert!(junit.contains("(document 2)"), "{junit}");
    assert!(junit.contains("(document 1)"), "{junit}");
    assert!(!junit.contains("(document 0)"));
}
