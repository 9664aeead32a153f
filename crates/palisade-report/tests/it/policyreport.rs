//! `--format policyreport` and `--format openreports`: every document is validated against the
//! CRD's `openAPIV3Schema` for the version it names (made strict: an unknown field is an error,
//! as `kubectl apply`'s strict field validation makes it), its metadata against Kubernetes'
//! name rules, and the stream is read back (by the Kubernetes-semantics loader, and by
//! `kubectl` itself when it is installed) to count every finding and waived finding once.

use crate::corpus;
use crate::fixtures::{Data, RULES, variants};
use palisade_core::{ObjectRef, Origin};
use palisade_report::{
    CheckedObject, Format, MAX_RESULT_BYTES, MAX_RESULTS, PolicyReportOptions, Report, ReportApi,
    render_policy_reports,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/policyreport");

/// 2026-12-07T08:00:00.123456789Z.
fn clock() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_796_630_400, 123_456_789)
}

fn load_yaml(name: &str, text: &str) -> Vec<Value> {
    let loaded = palisade_yaml::load_str(name, text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
    loaded.documents.into_iter().map(|d| d.value).collect()
}

/// The CRD's schema for `version`, made strict: `additionalProperties: false` wherever
/// properties are listed and unknown fields are not preserved (the API server prunes them,
/// and `kubectl apply` refuses them under strict field validation); `x-kubernetes-*` keys
/// dropped; `int32` bounded.
fn crd_schema(path: &str, version: &str) -> (String, String, Value) {
    let text = std::fs::read_to_string(format!("{TESTDATA}/{path}")).unwrap();
    let crd = load_yaml(path, &text).remove(0);
    let group = crd["spec"]["group"].as_str().unwrap().to_owned();
    let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_owned();
    let v = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap();
    assert_eq!(v["served"], true);
    let mut schema = v["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    (format!("{group}/{version}"), kind, schema)
}

fn strict(schema: &mut Value) {
    let Value::Object(m) = schema else { return };
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    m.retain(|k, _| !k.starts_with("x-kubernetes-"));
    if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    if m.get("format").and_then(Value::as_str) == Some("int32") {
        m.insert("minimum".into(), json!(i32::MIN));
        m.insert("maximum".into(), json!(i32::MAX));
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        props.values_mut().for_each(strict);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = m.get_mut(key) {
            strict(v);
        }
    }
}

struct Crds {
    /// (apiVersion, kind) -> validator
    validators: BTreeMap<(String, String), jsonschema::Validator>,
}

impl Crds {
    fn load() -> Crds {
        let mut validators = BTreeMap::new();
        for (path, version) in [
            (
                "wgpolicyk8s.io/wgpolicyk8s.io_policyreports.yaml",
                "v1alpha2",
            ),
            (
                "wgpolicyk8s.io/wgpolicyk8s.io_clusterpolicyreports.yaml",
                "v1alpha2",
            ),
            ("openreports.io/openreports.io_reports.yaml", "v1alpha1"),
            (
                "openreports.io/openreports.io_clusterreports.yaml",
                "v1alpha1",
            ),
        ] {
            let (api, kind, schema) = crd_schema(path, version);
            validators.insert((api, kind), jsonschema::validator_for(&schema).unwrap());
        }
        Crds { validators }
    }

    /// Problems of one document: schema errors, then metadata errors.
    fn check(&self, doc: &Value) -> Vec<String> {
        let api = doc["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
        let Some(v) = self.validators.get(&(api.clone(), kind.clone())) else {
            return vec![format!("no CRD serves {api} {kind}")];
        };
        let mut errors: Vec<String> = v
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        let meta = &doc["metadata"];
        let name = meta["name"].as_str().unwrap_or_default();
        if !is_dns1123_subdomain(name) {
            errors.push(format!(
                "metadata.name {name:?} is not a DNS-1123 subdomain"
            ));
        }
        let cluster = kind.starts_with("Cluster");
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if cluster => errors.push(format!("{kind} has a namespace {ns:?}")),
            Some(ns) if !palisade_report::is_dns1123_label(ns) => {
                errors.push(format!("namespace {ns:?} is not a DNS-1123 label"));
            }
            None if !cluster => errors.push(format!("{kind} {name} has no namespace")),
            _ => {}
        }
        if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
            for (k, v) in labels {
                let value = v.as_str().unwrap_or("<not a string>");
                if value.len() > 63
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    errors.push(format!("label {k}={value:?} has an invalid value"));
                }
            }
        }
        errors
    }
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(palisade_report::is_dns1123_label)
}

fn render(report: &Report<'_>, api: ReportApi, checked: &[CheckedObject]) -> String {
    let mut out = Vec::new();
    let options = PolicyReportOptions {
        now: clock(),
        checked,
    };
    render_policy_reports(report, api, &options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn results(docs: &[Value]) -> Vec<&Value> {
    docs.iter()
        .flat_map(|d| d["results"].as_array().unwrap())
        .collect()
}

/// Every document valid, summaries equal to the results, and one `fail` per finding and one
/// `skip` per waived finding, each on the finding's object.
fn check_stream(crds: &Crds, report: &Report<'_>, api: ReportApi, text: &str) -> Vec<Value> {
    let docs = load_yaml("report.yaml", text);
    for d in &docs {
        let errors = crds.check(d);
        assert!(errors.is_empty(), "{}: {errors:#?}", d["metadata"]["name"]);
        let count = |r: &str| {
            d["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["result"] == r)
                .count()
        };
        for r in ["pass", "fail", "warn", "error", "skip"] {
            assert_eq!(
                d["summary"][r],
                count(r),
                "{r} in {}",
                d["metadata"]["name"]
            );
        }
        assert_eq!(
            d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "palisade"
        );
        assert!(d["results"].as_array().unwrap().len() <= MAX_RESULTS);
        assert!(serde_json::to_string(&d["results"]).unwrap().len() <= MAX_RESULT_BYTES + 4096);
        if api == ReportApi::OpenReports {
            assert_eq!(d["source"], "palisade");
            assert_eq!(d["configuration"]["limits"]["maxResults"], MAX_RESULTS);
        } else {
            assert!(d.get("source").is_none() && d.get("configuration").is_none());
        }
    }
    let names: BTreeSet<(String, String, String)> = docs
        .iter()
        .map(|d| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                s(&d["kind"]),
                s(&d["metadata"]["namespace"]),
                s(&d["metadata"]["name"]),
            )
        })
        .collect();
    assert_eq!(names.len(), docs.len(), "report names are unique");
    let all = results(&docs);
    let fails: Vec<&&Value> = all.iter().filter(|r| r["result"] == "fail").collect();
    let skips: Vec<&&Value> = all.iter().filter(|r| r["result"] == "skip").collect();
    assert_eq!(fails.len(), report.findings.len());
    assert_eq!(skips.len(), report.suppressed.len());
    let errors: Vec<&&Value> = all.iter().filter(|r| r["result"] == "error").collect();
    assert_eq!(errors.len(), report.errors.len());
    for (r, e) in errors.iter().zip(report.errors) {
        assert_eq!(r["policy"], "input");
        assert_eq!(r["rule"], json!(e.kind));
        assert_eq!(r["message"], json!(e.message));
        assert_eq!(r["properties"]["file"], json!(e.file));
    }
    let passes = all.iter().filter(|r| r["result"] == "pass").count();
    assert_eq!(all.len(), fails.len() + skips.len() + errors.len() + passes);
    // In input order, each result is its finding.
    let expected = report
        .findings
        .iter()
        .map(|f| (f, "fail"))
        .chain(report.suppressed.iter().map(|s| (&s.finding, "skip")));
    let mut by_object: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in all.iter().filter(|r| r["result"] != "pass") {
        by_object
            .entry(format!("{}{}", r["policy"], r["message"]))
            .or_default()
            .push(r);
    }
    for (f, outcome) in expected {
        let list = by_object
            .get_mut(&format!("{}{}", json!(f.rule), json!(f.message)))
            .unwrap_or_else(|| panic!("no result for {} {}", f.rule, f.message));
        let pos = list
            .iter()
            .position(|r| {
                r["result"] == outcome
                    && r["resources"][0]["kind"] == json!(f.object.kind)
                    && r["resources"][0].get("name").and_then(Value::as_str)
                        == f.object.name.as_deref().filter(|n| !n.is_empty())
                    && r["properties"]["file"] == json!(f.file)
            })
            .unwrap_or_else(|| panic!("no {outcome} result for {} on {}", f.rule, f.object));
        let r = list.remove(pos);
        assert_eq!(r["source"], "palisade");
        assert_eq!(r["category"], json!(f.family));
        assert_eq!(r["severity"], json!(f.severity.as_str()));
        assert_eq!(
            r["timestamp"],
            json!({"seconds": 1_796_630_400u64, "nanos": 123_456_789})
        );
        if f.line > 0 {
            assert_eq!(r["properties"]["line"], json!(f.line.to_string()));
        }
    }
    docs
}

#[test]
fn crd_validation_accepts_upstream_samples_and_catches_broken_reports() {
    let crds = Crds::load();
    for path in [
        "wgpolicyk8s.io/sample-cis-k8s.yaml",
        "wgpolicyk8s.io/sample-falco-policy.yaml",
        "openreports.io/sample-cis-k8s.yaml",
    ] {
        let text = std::fs::read_to_string(format!("{TESTDATA}/{path}")).unwrap();
        for mut doc in load_yaml(path, &text) {
            // The samples leave out the namespace `kubectl apply -n` would give them.
            let cluster = doc["kind"].as_str().unwrap().starts_with("Cluster");
            if !cluster && doc["metadata"].get("namespace").is_none() {
                doc["metadata"]["namespace"] = json!("default");
            }
            assert_eq!(crds.check(&doc), Vec::<String>::new(), "{path}");
        }
    }
    let data = Data::realistic();
    let text = render(&data.report(), ReportApi::WgPolicy, &[]);
    let good = load_yaml("r.yaml", &text).remove(0);
    type Break = fn(&mut Value);
    let broken: [(&str, Break); 7] = [
        ("result", |d| d["results"][0]["result"] = json!("failed")),
        ("severity", |d| {
            d["results"][0]["severity"] = json!("warning")
        }),
        ("unknown field", |d| {
            d["results"][0]["file"] = json!("x.yaml")
        }),
        ("property not a string", |d| {
            d["results"][0]["properties"]["line"] = json!(3)
        }),
        ("nanos", |d| {
            d["results"][0]["timestamp"] = json!({"seconds": 1})
        }),
        ("name", |d| d["metadata"]["name"] = json!("Palisade_Report")),
        ("no policy", |d| {
            d["results"][0].as_object_mut().unwrap().remove("policy");
        }),
    ];
    for (what, breaks) in broken {
        let mut doc = good.clone();
        breaks(&mut doc);
        assert!(!crds.check(&doc).is_empty(), "{what} was not caught");
    }
}

#[test]
fn realistic_reports_validate_and_round_trip() {
    let crds = Crds::load();
    for (name, data) in variants() {
        let report = data.report();
        for api in [ReportApi::WgPolicy, ReportApi::OpenReports] {
            let text = render(&report, api, &[]);
            let docs = check_stream(&crds, &report, api, &text);
            if name == "clean" || name == "notes only" {
                // Never an empty stream (`kubectl apply` refuses one): the empty cluster report.
                assert_eq!(docs.len(), 1, "{name}");
                assert_eq!(docs[0]["metadata"]["name"], "palisade-cluster");
                assert_eq!(docs[0]["results"], json!([]));
            }
            if name == "input errors only" {
                assert_eq!(docs.len(), 1, "{name}");
                assert_eq!(docs[0]["summary"]["error"], 2);
            }
        }
    }
}

#[test]
fn reports_per_namespace_and_one_cluster_report() {
    let data = Data::realistic();
    let text = render(&data.report(), ReportApi::WgPolicy, &[]);
    let docs = load_yaml("r.yaml", &text);
    let heads: Vec<(String, String, String, usize)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
                d["metadata"]["name"].as_str().unwrap().to_owned(),
                d["results"].as_array().unwrap().len(),
            )
        })
        .collect();
    let h = |k: &str, ns: &str, n: &str, c: usize| (k.to_owned(), ns.to_owned(), n.to_owned(), c);
    assert_eq!(
        heads,
        vec![
            // The Pod read from a file without a namespace, and the two input errors.
            h("ClusterPolicyReport", "", "palisade-cluster", 4),
            h("PolicyReport", "kube-system", "palisade-kube-system", 2),
            h("PolicyReport", "ops", "palisade-ops", 1),
            h("PolicyReport", "shop", "palisade-shop", 3),
        ]
    );
    let or = load_yaml(
        "o.yaml",
        &render(&data.report(), ReportApi::OpenReports, &[]),
    );
    let kinds: Vec<&str> = or.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ClusterReport", "Report", "Report", "Report"]);
    assert!(
        or.iter()
            .all(|d| d["apiVersion"] == "openreports.io/v1alpha1")
    );
    assert!(
        docs.iter()
            .all(|d| d["apiVersion"] == "wgpolicyk8s.io/v1alpha2")
    );
    // A waived result says why.
    let skip = results(&docs)
        .into_iter()
        .find(|r| r["result"] == "skip" && r["policy"] == "PSS001")
        .unwrap();
    assert_eq!(skip["properties"]["waiver"], "config");
    assert_eq!(
        skip["properties"]["waiverReason"],
        "CNI agent needs the host network"
    );
    assert_eq!(skip["properties"]["waiverExpires"], "2999-12-31");
    assert_eq!(skip["rule"], "host-namespaces");
    assert_eq!(skip["properties"]["docs"], json!(RULES[0].docs_url()));
}

#[test]
fn realistic_policyreport_snapshot() {
    let data = Data::realistic();
    insta::assert_snapshot!(render(&data.report(), ReportApi::WgPolicy, &[]));
}

#[test]
fn cluster_objects_carry_their_uid_and_context() {
    let mut data = Data::realistic();
    let f = &mut data.findings[0];
    f.file = "cluster://prod/shop/Deployment/web".into();
    f.line = 0;
    f.column = 0;
    f.origin = Some(Box::new(Origin {
        context: "prod".into(),
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "web".into(),
        uid: Some("4c1f6a0e-8d0b-4bb0-9a55-0b6c1d2e3f40".into()),
    }));
    let report = data.report();
    let text = render(&report, ReportApi::OpenReports, &[]);
    let docs = check_stream(&Crds::load(), &report, ReportApi::OpenReports, &text);
    let r = results(&docs)
        .into_iter()
        .find(|r| r["policy"] == "PSS001" && r["result"] == "fail")
        .unwrap();
    assert_eq!(
        r["resources"][0],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web",
               "uid": "4c1f6a0e-8d0b-4bb0-9a55-0b6c1d2e3f40"})
    );
    assert_eq!(r["properties"]["context"], "prod");
    assert!(r["properties"].get("line").is_none() && r["properties"].get("document").is_none());
}

#[test]
fn pass_results_for_rules_that_found_nothing() {
    let data = Data::realistic();
    let report = data.report();
    let web = report.findings[0].object.clone();
    let quiet = ObjectRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: Some("quiet".into()),
    };
    let checked = vec![
        CheckedObject {
            object: web,
            uid: None,
            // PSS001, PSS002, PSS013 failed on it; PSS016 and HRD003 pass.
            rules: ["PSS001", "PSS002", "PSS013", "PSS016", "HRD003"]
                .map(String::from)
                .to_vec(),
        },
        CheckedObject {
            object: quiet,
            uid: Some("u-1".into()),
            rules: vec!["PSS016".into()],
        },
    ];
    for api in [ReportApi::WgPolicy, ReportApi::OpenReports] {
        let text = render(&report, api, &checked);
        let docs = check_stream(&Crds::load(), &report, api, &text);
        let passes: Vec<(String, String)> = results(&docs)
            .into_iter()
            .filter(|r| r["result"] == "pass")
            .map(|r| {
                (
                    r["policy"].as_str().unwrap().to_owned(),
                    r["resources"][0]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let p = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            passes,
            vec![p("PSS016", "web"), p("HRD003", "web"), p("PSS016", "quiet")]
        );
        let shop = docs
            .iter()
            .find(|d| d["metadata"]["name"] == "palisade-shop")
            .unwrap();
        assert_eq!(shop["summary"]["pass"], 3);
        assert_eq!(shop["summary"]["fail"], 3);
        if api == ReportApi::OpenReports {
            assert_eq!(
                shop["configuration"]["limits"]["statusFilter"],
                json!(["pass", "fail", "error", "skip"])
            );
        }
    }
}

#[test]
fn large_namespaces_are_split_under_the_size_limits() {
    let mut data = Data::realistic();
    let template = data.findings[1].clone();
    data.findings = (0..450)
        .map(|i| {
            let mut f = template.clone();
            f.line = i + 1;
            f
        })
        .collect();
    // Long messages: the byte budget, not the count, splits these.
    let mut long = template.clone();
    long.object.namespace = Some("big".into());
    long.message = "m".repeat(20_000);
    data.findings.extend(std::iter::repeat_n(long, 25));
    data.suppressed.clear();
    data.errors.clear();
    let report = data.report();
    let text = render(&report, ReportApi::WgPolicy, &[]);
    let docs = check_stream(&Crds::load(), &report, ReportApi::WgPolicy, &text);
    let heads: Vec<(String, usize)> = docs
        .iter()
        .map(|d| {
            (
                d["metadata"]["name"].as_str().unwrap().to_owned(),
                d["results"].as_array().unwrap().len(),
            )
        })
        .collect();
    let h = |n: &str, c: usize| (n.to_owned(), c);
    assert_eq!(
        heads,
        vec![
            // About 20.7 KB each: nine fit in the 200 KiB budget.
            h("palisade-big", 9),
            h("palisade-big-2", 9),
            h("palisade-big-3", 7),
            h("palisade-shop", 200),
            h("palisade-shop-2", 200),
            h("palisade-shop-3", 50),
        ]
    );
    for d in &docs {
        // The whole object, as `kubectl apply` stores it in its annotation, fits in 256 KiB.
        assert!(serde_json::to_string(d).unwrap().len() < 256 * 1024);
    }
}

#[test]
fn hostile_text_round_trips_exactly() {
    let mut data = Data::realistic();
    let nasty = [
        "yes",
        "no",
        "on",
        "~",
        "null",
        "0x1F",
        "1e3",
        "2024-01-01",
        "- a",
        "a: b",
        "#x",
        "'q'",
        "\"dq\"",
        "a\\b",
        "tab\there",
        "line\nbreak",
        "\u{1b}[31m",
        "\u{2028}",
        "\u{85}",
        "",
        "  lead",
        "trail  ",
        "*alias",
        "&anchor",
        "!tag",
        "{a: 1}",
        "[1]",
        "%YAML",
        "---",
        "...",
    ];
    for (i, s) in nasty.iter().enumerate() {
        let mut f = data.findings[0].clone();
        f.message = (*s).to_owned();
        f.field = format!("spec.{s}");
        f.file = format!("{s}.yaml");
        f.object.name = Some((*s).to_owned());
        f.line = u32::try_from(i).unwrap() + 1;
        data.findings.push(f);
    }
    let report = data.report();
    let text = render(&report, ReportApi::WgPolicy, &[]);
    check_stream(&Crds::load(), &report, ReportApi::WgPolicy, &text);
    let docs = load_yaml("r.yaml", &text);
    let messages: BTreeSet<&str> = results(&docs)
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    for s in nasty {
        assert!(messages.contains(s), "{s:?} did not come back");
    }
    // kubectl's own YAML reader agrees on every value.
    kubectl_reads_the_same(&text, &docs);
}

#[test]
fn corpus_findings_validate_and_round_trip() {
    let scanned = corpus::scan();
    let report = scanned.report();
    assert!(report.findings.len() > 1000, "{}", report.findings.len());
    let crds = Crds::load();
    for api in [ReportApi::WgPolicy, ReportApi::OpenReports] {
        let text = render(&report, api, &[]);
        let docs = check_stream(&crds, &report, api, &text);
        assert!(docs.len() > 2);
        kubectl_reads_the_same(&text, &docs);
    }
}

/// `kubectl` decodes the stream with its own YAML reader (go-yaml through sigs.k8s.io/yaml)
/// offline (`label --local`) and prints the objects back as JSON: they must be the objects
/// the Kubernetes-semantics loader read, plus the label.
fn kubectl_reads_the_same(text: &str, docs: &[Value]) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("kubectl")
        .args([
            "label",
            "--local",
            "-f",
            "-",
            "palisade.dev/test=yes",
            "-o",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("SKIPPED kubectl round trip: no kubectl on PATH");
        return;
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One JSON object per document, one after the other.
    let items: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(items.len(), docs.len());
    for (mut k, ours) in items.into_iter().zip(docs) {
        let labels = k["metadata"]["labels"].as_object_mut().unwrap();
        assert_eq!(labels.remove("palisade.dev/test"), Some(json!("yes")));
        assert_eq!(&k, ours);
    }
}

#[test]
fn format_names() {
    assert_eq!("policyreport".parse::<Format>(), Ok(Format::PolicyReport));
    assert_eq!("OpenReports".parse::<Format>(), Ok(Format::OpenReports));
    assert_eq!("html".parse::<Format>(), Ok(Format::Html));
    // Through `render` (system clock, no pass results) the stream is the same shape.
    let data = Data::realistic();
    let text = crate::fixtures::render_to_string(Format::PolicyReport, &data.report());
    let docs = load_yaml("r.yaml", &text);
    assert_eq!(docs.len(), 4);
    assert_eq!(
        results(&docs).len(),
        data.findings.len() + data.suppressed.len() + data.errors.len()
    );
}
