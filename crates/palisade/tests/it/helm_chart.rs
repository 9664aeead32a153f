//! The Helm chart (deploy/helm/palisade), checked without helm (a Go binary with no registry
//! package here): its templates are rendered with gtmpl, a Go text/template implementation,
//! plus the few Helm/sprig functions the chart uses (`toYaml`, `nindent`, `indent`, `quote`,
//! `default`), written below. `helm template`/`helm lint` remain the real check; this one
//! covers that the chart renders deploy/'s objects (same kinds, names, namespaces and fields;
//! the chart adds labels), that the output scans clean at restricted, that the component
//! toggles work, and that values.yaml parses and meets values.schema.json.

use crate::root;
use assert_cmd::Command;
use gtmpl::{Context, FuncError, Value as Tmpl};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn chart_dir() -> PathBuf {
    root().join("deploy/helm/palisade")
}

/// One mapping document of a non-Kubernetes YAML file (Chart.yaml, values.yaml, an embedded
/// config), read by Palisade's loader.
fn yaml_mapping(name: &str, text: &str) -> Value {
    let loaded =
        palisade_yaml::load_mapping_bytes(name, text.as_bytes(), &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    assert_eq!(loaded.documents.len(), 1, "{name}");
    loaded.documents.into_iter().next().unwrap().value
}

fn values() -> Value {
    let path = chart_dir().join("values.yaml");
    yaml_mapping("values.yaml", &std::fs::read_to_string(path).unwrap())
}

// --- The Helm/sprig functions the chart uses. -------------------------------------------

fn to_json(v: &Tmpl) -> Value {
    match v {
        Tmpl::NoValue | Tmpl::Nil | Tmpl::Function(_) => Value::Null,
        Tmpl::Bool(b) => Value::Bool(*b),
        Tmpl::String(s) => Value::String(s.clone()),
        Tmpl::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .or_else(|| n.as_f64().map(Value::from))
            .unwrap_or(Value::Null),
        Tmpl::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Tmpl::Object(m) | Tmpl::Map(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn to_tmpl(v: &Value) -> Tmpl {
    match v {
        Value::Null => Tmpl::Nil,
        Value::Bool(b) => Tmpl::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Tmpl::from)
            .or_else(|| n.as_u64().map(Tmpl::from))
            .unwrap_or_else(|| Tmpl::from(n.as_f64().unwrap())),
        Value::String(s) => Tmpl::String(s.clone()),
        Value::Array(a) => Tmpl::Array(a.iter().map(to_tmpl).collect()),
        // Object, not Map: a missing key is an error (a typo in the chart fails the test)
        // where helm would print nothing.
        Value::Object(m) => Tmpl::Object(m.iter().map(|(k, v)| (k.clone(), to_tmpl(v))).collect()),
    }
}

/// A string scalar as YAML reads it back as the same string: plain when it cannot be taken
/// for anything else (YAML 1.1 booleans and numbers included), else double-quoted.
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && !s.starts_with(|c: char| c.is_ascii_digit() || "-.".contains(c))
        && ![
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
        ]
        .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap()
    }
}

/// Block-style YAML, keys sorted as Helm's toYaml (go-yaml) writes them.
fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let inline = |v: &Value| match v {
        Value::Null => Some("null".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(yaml_scalar(s)),
        Value::Array(a) if a.is_empty() => Some("[]".to_owned()),
        Value::Object(m) if m.is_empty() => Some("{}".to_owned()),
        _ => None,
    };
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            for (k, v) in sorted {
                match inline(v) {
                    Some(s) => out.push_str(&format!("{pad}{}: {s}\n", yaml_scalar(k))),
                    None => {
                        out.push_str(&format!("{pad}{}:\n", yaml_scalar(k)));
                        write_yaml(v, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                match inline(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        // The item's first line goes after the dash.
                        let mut nested = String::new();
                        write_yaml(item, indent + 2, &mut nested);
                        out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other).unwrap())),
    }
}

fn arg<'a>(args: &'a [Tmpl], i: usize, f: &str) -> Result<&'a Tmpl, FuncError> {
    args.get(i)
        .ok_or_else(|| FuncError::Generic(format!("{f}: missing argument {i}")))
}

fn count(v: &Tmpl, f: &str) -> Result<usize, FuncError> {
    match v {
        Tmpl::Number(n) => n
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| FuncError::Generic(format!("{f}: {n} is not a count"))),
        other => Err(FuncError::Generic(format!("{f}: {other} is not a number"))),
    }
}

fn text(v: &Tmpl) -> String {
    match v {
        Tmpl::NoValue | Tmpl::Nil => String::new(),
        other => other.to_string(),
    }
}

/// `toYaml VALUE`: the YAML of a value, without the final newline (as Helm trims it).
fn to_yaml(args: &[Tmpl]) -> Result<Tmpl, FuncError> {
    let mut out = String::new();
    write_yaml(&to_json(arg(args, 0, "toYaml")?), 0, &mut out);
    Ok(Tmpl::String(out.trim_end_matches('\n').to_owned()))
}

fn indent_lines(n: usize, s: &str) -> String {
    let pad = " ".repeat(n);
    s.split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `indent N TEXT`: every line indented by N spaces.
fn indent(args: &[Tmpl]) -> Result<Tmpl, FuncError> {
    let n = count(arg(args, 0, "indent")?, "indent")?;
    Ok(Tmpl::String(indent_lines(
        n,
        &text(arg(args, 1, "indent")?),
    )))
}

/// `nindent N TEXT`: a newline, then `indent N TEXT`.
fn nindent(args: &[Tmpl]) -> Result<Tmpl, FuncError> {
    let n = count(arg(args, 0, "nindent")?, "nindent")?;
    Ok(Tmpl::String(format!(
        "\n{}",
        indent_lines(n, &text(arg(args, 1, "nindent")?))
    )))
}

/// `quote VALUE...`: each value double-quoted, space-separated.
fn quote(args: &[Tmpl]) -> Result<Tmpl, FuncError> {
    Ok(Tmpl::String(
        args.iter()
            .map(|a| serde_json::to_string(&text(a)).unwrap())
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

/// `default DEFAULT VALUE`: VALUE unless it is empty (sprig's emptiness: nil, "", false, 0,
/// an empty list or map).
fn default(args: &[Tmpl]) -> Result<Tmpl, FuncError> {
    let d = arg(args, 0, "default")?;
    let empty = match args.get(1) {
        None | Some(Tmpl::NoValue | Tmpl::Nil) => true,
        Some(Tmpl::Bool(b)) => !b,
        Some(Tmpl::String(s)) => s.is_empty(),
        Some(Tmpl::Number(n)) => n.as_f64() == Some(0.0),
        Some(Tmpl::Array(a)) => a.is_empty(),
        Some(Tmpl::Object(m) | Tmpl::Map(m)) => m.is_empty(),
        Some(Tmpl::Function(_)) => false,
    };
    Ok(if empty { d.clone() } else { args[1].clone() })
}

// --- Rendering. ---------------------------------------------------------------------------

/// What `helm template palisade deploy/helm/palisade` renders with `values` (already merged):
/// each template file's output, by file name, `NOTES.txt` included.
fn render(values: &Value) -> BTreeMap<String, String> {
    let dir = chart_dir();
    let chart = yaml_mapping(
        "Chart.yaml",
        &std::fs::read_to_string(dir.join("Chart.yaml")).unwrap(),
    );
    let ctx = to_tmpl(&json!({
        "Values": values,
        "Release": {"Name": "palisade", "Namespace": "default", "Service": "Helm",
            "IsInstall": true, "IsUpgrade": false, "Revision": 1},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
            "AppVersion": chart["appVersion"]},
    }));
    let helpers = std::fs::read_to_string(dir.join("templates/_helpers.tpl")).unwrap();
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Helm renders no output for partials (`_*.tpl`).
        if name.starts_with('_') {
            continue;
        }
        let mut t = gtmpl::Template::with_name(name.clone());
        t.add_funcs(&[
            ("toYaml", to_yaml as gtmpl::Func),
            ("indent", indent),
            ("nindent", nindent),
            ("quote", quote),
            ("default", default),
        ]);
        t.add_template("_helpers.tpl", helpers.clone())
            .unwrap_or_else(|e| panic!("_helpers.tpl: {e}"));
        t.parse(std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = t
            .render(&Context::from(ctx.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.contains("<no value>"), "{name}:\n{text}");
        out.insert(name, text);
    }
    out
}

/// The rendered manifests as one stream (NOTES.txt left out, as `helm template` does).
fn manifests(rendered: &BTreeMap<String, String>) -> String {
    rendered
        .iter()
        .filter(|(name, _)| name.ends_with(".yaml"))
        .map(|(name, text)| format!("---\n# Source: palisade/templates/{name}\n{text}\n"))
        .collect()
}

type Key = (String, String, String);

fn key_of(v: &Value) -> Key {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

/// Objects of a YAML stream by (kind, namespace, name); every document must load.
fn objects(name: &str, text: &str) -> BTreeMap<Key, Value> {
    let loaded = palisade_yaml::load_str(name, text, &palisade_yaml::Limits::default());
    assert!(
        loaded.errors.is_empty(),
        "{name}: {:?}\n{text}",
        loaded.errors
    );
    let mut out = BTreeMap::new();
    for d in loaded.documents {
        let k = key_of(&d.value);
        assert!(out.insert(k.clone(), d.value).is_none(), "{k:?} twice");
    }
    out
}

/// deploy/admit, deploy/feed and deploy/audit: their numbered object files (not the
/// kustomizations or the API server's files).
fn deploy_objects() -> BTreeMap<Key, Value> {
    let mut out = BTreeMap::new();
    for component in ["admit", "feed", "audit"] {
        let dir = root().join("deploy").join(component);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.ends_with(".yaml") && n.starts_with(|c: char| c.is_ascii_digit())
            })
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            out.extend(objects(&f.display().to_string(), &text));
        }
    }
    out
}

/// The labels the chart adds to every object's metadata.
const CHART_LABELS: [&str; 4] = [
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
];

/// A rendered object as deploy/ writes it: the chart's labels (and an
/// `app.kubernetes.io/name` label where deploy/ has none) removed.
fn without_chart_labels(mut v: Value, deploy: &Value) -> Value {
    let deploy_labels = deploy
        .pointer("/metadata/labels")
        .and_then(Value::as_object);
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        for l in CHART_LABELS {
            assert!(labels.remove(l).is_some(), "chart label {l} missing");
        }
        if !deploy_labels.is_some_and(|d| d.contains_key("app.kubernetes.io/name")) {
            labels.remove("app.kubernetes.io/name");
        }
        if labels.is_empty() {
            v["metadata"].as_object_mut().unwrap().remove("labels");
        }
    }
    v
}

fn with(values: &Value, path: &str, new: Value) -> Value {
    let mut v = values.clone();
    *v.pointer_mut(path)
        .unwrap_or_else(|| panic!("no value {path}")) = new;
    v
}

#[test]
fn chart_metadata_and_values_parse_and_values_meet_the_schema() {
    let dir = chart_dir();
    let chart = yaml_mapping(
        "Chart.yaml",
        &std::fs::read_to_string(dir.join("Chart.yaml")).unwrap(),
    );
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "palisade");
    assert_eq!(chart["type"], "application");
    // The image tag defaults to appVersion: the version deploy/ runs.
    let deploy = std::fs::read_to_string(root().join("deploy/admit/50-deployment.yaml")).unwrap();
    let app = chart["appVersion"].as_str().unwrap();
    assert!(
        deploy.contains(&format!("palisade:{app}\n")),
        "appVersion {app}"
    );
    assert!(chart["version"].as_str().unwrap().split('.').count() == 3);

    let schema: Value =
        serde_json::from_slice(&std::fs::read(dir.join("values.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let values = values();
    let errors: Vec<String> = validator
        .iter_errors(&values)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "values.yaml: {errors:#?}");
    // The schema does refuse wrong values (what `helm lint` and `helm install` would say).
    for (path, bad) in [
        ("/admit/replicas", json!("two")),
        ("/audit/namespace", json!("Not_A_Namespace")),
        ("/image/pullPolicy", json!("Sometimes")),
        ("/feed/resyncInterval", json!("soon")),
        ("/admit/webhook/caBundle", json!("not base64!")),
    ] {
        let v = with(&values, path, bad.clone());
        assert!(!validator.is_valid(&v), "{path} = {bad} accepted");
    }
    let mut typo = values.clone();
    typo["admit"]
        .as_object_mut()
        .unwrap()
        .insert("replica".into(), json!(3));
    assert!(!validator.is_valid(&typo), "an unknown key is accepted");
}

#[test]
fn chart_renders_the_objects_of_deploy() {
    // With a caBundle the ValidatingWebhookConfiguration is rendered too (gen-certs.sh fills
    // it into deploy/'s copy).
    let values = with(&values(), "/admit/webhook/caBundle", json!("Q0EgUEVN"));
    let rendered = objects("rendered.yaml", &manifests(&render(&values)));
    let deploy = deploy_objects();
    assert_eq!(
        rendered.keys().collect::<Vec<_>>(),
        deploy.keys().collect::<Vec<_>>(),
        "the chart renders other objects than deploy/ holds"
    );
    assert_eq!(deploy.len(), 26, "deploy/ objects: {:#?}", deploy.keys());
    for (key, want) in &deploy {
        let mut got = without_chart_labels(rendered[key].clone(), want);
        let mut want = want.clone();
        if key.0 == "ValidatingWebhookConfiguration" {
            for hook in got["webhooks"].as_array_mut().unwrap() {
                assert_eq!(hook["clientConfig"]["caBundle"], "Q0EgUEVN");
                hook["clientConfig"]["caBundle"] = json!("");
            }
        }
        if key.0 == "ConfigMap" {
            // The embedded AdmitConfiguration: compared as YAML (the chart writes its keys
            // sorted and without deploy/'s comments).
            for v in [&mut got, &mut want] {
                let text = v["data"]["admit.yaml"].as_str().unwrap().to_owned();
                v["data"]["admit.yaml"] = yaml_mapping("admit.yaml", &text);
            }
        }
        assert!(
            got == want,
            "{key:?} differs from deploy/:\nchart:  {}\ndeploy: {}",
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&want).unwrap()
        );
    }
}

#[test]
fn chart_output_scans_clean_at_restricted() {
    let values = with(&values(), "/admit/webhook/caBundle", json!("Q0EgUEVN"));
    let stream = manifests(&render(&values));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("palisade-chart.yaml");
    std::fs::write(&file, &stream).unwrap();
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args([
            "scan",
            "--no-config",
            "--pss-level",
            "restricted",
            "--format",
            "json",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    // Every rendered object was read (a scan of nothing has no findings either).
    assert_eq!(report["summary"]["objects"], 26, "{report:#}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn chart_values_toggle_components_and_settings() {
    let base = values();
    let kinds_in = |values: &Value| -> Vec<Key> {
        objects("rendered.yaml", &manifests(&render(values)))
            .into_keys()
            .collect()
    };
    let all = kinds_in(&base);
    // No caBundle (the default): no webhook configuration, which would block every pod.
    assert!(!all.iter().any(|k| k.0 == "ValidatingWebhookConfiguration"));
    assert_eq!(all.len(), 25);
    for (component, ns) in [
        ("admit", "palisade-admit"),
        ("feed", "palisade-feed"),
        ("audit", "palisade-audit"),
    ] {
        let off = kinds_in(&with(&base, &format!("/{component}/enabled"), json!(false)));
        let name = format!("palisade-{component}");
        assert!(
            !off.iter()
                .any(|k| k.1 == ns || (k.1.is_empty() && (k.2 == ns || k.2 == name))),
            "{component} disabled still renders: {off:#?}"
        );
        assert!(off.len() < all.len() && !off.is_empty(), "{component}");
    }
    let none = ["admit", "feed", "audit"]
        .iter()
        .fold(base.clone(), |v, c| {
            with(&v, &format!("/{c}/enabled"), json!(false))
        });
    assert!(kinds_in(&none).is_empty());

    // Namespaces managed elsewhere; another image; no client certificate; no Ingress.
    let mut v = with(&base, "/createNamespaces", json!(false));
    v = with(&v, "/image/tag", json!("9.9.9"));
    v = with(&v, "/audit/requireClientCert", json!(false));
    v = with(&v, "/feed/ingress/enabled", json!(false));
    v = with(&v, "/audit/namespace", json!("security"));
    let objs = objects("rendered.yaml", &manifests(&render(&v)));
    assert!(!objs.keys().any(|k| k.0 == "Namespace" || k.0 == "Ingress"));
    let audit = &objs[&(
        "Deployment".to_owned(),
        "security".to_owned(),
        "palisade-audit".to_owned(),
    )];
    let c = &audit["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "ghcr.io/palisade-dev/palisade:9.9.9");
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        !args.iter().any(|a| a.starts_with("--client-ca")),
        "{args:?}"
    );
    // The flags still parse as `audit serve` takes them.
    Command::cargo_bin("palisade")
        .unwrap()
        .args(&args)
        .arg("--help")
        .assert()
        .success();

    // NOTES.txt renders and says what is missing.
    let notes = &render(&base)["NOTES.txt"];
    assert!(
        notes.contains("No ValidatingWebhookConfiguration yet: set admit.webhook.caBundle"),
        "{notes}"
    );
}

#[test]
fn template_functions_behave_as_helms() {
    let s = |v: &str| Tmpl::String(v.to_owned());
    let n = |v: u64| Tmpl::from(v);
    assert_eq!(
        nindent(&[n(2), s("a: 1\nb: 2")]).unwrap(),
        s("\n  a: 1\n  b: 2")
    );
    assert_eq!(indent(&[n(4), s("x")]).unwrap(), s("    x"));
    assert_eq!(quote(&[s("a\"b")]).unwrap(), s("\"a\\\"b\""));
    assert_eq!(default(&[s("d"), s("")]).unwrap(), s("d"));
    assert_eq!(default(&[s("d"), s("v")]).unwrap(), s("v"));
    assert_eq!(default(&[s("d")]).unwrap(), s("d"));
    let yaml = to_yaml(&[to_tmpl(&json!({
        "limits": {"cpu": "1", "memory": "128Mi"},
        "list": [{"a": "on", "b": 2}, "x"],
        "empty": {},
        "none": []
    }))])
    .unwrap();
    let Tmpl::String(yaml) = yaml else { panic!() };
    assert_eq!(
        yaml,
        "empty: {}\nlimits:\n  cpu: \"1\"\n  memory: \"128Mi\"\nlist:\n  - a: \"on\"\n    b: 2\n  - x\nnone: []"
    );
    // And it reads back as the same value.
    let read = yaml_mapping("y.yaml", &yaml);
    assert_eq!(read["limits"]["cpu"], "1");
    assert_eq!(read["list"][0]["a"], "on");
    assert_eq!(read["list"][0]["b"], 2);
    assert_eq!(read["none"], json!([]));
}
