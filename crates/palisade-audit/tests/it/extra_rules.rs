//! Palisade's extra rules: every rule has at least one positive and one negative event in
//! testdata/audit/palisade-rules/cases.json; the positive fires the rule, the negative
//! does not. Also checks the extra rules file stands alone (without Falco's file).

use crate::TESTDATA;
use palisade_audit::{Engine, RuleSet, RuleSetBuilder};
use serde_json::Value;
use std::collections::BTreeSet;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{TESTDATA}/palisade-rules/cases.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn extra_only() -> Engine {
    let mut b = RuleSetBuilder::new();
    b.add_str(
        "palisade_audit_rules.yaml",
        palisade_audit::rules::PALISADE_EXTRA_RULES,
    )
    .unwrap();
    Engine::new(b.build().unwrap())
}

#[test]
fn each_extra_rule_has_positive_and_negative_cases() {
    let engine = extra_only();
    let rule_names: BTreeSet<String> = engine
        .rules
        .rules
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    let mut covered = BTreeSet::new();
    for c in cases() {
        let rule = c["rule"].as_str().unwrap();
        assert!(rule_names.contains(rule), "case for unknown rule '{rule}'");
        let fired = |ev: &Value| {
            let ev = palisade_audit::Event::from_value(ev);
            engine.matching(&ev).any(|n| &**n == rule)
        };
        assert!(
            fired(&c["positive"]),
            "'{rule}' did not fire on its positive event"
        );
        assert!(
            !fired(&c["negative"]),
            "'{rule}' fired on its negative event"
        );
        covered.insert(rule.to_string());
    }
    let missing: Vec<_> = rule_names.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "extra rules without test cases: {missing:?}"
    );
}

#[test]
fn extra_rules_with_falco_rules_load_and_names_are_unique() {
    let rs = RuleSet::builtin().unwrap();
    let mut seen = BTreeSet::new();
    for r in &rs.rules {
        assert!(
            seen.insert(r.name.to_string()),
            "duplicate rule name {}",
            r.name
        );
        assert!(!r.desc.is_empty(), "{} has no desc", r.name);
    }
    let extra = extra_only().rules.rules.len();
    assert_eq!(rs.rules.len(), 48 + extra);
    assert!(extra >= 13);
}
