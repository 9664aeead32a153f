//! Throughput benchmark of the audit pipeline; `scripts/bench-audit.sh` drives it.
//!
//! - `audit_bench gen N OUT [real|traces]`: writes a JSON Lines log of N events.
//!   - `traces`: the saved Falco traces and real audit logs under `testdata/audit/`,
//!     replicated. Every copy gets a fresh `auditID` and shifted timestamps, every seventh a
//!     varied user name, every fifth a varied namespace and object name, so no two lines are
//!     equal. Nearly all of Falco's traces are attacks, so ~83% of these events alert: a
//!     worst case, not a real log.
//!   - `real` (default): the shape of a real cluster's log. 95% is the background traffic
//!     of control-plane components and nodes (lease renewals, get/list/watch by the
//!     controller manager, scheduler, kubelets, kube-proxy, CoreDNS, node status patches),
//!     written in the field layout of the saved `audit2rbac` log (`audit.k8s.io/v1`) at the
//!     levels Falco's recommended audit policy gives them; 5% is the `traces` stream above
//!     (the security-relevant writes). The mix is in `BACKGROUND` and docs/audit.md.
//! - `audit_bench stages LOG`: times each stage over LOG on one thread (read + decode only;
//!   decode + all default rules, no rendering; the whole pipeline with alerts serialised to
//!   JSON as `palisade audit --format json` does), for profiling. `ONLY=decode|rules|full`
//!   runs one stage (for `perf record`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::{Engine, EventReader, ReadItem, RuleSet};
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", n, out] | ["gen", n, out, "real"] => {
            generate(n.parse().expect("N must be a number"), out, Mix::Real)
        }
        ["gen", n, out, "traces"] => {
            generate(n.parse().expect("N must be a number"), out, Mix::Traces)
        }
        ["stages", log] => stages(log),
        _ => {
            eprintln!("usage: audit_bench gen N OUT [real|traces] | audit_bench stages LOG");
            std::process::exit(2);
        }
    }
}

fn seeds() -> Vec<Value> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/audit");
    let mut seeds = Vec::new();
    for dir in [
        "falco-k8s-audit-traces",
        "audit2rbac-demo",
        "rbac-tool-auditgen",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json" || e == "log"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines() {
                if let Ok(evs) = palisade_audit::decode_events(line) {
                    seeds.extend(evs.iter().map(palisade_audit::Event::to_value));
                }
            }
        }
    }
    assert!(!seeds.is_empty(), "no seed events under {root}");
    seeds
}

/// Shifts the seconds field of an RFC 3339 timestamp by `by` seconds (mod 60).
fn shift_time(v: &mut Value, by: usize) {
    if let Some(s) = v.as_str()
        && s.len() >= 19
        && let Ok(sec) = s[17..19].parse::<usize>()
    {
        *v = Value::String(format!("{}{:02}{}", &s[..17], (sec + by) % 60, &s[19..]));
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mix {
    Real,
    Traces,
}

/// One copy of seed `i % seeds.len()`, varied as described in the module docs.
fn seed_copy(seeds: &[Value], i: usize) -> Value {
    let mut ev = seeds[i % seeds.len()].clone();
    ev["auditID"] = Value::String(format!("bench-{i:08}"));
    for k in ["requestReceivedTimestamp", "stageTimestamp", "timestamp"] {
        if let Some(t) = ev.get_mut(k) {
            shift_time(t, i / seeds.len());
        }
    }
    if i.is_multiple_of(7)
        && let Some(u) = ev.pointer_mut("/user/username")
        && let Some(s) = u.as_str()
    {
        *u = Value::String(format!("{s}-{}", i % 100));
    }
    if i.is_multiple_of(5)
        && let Some(o) = ev.get_mut("objectRef").and_then(Value::as_object_mut)
    {
        for k in ["namespace", "name"] {
            if let Some(Value::String(s)) = o.get_mut(k) {
                s.push_str(&format!("-{}", i % 50));
            }
        }
    }
    ev
}

/// Who sends background traffic: user name, groups, user agent.
const KCM: Who = (
    "system:kube-controller-manager",
    &["system:authenticated"],
    "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/leader-election",
);
const SCHED: Who = (
    "system:kube-scheduler",
    &["system:authenticated"],
    "kube-scheduler/v1.30.2 (linux/amd64) kubernetes/3968350/scheduler",
);
const PROXY: Who = (
    "system:serviceaccount:kube-system:kube-proxy",
    &[
        "system:serviceaccounts",
        "system:serviceaccounts:kube-system",
        "system:authenticated",
    ],
    "kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350",
);
const DNS: Who = (
    "system:serviceaccount:kube-system:coredns",
    &[
        "system:serviceaccounts",
        "system:serviceaccounts:kube-system",
        "system:authenticated",
    ],
    "coredns/v1.11.1 (linux/amd64) kubernetes/3968350",
);
const ADMIN: Who = (
    "kubernetes-admin",
    &["kubeadm:cluster-admins", "system:authenticated"],
    "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
);

/// The background mix per 1000 events (the other 50 are seed copies): weight, kind.
const BACKGROUND: &[(usize, Bg)] = &[
    (300, Bg::LeaseUpdate),
    (150, Bg::LeaseGet),
    (150, Bg::Watch),
    (80, Bg::List),
    (100, Bg::ControllerGet),
    (60, Bg::KubeletWatchVolumeSource),
    (5, Bg::KubeletTokenRequest),
    (40, Bg::KubeletGetPod),
    (40, Bg::NodeStatusPatch),
    (20, Bg::PodStatusPatch),
    (5, Bg::AdminRead),
];
const SEED_PER_MILLE: usize = 50;

#[derive(Clone, Copy)]
enum Bg {
    LeaseUpdate,
    LeaseGet,
    Watch,
    List,
    ControllerGet,
    KubeletWatchVolumeSource,
    KubeletTokenRequest,
    KubeletGetPod,
    NodeStatusPatch,
    PodStatusPatch,
    AdminRead,
}

const NODES: usize = 20;
/// Resources listed and watched by the control plane: (resource, API group, namespaced).
const WATCHED: &[(&str, &str, bool)] = &[
    ("pods", "", true),
    ("nodes", "", false),
    ("services", "", true),
    ("endpointslices", "discovery.k8s.io", true),
    ("configmaps", "", true),
    ("secrets", "", true),
    ("namespaces", "", false),
    ("deployments", "apps", true),
    ("replicasets", "apps", true),
    ("serviceaccounts", "", true),
    ("persistentvolumeclaims", "", true),
    ("jobs", "batch", true),
];
const NAMESPACES: &[&str] = &[
    "kube-system",
    "default",
    "monitoring",
    "shop",
    "ingress-nginx",
];

/// Small deterministic generator (splitmix64): the same log for the same N.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as usize
    }
    fn one_in(&mut self, k: usize) -> bool {
        self.next().is_multiple_of(k)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.next() % xs.len()]
    }
}

/// Everything a background event varies.
struct Req<'a> {
    who: (String, Vec<&'a str>, &'a str),
    source_ip: String,
    verb: &'a str,
    resource: &'a str,
    group: &'a str,
    namespace: Option<&'a str>,
    name: Option<String>,
    subresource: Option<&'a str>,
    query: &'a str,
    level: &'a str,
    stage: &'a str,
    code: u16,
    reason: String,
    request: Option<Value>,
    response: Option<Value>,
}

type Who = (&'static str, &'static [&'static str], &'static str);

fn owned(w: Who) -> (String, Vec<&'static str>, &'static str) {
    (w.0.to_string(), w.1.to_vec(), w.2)
}

/// A background event in the field layout of the saved audit2rbac log (audit.k8s.io/v1).
fn background_event(template: &Value, r: &Req<'_>, i: usize, t_us: u64) -> Value {
    let mut ev = template.clone();
    let group_version = if r.group.is_empty() {
        "api/v1".to_string()
    } else {
        format!("apis/{}/v1", r.group)
    };
    let mut uri = format!("/{group_version}");
    if let Some(ns) = r.namespace {
        uri.push_str(&format!("/namespaces/{ns}"));
    }
    uri.push_str(&format!("/{}", r.resource));
    if let Some(n) = &r.name {
        uri.push_str(&format!("/{n}"));
    }
    if let Some(s) = r.subresource {
        uri.push_str(&format!("/{s}"));
    }
    uri.push_str(r.query);
    let mut object_ref = serde_json::json!({"resource": r.resource, "apiVersion": "v1"});
    if !r.group.is_empty() {
        object_ref["apiGroup"] = Value::from(r.group);
    }
    if let Some(ns) = r.namespace {
        object_ref["namespace"] = Value::from(ns);
    }
    if let Some(n) = &r.name {
        object_ref["name"] = Value::from(n.as_str());
    }
    if let Some(s) = r.subresource {
        object_ref["subresource"] = Value::from(s);
    }
    let (sec, us) = (t_us / 1_000_000, t_us % 1_000_000);
    let ts = |extra_us: u64| {
        let (s, u) = (
            sec + (us + extra_us) / 1_000_000,
            (us + extra_us) % 1_000_000,
        );
        format!(
            "2026-11-30T{:02}:{:02}:{:02}.{u:06}Z",
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60
        )
    };
    let o = ev.as_object_mut().unwrap();
    o.remove("impersonatedUser");
    o.remove("timestamp");
    o.remove("metadata");
    o.insert("auditID".into(), Value::String(format!("bench-{i:08}")));
    o.insert("level".into(), Value::from(r.level));
    o.insert("stage".into(), Value::from(r.stage));
    o.insert("verb".into(), Value::from(r.verb));
    o.insert("requestURI".into(), Value::String(uri));
    o.insert(
        "user".into(),
        serde_json::json!({"username": r.who.0, "groups": r.who.1}),
    );
    o.insert("sourceIPs".into(), serde_json::json!([r.source_ip]));
    o.insert("userAgent".into(), Value::from(r.who.2));
    o.insert("objectRef".into(), object_ref);
    o.insert(
        "responseStatus".into(),
        serde_json::json!({"metadata": {}, "code": r.code}),
    );
    if let Some(b) = &r.request {
        o.insert("requestObject".into(), b.clone());
    }
    if let Some(b) = &r.response {
        o.insert("responseObject".into(), b.clone());
    }
    o.insert("requestReceivedTimestamp".into(), Value::String(ts(0)));
    o.insert("stageTimestamp".into(), Value::String(ts(1_800)));
    o.insert(
        "annotations".into(),
        serde_json::json!({"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": r.reason}),
    );
    ev
}

fn background(kind: Bg, rng: &mut Rng, pod: &Value) -> Req<'static> {
    let node = rng.next() % NODES;
    let kubelet = (
        format!("system:node:node-{node:02}"),
        vec!["system:nodes", "system:authenticated"],
        "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350",
    );
    let node_ip = format!("10.0.0.{}", 10 + node);
    let rbac = |role: &str| {
        format!(
            "RBAC: allowed by ClusterRoleBinding \"{role}\" of ClusterRole \"{role}\" to User \"{role}\""
        )
    };
    let mut r = Req {
        who: owned(KCM),
        source_ip: "10.0.0.2".into(),
        verb: "get",
        resource: "leases",
        group: "",
        namespace: None,
        name: None,
        subresource: None,
        query: "",
        level: "Metadata",
        stage: "ResponseComplete",
        code: 200,
        reason: String::new(),
        request: None,
        response: None,
    };
    match kind {
        Bg::LeaseUpdate | Bg::LeaseGet => {
            r.verb = if matches!(kind, Bg::LeaseUpdate) {
                "update"
            } else {
                "get"
            };
            r.resource = "leases";
            r.group = "coordination.k8s.io";
            // Node heartbeats outnumber leader election 4 to 1.
            if rng.one_in(5) {
                let w = rng.pick(&[KCM, SCHED]);
                r.name = Some(w.0.trim_start_matches("system:").to_string());
                r.who = owned(w);
                r.namespace = Some("kube-system");
                r.reason = rbac(&r.who.0);
            } else {
                r.name = Some(format!("node-{node:02}"));
                r.namespace = Some("kube-node-lease");
                r.who = kubelet;
                r.source_ip = node_ip;
            }
        }
        Bg::Watch | Bg::List => {
            let (res, group, namespaced) = rng.pick(WATCHED);
            r.who = owned(match res {
                "services" | "endpointslices" if rng.one_in(2) => PROXY,
                "services" | "endpointslices" | "namespaces" => DNS,
                "pods" | "nodes" if rng.one_in(2) => SCHED,
                _ => KCM,
            });
            r.reason = rbac(&r.who.0);
            r.resource = res;
            r.group = group;
            if namespaced && rng.one_in(4) {
                r.namespace = Some(rng.pick(NAMESPACES));
            }
            if matches!(kind, Bg::Watch) {
                r.verb = "watch";
                r.query = "?allowWatchBookmarks=true&resourceVersion=4811&timeout=7m31s&timeoutSeconds=451&watch=true";
                // A watch logs ResponseStarted when it opens and ResponseComplete when it ends.
                if rng.one_in(2) {
                    r.stage = "ResponseStarted";
                }
            } else {
                r.verb = "list";
                r.query = "?limit=500&resourceVersion=0";
            }
        }
        Bg::ControllerGet => {
            // Controllers read secrets through their informers (list/watch), not by get.
            let gettable: Vec<_> = WATCHED
                .iter()
                .copied()
                .filter(|w| w.0 != "secrets")
                .collect();
            let (res, group, namespaced) = rng.pick(&gettable);
            let sa = rng.pick(&[
                "replicaset-controller",
                "deployment-controller",
                "endpointslice-controller",
                "namespace-controller",
                "job-controller",
                "generic-garbage-collector",
            ]);
            r.who = (
                format!("system:serviceaccount:kube-system:{sa}"),
                vec![
                    "system:serviceaccounts",
                    "system:serviceaccounts:kube-system",
                    "system:authenticated",
                ],
                "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:controller",
            );
            r.reason = format!(
                "RBAC: allowed by ClusterRoleBinding \"system:controller:{sa}\" of ClusterRole \"system:controller:{sa}\" to ServiceAccount \"{sa}/kube-system\""
            );
            r.resource = res;
            r.group = group;
            if namespaced {
                r.namespace = Some(rng.pick(NAMESPACES));
            }
            r.name = Some(format!(
                "{}-{:x}",
                res.trim_end_matches('s'),
                rng.next() % 4096
            ));
            if rng.one_in(10) {
                r.code = 404;
            }
        }
        Bg::KubeletWatchVolumeSource => {
            // The kubelet reads the secrets and configmaps its pods mount one by one, with
            // a list + watch on a name field selector (the node authorizer allows no more).
            r.who = kubelet;
            r.source_ip = node_ip;
            r.resource = rng.pick(&["configmaps", "secrets"]);
            r.namespace = Some(rng.pick(NAMESPACES));
            if rng.one_in(2) {
                r.verb = "list";
                r.query = "?fieldSelector=metadata.name%3Dapp-config&limit=500&resourceVersion=0";
            } else {
                r.verb = "watch";
                r.query = "?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dapp-config&resourceVersion=4811&timeout=9m24s&timeoutSeconds=564&watch=true";
                if rng.one_in(2) {
                    r.stage = "ResponseStarted";
                }
            }
        }
        Bg::KubeletTokenRequest => {
            // Projected service account tokens, refreshed about hourly per pod.
            r.who = kubelet;
            r.source_ip = node_ip;
            r.verb = "create";
            r.resource = "serviceaccounts";
            r.subresource = Some("token");
            r.namespace = Some(rng.pick(NAMESPACES));
            r.name = Some("default".into());
            r.code = 201;
            r.level = "Request";
        }
        Bg::KubeletGetPod => {
            // Falco's recommended policy logs pods at RequestResponse: the pod comes back.
            r.who = kubelet;
            r.source_ip = node_ip;
            r.resource = "pods";
            r.namespace = Some("default");
            r.name = pod
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string);
            r.level = "RequestResponse";
            r.response = Some(pod.clone());
        }
        Bg::NodeStatusPatch => {
            r.who = kubelet;
            r.source_ip = node_ip;
            r.verb = "patch";
            r.resource = "nodes";
            r.name = Some(format!("node-{node:02}"));
            r.subresource = Some("status");
            r.level = "Request";
            r.request = Some(serde_json::json!({"status": {"conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": "2026-11-30T12:00:00Z"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": "2026-11-30T12:00:00Z"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": "2026-11-30T12:00:00Z"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": "2026-11-30T12:00:00Z"}
            ]}}));
        }
        Bg::PodStatusPatch => {
            r.who = kubelet;
            r.source_ip = node_ip;
            r.verb = "patch";
            r.resource = "pods";
            r.namespace = Some(rng.pick(NAMESPACES));
            r.name = Some(format!("app-{:x}", rng.next() % 4096));
            r.subresource = Some("status");
        }
        Bg::AdminRead => {
            r.who = owned(ADMIN);
            r.source_ip = "192.168.1.20".into();
            r.reason = "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\"".into();
            r.verb = rng.pick(&["get", "list"]);
            r.resource = "deployments";
            r.group = "apps";
            r.namespace = Some(rng.pick(NAMESPACES));
            if r.verb == "get" {
                r.name = Some("web".into());
            }
        }
    }
    r
}

fn generate(n: usize, out: &str, mix: Mix) {
    let seeds = seeds();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out).unwrap());
    let mut bytes = 0usize;
    // The audit2rbac log's first event is the field layout of background events; the
    // unprivileged nginx pod of Falco's traces is the pod the kubelets read.
    let template = seeds
        .iter()
        .find(|e| e["auditID"] == "033d17af-082d-4b24-aa22-627752e83d71")
        .expect("audit2rbac template event")
        .clone();
    let pod = seeds
        .iter()
        .find(|e| e["auditID"] == "7c8b2603-6a87-4764-b166-49dd7fa46f4c")
        .and_then(|e| e.get("responseObject"))
        .expect("nginx pod trace")
        .clone();
    assert_eq!(
        BACKGROUND.iter().map(|b| b.0).sum::<usize>() + SEED_PER_MILLE,
        1000
    );
    let mut rng = Rng(0x5eed);
    let mut seed_i = 0;
    let mut counts = [0usize; 2];
    for i in 0..n {
        let ev = match mix {
            Mix::Traces => seed_copy(&seeds, i),
            Mix::Real => {
                let mut roll = rng.next() % 1000;
                let kind = BACKGROUND.iter().find_map(|&(wt, k)| {
                    if roll < wt {
                        Some(k)
                    } else {
                        roll -= wt;
                        None
                    }
                });
                match kind {
                    Some(k) => {
                        counts[0] += 1;
                        let r = background(k, &mut rng, &pod);
                        background_event(&template, &r, i, 43_200_000_000 + i as u64 * 250)
                    }
                    None => {
                        counts[1] += 1;
                        seed_i += 1;
                        seed_copy(&seeds, seed_i - 1)
                    }
                }
            }
        };
        let line = serde_json::to_vec(&ev).unwrap();
        bytes += line.len() + 1;
        w.write_all(&line).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    eprintln!(
        "wrote {n} events ({:.1} MB, {} seed events; {} background, {} seed copies) to {out}",
        bytes as f64 / 1e6,
        seeds.len(),
        counts[0],
        counts[1]
    );
}

fn stages(log: &str) {
    let data = std::fs::read(log).unwrap();
    let mb = data.len() as f64 / 1e6;
    let engine = Engine::new(RuleSet::builtin().unwrap());
    // CPU time of this thread as well as wall time: on a shared machine the wall time
    // also counts time spent waiting for the core.
    let cpu = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |ns| ns / 1e9)
    };
    let mut cpu0 = cpu();
    let mut report = |what: &str, events: u64, start: Instant, extra: String| {
        let s = start.elapsed().as_secs_f64();
        let c = cpu() - cpu0;
        println!(
            "{what:<30} {events} events: wall {s:.2} s = {:>7.0} events/s, {:>6.1} MB/s; cpu {c:.2} s = {:>7.0} events/s{extra}",
            events as f64 / s,
            mb / s,
            events as f64 / c
        );
        cpu0 = cpu();
    };
    // ONLY=decode|rules|full runs one stage (for `perf stat`).
    let only = std::env::var("ONLY").unwrap_or_default();
    let run = |s: &str| only.is_empty() || only == s;
    let start = Instant::now();
    let mut n = 0u64;
    for item in EventReader::new(data.as_slice(), "bench") {
        if let ReadItem::Event(_) = item {
            n += 1;
        }
        if !run("decode") && n >= 1 {
            n = data.iter().filter(|&&b| b == b'\n').count() as u64;
            break;
        }
    }
    report("read + decode", n, start, String::new());
    if run("rules") {
        let start = Instant::now();
        let mut matches = 0usize;
        for item in EventReader::new(data.as_slice(), "bench") {
            if let ReadItem::Event(ev) = item {
                matches += engine.matching(&ev.event).count();
            }
        }
        report(
            "read + decode + rules",
            n,
            start,
            format!(", {matches} matches"),
        );
    }

    if !run("full") {
        return;
    }
    let start = Instant::now();
    let mut sink = std::io::sink();
    let mut line = Vec::new();
    let mut alerts = 0u64;
    let stats = engine.scan(
        data.as_slice(),
        "bench",
        palisade_audit::input::DEFAULT_MAX_LINE_BYTES,
        |a| {
            alerts += 1;
            line.clear();
            a.write_json_line(&mut line);
            sink.write_all(&line).unwrap();
        },
        |_| {},
    );
    report(
        "full pipeline (JSON alerts)",
        stats.events,
        start,
        format!(", {alerts} alerts, {} bad lines", stats.bad_lines),
    );
}
