//! Unit tests: each check's messages against PSA's own unit-test tables (re-stated, not
//! copied), versions, overrides, ordering and label parsing.

use super::*;
use serde_json::json;

fn policy(level: Level, v: &str) -> Policy {
    Policy {
        level,
        version: v.parse().unwrap(),
    }
}

fn eval(p: &Policy, pod: &Value) -> Vec<Violation> {
    let meta = pod.get("metadata").unwrap_or(&NULL);
    let spec = pod.get("spec").unwrap_or(&NULL);
    evaluate(p, meta, spec)
}

fn only(p: &Policy, pod: Value, check: &str) -> Option<Violation> {
    eval(p, &pod).into_iter().find(|v| v.check_id == check)
}

fn msg(p: &Policy, pod: Value, check: &str) -> Option<String> {
    only(p, pod, check).map(|v| v.message())
}

fn b(v: &str) -> Policy {
    policy(Level::Baseline, v)
}

fn r(v: &str) -> Policy {
    policy(Level::Restricted, v)
}

#[test]
fn level_and_version_parsing() {
    assert_eq!("baseline".parse::<Level>().unwrap(), Level::Baseline);
    assert!("Baseline".parse::<Level>().is_err());
    assert_eq!("latest".parse::<Version>().unwrap(), Version::Latest);
    assert_eq!("v1.0".parse::<Version>().unwrap(), Version::V1(0));
    assert_eq!("v1.25".parse::<Version>().unwrap(), Version::V1(25));
    for bad in [
        "1.25", "v1.025", "v2.0", "v1.", "v1.2x", "Latest", "v1.-1", "",
    ] {
        assert!(bad.parse::<Version>().is_err(), "{bad}");
    }
    assert_eq!(
        "v1.99999999999".parse::<Version>().unwrap(),
        Version::V1(u32::MAX)
    );
    assert_eq!(r("v1.30").to_string(), "restricted:v1.30");
    assert_eq!(Policy::default().to_string(), "restricted:latest");
    let err = "foo".parse::<Level>().unwrap_err().to_string();
    assert!(err.contains("must be one of privileged, baseline, restricted"));
    let err = "1.2".parse::<Version>().unwrap_err().to_string();
    assert!(err.contains("must be \"latest\" or \"v1.x\""));
}

#[test]
fn version_clamp() {
    assert_eq!(Version::Latest.effective_minor(NEWEST_VERSION), 37);
    assert_eq!(Version::V1(99).effective_minor(NEWEST_VERSION), 37);
    assert_eq!(Version::V1(20).effective_minor(NEWEST_VERSION), 20);
    assert_eq!(Version::Latest.effective_minor(35), 35);
}

#[test]
fn nginx_pod_at_restricted_latest() {
    let pod = json!({"metadata": {"name": "nginx"}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}});
    let v = eval(&r("latest"), &pod);
    assert_eq!(
        aggregate(&v),
        "allowPrivilegeEscalation != false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"nginx\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"nginx\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    assert_eq!(
        v[0].fields[0].to_string(),
        "spec.containers[0].securityContext.allowPrivilegeEscalation"
    );
    assert!(eval(&b("latest"), &pod).is_empty());
    assert!(eval(&policy(Level::Privileged, "latest"), &pod).is_empty());
    // Before v1.8 only runAsNonRoot applies.
    assert_eq!(
        aggregate(&eval(&r("v1.7"), &pod)),
        "runAsNonRoot != true (pod or container \"nginx\" must set securityContext.runAsNonRoot=true)"
    );
}

#[test]
fn aggregate_formats_empty_detail_and_reason() {
    let v = |reason: &str, detail: &str| Violation {
        check_id: "x",
        reason: reason.into(),
        detail: detail.into(),
        fields: vec![],
    };
    assert_eq!(
        aggregate(&[v("a", ""), v("", "d"), v("c", "e")]),
        "a, unknown forbidden reason (d), c (e)"
    );
    assert_eq!(aggregate(&[]), "");
}

#[test]
fn check_order_is_psa_order() {
    let ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
    let mut baseline: Vec<&str> = CHECKS
        .iter()
        .filter(|c| c.level == Level::Baseline)
        .map(|c| c.id)
        .collect();
    let mut restricted: Vec<&str> = CHECKS
        .iter()
        .filter(|c| c.level == Level::Restricted)
        .map(|c| c.id)
        .collect();
    baseline.sort_unstable();
    restricted.sort_unstable();
    baseline.extend(restricted);
    assert_eq!(ids, baseline);
    // Overrides point at the right baseline checks.
    let ov = |id: &str| {
        CHECKS
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.overrides)
            .map(|o| CHECKS[o].id)
    };
    assert_eq!(ov("restrictedVolumes"), Some("hostPathVolumes"));
    assert_eq!(
        ov("seccompProfile_restricted"),
        Some("seccompProfile_baseline")
    );
    assert_eq!(ov("capabilities_restricted"), Some("capabilities_baseline"));
    assert_eq!(ov("procMount_restricted"), Some("procMount"));
}

#[test]
fn active_check_counts_by_version() {
    let count = |p: Policy| active_checks(&p, NEWEST_VERSION).count();
    assert_eq!(count(b("v1.0")), 11);
    assert_eq!(count(b("v1.34")), 12);
    assert_eq!(count(b("latest")), 12);
    // restricted v1.0: 10 baseline (hostPath overridden) + restrictedVolumes + runAsNonRoot.
    assert_eq!(count(r("v1.0")), 12);
    assert_eq!(count(r("v1.8")), 13);
    // v1.19: seccomp_restricted replaces seccomp_baseline.
    assert_eq!(count(r("v1.19")), 13);
    assert_eq!(count(r("v1.22")), 13);
    assert_eq!(count(r("v1.23")), 14);
    assert_eq!(count(r("v1.34")), 15);
    assert_eq!(count(r("v1.35")), 15);
    assert_eq!(count(policy(Level::Privileged, "latest")), 0);
}

#[test]
fn host_process_messages() {
    let pod = json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}}, "containers": [
        {"name": "a"},
        {"name": "e", "securityContext": {"windowsOptions": {"hostProcess": true}}},
        {"name": "f", "securityContext": {"windowsOptions": {"hostProcess": true}}},
    ]}});
    assert_eq!(
        msg(&b("latest"), pod, "windowsHostProcess").unwrap(),
        "hostProcess (pod and containers \"e\", \"f\" must not set securityContext.windowsOptions.hostProcess=true)"
    );
}

#[test]
fn host_namespaces_fixed_order() {
    let pod = json!({"spec": {"hostIPC": true, "hostPID": true, "hostNetwork": true}});
    let v = only(&b("latest"), pod, "hostNamespaces").unwrap();
    assert_eq!(
        v.message(),
        "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)"
    );
    assert_eq!(v.fields[0].to_string(), "spec.hostNetwork");
}

#[test]
fn capabilities_baseline_sorted_and_deduped() {
    let pod = json!({"spec": {"containers": [
        {"name": "a", "securityContext": {"capabilities": {"add": ["CHOWN"]}}},
        {"name": "b", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW"]}}},
        {"name": "c", "securityContext": {"capabilities": {"add": ["NET_RAW", "cap_chown"]}}},
    ]}});
    let v = only(&b("latest"), pod, "capabilities_baseline").unwrap();
    assert_eq!(
        v.message(),
        "non-default capabilities (containers \"b\", \"c\" must not include \"NET_RAW\", \"SYS_ADMIN\", \"cap_chown\" in securityContext.capabilities.add)"
    );
    assert_eq!(
        v.fields[0].to_string(),
        "spec.containers[1].securityContext.capabilities.add[0]"
    );
}

#[test]
fn host_path_and_restricted_volumes() {
    let pod = json!({"spec": {"volumes": [
        {"name": "a", "emptyDir": {}},
        {"name": "b1", "hostPath": {"path": "/"}},
        {"name": "c1", "nfs": {"server": "x", "path": "/"}},
        {"name": "d", "image": {"reference": "x"}},
        {"name": "e"},
        {"name": "f", "unknownSource": {}},
        {"name": "g", "cephfs": {"monitors": []}},
        {"name": "h", "photonPersistentDisk": {"pdID": "x"}},
    ]}});
    assert_eq!(
        msg(&b("latest"), pod.clone(), "hostPathVolumes").unwrap(),
        "hostPath volumes (volume \"b1\")"
    );
    let v = eval(&r("latest"), &pod);
    assert!(
        v.iter().all(|v| v.check_id != "hostPathVolumes"),
        "overridden"
    );
    let rv = v
        .iter()
        .find(|v| v.check_id == "restrictedVolumes")
        .unwrap();
    assert_eq!(
        rv.message(),
        "restricted volume types (volumes \"b1\", \"c1\", \"g\", \"h\" use restricted volume types \"cephfs\", \"hostPath\", \"nfs\", \"photonPersistentDisk\")"
    );
    assert_eq!(rv.fields[0].to_string(), "spec.volumes[1].hostPath");
    let one = json!({"spec": {"volumes": [{"name": "x", "gitRepo": {"repository": "r"}}]}});
    assert_eq!(
        msg(&r("v1.0"), one, "restrictedVolumes").unwrap(),
        "restricted volume types (volume \"x\" uses restricted volume type \"gitRepo\")"
    );
}

#[test]
fn host_ports_sorted_as_strings() {
    let pod = json!({"spec": {"containers": [
        {"name": "a", "ports": [{"hostPort": 0}]},
        {"name": "b", "ports": [{"hostPort": 0}, {"hostPort": 10}, {"hostPort": 20}]},
        {"name": "c", "ports": [{"hostPort": 0}, {"hostPort": 10}, {"hostPort": 30}, {"hostPort": 9}, {"hostPort": 8080}]},
    ]}});
    assert_eq!(
        msg(&b("latest"), pod, "hostPorts").unwrap(),
        "hostPort (containers \"b\", \"c\" use hostPorts 10, 20, 30, 8080, 9)"
    );
    let one = json!({"spec": {"containers": [{"name": "a", "ports": [{"hostPort": 20}]}]}});
    assert_eq!(
        msg(&b("latest"), one, "hostPorts").unwrap(),
        "hostPort (container \"a\" uses hostPort 20)"
    );
}

#[test]
fn host_network_port_defaulting_for_pods_only() {
    let pod = json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "ports": [{"containerPort": 80}]}]}});
    let meta = &NULL;
    let spec = &pod["spec"];
    let as_pod = evaluate(&b("latest"), meta, spec);
    assert_eq!(
        aggregate(&as_pod),
        "host namespaces (hostNetwork=true), hostPort (container \"a\" uses hostPort 80)"
    );
    let opts = EvalOptions {
        default_host_network_ports: false,
        ..EvalOptions::default()
    };
    let as_template = evaluate_with(&b("latest"), meta, spec, &opts);
    assert_eq!(
        aggregate(&as_template),
        "host namespaces (hostNetwork=true)"
    );
}

#[test]
fn probe_hosts_v1_34() {
    let pod = json!({"spec": {"containers": [
        {"name": "b", "livenessProbe": {"httpGet": {"host": "localhost"}}, "lifecycle": {"preStop": {"tcpSocket": {"host": "::1"}}}},
        {"name": "a", "readinessProbe": {"tcpSocket": {"host": "127.0.0.1"}}, "startupProbe": {"httpGet": {"host": ""}}},
        {"name": "a", "lifecycle": {"postStart": {"httpGet": {"host": "localhost"}}}},
    ]}});
    assert_eq!(
        msg(&b("v1.34"), pod.clone(), "hostProbesAndHostLifecycle").unwrap(),
        "probe or lifecycle host (containers \"a\", \"b\" use probe or lifecycle hosts \"127.0.0.1\", \"::1\", \"localhost\")"
    );
    assert!(msg(&b("v1.33"), pod, "hostProbesAndHostLifecycle").is_none());
}

#[test]
fn apparmor_fields_and_annotations() {
    let pod = json!({
    "metadata": {"annotations": {
        "container.apparmor.security.beta.kubernetes.io/e": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/f": "runtime/default",
        "container.apparmor.security.beta.kubernetes.io/g": "localhost/foo",
        "container.apparmor.security.beta.kubernetes.io/h": "",
        "container.apparmor.security.beta.kubernetes.io/nosuch": "bad",
    }},
    "spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}, "containers": [
        {"name": "a", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
        {"name": "b", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "x"}}},
        {"name": "c", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
    ]}});
    let v = only(&b("latest"), pod, "appArmorProfile").unwrap();
    assert_eq!(
        v.message(),
        "forbidden AppArmor profiles (pod and container \"c\" and annotations must not set AppArmor profile type to \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/e=\"unconfined\"\", \"container.apparmor.security.beta.kubernetes.io/nosuch=\"bad\"\")"
    );
    assert_eq!(
        v.fields[0].to_string(),
        "spec.securityContext.appArmorProfile.type"
    );
    let one = json!({"spec": {"containers": [{"name": "c", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]}});
    assert_eq!(
        msg(&b("v1.0"), one, "appArmorProfile").unwrap(),
        "forbidden AppArmor profile (container \"c\" must not set AppArmor profile type to \"Unconfined\")"
    );
    let ok = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/x": "localhost/p"}},
        "spec": {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "x"}]}});
    assert!(msg(&r("latest"), ok, "appArmorProfile").is_none());
}

#[test]
fn selinux_messages_and_v1_31() {
    let pod = json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "foo"}}, "containers": [
        {"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0"}}},
        {"name": "e", "securityContext": {"seLinuxOptions": {"type": "bar", "user": "u"}}},
        {"name": "f", "securityContext": {"seLinuxOptions": {"role": "r"}}},
    ]}});
    assert_eq!(
        msg(&b("latest"), pod, "seLinuxOptions").unwrap(),
        "seLinuxOptions (pod and containers \"e\", \"f\" set forbidden securityContext.seLinuxOptions: types \"bar\", \"foo\"; user may not be set; role may not be set)"
    );
    let engine = json!({"spec": {"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]}});
    assert_eq!(
        msg(&b("v1.30"), engine.clone(), "seLinuxOptions").unwrap(),
        "seLinuxOptions (container \"a\" set forbidden securityContext.seLinuxOptions: type \"container_engine_t\")"
    );
    assert!(msg(&b("v1.31"), engine, "seLinuxOptions").is_none());
}

#[test]
fn proc_mount_and_user_namespaces() {
    let spec = |host_users: bool| {
        json!({"spec": {"hostUsers": host_users, "containers": [
            {"name": "a"},
            {"name": "c", "securityContext": {"procMount": "Default"}},
            {"name": "d", "securityContext": {"procMount": "Unmasked"}},
            {"name": "e", "securityContext": {"procMount": "other"}},
        ]}})
    };
    let detail = "procMount (containers \"d\", \"e\" must not set securityContext.procMount to \"Unmasked\", \"other\")";
    assert_eq!(msg(&b("v1.34"), spec(false), "procMount").unwrap(), detail);
    assert!(msg(&b("v1.35"), spec(false), "procMount").is_none());
    assert_eq!(msg(&b("v1.35"), spec(true), "procMount").unwrap(), detail);
    // Restricted v1.35+: procMount_restricted, strict even with hostUsers: false.
    let v = eval(&r("v1.35"), &spec(false));
    assert!(v.iter().all(|v| v.check_id != "procMount"));
    assert_eq!(
        v.iter()
            .find(|v| v.check_id == "procMount_restricted")
            .unwrap()
            .message(),
        detail
    );
}

#[test]
fn seccomp_baseline_annotations_and_fields() {
    let pod = json!({"metadata": {"annotations": {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/a": "",
        "container.seccomp.security.alpha.kubernetes.io/b": "docker/default",
        "container.seccomp.security.alpha.kubernetes.io/nosuch": "unconfined",
    }}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    assert_eq!(
        msg(&b("v1.18"), pod.clone(), "seccompProfile_baseline").unwrap(),
        "seccompProfile (forbidden annotations container.seccomp.security.alpha.kubernetes.io/a=\"\", seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"
    );
    // v1.19+: annotations ignored.
    assert!(msg(&b("v1.19"), pod, "seccompProfile_baseline").is_none());
    let fields = json!({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [
        {"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
        {"name": "b", "securityContext": {"seccompProfile": {}}},
    ]}});
    assert_eq!(
        msg(&b("latest"), fields.clone(), "seccompProfile_baseline").unwrap(),
        "seccompProfile (pod and container \"b\" must not set securityContext.seccompProfile.type to \"\", \"Unconfined\")"
    );
    // Restricted v1.19+: the restricted check reports it instead.
    let v = eval(&r("latest"), &fields);
    assert!(v.iter().all(|v| v.check_id != "seccompProfile_baseline"));
    assert_eq!(
        v.iter()
            .find(|v| v.check_id == "seccompProfile_restricted")
            .unwrap()
            .message(),
        "seccompProfile (pod and container \"b\" must not set securityContext.seccompProfile.type to \"\", \"Unconfined\")"
    );
}

#[test]
fn seccomp_restricted_implicit() {
    let pod = json!({"spec": {"containers": [
        {"name": "a", "securityContext": {"seccompProfile": {"type": "Localhost"}}},
        {"name": "b"}, {"name": "c"},
    ]}});
    assert_eq!(
        msg(&r("latest"), pod, "seccompProfile_restricted").unwrap(),
        "seccompProfile (pod or containers \"b\", \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
}

#[test]
fn sysctls_spec_order_with_duplicates_and_versions() {
    let pod = json!({"spec": {"securityContext": {"sysctls": [
        {"name": "b"}, {"name": "net.ipv4.ip_local_port_range"}, {"name": "a"}, {"name": "b"},
        {"name": "net/ipv4/ip_local_port_range"},
    ]}}});
    assert_eq!(
        msg(&b("latest"), pod, "sysctls").unwrap(),
        "forbidden sysctls (b, a, b, net/ipv4/ip_local_port_range)"
    );
    let s = |name: &str| json!({"spec": {"securityContext": {"sysctls": [{"name": name, "value": "1"}]}}});
    for (name, first) in [
        ("net.ipv4.ip_unprivileged_port_start", 0),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_notsent_lowat", 37),
    ] {
        if first > 0 {
            let before = format!("v1.{}", first - 1);
            assert!(
                msg(&b(&before), s(name), "sysctls").is_some(),
                "{name} {before}"
            );
        }
        assert!(
            msg(&b(&format!("v1.{first}")), s(name), "sysctls").is_none(),
            "{name}"
        );
    }
    assert!(
        msg(
            &b("latest"),
            s("net.ipv4.tcp_slow_start_after_idle"),
            "sysctls"
        )
        .is_none()
    );
}

#[test]
fn privilege_escalation_and_windows() {
    let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [
        {"name": "a", "securityContext": {"allowPrivilegeEscalation": true}},
        {"name": "b"},
        {"name": "c", "securityContext": {"allowPrivilegeEscalation": false}},
    ]}});
    assert_eq!(
        msg(&r("v1.24"), pod.clone(), "allowPrivilegeEscalation").unwrap(),
        "allowPrivilegeEscalation != false (containers \"a\", \"b\" must set securityContext.allowPrivilegeEscalation=false)"
    );
    let v = eval(&r("v1.25"), &pod);
    let ids: Vec<&str> = v.iter().map(|v| v.check_id).collect();
    assert_eq!(
        ids,
        vec!["runAsNonRoot"],
        "Windows relaxes APE, caps, seccomp only"
    );
}

#[test]
fn capabilities_restricted_messages() {
    let pod = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {"capabilities": {"drop": ["all"]}}},
        {"name": "c", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN", "BAR"]}}},
        {"name": "d", "securityContext": {"capabilities": {"add": ["BAR"]}}},
    ]}});
    let v = only(&r("latest"), pod, "capabilities_restricted").unwrap();
    assert_eq!(
        v.message(),
        "unrestricted capabilities (containers \"a\", \"b\", \"d\" must set securityContext.capabilities.drop=[\"ALL\"]; containers \"c\", \"d\" must not include \"BAR\", \"CHOWN\" in securityContext.capabilities.add)"
    );
    assert_eq!(
        v.fields[0].to_string(),
        "spec.containers[0].securityContext.capabilities.drop"
    );
}

#[test]
fn run_as_non_root_explicit_wins() {
    let pod = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {"runAsNonRoot": false}},
    ]}});
    assert_eq!(
        msg(&r("latest"), pod, "runAsNonRoot").unwrap(),
        "runAsNonRoot != true (container \"b\" must not set securityContext.runAsNonRoot=false)"
    );
    let pod = json!({"spec": {"securityContext": {"runAsNonRoot": false}, "containers": [
        {"name": "a", "securityContext": {"runAsUser": 1000}},
        {"name": "c", "securityContext": {"runAsNonRoot": false}},
    ]}});
    assert_eq!(
        msg(&r("latest"), pod, "runAsNonRoot").unwrap(),
        "runAsNonRoot != true (pod and container \"c\" must not set securityContext.runAsNonRoot=false)"
    );
}

#[test]
fn run_as_user_and_user_namespaces() {
    let pod = |host_users: Option<bool>| {
        let mut p = json!({"spec": {"securityContext": {"runAsUser": 0}, "containers": [
            {"name": "c", "securityContext": {"runAsUser": 0}},
            {"name": "d", "securityContext": {"runAsUser": 0}},
            {"name": "e", "securityContext": {"runAsUser": 1}},
        ]}});
        if let Some(h) = host_users {
            p["spec"]["hostUsers"] = json!(h);
        }
        p
    };
    let expected = "runAsUser=0 (pod and containers \"c\", \"d\" must not set runAsUser=0)";
    assert_eq!(msg(&r("latest"), pod(None), "runAsUser").unwrap(), expected);
    assert_eq!(
        msg(&r("v1.34"), pod(Some(false)), "runAsUser").unwrap(),
        expected
    );
    assert!(msg(&r("v1.35"), pod(Some(false)), "runAsUser").is_none());
    assert!(msg(&r("v1.35"), pod(Some(false)), "runAsNonRoot").is_none());
    assert!(msg(&r("v1.35"), pod(Some(true)), "runAsUser").is_some());
    assert!(msg(&r("v1.22"), pod(None), "runAsUser").is_none());
}

#[test]
fn ephemeral_and_init_container_order() {
    let pod = json!({"spec": {
        "ephemeralContainers": [{"name": "eph", "securityContext": {"privileged": true}}],
        "containers": [{"name": "app", "securityContext": {"privileged": true}}],
        "initContainers": [{"name": "init", "securityContext": {"privileged": true}}],
    }});
    let v = only(&b("latest"), pod, "privileged").unwrap();
    assert_eq!(
        v.message(),
        "privileged (containers \"init\", \"app\", \"eph\" must not set securityContext.privileged=true)"
    );
    assert_eq!(
        v.fields[2].to_string(),
        "spec.ephemeralContainers[0].securityContext.privileged"
    );
}

#[test]
fn wrong_types_and_garbage_never_panic() {
    for spec in [
        json!(null),
        json!("x"),
        json!([1, 2]),
        json!({"containers": "x", "volumes": 3, "securityContext": []}),
        json!({"containers": [1, null, "x", {"securityContext": "x"}], "initContainers": {}}),
        json!({"containers": [{"securityContext": {"privileged": "true", "capabilities": {"add": [1, null]}, "runAsUser": "0"}}]}),
        json!({"securityContext": {"sysctls": [1, {"name": 3}]}, "volumes": [null, 1, {"hostPath": null}]}),
    ] {
        for p in [b("latest"), r("latest"), r("v1.0"), r("v1.18")] {
            let _ = evaluate(&p, &json!({"annotations": {"a": 1}}), &spec);
        }
    }
    // A string "true" is not a bool: treated as unset, as the API server would reject it.
    let pod =
        json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": "true"}}]}});
    assert!(msg(&b("latest"), pod, "privileged").is_none());
    // A sysctl without a name is reported with an empty name, as PSA does.
    let pod = json!({"spec": {"securityContext": {"sysctls": [{"value": "1"}]}}});
    assert_eq!(
        msg(&b("latest"), pod, "sysctls").unwrap(),
        "forbidden sysctls"
    );
}

#[test]
fn pod_template_kinds_and_bases() {
    let spec = json!({"containers": [{"name": "a"}]});
    let tpl = json!({"metadata": {"labels": {"a": "b"}}, "spec": spec});
    let cases = [
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": spec}),
            "",
            true,
        ),
        (
            json!({"apiVersion": "v1", "kind": "PodTemplate", "template": tpl}),
            "template",
            false,
        ),
        (
            json!({"apiVersion": "v1", "kind": "ReplicationController", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": tpl}}),
            "spec.template",
            false,
        ),
        (
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": tpl}}}}),
            "spec.jobTemplate.spec.template",
            false,
        ),
    ];
    for (obj, base, is_pod) in cases {
        let t = pod_template(&obj).unwrap();
        assert_eq!(t.base.to_string(), base);
        assert_eq!(t.is_pod, is_pod);
        assert!(!t.inferred);
        assert_eq!(t.spec, &spec);
    }
    // Removed workload versions are evaluated like their current kinds (issue #13 item 2).
    for (api_version, kind, base) in [
        ("extensions/v1beta1", "Deployment", "spec.template"),
        ("extensions/v1beta1", "DaemonSet", "spec.template"),
        ("extensions/v1beta1", "ReplicaSet", "spec.template"),
        ("apps/v1beta1", "Deployment", "spec.template"),
        ("apps/v1beta1", "StatefulSet", "spec.template"),
        ("apps/v1beta2", "DaemonSet", "spec.template"),
        ("batch/v1beta1", "CronJob", "spec.jobTemplate.spec.template"),
        (
            "batch/v2alpha1",
            "CronJob",
            "spec.jobTemplate.spec.template",
        ),
    ] {
        let obj = if kind == "CronJob" {
            json!({"apiVersion": api_version, "kind": kind, "spec": {"jobTemplate": {"spec": {"template": tpl}}}})
        } else {
            json!({"apiVersion": api_version, "kind": kind, "spec": {"template": tpl}})
        };
        let t = pod_template(&obj).unwrap_or_else(|| panic!("{api_version} {kind}"));
        assert_eq!(t.base.to_string(), base);
        assert!(!t.inferred && !t.is_pod);
    }
    // extensions/v1beta1 never served StatefulSet or Job.
    assert!(
        pod_template(
            &json!({"apiVersion": "extensions/v1beta1", "kind": "Job", "spec": {"template": tpl}})
        )
        .is_none()
    );
    for obj in [
        json!({"apiVersion": "v1", "kind": "Deployment", "spec": {"template": tpl}}),
        json!({"apiVersion": "apps/v1", "kind": "Pod", "spec": spec}),
        json!({"apiVersion": "v1", "kind": "Service", "spec": {}}),
        json!({"kind": "Pod", "spec": spec}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}),
        json!([1]),
    ] {
        assert!(pod_template(&obj).is_none(), "{obj}");
    }
}

#[test]
fn apparmor_annotation_synced_into_pod_fields() {
    let pod = |os: Option<&str>| {
        let mut p = json!({
        "metadata": {"annotations": {
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/b": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/c": "runtime/default",
        }},
        "spec": {"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
            {"name": "c"},
        ]}});
        if let Some(os) = os {
            p["spec"]["os"] = json!({"name": os});
        }
        p
    };
    let both = "forbidden AppArmor profiles (container \"a\" and annotations must not set AppArmor profile type to \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\", \"container.apparmor.security.beta.kubernetes.io/b=\"unconfined\"\")";
    assert_eq!(
        msg(&b("latest"), pod(None), "appArmorProfile").unwrap(),
        both
    );
    assert_eq!(
        msg(&b("latest"), pod(Some("linux")), "appArmorProfile").unwrap(),
        both
    );
    let annotations_only = "forbidden AppArmor profiles (annotations must not set AppArmor profile type to \"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\", \"container.apparmor.security.beta.kubernetes.io/b=\"unconfined\"\")";
    // Windows pods are not synced; neither are templates.
    assert_eq!(
        msg(&b("latest"), pod(Some("windows")), "appArmorProfile").unwrap(),
        annotations_only
    );
    let p = pod(None);
    let opts = EvalOptions {
        apparmor_annotation_sync: false,
        ..EvalOptions::default()
    };
    let v = evaluate_with(&b("latest"), &p["metadata"], &p["spec"], &opts);
    assert_eq!(v[0].message(), annotations_only);
    // Not copied when equal to the pod-level profile (which is reported as "pod").
    let mut same = pod(None);
    same["spec"]["securityContext"] = json!({"appArmorProfile": {"type": "Unconfined"}});
    assert_eq!(
        msg(&b("latest"), same, "appArmorProfile").unwrap(),
        "forbidden AppArmor profiles (pod and annotations must not set AppArmor profile type to \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\", \"container.apparmor.security.beta.kubernetes.io/b=\"unconfined\"\")"
    );
}

/// Kinds Palisade does not know are evaluated by the shape of their template; known kinds are
/// never inferred (a CronJob without its jobTemplate has no template, whatever else it holds).
#[test]
fn workload_template_infers_custom_kinds_by_shape() {
    let spec = json!({"containers": [{"name": "a"}]});
    let tpl = json!({"metadata": {}, "spec": spec});
    let rollout =
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": {"template": tpl}});
    assert!(pod_template(&rollout).is_none());
    let t = workload_template(&rollout).unwrap();
    assert!(t.inferred && !t.is_pod);
    assert_eq!(t.base.to_string(), "spec.template");
    let cron = json!({"apiVersion": "example.com/v1", "kind": "Nightly", "spec": {"jobTemplate": {"spec": {"template": tpl}}}});
    assert_eq!(
        workload_template(&cron).unwrap().base.to_string(),
        "spec.jobTemplate.spec.template"
    );
    let deployment =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": tpl}});
    assert!(!workload_template(&deployment).unwrap().inferred);
    for obj in [
        // A template that is not a pod's (no containers list).
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment", "spec": {"template": {"spec": {"bootstrap": {}}}}}),
        json!({"apiVersion": "example.com/v1", "kind": "X", "spec": {"template": {"spec": {"containers": "a"}}}}),
        // A known kind in the wrong place is not re-read by shape.
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"template": tpl}}),
        json!({"kind": "Rollout", "spec": {"template": tpl}}),
    ] {
        assert!(workload_template(&obj).is_none(), "{obj}");
    }
}
