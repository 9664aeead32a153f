//! The `ka.*` and `jevt.*` fields of Falco's k8saudit and json plugins, resolved once at
//! rule-load time into a [`Field`] and extracted from an event's JSON on demand.
//!
//! Values are strings, as the plugin delivers them: JSON strings verbatim, anything else
//! (numbers, booleans, objects) as its compact JSON text. A field that cannot be extracted
//! is *missing*: every comparison on it is false except that `not` inverts it.

use crate::event::Event;
use crate::json::J;
use std::borrow::Cow;

/// Which container list of a pod spec a `ka.req.pod.<list>.*` field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerList {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl ContainerList {
    fn key(self) -> &'static str {
        match self {
            ContainerList::Containers => "containers",
            ContainerList::InitContainers => "initContainers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// A per-container attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAttr {
    Image,
    Repository,
    /// A `securityContext` key.
    SecCtx(&'static str),
    /// `runAsUser`/`runAsGroup` falling back to the pod-level value, then `0`.
    Effective(&'static str),
    AddCapabilities,
    HostPort,
}

/// A resolved field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// A key path into the event.
    Path(&'static [&'static str]),
    UriParam(String),
    Container {
        list: ContainerList,
        attr: ContainerAttr,
        index: Option<usize>,
        workload: bool,
    },
    /// A key of the pod spec inside a workload template (`ka.req.workload.*`).
    WorkloadSpec(&'static str),
    /// Legacy single-container fields of engine v4 rules (`ka.req.container.*`).
    FirstContainer(ContainerAttr),
    AnyContainerPrivileged,
    RoleRulesKey {
        key: &'static str,
        index: Option<usize>,
    },
    SubjectHasName,
    VolumeHostpathArg(String),
    Volumes {
        what: VolumeAttr,
        index: Option<usize>,
        workload: bool,
    },
    ServicePorts(Option<usize>),
    /// An RFC 6901 pointer, split into unescaped tokens at load time.
    JevtValue(Vec<String>),
    JevtObj,
    JevtRawtime,
    JevtTime,
    JevtTimeIso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeAttr {
    HostPath,
    FlexDriver,
    VolumeType,
}

/// A field as written in a rule (`ka.uri.param[command]`) and its resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: std::sync::Arc<str>,
    pub kind: FieldKind,
    /// Falco list field: `in` means "all values in the set", `intersects` "any".
    pub list: bool,
}

/// Values extracted from one event for one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Vals<'a> {
    Missing,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> Vals<'a> {
    pub fn as_slice(&self) -> &[Cow<'a, str>] {
        match self {
            Vals::Missing => &[],
            Vals::One(v) => std::slice::from_ref(v),
            Vals::Many(v) => v,
        }
    }

    /// Falco's text rendering in outputs: `<NA>`, the value, or `(a,b)` for lists.
    pub fn render(&self, list: bool) -> String {
        match self {
            Vals::Missing => "<NA>".into(),
            Vals::One(v) if !list => v.to_string(),
            other => format!("({})", other.as_slice().join(",")),
        }
    }

    /// [`Vals::render`], reusing an owned single value instead of copying it.
    pub fn into_rendered(self, list: bool) -> String {
        match self {
            Vals::One(v) if !list => v.into_owned(),
            other => other.render(list),
        }
    }
}

/// Every field name accepted (the documentation table is generated from this list).
pub const FIELD_NAMES: &[(&str, &str)] = &[
    ("ka.auditid", "auditID"),
    ("ka.stage", "stage"),
    (
        "ka.auth.decision",
        "annotations[authorization.k8s.io/decision]",
    ),
    ("ka.auth.reason", "annotations[authorization.k8s.io/reason]"),
    (
        "ka.auth.openshift.decision",
        "annotations[authentication.openshift.io/decision]",
    ),
    (
        "ka.auth.openshift.username",
        "annotations[authentication.openshift.io/username]",
    ),
    (
        "ka.validations.admission.policy.failure",
        "annotations[validation.policy.admission.k8s.io/validation_failure]",
    ),
    (
        "ka.security.pod.violations",
        "annotations[pod-security.kubernetes.io/audit-violations]",
    ),
    ("ka.cluster.name", "annotations[cluster_name]"),
    ("ka.user.name", "user.username"),
    ("ka.user.groups", "user.groups (list)"),
    ("ka.impuser.name", "impersonatedUser.username"),
    (
        "ka.impuser.groups",
        "impersonatedUser.groups (list; Palisade extension)",
    ),
    ("ka.verb", "verb"),
    ("ka.uri", "requestURI"),
    (
        "ka.uri.param[K]",
        "first value of query parameter K of requestURI",
    ),
    ("ka.target.name", "objectRef.name"),
    ("ka.target.namespace", "objectRef.namespace"),
    ("ka.target.resource", "objectRef.resource"),
    ("ka.target.subresource", "objectRef.subresource"),
    (
        "ka.target.apigroup",
        "objectRef.apiGroup (Palisade extension)",
    ),
    (
        "ka.req.binding.subjects",
        "requestObject.subjects (list, JSON)",
    ),
    (
        "ka.req.binding.subjects.name",
        "requestObject.subjects[].name (list; Palisade extension)",
    ),
    (
        "ka.req.binding.subjects.kind",
        "requestObject.subjects[].kind (list; Palisade extension)",
    ),
    ("ka.req.binding.role", "requestObject.roleRef.name"),
    (
        "ka.req.binding.role.kind",
        "requestObject.roleRef.kind (Palisade extension)",
    ),
    (
        "ka.req.binding.subject.has_name[N]",
        "always true (as upstream)",
    ),
    ("ka.req.configmap.name", "objectRef.name"),
    ("ka.req.configmap.obj", "requestObject.data (JSON)"),
    (
        "ka.req.pod.{containers,initContainers,ephemeralContainers}.image[i]",
        "container images (list)",
    ),
    (
        "ka.req.pod.{...}.image.repository[i]",
        "image without tag/digest (list)",
    ),
    (
        "ka.req.pod.{...}.privileged[i]",
        "securityContext.privileged (list)",
    ),
    (
        "ka.req.pod.{...}.allow_privilege_escalation[i]",
        "securityContext.allowPrivilegeEscalation (list)",
    ),
    (
        "ka.req.pod.{...}.read_only_fs[i]",
        "securityContext.readOnlyRootFilesystem (list)",
    ),
    (
        "ka.req.pod.{...}.run_as_user[i]",
        "securityContext.runAsUser (list)",
    ),
    (
        "ka.req.pod.{...}.run_as_group[i]",
        "securityContext.runAsGroup (list)",
    ),
    (
        "ka.req.pod.{...}.eff_run_as_user[i]",
        "effective runAsUser, pod-level fallback, else 0 (list)",
    ),
    (
        "ka.req.pod.{...}.eff_run_as_group[i]",
        "effective runAsGroup (list)",
    ),
    (
        "ka.req.pod.{...}.proc_mount[i]",
        "securityContext.procMount (list)",
    ),
    (
        "ka.req.pod.{...}.add_capabilities[i]",
        "securityContext.capabilities.add (list)",
    ),
    (
        "ka.req.pod.{...}.host_port[i]",
        "ports[].hostPort, else containerPort (list)",
    ),
    (
        "ka.req.container.image / .image.repository / .privileged / .host_network",
        "legacy engine-v4 fields",
    ),
    (
        "ka.req.workload.{containers,initContainers,ephemeralContainers}.*[i]",
        "as ka.req.pod.*, on the pod template of Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs (Palisade extension)",
    ),
    (
        "ka.req.workload.{host_network,host_pid,host_ipc,volumes.hostpath}",
        "pod-template host namespaces and hostPath volumes (Palisade extension)",
    ),
    ("ka.req.pod.host_ipc", "requestObject.spec.hostIPC"),
    ("ka.req.pod.host_network", "requestObject.spec.hostNetwork"),
    ("ka.req.pod.host_pid", "requestObject.spec.hostPID"),
    (
        "ka.req.pod.run_as_user",
        "requestObject.spec.securityContext.runAsUser",
    ),
    (
        "ka.req.pod.run_as_group",
        "requestObject.spec.securityContext.runAsGroup",
    ),
    (
        "ka.req.pod.fs_group",
        "requestObject.spec.securityContext.fsGroup",
    ),
    (
        "ka.req.pod.supplemental_groups",
        "requestObject.spec.securityContext.supplementalGroups (list)",
    ),
    (
        "ka.req.pod.volumes.hostpath[i]",
        "volumes[].hostPath.path (list)",
    ),
    (
        "ka.req.pod.volumes.flexvolume_driver[i]",
        "volumes[].flexVolume.driver (list)",
    ),
    (
        "ka.req.pod.volumes.volume_type[i]",
        "volume source keys (list)",
    ),
    (
        "ka.req.volume.hostpath[P]",
        "legacy: true if a hostPath equals P (or starts with it when P ends in *)",
    ),
    ("ka.req.role.rules", "requestObject.rules (list, JSON)"),
    (
        "ka.req.role.rules.{apiGroups,nonResourceURLs,verbs,resources,resourceNames}[i]",
        "rule values (list)",
    ),
    ("ka.req.service.type", "requestObject.spec.type"),
    (
        "ka.req.service.ports[i]",
        "requestObject.spec.ports (list, JSON)",
    ),
    ("ka.resp.name", "responseObject.metadata.name"),
    ("ka.response.code", "responseStatus.code"),
    ("ka.response.reason", "responseStatus.reason"),
    ("ka.useragent", "userAgent"),
    ("ka.sourceips", "sourceIPs (list)"),
    ("jevt.value[/ptr]", "any value by JSON pointer (RFC 6901)"),
    ("jevt.obj", "the whole event (JSON)"),
    (
        "jevt.time / jevt.time.iso8601 / jevt.rawtime",
        "event time (text / ISO 8601 / ns since epoch)",
    ),
];

fn path_field(name: &str) -> Option<(&'static [&'static str], bool)> {
    Some(match name {
        "ka.auditid" => (&["auditID"], false),
        "ka.stage" => (&["stage"], false),
        "ka.auth.decision" => (&["annotations", "authorization.k8s.io/decision"], false),
        "ka.auth.reason" => (&["annotations", "authorization.k8s.io/reason"], false),
        "ka.auth.openshift.decision" => (
            &["annotations", "authentication.openshift.io/decision"],
            false,
        ),
        "ka.auth.openshift.username" => (
            &["annotations", "authentication.openshift.io/username"],
            false,
        ),
        "ka.validations.admission.policy.failure" => (
            &[
                "annotations",
                "validation.policy.admission.k8s.io/validation_failure",
            ],
            false,
        ),
        "ka.security.pod.violations" => (
            &["annotations", "pod-security.kubernetes.io/audit-violations"],
            false,
        ),
        "ka.cluster.name" => (&["annotations", "cluster_name"], false),
        "ka.user.name" => (&["user", "username"], false),
        "ka.user.groups" => (&["user", "groups"], true),
        "ka.impuser.name" => (&["impersonatedUser", "username"], false),
        "ka.impuser.groups" => (&["impersonatedUser", "groups"], true),
        "ka.verb" => (&["verb"], false),
        "ka.uri" => (&["requestURI"], false),
        "ka.target.name" => (&["objectRef", "name"], false),
        "ka.target.namespace" => (&["objectRef", "namespace"], false),
        "ka.target.resource" => (&["objectRef", "resource"], false),
        "ka.target.subresource" => (&["objectRef", "subresource"], false),
        "ka.target.apigroup" => (&["objectRef", "apiGroup"], false),
        "ka.req.binding.subjects" => (&["requestObject", "subjects"], true),
        "ka.req.binding.role" => (&["requestObject", "roleRef", "name"], false),
        "ka.req.binding.role.kind" => (&["requestObject", "roleRef", "kind"], false),
        "ka.req.configmap.name" => (&["objectRef", "name"], false),
        "ka.req.configmap.obj" => (&["requestObject", "data"], false),
        "ka.req.pod.host_ipc" => (&["requestObject", "spec", "hostIPC"], false),
        "ka.req.pod.host_network" | "ka.req.container.host_network" => {
            (&["requestObject", "spec", "hostNetwork"], false)
        }
        "ka.req.pod.host_pid" => (&["requestObject", "spec", "hostPID"], false),
        "ka.req.pod.run_as_user" => (
            &["requestObject", "spec", "securityContext", "runAsUser"],
            false,
        ),
        "ka.req.pod.run_as_group" => (
            &["requestObject", "spec", "securityContext", "runAsGroup"],
            false,
        ),
        "ka.req.pod.fs_group" => (
            &["requestObject", "spec", "securityContext", "fsGroup"],
            false,
        ),
        "ka.req.pod.supplemental_groups" => (
            &[
                "requestObject",
                "spec",
                "securityContext",
                "supplementalGroups",
            ],
            true,
        ),
        "ka.req.role.rules" => (&["requestObject", "rules"], true),
        "ka.req.service.type" => (&["requestObject", "spec", "type"], false),
        "ka.resp.name" => (&["responseObject", "metadata", "name"], false),
        "ka.response.code" => (&["responseStatus", "code"], false),
        "ka.response.reason" => (&["responseStatus", "reason"], false),
        "ka.useragent" => (&["userAgent"], false),
        "ka.sourceips" => (&["sourceIPs"], true),
        _ => return None,
    })
}

fn container_attr(s: &str) -> Option<ContainerAttr> {
    Some(match s {
        "image" => ContainerAttr::Image,
        "image.repository" => ContainerAttr::Repository,
        "privileged" => ContainerAttr::SecCtx("privileged"),
        "allow_privilege_escalation" => ContainerAttr::SecCtx("allowPrivilegeEscalation"),
        "read_only_fs" => ContainerAttr::SecCtx("readOnlyRootFilesystem"),
        "run_as_user" => ContainerAttr::SecCtx("runAsUser"),
        "run_as_group" => ContainerAttr::SecCtx("runAsGroup"),
        "proc_mount" => ContainerAttr::SecCtx("procMount"),
        "eff_run_as_user" => ContainerAttr::Effective("runAsUser"),
        "eff_run_as_group" => ContainerAttr::Effective("runAsGroup"),
        "add_capabilities" => ContainerAttr::AddCapabilities,
        "host_port" => ContainerAttr::HostPort,
        _ => return None,
    })
}

/// Resolves a field name with its optional `[arg]`. `None` if the field is unknown or its
/// argument is missing where one is required.
pub fn resolve(name: &str, arg: Option<&str>) -> Option<Field> {
    let full = match arg {
        Some(a) => format!("{name}[{a}]"),
        None => name.to_string(),
    };
    let index = arg.and_then(|a| a.parse::<usize>().ok());
    let mk = |kind: FieldKind, list: bool| {
        Some(Field {
            name: std::sync::Arc::from(full.as_str()),
            kind,
            list,
        })
    };
    if let Some((path, list)) = path_field(name) {
        return mk(FieldKind::Path(path), list);
    }
    for (base, workload) in [("ka.req.pod.", false), ("ka.req.workload.", true)] {
        for cl in [
            ContainerList::Containers,
            ContainerList::InitContainers,
            ContainerList::EphemeralContainers,
        ] {
            let prefix = format!("{base}{}.", cl.key());
            if let Some(rest) = name.strip_prefix(prefix.as_str()) {
                let attr = container_attr(rest)?;
                return mk(
                    FieldKind::Container {
                        list: cl,
                        attr,
                        index,
                        workload,
                    },
                    true,
                );
            }
        }
    }
    if let Some(rest) = name.strip_prefix("ka.req.workload.") {
        let key = match rest {
            "host_network" => "hostNetwork",
            "host_pid" => "hostPID",
            "host_ipc" => "hostIPC",
            "volumes.hostpath" => {
                return mk(
                    FieldKind::Volumes {
                        what: VolumeAttr::HostPath,
                        index,
                        workload: true,
                    },
                    true,
                );
            }
            _ => return None,
        };
        return mk(FieldKind::WorkloadSpec(key), false);
    }
    match name {
        "ka.uri.param" => mk(FieldKind::UriParam(arg?.to_string()), false),
        "ka.req.container.image" => mk(FieldKind::FirstContainer(ContainerAttr::Image), false),
        "ka.req.container.image.repository" => {
            mk(FieldKind::FirstContainer(ContainerAttr::Repository), false)
        }
        "ka.req.container.privileged" => mk(FieldKind::AnyContainerPrivileged, false),
        "ka.req.binding.subject.has_name" => {
            arg?;
            mk(FieldKind::SubjectHasName, false)
        }
        "ka.req.binding.subjects.name" => mk(
            FieldKind::RoleRulesKey {
                key: "subjects.name",
                index,
            },
            true,
        ),
        "ka.req.binding.subjects.kind" => mk(
            FieldKind::RoleRulesKey {
                key: "subjects.kind",
                index,
            },
            true,
        ),
        "ka.req.role.rules.apiGroups" => mk(
            FieldKind::RoleRulesKey {
                key: "apiGroups",
                index,
            },
            true,
        ),
        "ka.req.role.rules.nonResourceURLs" => mk(
            FieldKind::RoleRulesKey {
                key: "nonResourceURLs",
                index,
            },
            true,
        ),
        "ka.req.role.rules.verbs" => mk(
            FieldKind::RoleRulesKey {
                key: "verbs",
                index,
            },
            true,
        ),
        "ka.req.role.rules.resources" => mk(
            FieldKind::RoleRulesKey {
                key: "resources",
                index,
            },
            true,
        ),
        "ka.req.role.rules.resourceNames" => mk(
            FieldKind::RoleRulesKey {
                key: "resourceNames",
                index,
            },
            true,
        ),
        "ka.req.volume.hostpath" => mk(FieldKind::VolumeHostpathArg(arg?.to_string()), false),
        "ka.req.pod.volumes.hostpath" => mk(
            FieldKind::Volumes {
                what: VolumeAttr::HostPath,
                index,
                workload: false,
            },
            true,
        ),
        "ka.req.pod.volumes.flexvolume_driver" => mk(
            FieldKind::Volumes {
                what: VolumeAttr::FlexDriver,
                index,
                workload: false,
            },
            true,
        ),
        "ka.req.pod.volumes.volume_type" => mk(
            FieldKind::Volumes {
                what: VolumeAttr::VolumeType,
                index,
                workload: false,
            },
            true,
        ),
        "ka.req.service.ports" => mk(FieldKind::ServicePorts(index), true),
        "jevt.value" => {
            let p = arg?;
            if !(p.is_empty() || p.starts_with('/')) {
                return None;
            }
            let tokens = p
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            mk(FieldKind::JevtValue(tokens), false)
        }
        "jevt.obj" => mk(FieldKind::JevtObj, false),
        "jevt.rawtime" => mk(FieldKind::JevtRawtime, false),
        "jevt.time" => mk(FieldKind::JevtTime, false),
        "jevt.time.iso8601" => mk(FieldKind::JevtTimeIso, false),
        _ => None,
    }
}

fn pointer<'a>(ev: &'a Event, tokens: &[String]) -> Option<J<'a>> {
    let (first, rest) = tokens.split_first()?;
    let mut cur = ev.get(first)?;
    for t in rest {
        cur = if cur.is_object() {
            cur.get(t)?
        } else if cur.is_array() {
            cur.index(t.parse::<usize>().ok()?)?
        } else {
            return None;
        };
    }
    Some(cur)
}

impl Field {
    /// `exists` without building the values (most fields: the value is present).
    pub fn exists(&self, ev: &Event) -> bool {
        match &self.kind {
            FieldKind::JevtRawtime | FieldKind::JevtObj | FieldKind::SubjectHasName => true,
            FieldKind::JevtValue(tokens) => pointer(ev, tokens).is_some(),
            FieldKind::Path(path) if !self.list => root(ev, path).is_some(),
            _ => !self.extract(ev).as_slice().is_empty(),
        }
    }

    /// Whether the field can expose request/response bodies (or the whole event).
    pub fn reads_body(&self) -> bool {
        match &self.kind {
            FieldKind::Path(p) => matches!(p.first(), Some(&("requestObject" | "responseObject"))),
            FieldKind::JevtValue(t) => t
                .first()
                .is_none_or(|s| s == "requestObject" || s == "responseObject"),
            FieldKind::UriParam(_)
            | FieldKind::JevtRawtime
            | FieldKind::JevtTime
            | FieldKind::JevtTimeIso => false,
            // Whole event, or fields under requestObject.
            _ => true,
        }
    }

    /// The names of fields a rule prefilter can key on.
    pub fn is_stage(&self) -> bool {
        match &self.kind {
            FieldKind::Path(p) => *p == ["stage"],
            FieldKind::JevtValue(t) => t.len() == 1 && t.first().is_some_and(|s| s == "stage"),
            _ => false,
        }
    }

    pub fn is_verb(&self) -> bool {
        matches!(&self.kind, FieldKind::Path(p) if *p == ["verb"])
    }

    pub fn is_resource(&self) -> bool {
        matches!(&self.kind, FieldKind::Path(p) if *p == ["objectRef", "resource"])
    }
}

fn text(v: J<'_>) -> Cow<'_, str> {
    v.text()
}

/// A key path from the event's top level.
fn root<'a>(ev: &'a Event, path: &[&str]) -> Option<J<'a>> {
    let (first, rest) = path.split_first()?;
    get_path(ev.get(first)?, rest)
}

fn get_path<'a>(v: J<'a>, path: &[&str]) -> Option<J<'a>> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    Some(cur)
}

/// The array at `v` (`None` if `v` is not an array).
fn array(v: J<'_>) -> Option<J<'_>> {
    v.is_array().then_some(v)
}

fn many(v: Vec<Cow<'_, str>>) -> Vals<'_> {
    if v.is_empty() {
        Vals::Missing
    } else {
        Vals::Many(v)
    }
}

/// All elements of an array, or only element `index`; `None` if that element is missing.
fn pick(arr: J<'_>, index: Option<usize>) -> Option<Vec<J<'_>>> {
    match index {
        None => Some(arr.items().collect()),
        Some(i) => arr.index(i).map(|v| vec![v]),
    }
}

fn repository(image: &str) -> &str {
    let no_tag = image.split(':').next().unwrap_or(image);
    no_tag.split('@').next().unwrap_or(no_tag)
}

/// The pod spec a field reads: `requestObject.spec` for pods; for workloads the pod
/// template's spec (`spec.template.spec`, or `spec.jobTemplate.spec.template.spec` for
/// CronJobs), falling back to `spec` so that `ka.req.workload.*` also covers bare pods.
fn pod_spec(ev: &Event, workload: bool) -> Option<J<'_>> {
    let spec = root(ev, &["requestObject", "spec"])?;
    if !workload {
        return Some(spec);
    }
    get_path(spec, &["template", "spec"])
        .or_else(|| get_path(spec, &["jobTemplate", "spec", "template", "spec"]))
        .or(Some(spec))
}

fn container_values<'a>(
    ev: &'a Event,
    key: &str,
    attr: ContainerAttr,
    index: Option<usize>,
    workload: bool,
) -> Vals<'a> {
    let Some(spec) = pod_spec(ev, workload) else {
        return Vals::Missing;
    };
    let Some(arr) = spec.get(key).and_then(array) else {
        return Vals::Missing;
    };
    let Some(arr) = pick(arr, index) else {
        return Vals::Missing;
    };
    let mut out = Vec::with_capacity(arr.len());
    for c in arr {
        let c = &c;
        match attr {
            ContainerAttr::Image => {
                if let Some(i) = c.get("image") {
                    out.push(text(i));
                }
            }
            ContainerAttr::Repository => {
                if let Some(i) = c.get("image").and_then(|v| v.as_str()) {
                    out.push(Cow::Borrowed(repository(i)));
                }
            }
            ContainerAttr::SecCtx(k) => {
                if let Some(v) = c.get("securityContext").and_then(|s| s.get(k))
                    && !v.is_null()
                {
                    out.push(text(v));
                }
            }
            ContainerAttr::Effective(k) => {
                let v = c
                    .get("securityContext")
                    .and_then(|s| s.get(k))
                    .or_else(|| spec.get("securityContext").and_then(|s| s.get(k)));
                out.push(v.map(text).unwrap_or(Cow::Borrowed("0")));
            }
            ContainerAttr::AddCapabilities => {
                if let Some(caps) = c
                    .get("securityContext")
                    .and_then(|s| s.get("capabilities"))
                    .and_then(|s| s.get("add"))
                    .and_then(array)
                {
                    out.extend(caps.items().map(text));
                }
            }
            ContainerAttr::HostPort => {
                if let Some(ports) = c.get("ports").and_then(array) {
                    for p in ports.items() {
                        if let Some(v) = p.get("hostPort").or_else(|| p.get("containerPort")) {
                            out.push(text(v));
                        }
                    }
                }
            }
        }
    }
    many(out)
}

/// RFC 3339 → nanoseconds since the Unix epoch (UTC offsets honoured).
pub fn parse_rfc3339_ns(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    // `str::parse::<i64>` of the range (optional sign, at least one digit), without the
    // UTF-8 check and the generic parser: this runs for every event (`jevt.rawtime`).
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let f = b.get(r)?;
        let (neg, digits) = match f.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, f),
        };
        if digits.is_empty() {
            return None;
        }
        let mut v: i64 = 0;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(if neg { -v } else { v })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut frac_ns: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        // Nanoseconds: the first 9 digits, right-padded with zeros; more digits ignored.
        let mut n = 0;
        while let Some(&c) = b.get(i)
            && c.is_ascii_digit()
        {
            if n < 9 {
                frac_ns = frac_ns * 10 + i64::from(c - b'0');
                n += 1;
            }
            i += 1;
        }
        for _ in n..9 {
            frac_ns *= 10;
        }
    }
    let offset_s: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_s;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(frac_ns))
}

fn event_time(ev: &Event) -> Option<&str> {
    ["stageTimestamp", "timestamp", "requestReceivedTimestamp"]
        .iter()
        .find_map(|k| ev.get_str(k))
}

/// First value of query parameter `key` in a request URI, percent-decoded.
fn uri_param<'a>(uri: &'a str, key: &str) -> Option<Cow<'a, str>> {
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(k) == key {
            return Some(percent_decode(v));
        }
    }
    None
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

impl Field {
    /// Extracts this field's values from an event.
    pub fn extract<'a>(&self, ev: &'a Event) -> Vals<'a> {
        match &self.kind {
            FieldKind::Path(path) => {
                let Some(v) = root(ev, path) else {
                    return Vals::Missing;
                };
                if self.list {
                    match array(v) {
                        Some(a) => many(a.items().map(text).collect()),
                        None => Vals::Missing,
                    }
                } else {
                    Vals::One(text(v))
                }
            }
            FieldKind::UriParam(k) => match ev
                .get("requestURI")
                .and_then(|v| v.as_str())
                .and_then(|u| uri_param(u, k))
            {
                Some(v) => Vals::One(v),
                None => Vals::Missing,
            },
            FieldKind::Container {
                list,
                attr,
                index,
                workload,
            } => container_values(ev, list.key(), *attr, *index, *workload),
            FieldKind::WorkloadSpec(key) => match pod_spec(ev, true).and_then(|s| s.get(key)) {
                Some(v) => Vals::One(text(v)),
                None => Vals::Missing,
            },
            FieldKind::FirstContainer(attr) => {
                match container_values(ev, "containers", *attr, Some(0), false) {
                    Vals::Many(mut v) if !v.is_empty() => Vals::One(v.swap_remove(0)),
                    _ => Vals::Missing,
                }
            }
            FieldKind::AnyContainerPrivileged => {
                let Some(arr) = root(ev, &["requestObject", "spec", "containers"]).and_then(array)
                else {
                    return Vals::Missing;
                };
                let any = arr.items().any(|c| {
                    c.get("securityContext")
                        .and_then(|s| s.get("privileged"))
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false)
                });
                Vals::One(Cow::Borrowed(if any { "true" } else { "false" }))
            }
            FieldKind::RoleRulesKey { key, index } => {
                let (arr_key, inner) = match key.split_once('.') {
                    Some(("subjects", k)) => ("subjects", k),
                    _ => ("rules", *key),
                };
                let Some(arr) = root(ev, &["requestObject", arr_key]).and_then(array) else {
                    return Vals::Missing;
                };
                let Some(arr) = pick(arr, *index) else {
                    return Vals::Missing;
                };
                let mut out = Vec::new();
                for r in arr {
                    match r.get(inner) {
                        Some(vs) if vs.is_array() => {
                            out.extend(vs.items().filter(|v| !v.is_null()).map(text))
                        }
                        Some(v) if v.is_null() => {}
                        None => {}
                        Some(v) => out.push(text(v)),
                    }
                }
                many(out)
            }
            FieldKind::SubjectHasName => Vals::One(Cow::Borrowed("true")),
            FieldKind::VolumeHostpathArg(arg) => {
                let Some(arr) = root(ev, &["requestObject", "spec", "volumes"]).and_then(array)
                else {
                    return Vals::Missing;
                };
                let prefix = arg.strip_suffix('*');
                let hit = arr.items().any(|v| {
                    v.get("hostPath")
                        .and_then(|h| h.get("path"))
                        .and_then(|p| p.as_str())
                        .is_some_and(|p| match prefix {
                            Some(pre) => p.starts_with(pre),
                            None => p == arg,
                        })
                });
                Vals::One(Cow::Borrowed(if hit { "true" } else { "false" }))
            }
            FieldKind::Volumes {
                what,
                index,
                workload,
            } => {
                let Some(arr) = pod_spec(ev, *workload)
                    .and_then(|s| s.get("volumes"))
                    .and_then(array)
                else {
                    return Vals::Missing;
                };
                let Some(arr) = pick(arr, *index) else {
                    return Vals::Missing;
                };
                let mut out = Vec::new();
                for v in arr {
                    match what {
                        VolumeAttr::HostPath => {
                            if let Some(p) = v.get("hostPath").and_then(|h| h.get("path")) {
                                out.push(text(p));
                            }
                        }
                        VolumeAttr::FlexDriver => {
                            if let Some(p) = v.get("flexVolume").and_then(|h| h.get("driver")) {
                                out.push(text(p));
                            }
                        }
                        VolumeAttr::VolumeType => {
                            // serde_json's map order (sorted keys), as before.
                            let mut keys: Vec<&str> = v
                                .entries()
                                .map(|(k, _)| k)
                                .filter(|k| *k != "name")
                                .collect();
                            keys.sort_unstable();
                            keys.dedup();
                            out.extend(keys.into_iter().map(Cow::Borrowed));
                        }
                    }
                }
                many(out)
            }
            FieldKind::ServicePorts(index) => {
                let Some(arr) = root(ev, &["requestObject", "spec", "ports"]).and_then(array)
                else {
                    return Vals::Missing;
                };
                match pick(arr, *index) {
                    Some(a) => many(a.into_iter().map(text).collect()),
                    None => Vals::Missing,
                }
            }
            // A whole top-level object or array: hand out its raw text instead of decoding
            // and re-serialising it (e.g. `jevt.value[/annotations] contains ...`).
            FieldKind::JevtValue(tokens)
                if tokens.len() == 1
                    && ev
                        .get(tokens.first().map(String::as_str).unwrap_or_default())
                        .is_some_and(|v| v.is_object() || v.is_array()) =>
            {
                match ev.raw(tokens.first().map(String::as_str).unwrap_or_default()) {
                    Some(r) => Vals::One(r),
                    None => Vals::Missing,
                }
            }
            FieldKind::JevtValue(tokens) => match pointer(ev, tokens) {
                Some(v) => Vals::One(text(v)),
                None => Vals::Missing,
            },
            FieldKind::JevtObj => Vals::One(Cow::Borrowed(ev.text())),
            FieldKind::JevtTime | FieldKind::JevtTimeIso => match event_time(ev) {
                Some(t) => Vals::One(Cow::Borrowed(t)),
                None => Vals::Missing,
            },
            FieldKind::JevtRawtime => match event_time(ev).and_then(parse_rfc3339_ns) {
                // Through i64 when it fits: i128 formatting is a slow library path, and
                // Falco's `k8s_audit_never_true` macro reads this field for every event.
                Some(ns) => Vals::One(Cow::Owned(match i64::try_from(ns) {
                    Ok(n) => n.to_string(),
                    Err(_) => ns.to_string(),
                })),
                // The json plugin always has an event timestamp (the capture time when the
                // event carries none), so the field exists; we use 1 so `jevt.rawtime=0` stays false.
                None => Vals::One(Cow::Borrowed("1")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ex(name: &str, arg: Option<&str>, ev: &serde_json::Value) -> Vec<String> {
        let f = resolve(name, arg).unwrap();
        let ev = Event::from_value(ev);
        f.extract(&ev)
            .as_slice()
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn scalar_and_list_fields() {
        let ev = json!({"user":{"username":"bob","groups":["a","b"]},"responseStatus":{"code":201},
            "requestURI":"/api/v1/namespaces/x/pods/p/exec?command=sh&command=-c&container=c%201"});
        assert_eq!(ex("ka.user.name", None, &ev), ["bob"]);
        assert_eq!(ex("ka.user.groups", None, &ev), ["a", "b"]);
        assert_eq!(ex("ka.response.code", None, &ev), ["201"]);
        assert_eq!(ex("ka.uri.param", Some("command"), &ev), ["sh"]);
        assert_eq!(ex("ka.uri.param", Some("container"), &ev), ["c 1"]);
        assert!(ex("ka.uri.param", Some("nope"), &ev).is_empty());
        assert!(ex("ka.impuser.name", None, &ev).is_empty());
    }

    #[test]
    fn container_fields() {
        let ev = json!({"requestObject":{"spec":{
            "securityContext":{"runAsUser":1000},
            "containers":[{"image":"nginx:1.2","securityContext":{"privileged":true,"capabilities":{"add":["NET_ADMIN"]}},
                           "ports":[{"containerPort":80},{"containerPort":81,"hostPort":8081}]},
                          {"image":"quay.io/x/y@sha256:abc","securityContext":{"runAsUser":0}}],
            "initContainers":[{"image":"busybox","securityContext":{"privileged":false}}],
            "volumes":[{"name":"a","hostPath":{"path":"/etc"}},{"name":"b","emptyDir":{}}]}}});
        assert_eq!(
            ex("ka.req.pod.containers.image", None, &ev),
            ["nginx:1.2", "quay.io/x/y@sha256:abc"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.image.repository", None, &ev),
            ["nginx", "quay.io/x/y"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.image", Some("1"), &ev),
            ["quay.io/x/y@sha256:abc"]
        );
        assert_eq!(ex("ka.req.pod.containers.privileged", None, &ev), ["true"]);
        assert_eq!(
            ex("ka.req.pod.initContainers.privileged", None, &ev),
            ["false"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.eff_run_as_user", None, &ev),
            ["1000", "0"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.add_capabilities", None, &ev),
            ["NET_ADMIN"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.host_port", None, &ev),
            ["80", "8081"]
        );
        assert_eq!(ex("ka.req.pod.volumes.hostpath", None, &ev), ["/etc"]);
        assert_eq!(
            ex("ka.req.pod.volumes.volume_type", None, &ev),
            ["hostPath", "emptyDir"]
        );
        assert_eq!(ex("ka.req.volume.hostpath", Some("/et*"), &ev), ["true"]);
        assert_eq!(ex("ka.req.container.privileged", None, &ev), ["true"]);
        assert_eq!(
            ex("ka.req.container.image.repository", None, &ev),
            ["nginx"]
        );
        assert!(ex("ka.req.pod.ephemeralContainers.image", None, &ev).is_empty());
    }

    #[test]
    fn role_rules_and_bindings() {
        let ev = json!({"requestObject":{"rules":[{"verbs":["get","*"],"resources":["pods"]},{"verbs":["list"],"nonResourceURLs":["/x"]}],
            "subjects":[{"kind":"User","name":"u"}],"roleRef":{"kind":"ClusterRole","name":"admin"}}});
        assert_eq!(
            ex("ka.req.role.rules.verbs", None, &ev),
            ["get", "*", "list"]
        );
        assert_eq!(ex("ka.req.role.rules.verbs", Some("1"), &ev), ["list"]);
        assert_eq!(ex("ka.req.role.rules.resources", None, &ev), ["pods"]);
        assert_eq!(ex("ka.req.binding.subjects.name", None, &ev), ["u"]);
        assert_eq!(
            ex("ka.req.binding.subjects", None, &ev),
            [r#"{"kind":"User","name":"u"}"#]
        );
        assert_eq!(ex("ka.req.binding.role", None, &ev), ["admin"]);
    }

    #[test]
    fn jevt_fields() {
        let ev = json!({"stage":"ResponseComplete","annotations":{"a/b":"x"},"stageTimestamp":"1970-01-01T00:00:01.5Z"});
        assert_eq!(ex("jevt.value", Some("/stage"), &ev), ["ResponseComplete"]);
        assert_eq!(ex("jevt.value", Some("/annotations/a~1b"), &ev), ["x"]);
        assert_eq!(ex("jevt.rawtime", None, &ev), ["1500000000"]);
        assert!(resolve("jevt.value", Some("stage")).is_none());
        assert!(resolve("ka.nope", None).is_none());
        assert!(resolve("ka.uri.param", None).is_none());
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339_ns("2018-10-25T14:09:12Z"),
            Some(1_540_476_552_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("2018-10-25T16:09:12.000001+02:00"),
            Some(1_540_476_552_000_001_000)
        );
        assert_eq!(parse_rfc3339_ns("nope"), None);
        // Fractions: padded to nanoseconds, digits past the ninth ignored, none at all = 0.
        let base = 1_540_476_552_000_000_000;
        for (t, ns) in [
            ("2018-10-25T14:09:12.5Z", 500_000_000),
            ("2018-10-25T14:09:12.123456789999Z", 123_456_789),
            ("2018-10-25T14:09:12.Z", 0),
        ] {
            assert_eq!(parse_rfc3339_ns(t), Some(base + ns), "{t}");
        }
        for t in [
            "2018-10-25T14:09:12",
            "2018-1x-25T14:09:12Z",
            "2018-10-25T14:09:12+0100",
            "2018-10-25T14:09:12.5",
        ] {
            assert_eq!(parse_rfc3339_ns(t), None, "{t}");
        }
    }

    #[test]
    fn render() {
        assert_eq!(Vals::Missing.render(false), "<NA>");
        assert_eq!(Vals::One("a".into()).render(false), "a");
        assert_eq!(
            Vals::Many(vec!["a".into(), "b".into()]).render(true),
            "(a,b)"
        );
    }
}
