use crate::fixtures::RULES;
use palisade_report::{Format, Style, render_rules_width};
use serde_json::Value;

fn rules(format: Format, width: usize) -> String {
    let mut out = Vec::new();
    render_rules_width(
        format,
        RULES,
        Style {
            color: false,
            quiet: false,
        },
        width,
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn rules_table() {
    let text = rules(Format::Table, 100);
    assert!(text.starts_with("ID "));
    for r in RULES {
        assert!(
            text.lines()
                .any(|l| l.starts_with(r.id) && l.contains(r.name))
        );
    }
    insta::assert_snapshot!(text);
}

#[test]
fn rules_json_is_the_full_metadata() {
    let text = rules(Format::Json, 100);
    assert!(text.ends_with("]\n"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), RULES.len());
    assert_eq!(arr[0], serde_json::to_value(RULES[0]).unwrap());
    assert_eq!(arr[0]["references"][0]["id"], "Host Namespaces");
    insta::assert_snapshot!(text);
}

#[test]
fn rules_refuse_sarif_and_junit() {
    for format in [Format::Sarif, Format::Junit] {
        let mut out = Vec::new();
        let err = render_rules_width(format, RULES, Style::default(), 100, &mut out).unwrap_err();
        assert!(err.to_string().contains("table or json"), "{err}");
    }
}
