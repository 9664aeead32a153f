//! The 19 Pod Security Admission checks, one function each, over raw JSON.
//!
//! Each function returns `None` when the pod passes, or the PSA `ForbiddenReason`, the
//! `ForbiddenDetail` (byte-identical to PSA's) and the offending field paths (relative to the
//! pod). The pass path allocates nothing: collections are only filled when something is bad.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::FieldPath;
use serde_json::Value;

use super::util::{
    containers_phrase, get, get_arr, get_bool, get_int, get_obj, get_str, go_quote, join_quote,
    path, pluralize, str_or_empty, sub,
};

/// What a failing check reports.
pub(crate) struct Out {
    pub reason: String,
    pub detail: String,
    pub fields: Vec<FieldPath>,
}

fn out(reason: &str, detail: String, fields: Vec<FieldPath>) -> Option<Out> {
    Some(Out {
        reason: reason.to_owned(),
        detail,
        fields,
    })
}

/// The pod as the checks see it.
pub(crate) struct Pod<'a> {
    pub meta: &'a Value,
    pub spec: &'a Value,
    /// Apply core/v1 `defaultHostNetworkPorts` (unset `hostPort` = `containerPort` when
    /// `hostNetwork: true`). The API server does this for Pods, not for pod templates.
    pub default_host_network_ports: bool,
    /// Apply the pod strategy's AppArmor annotation-to-field sync (Pods only).
    pub apparmor_annotation_sync: bool,
}

impl<'a> Pod<'a> {
    fn security_context(&self) -> Option<&'a Value> {
        get_obj(self.spec, "securityContext")
    }

    /// PSA's Windows exemption: `spec.os.name == "windows"`, nothing else.
    fn windows(&self) -> bool {
        get_obj(self.spec, "os").and_then(|os| get_str(os, "name")) == Some("windows")
    }

    /// PSA's `relaxPolicyForUserNamespacePod`: `spec.hostUsers` set and false.
    fn user_namespace(&self) -> bool {
        get_bool(self.spec, "hostUsers") == Some(false)
    }

    fn containers(&self) -> impl Iterator<Item = Ctr<'a>> + use<'a> {
        let spec = self.spec;
        CONTAINER_LISTS.into_iter().flat_map(move |list| {
            get_arr(spec, list)
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_object())
                .map(move |(index, v)| Ctr {
                    list,
                    index,
                    v,
                    name: str_or_empty(v, "name"),
                })
        })
    }

    fn volumes(&self) -> impl Iterator<Item = (usize, &'a Value)> + use<'a> {
        get_arr(self.spec, "volumes")
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_object())
    }
}

/// PSA's visitor order: init containers, containers, ephemeral containers.
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// One container (any of the three lists).
#[derive(Clone, Copy)]
pub(crate) struct Ctr<'a> {
    list: &'static str,
    index: usize,
    v: &'a Value,
    name: &'a str,
}

impl<'a> Ctr<'a> {
    fn path(&self) -> FieldPath {
        FieldPath::root()
            .key("spec")
            .key(self.list)
            .index(self.index)
    }

    fn field(&self, keys: &[&str]) -> FieldPath {
        sub(&self.path(), keys)
    }

    fn security_context(&self) -> Option<&'a Value> {
        get_obj(self.v, "securityContext")
    }

    fn sc_obj(&self, key: &str) -> Option<&'a Value> {
        self.security_context().and_then(|sc| get_obj(sc, key))
    }

    fn sc_bool(&self, key: &str) -> Option<bool> {
        self.security_context().and_then(|sc| get_bool(sc, key))
    }
}

// ---------------------------------------------------------------------------------------
// Baseline
// ---------------------------------------------------------------------------------------

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn apparmor_type_allowed(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn apparmor_annotation_allowed(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

/// `appArmorProfile` (v1.0, one behaviour for all versions: annotations and fields).
pub(crate) fn app_armor_profile(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut setters: Vec<String> = Vec::new();
    let mut values: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    if let Some(profile) = pod
        .security_context()
        .and_then(|sc| get_obj(sc, "appArmorProfile"))
    {
        let t = str_or_empty(profile, "type");
        if !apparmor_type_allowed(t) {
            setters.push("pod".to_owned());
            values.insert(t);
            fields.push(path(&[
                "spec",
                "securityContext",
                "appArmorProfile",
                "type",
            ]));
        }
    }
    let annotations_map = get(pod.meta, "annotations").and_then(Value::as_object);
    // Pod create copies `container.apparmor...`/<name>: unconfined into that container's
    // empty profile field before PSA runs (pod strategy `applyAppArmorVersionSkew`, K8s
    // 1.30+, not for Windows pods, not when it equals the pod-level profile). Only
    // `unconfined` matters: the other values it copies are allowed types.
    let sync = pod.apparmor_annotation_sync
        && !pod.windows()
        && annotations_map
            .is_some_and(|m| m.keys().any(|k| k.starts_with(APPARMOR_ANNOTATION_PREFIX)))
        && !pod
            .security_context()
            .and_then(|sc| get_obj(sc, "appArmorProfile"))
            .is_some_and(|p| {
                get_str(p, "type") == Some("Unconfined") && get(p, "localhostProfile").is_none()
            });
    let mut bad_containers = Vec::new();
    for c in pod.containers() {
        if let Some(profile) = c.sc_obj("appArmorProfile") {
            let t = str_or_empty(profile, "type");
            if !apparmor_type_allowed(t) {
                bad_containers.push(c.name);
                values.insert(t);
                fields.push(c.field(&["securityContext", "appArmorProfile", "type"]));
            }
        } else if sync {
            let key = format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name);
            if annotations_map
                .and_then(|m| m.get(&key))
                .and_then(Value::as_str)
                == Some("unconfined")
            {
                bad_containers.push(c.name);
                values.insert("Unconfined");
                fields.push(path(&["metadata", "annotations", &key]));
            }
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    let mut annotations: Vec<(String, &str)> = Vec::new();
    if let Some(map) = annotations_map {
        for (key, value) in map {
            let Some(value) = value.as_str() else {
                continue;
            };
            if key.starts_with(APPARMOR_ANNOTATION_PREFIX) && !apparmor_annotation_allowed(value) {
                annotations.push((format!("{key}={}", go_quote(value)), key));
            }
        }
    }
    if setters.is_empty() && annotations.is_empty() {
        return None;
    }
    annotations.sort();
    let mut list: Vec<String> = values.into_iter().map(str::to_owned).collect();
    if !annotations.is_empty() {
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_owned());
        for (entry, key) in annotations {
            list.push(entry);
            fields.push(path(&["metadata", "annotations", key]));
        }
    }
    out(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            list.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&list)
        ),
        fields,
    )
}

const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `capabilities_baseline` (v1.0): `capabilities.add` within the default set.
pub(crate) fn capabilities_baseline(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut names = Vec::new();
    let mut caps: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        let Some(capabilities) = c.sc_obj("capabilities") else {
            continue;
        };
        let mut bad = false;
        for (j, cap) in get_arr(capabilities, "add").iter().enumerate() {
            let Some(cap) = cap.as_str() else { continue };
            if !DEFAULT_CAPABILITIES.contains(&cap) {
                bad = true;
                caps.insert(cap);
                fields.push(
                    c.field(&["securityContext", "capabilities", "add"])
                        .index(j),
                );
            }
        }
        if bad {
            names.push(c.name);
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&names),
            join_quote(&caps)
        ),
        fields,
    )
}

/// `hostNamespaces` (v1.0).
pub(crate) fn host_namespaces(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut parts = Vec::new();
    let mut fields = Vec::new();
    for (key, text) in [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ] {
        if get_bool(pod.spec, key) == Some(true) {
            parts.push(text);
            fields.push(path(&["spec", key]));
        }
    }
    if parts.is_empty() {
        return None;
    }
    out("host namespaces", parts.join(", "), fields)
}

/// `hostPathVolumes` (v1.0; overridden by `restrictedVolumes` at restricted).
pub(crate) fn host_path_volumes(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut names = Vec::new();
    let mut fields = Vec::new();
    for (i, v) in pod.volumes() {
        if get(v, "hostPath").is_some() {
            names.push(str_or_empty(v, "name"));
            fields.push(path(&["spec", "volumes"]).index(i).key("hostPath"));
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        fields,
    )
}

/// `hostPorts` (v1.0). No allow-list: any non-zero `hostPort` fails.
pub(crate) fn host_ports(pod: &Pod, _minor: u32) -> Option<Out> {
    let default_ports =
        pod.default_host_network_ports && get_bool(pod.spec, "hostNetwork") == Some(true);
    let mut names = Vec::new();
    // Sorted as strings, like PSA's `sets.String`: "8080" sorts before "9".
    let mut ports: BTreeSet<String> = BTreeSet::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        let mut bad = false;
        for (j, p) in get_arr(c.v, "ports").iter().enumerate() {
            if !p.is_object() {
                continue;
            }
            let mut host_port = get_int(p, "hostPort").unwrap_or(0);
            // core/v1 defaultHostNetworkPorts covers containers and init containers only.
            if host_port == 0 && default_ports && c.list != "ephemeralContainers" {
                host_port = get_int(p, "containerPort").unwrap_or(0);
            }
            if host_port != 0 {
                bad = true;
                ports.insert(host_port.to_string());
                fields.push(c.path().key("ports").index(j).key("hostPort"));
            }
        }
        if bad {
            names.push(c.name);
        }
    }
    if names.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    out(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&names),
            pluralize("uses", "use", names.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        fields,
    )
}

/// `hostProbesAndHostLifecycle` (v1.34).
pub(crate) fn host_probes_and_host_lifecycle(pod: &Pod, _minor: u32) -> Option<Out> {
    // Both sorted and de-duplicated, as PSA uses sets here.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    fn handler<'a>(
        h: &'a Value,
        at: &FieldPath,
        hosts: &mut BTreeSet<&'a str>,
        fields: &mut Vec<FieldPath>,
    ) -> bool {
        let mut bad = false;
        for kind in ["httpGet", "tcpSocket"] {
            if let Some(host) = get_obj(h, kind).and_then(|x| get_str(x, "host"))
                && !host.is_empty()
            {
                bad = true;
                hosts.insert(host);
                fields.push(sub(at, &[kind, "host"]));
            }
        }
        bad
    }
    for c in pod.containers() {
        let mut bad = false;
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(h) = get_obj(c.v, probe) {
                bad |= handler(h, &c.field(&[probe]), &mut hosts, &mut fields);
            }
        }
        if let Some(lifecycle) = get_obj(c.v, "lifecycle") {
            for hook in ["postStart", "preStop"] {
                if let Some(h) = get_obj(lifecycle, hook) {
                    bad |= handler(h, &c.field(&["lifecycle", hook]), &mut hosts, &mut fields);
                }
            }
        }
        if bad {
            names.insert(c.name);
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "probe or lifecycle host",
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
        fields,
    )
}

/// `privileged` (v1.0).
pub(crate) fn privileged(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut names = Vec::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        if c.sc_bool("privileged") == Some(true) {
            names.push(c.name);
            fields.push(c.field(&["securityContext", "privileged"]));
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&names)
        ),
        fields,
    )
}

fn proc_mount_strict(pod: &Pod) -> Option<Out> {
    let mut names = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        if let Some(pm) = c.security_context().and_then(|sc| get_str(sc, "procMount"))
            && pm != "Default"
        {
            names.push(c.name);
            types.insert(pm);
            fields.push(c.field(&["securityContext", "procMount"]));
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&names),
            join_quote(&types)
        ),
        fields,
    )
}

/// `procMount` (v1.0 strict; v1.35 any value when `hostUsers: false`).
pub(crate) fn proc_mount(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    proc_mount_strict(pod)
}

/// `seLinuxOptions` (v1.0; v1.31 adds `container_engine_t`).
pub(crate) fn se_linux_options(pod: &Pod, minor: u32) -> Option<Out> {
    struct Acc<'a> {
        types: BTreeSet<&'a str>,
        user: bool,
        role: bool,
        fields: Vec<FieldPath>,
    }
    fn inspect<'a>(o: &'a Value, at: FieldPath, minor: u32, acc: &mut Acc<'a>) -> bool {
        let mut valid = true;
        let t = str_or_empty(o, "type");
        let allowed = matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) || (minor >= 31 && t == "container_engine_t");
        if !allowed {
            valid = false;
            acc.types.insert(t);
            acc.fields.push(sub(&at, &["type"]));
        }
        if !str_or_empty(o, "user").is_empty() {
            valid = false;
            acc.user = true;
            acc.fields.push(sub(&at, &["user"]));
        }
        if !str_or_empty(o, "role").is_empty() {
            valid = false;
            acc.role = true;
            acc.fields.push(sub(&at, &["role"]));
        }
        valid
    }
    let mut acc = Acc {
        types: BTreeSet::new(),
        user: false,
        role: false,
        fields: Vec::new(),
    };
    let mut setters: Vec<String> = Vec::new();
    if let Some(o) = pod
        .security_context()
        .and_then(|sc| get_obj(sc, "seLinuxOptions"))
        && !inspect(
            o,
            path(&["spec", "securityContext", "seLinuxOptions"]),
            minor,
            &mut acc,
        )
    {
        setters.push("pod".to_owned());
    }
    let mut names = Vec::new();
    for c in pod.containers() {
        if let Some(o) = c.sc_obj("seLinuxOptions")
            && !inspect(
                o,
                c.field(&["securityContext", "seLinuxOptions"]),
                minor,
                &mut acc,
            )
        {
            names.push(c.name);
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !acc.types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", acc.types.len()),
            join_quote(&acc.types)
        ));
    }
    if acc.user {
        data.push("user may not be set".to_owned());
    }
    if acc.role {
        data.push("role may not be set".to_owned());
    }
    out(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
        acc.fields,
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp_annotation_allowed(v: &str) -> bool {
    v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
}

fn seccomp_type_allowed(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

/// `seccompProfile_baseline` (v1.0 annotations only; v1.19 fields only).
pub(crate) fn seccomp_profile_baseline(pod: &Pod, minor: u32) -> Option<Out> {
    if minor < 19 {
        return seccomp_baseline_annotations(pod);
    }
    let mut setters: Vec<String> = Vec::new();
    let mut values: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    if let Some(p) = pod
        .security_context()
        .and_then(|sc| get_obj(sc, "seccompProfile"))
    {
        let t = str_or_empty(p, "type");
        if !seccomp_type_allowed(t) {
            setters.push("pod".to_owned());
            values.insert(t);
            fields.push(path(&["spec", "securityContext", "seccompProfile", "type"]));
        }
    }
    let mut names = Vec::new();
    for c in pod.containers() {
        if let Some(p) = c.sc_obj("seccompProfile") {
            let t = str_or_empty(p, "type");
            if !seccomp_type_allowed(t) {
                names.push(c.name);
                values.insert(t);
                fields.push(c.field(&["securityContext", "seccompProfile", "type"]));
            }
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    out(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
        fields,
    )
}

fn seccomp_baseline_annotations(pod: &Pod) -> Option<Out> {
    let annotations = get(pod.meta, "annotations").and_then(Value::as_object)?;
    // Keyed by the printed entry: PSA collects into a map, so an entry is reported once.
    let mut bad: BTreeMap<String, FieldPath> = BTreeMap::new();
    if let Some(v) = annotations
        .get(SECCOMP_POD_ANNOTATION)
        .and_then(Value::as_str)
        && !seccomp_annotation_allowed(v)
    {
        bad.insert(
            format!("{SECCOMP_POD_ANNOTATION}={}", go_quote(v)),
            path(&["metadata", "annotations", SECCOMP_POD_ANNOTATION]),
        );
    }
    // Only annotations naming a container of this pod count.
    for c in pod.containers() {
        let key = format!("{SECCOMP_CONTAINER_PREFIX}{}", c.name);
        if let Some(v) = annotations.get(&key).and_then(Value::as_str)
            && !seccomp_annotation_allowed(v)
        {
            let entry = format!("{key}={}", go_quote(v));
            bad.insert(entry, path(&["metadata", "annotations", &key]));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let detail = format!(
        "forbidden {} {}",
        pluralize("annotation", "annotations", bad.len()),
        bad.keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    );
    out("seccompProfile", detail, bad.into_values().collect())
}

fn sysctl_allowed(name: &str, minor: u32) -> bool {
    match name {
        "kernel.shm_rmid_forced"
        | "net.ipv4.ip_local_port_range"
        | "net.ipv4.tcp_syncookies"
        | "net.ipv4.ping_group_range"
        | "net.ipv4.ip_unprivileged_port_start" => true,
        "net.ipv4.ip_local_reserved_ports" => minor >= 27,
        "net.ipv4.tcp_keepalive_time"
        | "net.ipv4.tcp_fin_timeout"
        | "net.ipv4.tcp_keepalive_intvl"
        | "net.ipv4.tcp_keepalive_probes" => minor >= 29,
        "net.ipv4.tcp_rmem" | "net.ipv4.tcp_wmem" => minor >= 32,
        "net.ipv4.tcp_slow_start_after_idle" | "net.ipv4.tcp_notsent_lowat" => minor >= 37,
        _ => false,
    }
}

/// `sysctls` (v1.0, v1.27, v1.29, v1.32, v1.37). Exact names: the slash form fails.
pub(crate) fn sysctls(pod: &Pod, minor: u32) -> Option<Out> {
    let sc = pod.security_context()?;
    let mut names = Vec::new();
    let mut fields = Vec::new();
    for (i, s) in get_arr(sc, "sysctls").iter().enumerate() {
        if !s.is_object() {
            continue;
        }
        let name = str_or_empty(s, "name");
        if !sysctl_allowed(name, minor) {
            names.push(name);
            fields.push(
                path(&["spec", "securityContext", "sysctls"])
                    .index(i)
                    .key("name"),
            );
        }
    }
    if names.is_empty() {
        return None;
    }
    // Spec order, duplicates kept.
    out("forbidden sysctls", names.join(", "), fields)
}

/// `windowsHostProcess` (v1.0).
pub(crate) fn windows_host_process(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut names = Vec::new();
    let mut container_fields = Vec::new();
    for c in pod.containers() {
        if c.sc_obj("windowsOptions")
            .and_then(|w| get_bool(w, "hostProcess"))
            == Some(true)
        {
            names.push(c.name);
            container_fields.push(c.field(&["securityContext", "windowsOptions", "hostProcess"]));
        }
    }
    let pod_bad = pod
        .security_context()
        .and_then(|sc| get_obj(sc, "windowsOptions"))
        .and_then(|w| get_bool(w, "hostProcess"))
        == Some(true);
    if !pod_bad && names.is_empty() {
        return None;
    }
    let mut setters = Vec::new();
    let mut fields = Vec::new();
    if pod_bad {
        setters.push("pod".to_owned());
        fields.push(path(&[
            "spec",
            "securityContext",
            "windowsOptions",
            "hostProcess",
        ]));
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
        fields.extend(container_fields);
    }
    out(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
        fields,
    )
}

// ---------------------------------------------------------------------------------------
// Restricted
// ---------------------------------------------------------------------------------------

/// `allowPrivilegeEscalation` (v1.8; v1.25 skips Windows pods). Must be explicitly false.
pub(crate) fn allow_privilege_escalation(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    let mut names = Vec::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        if c.sc_bool("allowPrivilegeEscalation") != Some(false) {
            names.push(c.name);
            fields.push(c.field(&["securityContext", "allowPrivilegeEscalation"]));
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&names)
        ),
        fields,
    )
}

/// `capabilities_restricted` (v1.22; v1.25 skips Windows pods): drop exactly `ALL`, add at
/// most `NET_BIND_SERVICE`.
pub(crate) fn capabilities_restricted(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut forbidden: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    for c in pod.containers() {
        let Some(caps) = c.sc_obj("capabilities") else {
            missing_drop.push(c.name);
            fields.push(c.field(&["securityContext", "capabilities", "drop"]));
            continue;
        };
        // Case-sensitive: "all" does not count.
        if !get_arr(caps, "drop")
            .iter()
            .any(|d| d.as_str() == Some("ALL"))
        {
            missing_drop.push(c.name);
            fields.push(c.field(&["securityContext", "capabilities", "drop"]));
        }
        let mut bad_add = false;
        for (j, cap) in get_arr(caps, "add").iter().enumerate() {
            let Some(cap) = cap.as_str() else { continue };
            if cap != "NET_BIND_SERVICE" {
                bad_add = true;
                forbidden.insert(cap);
                fields.push(
                    c.field(&["securityContext", "capabilities", "add"])
                        .index(j),
                );
            }
        }
        if bad_add {
            adding.push(c.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    out("unrestricted capabilities", details.join("; "), fields)
}

/// `procMount_restricted` (v1.35): strict even with `hostUsers: false`.
pub(crate) fn proc_mount_restricted(pod: &Pod, _minor: u32) -> Option<Out> {
    proc_mount_strict(pod)
}

const ALLOWED_VOLUME_SOURCES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// In PSA's reporting order (the first one set names the volume's type).
const RESTRICTED_VOLUME_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// `restrictedVolumes` (v1.0; overrides `hostPathVolumes`). `image` is allowed at every
/// version (K8s 1.33 code). A volume setting none of the 30 known sources is defaulted by the
/// API server to `emptyDir` before PSA runs (`SetDefaults_Volume`), so it passes; that is
/// also why PSA's `unknown` type cannot occur after defaulting.
pub(crate) fn restricted_volumes(pod: &Pod, _minor: u32) -> Option<Out> {
    let mut names = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut fields = Vec::new();
    for (i, v) in pod.volumes() {
        // A source key counts as set when present and not null, whatever its JSON type.
        if ALLOWED_VOLUME_SOURCES.iter().any(|k| get(v, k).is_some()) {
            continue;
        }
        if let Some(t) = RESTRICTED_VOLUME_SOURCES
            .iter()
            .find(|k| get(v, k).is_some())
        {
            names.push(str_or_empty(v, "name"));
            types.insert(t);
            fields.push(path(&["spec", "volumes"]).index(i).key(*t));
        }
    }
    if names.is_empty() {
        return None;
    }
    out(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
        fields,
    )
}

/// `runAsNonRoot` (v1.0; v1.35 skips `hostUsers: false`). Not relaxed for Windows.
pub(crate) fn run_as_non_root(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut explicit_fields = Vec::new();
    let mut pod_true = false;
    match pod
        .security_context()
        .and_then(|sc| get_bool(sc, "runAsNonRoot"))
    {
        Some(false) => {
            setters.push("pod".to_owned());
            explicit_fields.push(path(&["spec", "securityContext", "runAsNonRoot"]));
        }
        Some(true) => pod_true = true,
        None => {}
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_fields = Vec::new();
    for c in pod.containers() {
        match c.sc_bool("runAsNonRoot") {
            Some(false) => {
                explicit.push(c.name);
                explicit_fields.push(c.field(&["securityContext", "runAsNonRoot"]));
            }
            Some(true) => {}
            None if !pod_true => {
                implicit.push(c.name);
                implicit_fields.push(c.field(&["securityContext", "runAsNonRoot"]));
            }
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return out(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
            explicit_fields,
        );
    }
    if implicit.is_empty() {
        return None;
    }
    out(
        "runAsNonRoot != true",
        format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ),
        implicit_fields,
    )
}

/// `runAsUser` (v1.23; v1.35 skips `hostUsers: false`): never `0`.
pub(crate) fn run_as_user(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut fields = Vec::new();
    if pod
        .security_context()
        .and_then(|sc| get_int(sc, "runAsUser"))
        == Some(0)
    {
        setters.push("pod".to_owned());
        fields.push(path(&["spec", "securityContext", "runAsUser"]));
    }
    let mut names = Vec::new();
    for c in pod.containers() {
        if c.security_context().and_then(|sc| get_int(sc, "runAsUser")) == Some(0) {
            names.push(c.name);
            fields.push(c.field(&["securityContext", "runAsUser"]));
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    out(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
        fields,
    )
}

/// `seccompProfile_restricted` (v1.19; v1.25 skips Windows pods; overrides the baseline check).
pub(crate) fn seccomp_profile_restricted(pod: &Pod, minor: u32) -> Option<Out> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut values: BTreeSet<&str> = BTreeSet::new();
    let mut explicit_fields = Vec::new();
    let mut pod_set = false;
    if let Some(p) = pod
        .security_context()
        .and_then(|sc| get_obj(sc, "seccompProfile"))
    {
        let t = str_or_empty(p, "type");
        if seccomp_type_allowed(t) {
            pod_set = true;
        } else {
            setters.push("pod".to_owned());
            values.insert(t);
            explicit_fields.push(path(&["spec", "securityContext", "seccompProfile", "type"]));
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_fields = Vec::new();
    for c in pod.containers() {
        if let Some(p) = c.sc_obj("seccompProfile") {
            let t = str_or_empty(p, "type");
            if !seccomp_type_allowed(t) {
                explicit.push(c.name);
                values.insert(t);
                explicit_fields.push(c.field(&["securityContext", "seccompProfile", "type"]));
            }
        } else if !pod_set {
            implicit.push(c.name);
            implicit_fields.push(c.field(&["securityContext", "seccompProfile", "type"]));
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return out(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
            explicit_fields,
        );
    }
    if implicit.is_empty() {
        return None;
    }
    out(
        "seccompProfile",
        format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&implicit)
        ),
        implicit_fields,
    )
}
