//! Issue 14 item 7: memory is bounded by design, not only by the node limit. Measured as the
//! growth of the peak resident set (VmHWM, Linux) of a child process — this test binary run
//! again on one input — while `load_bytes` reads it, so parallel tests cannot disturb it.
//! Inputs are made of many small pods (about 400 bytes each).

use palisade_yaml::{Limits, load_bytes};
use std::fmt::Write as _;

const CHILD_ENV: &str = "PALISADE_YAML_MEMORY_CHILD";
/// `max_nodes` for the child, when not the default.
const NODES_ENV: &str = "PALISADE_YAML_MEMORY_MAX_NODES";

/// Peak resident set of this process, in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Not a test of its own: the body of the child process spawned by [`growth`].
#[test]
fn memory_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut limits = Limits::default();
    if let Ok(n) = std::env::var(NODES_ENV) {
        limits.max_nodes = n.parse().unwrap();
    }
    let before = peak_rss().unwrap();
    let l = load_bytes(&path, &bytes, &limits);
    let after = peak_rss().unwrap();
    println!(
        "MEMORY-CHILD {} {} {}",
        after.saturating_sub(before),
        l.documents.len(),
        l.errors.len()
    );
}

/// (peak RSS growth while loading `text` as file `name`, documents, errors), or None where
/// /proc is not there.
fn growth(name: &str, text: &str) -> Option<(usize, usize, usize)> {
    growth_with(name, text, Limits::default().max_nodes)
}

fn growth_with(name: &str, text: &str, max_nodes: usize) -> Option<(usize, usize, usize)> {
    peak_rss()?;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["memory::memory_child", "--exact", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, &path)
        .env(NODES_ENV, max_nodes.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split("MEMORY-CHILD ").nth(1))
        .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
    let v: Vec<usize> = line.split(' ').map(|x| x.parse().unwrap()).collect();
    Some((v[0], v[1], v[2]))
}

fn pod_json(i: usize) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"pod-{i}","namespace":"default","labels":{{"app":"app-{m}","tier":"web"}}}},"spec":{{"hostPID":true,"containers":[{{"name":"main","image":"registry.example.com/app:{i}","args":["--port=8080","--verbose"],"ports":[{{"containerPort":8080,"protocol":"TCP"}}],"securityContext":{{"privileged":false,"runAsNonRoot":true}},"resources":{{"limits":{{"cpu":"500m","memory":"128Mi"}}}}}}]}}}}"#,
        m = i % 50
    )
}

const PODS: usize = 20_000;

fn bare_array() -> String {
    let items: Vec<String> = (0..PODS).map(pod_json).collect();
    format!("[{}]\n", items.join(","))
}

/// A bare JSON array (what `jq .items` writes) is never a Kubernetes object: it was built
/// whole before that was said (17 MB took 1.05 GB). Its items are now looked at one at a
/// time and dropped, so loading it holds next to nothing beyond the input, whatever its
/// size. As `.json` and as `.yaml` (where it is read as JSON too, not by saphyr, which
/// would hold every token of the flow collection).
#[test]
fn bare_json_array_is_not_held_in_memory() {
    let text = bare_array();
    for name in ["pods.json", "pods.yaml"] {
        let Some((grew, docs, errors)) = growth(name, &text) else {
            return;
        };
        assert_eq!((docs, errors), (0, 1), "{name}");
        assert!(
            grew < text.len() / 4,
            "{name}: peak RSS grew {grew} bytes loading {} bytes",
            text.len()
        );
    }
}

/// A YAML block sequence at the root, likewise.
#[test]
fn root_block_sequence_is_not_held_in_memory() {
    let mut text = String::new();
    for i in 0..PODS {
        writeln!(
            text,
            "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: pod-{i}, labels: {{app: a}}}}\n  \
             spec:\n    containers:\n    - name: main\n      image: registry.example.com/app:{i}\n      \
             args: [--port=8080, --verbose]"
        )
        .unwrap();
    }
    let Some((grew, docs, errors)) = growth("pods.yaml", &text) else {
        return;
    };
    assert_eq!((docs, errors), (0, 1));
    assert!(
        grew < text.len() / 4,
        "peak RSS grew {grew} bytes loading {} bytes",
        text.len()
    );
}

/// Objects that are kept (a `kind: List` of pods on one line, and as YAML) cost their
/// tree: the documented bound (docs/loader.md) is 40 times the input.
#[test]
fn kept_objects_stay_under_the_documented_multiple() {
    let items: Vec<String> = (0..PODS).map(pod_json).collect();
    let list = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        items.join(",")
    );
    let Some((grew, docs, errors)) = growth("list.json", &list) else {
        return;
    };
    assert_eq!((docs, errors), (PODS, 0));
    println!(
        "List JSON: {grew} bytes for {} ({:.1}x)",
        list.len(),
        grew as f64 / list.len() as f64
    );
    assert!(grew < 40 * list.len(), "{grew} for {}", list.len());
}

/// A document over the node limit was built up to the limit before it was refused (a 9 MB
/// YAML flow sequence of 3M entries: 450 MB; JSON alike). Large documents are now counted
/// first and refused unbuilt; a flow collection saphyr would hold whole (at the root of a
/// YAML document) is cut at an eighth of the limit. With `max_nodes` = 200,000 and 400,000
/// entries (1.2 MB, over the 1 MiB from which documents are counted first).
#[test]
fn documents_over_the_node_limit_are_refused_before_they_are_built() {
    let entries: Vec<String> = (0..400_000).map(|i| format!("a{}", i % 10)).collect();
    let flow = entries.join(",");
    let numbers = vec!["1"; 600_000].join(",");
    let cases = [
        (
            "under-a-key.yaml",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  k: [{flow}]\n"
            ),
            1,
        ),
        ("root-flow.yaml", format!("[{flow}]\n"), 12),
        (
            "list.json",
            format!(r#"{{"apiVersion":"v1","kind":"List","items":[{numbers}]}}"#),
            1,
        ),
    ];
    for (name, text, times) in cases {
        let Some((grew, docs, errors)) = growth_with(name, &text, 200_000) else {
            return;
        };
        println!("{name}: {grew} bytes for {}", text.len());
        assert_eq!((docs, errors), (0, 1), "{name}");
        assert!(
            grew < times * text.len(),
            "{name}: peak RSS grew {grew} bytes loading {} bytes",
            text.len()
        );
    }
}

/// Since a document that is a sequence is never kept, the node limit applies to each of its
/// items: a bare array of many objects says what it is and how to scan it, not that it has
/// too many nodes.
#[test]
fn node_limit_is_per_item_in_a_root_sequence() {
    let limits = Limits {
        max_nodes: 100,
        ..Limits::default()
    };
    let items: Vec<String> = (0..50).map(pod_json).collect();
    let json = format!("[{}]\n", items.join(","));
    let yaml: String = (0..50)
        .map(|i| format!("- {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}}}}}\n"))
        .collect();
    for (name, text) in [("a.json", json), ("a.yaml", yaml)] {
        let l = load_bytes(name, text.as_bytes(), &limits);
        assert_eq!(l.errors.len(), 1, "{name}: {:#?}", l.errors);
        assert_eq!(l.errors[0].kind, "not-object", "{name}: {:#?}", l.errors);
        assert!(l.errors[0].message.contains("50 items"), "{name}");
        assert!(l.errors[0].message.contains("jq"), "{name}");
    }
    // One item over the limit is still refused.
    let big = format!("[{{\"a\": [{}]}}]", vec!["1"; 200].join(","));
    let l = load_bytes("b.json", big.as_bytes(), &limits);
    assert_eq!(l.errors[0].kind, "limit", "{:#?}", l.errors);
}
