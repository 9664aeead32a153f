//! Issue 13 item 1: flow collections spread over lines at any column. Replays the generated
//! variants in testdata/loader/flow-layouts/variants.json (scripts/yaml-flow-layouts/:
//! go-yaml v2's verdict and value for each) and asserts Palisade accepts exactly what go-yaml
//! accepts, with the same value.

use palisade_yaml::{Limits, load_mapping_bytes};
use serde_json::Value;

#[test]
fn flow_layouts_agree_with_go_yaml() {
    let path = crate::testdata("loader/flow-layouts/variants.json");
    let records: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(records.len() > 1000, "{} variants", records.len());
    let mut wrong = Vec::new();
    let mut accepted = 0;
    for r in &records {
        let name = r["name"].as_str().unwrap();
        let text = r["yaml"].as_str().unwrap();
        let go_ok = r["go_yaml_ok"].as_bool().unwrap();
        let l = load_mapping_bytes(name, text.as_bytes(), &Limits::default());
        let ours_ok = l.errors.is_empty();
        if go_ok != ours_ok {
            wrong.push(format!(
                "{name}: go-yaml {}, Palisade {}\n{text}{:?}",
                if go_ok { "accepts" } else { "rejects" },
                if ours_ok { "accepts" } else { "rejects" },
                l.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
            ));
            continue;
        }
        if !go_ok {
            continue;
        }
        accepted += 1;
        let want = r["go_yaml_documents"].as_array().unwrap();
        let got: Vec<&Value> = l.documents.iter().map(|d| &d.value).collect();
        if got.len() != want.len() || got.iter().zip(want).any(|(g, w)| *g != w) {
            wrong.push(format!(
                "{name}: value differs\n{text}go-yaml:  {want:?}\nPalisade: {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} variants differ from go-yaml:\n\n{}",
        wrong.len(),
        records.len(),
        wrong
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(accepted > 1000);
}

/// The reproduction: the whole file was refused, so the privileged hostPID DaemonSet
/// in it was never scanned. Columns on re-indented lines are the original ones.
#[test]
fn flow_sequence_closed_at_key_column_is_read() {
    let text = [
        "apiVersion: apps/v1",
        "kind: DaemonSet",
        "metadata: {name: spire-agent}",
        "spec:",
        "  template:",
        "    spec:",
        "      hostPID: true",
        "      containers:",
        "        - name: spire-agent",
        "          args: [",
        "            \"-config\", \"/run/spire/config/agent.conf\"",
        "          ]",
        "          securityContext: {",
        "privileged: true",
        "}",
        "",
    ]
    .join("\n");
    let l = crate::load_ok(&text);
    assert_eq!(l.documents.len(), 1);
    let d = &l.documents[0];
    let c = &d.value["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["args"],
        serde_json::json!(["-config", "/run/spire/config/agent.conf"])
    );
    assert_eq!(c["securityContext"]["privileged"], true);
    assert_eq!(d.value["spec"]["template"]["spec"]["hostPID"], true);
    let at = |path: &str| {
        let s = d.locate(&palisade_core::FieldPath::parse(path));
        (s.line, s.column)
    };
    assert_eq!(at("spec.template.spec.containers[0].args[1]"), (11, 24));
    assert_eq!(
        at("spec.template.spec.containers[0].securityContext.privileged"),
        (14, 1)
    );
    assert_eq!(
        at("spec.template.spec.containers[0].securityContext"),
        (13, 11)
    );
}

/// Each re-indented collection costs a re-parse of its document; a document made of
/// thousands of them is refused with saphyr's error once its share of re-parsing is spent
/// (the replayed fuzz regression `bad-many-flows-below-indent.yaml`), and does not use up the
/// share of the document after it.
#[test]
fn flow_reindent_work_is_bounded_per_document() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n");
    for i in 0..3000 {
        text.push_str(&format!("  k{i}: [\n{i}\n]\n"));
    }
    text.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n");
    for i in 0..3 {
        text.push_str(&format!("  k{i}: [\n\"{i}\"\n]\n"));
    }
    let l = crate::load(&text);
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert_eq!(l.errors[0].document, Some(0));
    assert!(
        l.errors[0].message.contains("invalid indentation"),
        "{}",
        l.errors[0].message
    );
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.documents[0].value["data"]["k2"], serde_json::json!(["2"]));
    // A few dozen collections in one document are within its share.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n");
    for i in 0..40 {
        text.push_str(&format!("  k{i}: [\n{i}\n]\n"));
    }
    let l = crate::load_ok(&text);
    assert_eq!(l.documents[0].value["data"]["k39"], serde_json::json!([39]));
}
