//! In-process cost of `--policy` per review: 20 policies (10 gatekeeper-library templates,
//! each with two constraints: its first sample constraint and a renamed copy), over Pod
//! CREATE reviews in namespace `default`. Times the whole decision (`Admitter::admit`: PSA +
//! policies) and the policy evaluation alone, per review, and prints p50/p99/max as JSON.
//!
//! `cargo run --release -p palisade-admit --example admit_policy_cost [-- --iterations 10000]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admit::review::parse_request;
use palisade_admit::{
    Admitter, Config, Metrics, Namespace, ObjectsState, PolicyOptions, PolicyStore,
};

const TEMPLATES: [&str; 10] = [
    "general/allowedrepos",
    "general/containerlimits",
    "general/containerrequests",
    "general/disallowedrepos",
    "general/imagedigests",
    "general/ephemeralstoragelimit",
    "pod-security-policy/privileged-containers",
    "pod-security-policy/host-namespaces",
    "pod-security-policy/allow-privilege-escalation",
    "pod-security-policy/read-only-root-filesystem",
];

// The allocator the `palisade` binary runs with (crates/palisade/src/main.rs): the engines
// allocate on every step, so glibc's malloc would measure a different program.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn library() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/gatekeeper-library/library"
    ))
}

/// Writes each template and two constraints of it into `dir`.
fn write_policies(dir: &std::path::Path) -> Result<(), String> {
    for (i, t) in TEMPLATES.iter().enumerate() {
        let src = library().join(t);
        let read =
            |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
        std::fs::write(
            dir.join(format!("{i}-template.yaml")),
            read(src.join("template.yaml"))?,
        )
        .map_err(|e| e.to_string())?;
        let mut samples: Vec<PathBuf> = std::fs::read_dir(src.join("samples"))
            .map_err(|e| format!("{t}: {e}"))?
            .flatten()
            .map(|e| e.path().join("constraint.yaml"))
            .filter(|p| p.is_file())
            .collect();
        samples.sort();
        let first = samples
            .first()
            .ok_or_else(|| format!("{t}: no sample constraint"))?;
        let c = read(first.clone())?;
        let copy = c.replacen("\n  name: ", "\n  name: copy-", 1);
        if copy == c {
            return Err(format!("{}: no metadata.name to rename", first.display()));
        }
        std::fs::write(
            dir.join(format!("{i}-constraint.yaml")),
            format!("{c}\n---\n{copy}"),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn pod_review(i: u32) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": format!("u{i}"), "operation": "CREATE", "namespace": "default", "name": format!("web-{i}"),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("web-{i}"), "namespace": "default", "labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": if i.is_multiple_of(2) { "openpolicyagent/opa:0.60.0" } else { "nginx:1.25" },
                         "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
                         "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true}},
                        {"name": "sidecar", "image": "envoyproxy/envoy:v1.29.0",
                         "resources": {"limits": {"cpu": "200m", "memory": "128Mi"}}}
                    ]
                }
            }
        }
    }))
    .unwrap_or_default()
}

fn percentile(sorted: &[Duration], p: f64) -> u128 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0, Duration::as_nanos)
}

fn run() -> Result<String, String> {
    let mut iterations = 10_000u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--iterations", Some(v)) => {
                iterations = v.parse().map_err(|e| format!("--iterations: {e}"))?
            }
            _ => return Err(format!("unknown argument {a} (--iterations N)")),
        }
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    write_policies(dir.path())?;
    // A budget far above any review: this measures, it does not cut off (the default 100 ms
    // overruns are counted below instead).
    let mut opts = PolicyOptions::new(vec![dir.path().to_owned()]);
    opts.timeout = Duration::from_secs(10);
    let store = Arc::new(PolicyStore::load(opts).map_err(|e| e.to_string())?);
    let policies = store.policy_count();
    let state = ObjectsState::from_parts(
        vec![Namespace {
            name: "default".into(),
            labels: Default::default(),
        }],
        Vec::new(),
    );
    let metrics = Arc::new(Metrics::new());
    let admitter = Admitter::new(Config::default(), Arc::new(state), metrics.clone())
        .with_policies(store.clone());
    let requests = (0..16)
        .map(|i| parse_request(&pod_review(i)).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut denied = 0u32;
    // Warm-up: engines' first evaluation converts and caches.
    for r in &requests {
        let _ = admitter.admit(r, Instant::now() + Duration::from_secs(10));
    }
    let mut whole = Vec::with_capacity(iterations as usize);
    let mut policy_only = Vec::with_capacity(iterations as usize);
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}});
    let quiet = Metrics::new();
    for i in 0..iterations {
        let r = requests
            .get(i as usize % requests.len())
            .ok_or("no request")?;
        let t = Instant::now();
        let resp = admitter.admit(r, t + Duration::from_secs(10));
        whole.push(t.elapsed());
        if !resp.allowed {
            denied += 1;
        }
        let t = Instant::now();
        let out = store.evaluate(r, Some(&ns), &quiet);
        policy_only.push(t.elapsed());
        if !out.errors.is_empty() {
            return Err(format!("policy errors: {:?}", out.errors));
        }
    }
    whole.sort();
    policy_only.sort();
    // Where the time goes: mean cost of each constraint alone (Gatekeeper's engine choice).
    let (set, _) = palisade_policy::PolicySet::load(&[dir.path()]);
    let request =
        serde_json::to_value(requests.first().ok_or("no request")?).map_err(|e| e.to_string())?;
    let inventory = palisade_policy::Inventory::default();
    let mut each = serde_json::Map::new();
    for c in set
        .constraints()
        .iter()
        .filter(|c| !c.name.starts_with("copy-"))
    {
        let t = Instant::now();
        for _ in 0..500 {
            let review = palisade_policy::Review::new(request.clone(), Some(ns.clone()));
            set.review(c, &review, &inventory, None)
                .map_err(|e| e.to_string())?;
        }
        each.insert(c.id(), serde_json::json!(t.elapsed().as_nanos() / 500));
    }
    Ok(serde_json::json!({
        "policies": policies,
        "reviews": iterations,
        "denied": denied,
        "over_100ms": whole.iter().filter(|d| **d > Duration::from_millis(100)).count(),
        "admit_ns": {"p50": percentile(&whole, 0.5), "p99": percentile(&whole, 0.99), "max": percentile(&whole, 1.0)},
        "per_constraint_mean_ns": each,
        "policies_only_ns": {"p50": percentile(&policy_only, 0.5), "p99": percentile(&policy_only, 0.99), "max": percentile(&policy_only, 1.0)},
    })
    .to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("admit_policy_cost: {e}");
            ExitCode::from(2)
        }
    }
}
