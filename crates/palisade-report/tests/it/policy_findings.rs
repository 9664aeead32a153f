//! Findings of a user's policies (`scan --policy`): no link to a `docs/rules/` page they do
//! not have, and their enforcement action (`Finding::action`) in every machine format;
//! PolicyReport says `warn` for a policy that only warns or audits.

use crate::fixtures::{RULES, summary};
use palisade_core::{Finding, ObjectRef, RuleFamily, RuleMeta, Severity};
use palisade_report::{Format, Report, Style, render};
use serde_json::Value;

const POLICY: RuleFamily = RuleFamily::new("policy", "");

/// A policy's descriptor as palisade-scan builds it: no page of its own.
fn policy_rule(id: &'static str, severity: Severity) -> RuleMeta {
    RuleMeta {
        own_page: false,
        ..POLICY.rule(id, id, id, severity, "r", "m", &[])
    }
}

fn finding(rule: &str, family: &str, action: Option<&str>, name: &str) -> Finding {
    Finding {
        rule: rule.to_owned(),
        family: family.to_owned(),
        severity: Severity::Medium,
        message: format!("{rule} says no"),
        file: "app.yaml".to_owned(),
        line: 3,
        column: 1,
        document: 0,
        object: ObjectRef {
            api_version: "apps/v1".to_owned(),
            kind: "Deployment".to_owned(),
            namespace: Some("shop".to_owned()),
            name: Some(name.to_owned()),
        },
        field: String::new(),
        fields: Vec::new(),
        paths: Vec::new(),
        origin: None,
        action: action.map(str::to_owned),
    }
}

fn rendered(format: Format, f: impl FnOnce(&str)) {
    let rules = [
        policy_rule("K8sRequiredLabels/need-team", Severity::High),
        policy_rule("K8sRequiredLabels/need-owner", Severity::Medium),
        policy_rule("replicas-limit", Severity::Medium),
        RULES[1],
    ];
    let findings = [
        finding("K8sRequiredLabels/need-team", "policy", Some("deny"), "a"),
        finding(
            "K8sRequiredLabels/need-owner",
            "policy",
            Some("dryrun"),
            "b",
        ),
        finding("replicas-limit", "policy", Some("Warn,Audit"), "c"),
        finding(RULES[1].id, RULES[1].family, None, "d"),
    ];
    let report = Report {
        findings: &findings,
        suppressed: &[],
        compliance: None,
        errors: &[],
        notes: &[],
        rules: &rules,
        summary: summary(&findings, 0, 0),
        tool_name: "palisade",
        tool_version: "0.0.0-test",
    };
    let mut out = Vec::new();
    render(format, &report, Style::default(), &mut out).unwrap();
    f(&String::from_utf8(out).unwrap());
}

#[test]
fn json_and_sarif_carry_the_action_and_no_link_for_policies() {
    rendered(Format::Json, |out| {
        let v: Value = serde_json::from_str(out).unwrap();
        let actions: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["action"])
            .collect();
        assert_eq!(
            actions,
            [
                &Value::from("deny"),
                &Value::from("dryrun"),
                &Value::from("Warn,Audit"),
                &Value::Null
            ]
        );
    });
    rendered(Format::Sarif, |out| {
        let v: Value = serde_json::from_str(out).unwrap();
        let run = &v["runs"][0];
        for r in run["tool"]["driver"]["rules"].as_array().unwrap() {
            if r["id"] == RULES[1].id {
                assert_eq!(r["helpUri"], RULES[1].docs_url().as_str());
            } else {
                assert!(r.get("helpUri").is_none(), "{r}");
            }
        }
        let results = run["results"].as_array().unwrap();
        assert_eq!(results[1]["properties"]["action"], "dryrun");
        assert!(results[1]["message"]["text"] == "K8sRequiredLabels/need-owner says no");
        assert!(results[3]["properties"].get("action").is_none());
    });
}

#[test]
fn html_and_junit_link_only_rules_with_a_page() {
    rendered(Format::Html, |out| {
        assert!(out.contains("<span class=\"rule\">replicas-limit</span>"));
        assert!(!out.contains("replicas-limit.md"));
        assert!(!out.contains("need-team.md"));
        assert!(out.contains(&format!("href=\"{}\"", RULES[1].docs_url())));
        // People read the action of a policy that does not deny beside the message.
        assert!(out.contains("need-owner says no [dryrun]</p>"), "{out}");
        assert!(out.contains("need-team says no</p>"), "{out}");
    });
    rendered(Format::Table, |out| {
        assert!(out.contains("replicas-limit says no [Warn,Audit]"), "{out}");
        assert!(out.contains("need-team says no\n"), "{out}");
    });
    rendered(Format::Junit, |out| {
        assert!(!out.contains("replicas-limit.md"));
        assert!(!out.contains("need-owner.md"));
        assert!(out.contains(&RULES[1].docs_url()));
    });
}

#[test]
fn policyreport_says_warn_for_policies_that_only_warn_or_audit() {
    for format in [Format::PolicyReport, Format::OpenReports] {
        rendered(format, |out| {
            let docs =
                palisade_yaml::load_str("report.yaml", out, &palisade_yaml::Limits::default());
            assert!(docs.errors.is_empty(), "{:?}", docs.errors);
            let report = &docs.documents[0].value;
            assert_eq!(report["summary"]["fail"], 2, "{out}");
            assert_eq!(report["summary"]["warn"], 2, "{out}");
            let by_policy = |p: &str| {
                report["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["policy"] == p)
                    .unwrap()
                    .clone()
            };
            let deny = by_policy("K8sRequiredLabels/need-team");
            assert_eq!(deny["result"], "fail");
            assert_eq!(deny["scored"], true);
            assert_eq!(deny["properties"]["enforcementAction"], "deny");
            assert!(deny["properties"].get("docs").is_none(), "{deny}");
            let dry = by_policy("K8sRequiredLabels/need-owner");
            assert_eq!(dry["result"], "warn");
            assert_eq!(dry["scored"], false);
            assert_eq!(dry["properties"]["enforcementAction"], "dryrun");
            let vap = by_policy("replicas-limit");
            assert_eq!(vap["result"], "warn");
            assert_eq!(vap["properties"]["validationActions"], "Warn,Audit");
            let catalog = by_policy(RULES[1].id);
            assert_eq!(catalog["result"], "fail");
            assert_eq!(catalog["properties"]["docs"], RULES[1].docs_url().as_str());
            assert!(catalog["properties"].get("enforcementAction").is_none());
            if format == Format::OpenReports {
                assert_eq!(
                    report["configuration"]["limits"]["statusFilter"],
                    serde_json::json!(["fail", "warn", "error", "skip"])
                );
            }
        });
    }
}
