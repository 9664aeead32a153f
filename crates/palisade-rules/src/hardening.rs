//! Workload hardening (family `hardening`) and reliability (family `reliability`) rules: what
//! the NSA/CISA guide, CIS Kubernetes Benchmark section 5, the kubernetes.io checklist and the
//! peer scanners ask for beyond the Pod Security Standards. Each rule is its metadata plus a
//! pure function from an object to hits (offending field paths and a message); the engine in
//! `lib.rs` turns hits into findings located at `file:line`.
//!
//! Semantics are chosen per rule and written in its rationale; where a peer differs (Trivy,
//! Checkov, Polaris...), the difference is deliberate and listed with its reason in
//! `testdata/peer-fixtures/allowlist.tsv`.

use palisade_core::{FieldPath, Reference, RuleFamily, RuleMeta, Severity};
use serde_json::Value;

use crate::pss::util::{get, get_arr, get_bool, get_int, get_obj, get_str, sub};
use crate::pss::{PodTemplate, workload_template};

/// One offending spot: the fields at fault (from the object root, first = where to point) and
/// a message naming the container, volume or variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub fields: Vec<FieldPath>,
    pub message: String,
    /// When the hit is about one line of a multi-line string at the first field: that line,
    /// so the finding points inside the value rather than at its key.
    pub value_line: Option<ValueLine>,
}

/// A line inside a multi-line string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueLine {
    /// 0-based line within the value.
    pub line: usize,
    /// How many lines the value has.
    pub lines: usize,
}

/// What a check sees: the object, and its pod template when it has one (known kinds and
/// templates found by shape, see [`workload_template`]).
pub(crate) struct Target<'a> {
    pub object: &'a Value,
    pub kind: &'a str,
    pub template: Option<PodTemplate<'a>>,
}

impl<'a> Target<'a> {
    pub fn new(object: &'a Value) -> Target<'a> {
        Target {
            object,
            kind: get_str(object, "kind").unwrap_or(""),
            template: workload_template(object),
        }
    }
}

type CheckFn = fn(&Target<'_>) -> Vec<Hit>;

/// A hardening or reliability rule: metadata, check, whether it runs by default, and the
/// corrected YAML its docs page shows.
pub(crate) struct Rule {
    pub meta: RuleMeta,
    pub check: CheckFn,
    /// Off unless selected by ID/name or `--select all` (noisy or environment-specific).
    pub opt_in: bool,
    /// Corrected YAML for the docs page.
    pub fix: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn rule(
    id: &'static str,
    name: &'static str,
    family: RuleFamily,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    references: &'static [Reference],
    check: CheckFn,
    opt_in: bool,
    fix: &'static str,
) -> Rule {
    Rule {
        meta: family.rule(
            id,
            name,
            title,
            severity,
            rationale,
            remediation,
            references,
        ),
        check,
        opt_in,
        fix,
    }
}

use Severity::{Critical, High, Info, Low, Medium};

// The upstream guide each family comes from; each rule's own page is `RuleMeta::docs_url`.
const H: RuleFamily = RuleFamily::new(
    "hardening",
    "https://kubernetes.io/docs/concepts/security/security-checklist/",
);
const REL: RuleFamily = RuleFamily::new(
    "reliability",
    "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/",
);

/// Hardening rules `HRD001..`, then reliability rules `REL001..`. IDs are never reused.
pub(crate) static RULES: [Rule; 36] = [
    rule(
        "HRD001",
        "read-only-root-filesystem",
        H,
        "Containers should run with a read-only root filesystem",
        Medium,
        "A writable root filesystem lets an attacker who gets code execution drop tools, modify binaries or persist in the container. An immutable filesystem with explicit `emptyDir` mounts for scratch space is one of the NSA/CISA guide's pod security basics.",
        "Set `securityContext.readOnlyRootFilesystem: true` on every container and init container; mount an `emptyDir` where the application must write.",
        &[
            Reference::new("k8s-checklist", "app.read-only-root-filesystem"),
            Reference::new("nsa", "pod-security.immutable-filesystem"),
            Reference::new("cis", "5.6.3"),
            Reference::new("trivy", "KSV-0014"),
            Reference::new("kubescape", "C-0017"),
            Reference::new("polaris", "notReadOnlyRootFilesystem"),
            Reference::new("kube-linter", "no-read-only-root-fs"),
            Reference::new(
                "kube-score",
                "container-security-context-readonlyrootfilesystem",
            ),
            Reference::new("checkov", "CKV_K8S_22"),
            Reference::new("kubesec", "ReadOnlyRootFilesystem"),
            Reference::new("kubeaudit", "rootfs"),
        ],
        check_read_only_root_fs,
        false,
        "spec:\n  containers:\n    - name: app\n      image: registry.example/app:1.4.2\n      securityContext:\n        readOnlyRootFilesystem: true\n      volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n  volumes:\n    - name: tmp\n      emptyDir: {}\n",
    ),
    rule(
        "HRD002",
        "cpu-requests",
        H,
        "Containers should request CPU",
        Low,
        "Without a CPU request the scheduler cannot place the pod sensibly and, under contention, the container gets the least CPU; a noisy neighbour can starve it. Requests also drive the QoS class.",
        "Set `resources.requests.cpu` on every container and init container (for example `100m`).",
        &[
            Reference::new("k8s-checklist", "app.resources-qos"),
            Reference::new("nsa", "network.resource-policies"),
            Reference::new("trivy", "KSV-0015"),
            Reference::new("kubescape", "C-0268"),
            Reference::new("polaris", "cpuRequestsMissing"),
            Reference::new("kube-linter", "unset-cpu-requirements"),
            Reference::new("kube-score", "container-resources"),
            Reference::new("checkov", "CKV_K8S_10"),
            Reference::new("kubesec", "RequestsCPU"),
        ],
        check_cpu_requests,
        false,
        "resources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n  limits:\n    cpu: 500m\n    memory: 128Mi\n",
    ),
    rule(
        "HRD003",
        "cpu-limits",
        H,
        "Containers should limit CPU",
        Low,
        "A container without a CPU limit can use all CPU on its node, a denial-of-service risk for every other workload there (the kubernetes.io checklist asks for CPU limits on sensitive workloads; NSA/CISA for resource policies).",
        "Set `resources.limits.cpu` on every container and init container, or enforce a default with a LimitRange in the namespace.",
        &[
            Reference::new("k8s-checklist", "app.resources-qos"),
            Reference::new("nsa", "network.resource-policies"),
            Reference::new("k8s-checklist", "pod-security.cpu-limit"),
            Reference::new("trivy", "KSV-0011"),
            Reference::new("kubescape", "C-0270"),
            Reference::new("polaris", "cpuLimitsMissing"),
            Reference::new("checkov", "CKV_K8S_11"),
            Reference::new("kubesec", "LimitsCPU"),
            Reference::new("kubeaudit", "limits"),
        ],
        check_cpu_limits,
        false,
        "resources:\n  requests:\n    cpu: 100m\n  limits:\n    cpu: 500m\n",
    ),
    rule(
        "HRD004",
        "memory-requests",
        H,
        "Containers should request memory",
        Low,
        "Without a memory request the scheduler may overcommit the node and the container is among the first evicted or OOM-killed under memory pressure.",
        "Set `resources.requests.memory` on every container and init container (for example `128Mi`).",
        &[
            Reference::new("k8s-checklist", "app.resources-qos"),
            Reference::new("nsa", "network.resource-policies"),
            Reference::new("trivy", "KSV-0016"),
            Reference::new("kubescape", "C-0269"),
            Reference::new("polaris", "memoryRequestsMissing"),
            Reference::new("kube-linter", "unset-memory-requirements"),
            Reference::new("kube-score", "container-resources"),
            Reference::new("checkov", "CKV_K8S_12"),
            Reference::new("kubesec", "RequestsMemory"),
        ],
        check_memory_requests,
        false,
        "resources:\n  requests:\n    memory: 128Mi\n  limits:\n    memory: 128Mi\n",
    ),
    rule(
        "HRD005",
        "memory-limits",
        H,
        "Containers should limit memory",
        Low,
        "A container without a memory limit can consume the node's memory until the kernel kills other workloads; the kubernetes.io checklist asks for a memory limit (at most the request) on every pod.",
        "Set `resources.limits.memory` on every container and init container, or enforce a default with a LimitRange.",
        &[
            Reference::new("k8s-checklist", "app.resources-qos"),
            Reference::new("nsa", "network.resource-policies"),
            Reference::new("k8s-checklist", "pod-security.memory-limit"),
            Reference::new("trivy", "KSV-0018"),
            Reference::new("kubescape", "C-0271"),
            Reference::new("polaris", "memoryLimitsMissing"),
            Reference::new("kube-linter", "unset-memory-requirements"),
            Reference::new("kube-score", "container-resources"),
            Reference::new("checkov", "CKV_K8S_13"),
            Reference::new("kubesec", "LimitsMemory"),
            Reference::new("kubeaudit", "limits"),
        ],
        check_memory_limits,
        false,
        "resources:\n  requests:\n    memory: 128Mi\n  limits:\n    memory: 128Mi\n",
    ),
    rule(
        "HRD006",
        "image-mutable-tag",
        H,
        "Images should not use the latest tag or no tag",
        Medium,
        "`:latest` and an image without a tag (which means `:latest`) can change under the same manifest: what runs is whatever was pushed last, so a compromised or broken push rolls out silently and rollbacks are not reproducible. An image pinned by digest passes whatever its tag.",
        "Use an immutable version tag (`app:1.4.2`) or pin by digest (`app@sha256:...`).",
        &[
            Reference::new("k8s-checklist", "images.digest-or-signature"),
            Reference::new("trivy", "KSV-0013"),
            Reference::new("polaris", "tagNotSpecified"),
            Reference::new("kube-linter", "latest-tag"),
            Reference::new("kube-score", "container-image-tag"),
            Reference::new("checkov", "CKV_K8S_14"),
            Reference::new("kubeaudit", "image"),
        ],
        check_image_tag,
        false,
        "containers:\n  - name: app\n    image: registry.example/app:1.4.2\n",
    ),
    rule(
        "HRD007",
        "image-digest",
        H,
        "Images should be pinned by digest",
        Low,
        "Tags are mutable even when they look like versions; only a `@sha256:` digest names exactly one image. The kubernetes.io checklist asks for images referenced by digest or verified by signature at admission. Opt-in: many teams verify signatures instead.",
        "Reference images as `registry.example/app:1.4.2@sha256:<digest>` (tools such as `crane digest` print the digest).",
        &[
            Reference::new("k8s-checklist", "images.digest-or-signature"),
            Reference::new("cis", "5.5.1"),
            Reference::new("kubescape", "C-0306"),
            Reference::new("checkov", "CKV_K8S_43"),
        ],
        check_image_digest,
        true,
        "containers:\n  - name: app\n    image: registry.example/app:1.4.2@sha256:4c1e9d0e5b6f9ab0c0f4e2c27e2b0b8d9f1d1e6bb7f8a3f7e7d1b8f1f0a3c2d1\n",
    ),
    rule(
        "HRD008",
        "image-pull-policy",
        H,
        "imagePullPolicy should be Always",
        Low,
        "With `IfNotPresent` or `Never`, a pod started on a node reuses whatever image is cached there under that name, without the registry checking that this pod may pull it (another tenant's private image can be run) and without picking up a re-pushed tag. Images pinned by digest are exempt: the cache cannot hold a different image under a digest.",
        "Set `imagePullPolicy: Always` (or pin the image by digest), or enable the `AlwaysPullImages` admission plugin.",
        &[
            Reference::new("k8s-checklist", "admission.always-pull-images"),
            Reference::new("polaris", "pullPolicyNotAlways"),
            Reference::new("kube-score", "container-image-pull-policy"),
            Reference::new("checkov", "CKV_K8S_15"),
        ],
        check_pull_policy,
        false,
        "containers:\n  - name: app\n    image: registry.example/app:1.4.2\n    imagePullPolicy: Always\n",
    ),
    rule(
        "HRD009",
        "automount-service-account-token",
        H,
        "Pods should not automount a service account token",
        Medium,
        "By default every pod gets an API token for its service account. Most applications never call the Kubernetes API; for them the token is only a credential an attacker can steal from a compromised container. The pod spec is what this rule reads: a ServiceAccount with `automountServiceAccountToken: false` is not visible here.",
        "Set `spec.automountServiceAccountToken: false` on pods that do not call the API (mount a projected token only where needed).",
        &[
            Reference::new("k8s-checklist", "app.automount-token"),
            Reference::new("nsa", "pod-security.service-account-tokens"),
            Reference::new("cis", "5.1.6"),
            Reference::new("k8s-checklist", "secrets.service-account-tokens"),
            Reference::new("trivy", "KSV-0036"),
            Reference::new("kubescape", "C-0034"),
            Reference::new("kubescape", "C-0190"),
            Reference::new("polaris", "automountServiceAccountToken"),
            Reference::new("checkov", "CKV_K8S_38"),
            Reference::new("kubesec", "AutomountServiceAccountToken"),
            Reference::new("kubeaudit", "asat"),
        ],
        check_automount,
        false,
        "spec:\n  automountServiceAccountToken: false\n  serviceAccountName: app\n",
    ),
    rule(
        "HRD010",
        "default-service-account",
        H,
        "Pods should not use the default service account",
        Low,
        "Every pod in a namespace that does not name a service account runs as `default`; any permission granted to `default` is granted to all of them, and their API identities cannot be told apart in audit logs.",
        "Create a ServiceAccount per workload and set `spec.serviceAccountName` to it.",
        &[
            Reference::new("k8s-checklist", "app.default-service-account"),
            Reference::new("cis", "5.1.5"),
            Reference::new("kubescape", "C-0189"),
            Reference::new("kube-linter", "default-service-account"),
            Reference::new("kubesec", "ServiceAccountName"),
            Reference::new("kubeaudit", "asat"),
        ],
        check_default_sa,
        false,
        "spec:\n  serviceAccountName: app\n",
    ),
    rule(
        "HRD011",
        "net-raw-not-dropped",
        H,
        "Containers should drop NET_RAW",
        Medium,
        "`NET_RAW` is in the container runtime's default capability set. It allows raw and packet sockets: ARP and DNS spoofing of other pods on the node, and it has been the entry point of several kernel exploits. Dropping `ALL` drops it too.",
        "Add `NET_RAW` (or `ALL`) to `securityContext.capabilities.drop` of every container.",
        &[
            Reference::new("k8s-checklist", "app.drop-capabilities"),
            Reference::new("cis", "5.2.8"),
            Reference::new("kubescape", "C-0199"),
            Reference::new("kubescape", "C-0211"),
            Reference::new("checkov", "CKV_K8S_28"),
            Reference::new("kubeaudit", "capabilities"),
        ],
        check_net_raw,
        false,
        "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n",
    ),
    rule(
        "HRD012",
        "dangerous-capabilities",
        H,
        "Containers must not add dangerous capabilities",
        High,
        "Some capabilities are each enough to escape a container or take over the node: `SYS_ADMIN` (mount, namespaces, BPF), `SYS_MODULE` (load kernel modules), `SYS_PTRACE` (inject into processes), `SYS_RAWIO`, `BPF`, `PERFMON`, `NET_ADMIN`, `NET_RAW`, `DAC_READ_SEARCH` (read any file by handle, the \"shocker\" escape), `SYS_BOOT`, `SYS_TIME`, `MAC_ADMIN`, `MAC_OVERRIDE`, `SYSLOG`, and `ALL`. This rule names them regardless of the PSS level you scan at.",
        "Remove the capability from `securityContext.capabilities.add`; grant the narrow one the workload needs (for example `NET_BIND_SERVICE`).",
        &[
            Reference::new("k8s-checklist", "app.drop-capabilities"),
            Reference::new("cis", "5.2.9"),
            Reference::new("nsa", "pod-security.enforcement"),
            Reference::new("trivy", "KSV-0005"),
            Reference::new("trivy", "KSV-0119"),
            Reference::new("trivy", "KSV-0120"),
            Reference::new("kubescape", "C-0046"),
            Reference::new("kubescape", "C-0057"),
            Reference::new("polaris", "dangerousCapabilities"),
            Reference::new("kube-linter", "drop-net-raw-capability"),
            Reference::new("checkov", "CKV_K8S_39"),
            Reference::new("kubesec", "CapSysAdmin"),
        ],
        check_dangerous_caps,
        false,
        "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]\n",
    ),
    rule(
        "HRD013",
        "sensitive-host-path",
        H,
        "Pods must not mount sensitive host paths",
        Critical,
        "Some host paths are node takeover by themselves: container runtime sockets (`docker.sock`, `containerd.sock`, `crio.sock`) start privileged containers, `/var/lib/kubelet` holds credentials, and `/`, `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/root`, `/var/run`, `/run`, `/var/lib/docker`, `/var/lib/containerd` expose host configuration, processes and devices.",
        "Remove the `hostPath` volume; talk to the runtime through a narrow API, read node information through the Downward API or a DaemonSet with a dedicated, reviewed exception.",
        &[
            Reference::new("kubesec", "ProcMount"),
            Reference::new("cis", "5.2.11"),
            Reference::new("nsa", "pod-security.enforcement"),
            Reference::new("trivy", "KSV-0006"),
            Reference::new("trivy", "KSV-0121"),
            Reference::new("kubescape", "C-0074"),
            Reference::new("kube-linter", "sensitive-host-mounts"),
            Reference::new("kube-linter", "docker-sock"),
            Reference::new("checkov", "CKV_K8S_27"),
            Reference::new("kubesec", "DockerSock"),
            Reference::new("kubesec", "ProcMount"),
            Reference::new("kubeaudit", "mounts"),
        ],
        check_sensitive_host_path,
        false,
        "volumes:\n  - name: cache\n    emptyDir: {}\n",
    ),
    rule(
        "HRD014",
        "writable-host-path",
        H,
        "hostPath volumes must be mounted read-only",
        High,
        "A hostPath mounted read-write lets the container change files on the node (binaries, configuration, other pods' data), which survives the pod and usually leads to node compromise.",
        "Set `readOnly: true` on every `volumeMounts` entry of a hostPath volume, or replace the volume.",
        &[
            Reference::new("cis", "5.2.11"),
            Reference::new("kubescape", "C-0045"),
            Reference::new("kube-linter", "writable-host-mount"),
        ],
        check_writable_host_path,
        false,
        "volumeMounts:\n  - name: host-logs\n    mountPath: /host/var/log\n    readOnly: true\n",
    ),
    rule(
        "HRD015",
        "run-as-high-uid",
        H,
        "Containers should run with a UID above 10000",
        Low,
        "Without user namespaces a container UID is the host UID. Low UIDs collide with system accounts on the node, so after an escape the process owns their files. A UID above 10000 is unlikely to exist on the host. Pods with `hostUsers: false` (a user namespace) are exempt. Opt-in.",
        "Set `securityContext.runAsUser` to a value above 10000 on the pod or every container.",
        &[
            Reference::new("k8s-checklist", "app.less-privileged-user"),
            Reference::new("trivy", "KSV-0020"),
            Reference::new("kube-score", "container-security-context-user-group-id"),
            Reference::new("checkov", "CKV_K8S_40"),
            Reference::new("kubesec", "RunAsUser"),
        ],
        check_high_uid,
        true,
        "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n  runAsGroup: 10001\n",
    ),
    rule(
        "HRD016",
        "run-as-high-gid",
        H,
        "Containers should run with a GID above 10000",
        Low,
        "As for UIDs: without user namespaces a container's primary GID is the host GID, and low GIDs are system groups on the node. Pods with `hostUsers: false` are exempt. Opt-in.",
        "Set `securityContext.runAsGroup` to a value above 10000 on the pod or every container.",
        &[
            Reference::new("k8s-checklist", "app.less-privileged-user"),
            Reference::new("trivy", "KSV-0021"),
            Reference::new("kube-score", "container-security-context-user-group-id"),
            Reference::new("kubesec", "RunAsGroup"),
        ],
        check_high_gid,
        true,
        "securityContext:\n  runAsGroup: 10001\n",
    ),
    rule(
        "HRD017",
        "root-group",
        H,
        "Pods should not run with the root group",
        Low,
        "GID 0 (as `runAsGroup`, `fsGroup` or in `supplementalGroups`) gives the process the root group's access to files in the image and on mounted volumes, which non-root UIDs alone do not prevent.",
        "Use a non-zero `runAsGroup` and `fsGroup` and remove 0 from `supplementalGroups`.",
        &[
            Reference::new("k8s-checklist", "app.less-privileged-user"),
            Reference::new("trivy", "KSV-0116"),
        ],
        check_root_group,
        false,
        "securityContext:\n  runAsGroup: 10001\n  fsGroup: 10001\n",
    ),
    rule(
        "HRD018",
        "secret-in-env",
        H,
        "Secrets must not be written as plain environment values",
        High,
        "An environment variable whose name says it holds a secret (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `*PRIVATE_KEY*`, `*ACCESS_KEY*`, `*CREDENTIAL*`; not `*_FILE`, `*_PATH`, `*_NAME`...) with a literal `value`, or whose value is a PEM private key, an AWS access key ID (`AKIA…`/`ASIA…`) or a pasted `NAME=value` line with such a name, puts the secret in the manifest, in Git, in `kubectl get -o yaml` for anyone who can read the workload, and in the API server's audit log.",
        "Store the value in a Secret and mount it as a file (or, second best, reference it with `valueFrom.secretKeyRef`).",
        &[
            Reference::new("nsa", "network.secrets"),
            Reference::new("k8s-checklist", "secrets.no-configmaps"),
            Reference::new("kubescape", "C-0012"),
            Reference::new("polaris", "sensitiveContainerEnvVar"),
            Reference::new("kube-linter", "env-var-secret"),
        ],
        check_secret_env_value,
        false,
        "env:\n  - name: DB_PASSWORD_FILE\n    value: /secrets/db/password\nvolumeMounts:\n  - name: db\n    mountPath: /secrets/db\n    readOnly: true\n",
    ),
    rule(
        "HRD019",
        "secret-as-env",
        H,
        "Secrets should be mounted as files, not environment variables",
        Low,
        "Environment variables leak: into child processes, crash dumps, `/proc/<pid>/environ`, debug endpoints and logs; they cannot be rotated without a restart. CIS 5.4.1 prefers Secrets as files.",
        "Replace `env[].valueFrom.secretKeyRef` and `envFrom[].secretRef` with a `secret` volume mounted read-only.",
        &[
            Reference::new("cis", "5.4.1"),
            Reference::new("nsa", "network.secrets"),
            Reference::new("kubescape", "C-0207"),
            Reference::new("kube-linter", "read-secret-from-env-var"),
            Reference::new("checkov", "CKV_K8S_35"),
            Reference::new("kubesec", "SecretsAsEnvironmentVariables"),
        ],
        check_secret_as_env,
        false,
        "volumeMounts:\n  - name: db\n    mountPath: /secrets/db\n    readOnly: true\nvolumes:\n  - name: db\n    secret:\n      secretName: db\n",
    ),
    rule(
        "HRD020",
        "default-namespace",
        H,
        "Workloads should not be placed in the default namespace",
        Low,
        "The `default` namespace is where everything lands by accident: policies, quotas and RBAC are rarely tailored to it, so workloads there share a boundary with whatever else was put there. Only an explicit `namespace: default` is reported; a manifest without a namespace is deployed wherever its tooling says.",
        "Create a namespace per application or team and set `metadata.namespace` to it.",
        &[
            Reference::new("cis", "5.6.4"),
            Reference::new("nsa", "network.namespaces"),
            Reference::new("trivy", "KSV-0110"),
            Reference::new("kubescape", "C-0061"),
            Reference::new("checkov", "CKV_K8S_21"),
        ],
        check_default_namespace,
        false,
        "metadata:\n  name: web\n  namespace: shop\n",
    ),
    rule(
        "HRD021",
        "host-aliases",
        H,
        "Pods should not override /etc/hosts with hostAliases",
        Low,
        "`hostAliases` writes entries into the pod's `/etc/hosts`, silently redirecting names away from cluster DNS; it hides where traffic goes and is a way to point a dependency at an attacker.",
        "Remove `spec.hostAliases` and fix name resolution in DNS.",
        &[
            Reference::new("trivy", "KSV-0007"),
            Reference::new("kubesec", "HostAliases"),
        ],
        check_host_aliases,
        false,
        "spec:\n  containers:\n    - name: app\n      image: registry.example/app:1.4.2\n",
    ),
    rule(
        "HRD022",
        "service-exposed",
        H,
        "Services should not be exposed with NodePort or LoadBalancer",
        Low,
        "A `NodePort` Service opens the port on every node's addresses and a `LoadBalancer` Service usually gives it a public address; both bypass an Ingress or gateway where TLS, authentication and rate limits live.",
        "Use `type: ClusterIP` behind an Ingress or Gateway, or restrict the load balancer with `loadBalancerSourceRanges` and document the exception.",
        &[
            Reference::new("k8s-checklist", "network.loadbalancer-externalips"),
            Reference::new("kube-linter", "exposed-services"),
            Reference::new("kube-score", "service-type"),
        ],
        check_service_exposed,
        false,
        "spec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      targetPort: 8080\n",
    ),
    rule(
        "HRD023",
        "service-external-ips",
        H,
        "Services must not set externalIPs",
        High,
        "Anyone who can create a Service with `externalIPs` can intercept traffic to those addresses cluster-wide (CVE-2020-8554, a man-in-the-middle with no fix other than forbidding the field; see the DenyServiceExternalIPs admission plugin).",
        "Remove `spec.externalIPs`; use a `LoadBalancer` Service or an Ingress.",
        &[
            Reference::new("k8s-checklist", "network.loadbalancer-externalips"),
            Reference::new("trivy", "KSV-0108"),
        ],
        check_external_ips,
        false,
        "spec:\n  type: ClusterIP\n",
    ),
    rule(
        "HRD024",
        "share-process-namespace",
        H,
        "Pods should not share one process namespace",
        Low,
        "With `shareProcessNamespace: true` every container sees and can signal the others' processes and read their `/proc/<pid>/root` filesystems and environment, so a compromised sidecar reaches the main container's secrets.",
        "Remove `spec.shareProcessNamespace` (or set it to `false`); use an ephemeral debug container when you need to inspect a pod.",
        &[Reference::new(
            "nsa",
            "pod-security.hardening-container-environments",
        )],
        check_share_process_namespace,
        false,
        "spec:\n  shareProcessNamespace: false\n",
    ),
    rule(
        "HRD025",
        "mac-profile-absent",
        H,
        "Pods should set an AppArmor profile or SELinux options",
        Info,
        "NSA/CISA and the kubernetes.io checklist ask for AppArmor or SELinux confinement. Many runtimes apply a default AppArmor profile anyway, so an absent setting is not the same as unconfined (PSS001 reports `Unconfined`); this rule asks for it to be explicit. Opt-in.",
        "Set `securityContext.appArmorProfile.type: RuntimeDefault` (or `Localhost`) on the pod, or `seLinuxOptions` on SELinux hosts.",
        &[
            Reference::new("k8s-checklist", "app.apparmor-selinux"),
            Reference::new("nsa", "pod-security.enforcement"),
            Reference::new("k8s-checklist", "pod-security.apparmor-or-selinux"),
            Reference::new("kubescape", "C-0055"),
            Reference::new("polaris", "linuxHardening"),
            Reference::new("kubesec", "ApparmorAny"),
            Reference::new("kubeaudit", "apparmor"),
        ],
        check_mac_absent,
        true,
        "spec:\n  securityContext:\n    appArmorProfile:\n      type: RuntimeDefault\n    seccompProfile:\n      type: RuntimeDefault\n",
    ),
    rule(
        "HRD026",
        "nginx-ingress-snippet",
        H,
        "Ingresses should not use ingress-nginx snippet annotations",
        High,
        "ingress-nginx `*-snippet` annotations inject raw NGINX configuration: anyone who can create an Ingress can read the controller's service account token and every Secret it can reach (CVE-2021-25742, CVE-2025-1974 family).",
        "Remove the `nginx.ingress.kubernetes.io/*-snippet` annotations and set `allow-snippet-annotations: \"false\"` in the controller ConfigMap.",
        &[
            Reference::new("kubescape", "C-0059"),
            Reference::new("checkov", "CKV_K8S_153"),
        ],
        check_nginx_snippet,
        false,
        "metadata:\n  annotations:\n    nginx.ingress.kubernetes.io/rewrite-target: /\n",
    ),
    rule(
        "HRD027",
        "configmap-secret-keys",
        H,
        "ConfigMaps should not hold secrets",
        Medium,
        "A ConfigMap whose keys say they hold a secret (`password`, `secret`, `token`, `api_key`, `private_key`, `access_key`, `credential`), or whose values contain a PEM private key, an AWS access key ID or `NAME=value` lines with such names, is readable by everyone who can read ConfigMaps, is not encrypted at rest by the Secret encryption configuration and shows in plain text in `kubectl describe`. The finding names what it found (a PEM private key and its type, a long-term or temporary AWS access key ID, or the secret-like name of a `NAME=value` line), never the secret itself, and points at its line inside a multi-line (`|`) value.",
        "Move the value into a Secret (and mount it as a file).",
        &[
            Reference::new("nsa", "network.secrets"),
            Reference::new("k8s-checklist", "secrets.no-configmaps"),
            Reference::new("trivy", "KSV-0109"),
            Reference::new("trivy", "KSV-01010"),
            Reference::new("kubescape", "C-0012"),
            Reference::new("polaris", "sensitiveConfigmapContent"),
        ],
        check_configmap_secrets,
        false,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: change-me\n",
    ),
    rule(
        "HRD028",
        "removed-api-version",
        H,
        "Objects should not use an apiVersion removed from Kubernetes",
        Low,
        "An apiVersion the API server no longer serves (for example `extensions/v1beta1` Deployment, removed in 1.16, or `batch/v1beta1` CronJob, removed in 1.25) cannot be applied to a current cluster: the manifest is stale, and what is running may differ from it. Palisade still evaluates such workloads like their current kind (an `extensions/v1beta1` Deployment like an `apps/v1` one), so nothing in them is skipped; this rule says the version is gone. The table of removed apiVersion/kind pairs and their releases follows the kubernetes.io Deprecated API Migration Guide (1.16, 1.22, 1.25, 1.26, 1.27, 1.29, 1.32 removals), plus the alpha `batch/v2alpha1` CronJob, removed in 1.21.",
        "Change `apiVersion` to the replacement the finding names (for workloads `apps/v1` or `batch/v1`; `kubectl convert` rewrites a manifest) and check the fields that changed between versions (for example `spec.selector`, required in `apps/v1`).",
        &[
            Reference::new("trivy", "KSV-0107"),
            Reference::new("kube-linter", "no-extensions-v1beta"),
            Reference::new("kubeaudit", "deprecatedapis"),
        ],
        check_removed_api,
        false,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n",
    ),
    rule(
        "HRD029",
        "nginx-ingress-annotation-injection",
        H,
        "ingress-nginx annotations should not carry characters that break out of nginx.conf",
        High,
        "ingress-nginx writes several annotation values into `nginx.conf` without escaping them. A value with a line break, whitespace, `;`, `{`, `}`, quotes or a backslash (and, in a URL or host, characters no URL may hold: `|`, `<`, `>`, `^`) ends the directive and injects configuration, which runs in the controller with its service account: IngressNightmare (CVE-2025-24514 `auth-url`, CVE-2025-1097 `auth-tls-match-cn`, CVE-2025-1098 `mirror-target`/`mirror-host`) and CVE-2023-5044 (`permanent-redirect`). Checked annotations: `auth-url`, `auth-signin`, `auth-tls-match-cn`, `mirror-target`, `mirror-host`, `permanent-redirect`, `temporal-redirect`, `rewrite-target`, `app-root`, `x-forwarded-prefix`, `upstream-vhost` (prefix `nginx.ingress.kubernetes.io/`). nginx variables (`$host`, `${host}`) are allowed; `auth-tls-match-cn` is a regular expression, so `|` and `\\` are allowed there.",
        "Write the annotation as one plain URL, host, path or `CN=` expression; upgrade ingress-nginx to 1.11.5 / 1.12.1 or later, which validates these annotations, and keep `--enable-annotation-validation` on.",
        &[Reference::new("trivy", "KCV-0093")],
        check_nginx_annotation_injection,
        false,
        "metadata:\n  annotations:\n    nginx.ingress.kubernetes.io/auth-url: https://auth.example.com/oauth2/auth\n",
    ),
    rule(
        "HRD030",
        "kube-system-workload",
        H,
        "User workloads should not run in kube-system",
        Medium,
        "`kube-system` holds the cluster's own components and their powerful service accounts and Secrets; it is usually exempt from Pod Security Admission and from the NetworkPolicies and quotas user namespaces get. A user workload placed there runs next to those credentials and outside the guard rails. Workloads labelled as system components are not reported: `tier: control-plane`, a `component` of the control plane, the addon labels `k8s-app`, `kubernetes.io/cluster-service: \"true\"` or `addonmanager.kubernetes.io/mode`, or a pod with priority class `system-cluster-critical`/`system-node-critical` (labels on the object or its pod template).",
        "Move the workload to its own namespace; if it is a cluster component, label it as one (for example `k8s-app: <name>`).",
        &[Reference::new("trivy", "KSV-0037")],
        check_kube_system_workload,
        false,
        "metadata:\n  name: app\n  namespace: app\n",
    ),
    rule(
        "HRD031",
        "netpol-pod-selector-missing",
        H,
        "NetworkPolicies should set spec.podSelector",
        Low,
        "`spec.podSelector` chooses the pods a NetworkPolicy applies to. When it is missing the API server reads it as empty, which selects every pod in the namespace: a policy written for some pods silently applies to all of them (an allow rule opens them all, a deny rule cuts them all off). Write `podSelector: {}` when every pod is meant.",
        "Set `spec.podSelector` to the labels of the pods the policy is for, or to `{}` for every pod in the namespace.",
        &[Reference::new("trivy", "KSV-0038")],
        check_netpol_pod_selector,
        false,
        "spec:\n  podSelector:\n    matchLabels:\n      app: db\n  policyTypes:\n    - Ingress\n",
    ),
    rule(
        "HRD032",
        "tiller",
        H,
        "Tiller (Helm 2's server) should not be deployed",
        Critical,
        "Tiller, Helm 2's in-cluster server (end of life since November 2020), serves an unauthenticated gRPC API on port 44134 unless TLS was set up by hand, and usually runs with cluster-admin: any pod that can reach it can install anything in any namespace. Reported for a container whose image is named `tiller` (e.g. `gcr.io/kubernetes-helm/tiller:v2.16.12`) and for a workload carrying the labels `helm init` gives it (`app: helm` with `name: tiller`).",
        "Migrate to Helm 3 (no in-cluster component; `helm 2to3` moves releases) and delete the Tiller deployment, its service and its service account binding.",
        &[Reference::new("trivy", "KSV-0102")],
        check_tiller,
        false,
        "# Helm 3 needs no in-cluster component: delete the tiller-deploy Deployment,\n# the tiller-deploy Service and the tiller ServiceAccount's ClusterRoleBinding.\n",
    ),
    rule(
        "HRD033",
        "host-users",
        H,
        "Pods should run in a user namespace (hostUsers: false)",
        Low,
        "With `spec.hostUsers: false` the pod gets its own user namespace: root in the container maps to an unprivileged UID on the node, so a container escape or a file written to a host mount lands as nobody, and several kernel CVEs stop being exploitable. It needs Kubernetes 1.33+ (beta, on by default; 1.30-1.32 behind the UserNamespacesSupport gate), Linux 6.3+ with idmap mounts and a runtime that supports it, hence opt-in. Pods that share a host namespace (`hostNetwork`/`hostPID`/`hostIPC`, reported by host-namespaces) and Windows pods cannot use it and are not reported.",
        "Set `spec.hostUsers: false` in the pod template.",
        &[Reference::new("kubesec", "HostUsers")],
        check_host_users,
        true,
        "spec:\n  hostUsers: false\n",
    ),
    rule(
        "REL001",
        "liveness-probe",
        REL,
        "Containers should have a liveness probe",
        Info,
        "Without a liveness probe a hung process keeps its pod Running forever. Jobs and CronJobs are exempt (they end on their own).",
        "Add `livenessProbe` (an `httpGet`, `tcpSocket`, `grpc` or `exec` check) to every long-running container.",
        &[
            Reference::new("kubescape", "C-0056"),
            Reference::new("polaris", "livenessProbeMissing"),
            Reference::new("kube-linter", "no-liveness-probe"),
            Reference::new("kube-score", "pod-probes"),
            Reference::new("checkov", "CKV_K8S_8"),
        ],
        check_liveness,
        false,
        "livenessProbe:\n  httpGet:\n    path: /healthz\n    port: 8080\n  periodSeconds: 10\n",
    ),
    rule(
        "REL002",
        "readiness-probe",
        REL,
        "Containers should have a readiness probe",
        Info,
        "Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it while overloaded. Jobs and CronJobs are exempt.",
        "Add `readinessProbe` to every container that serves traffic.",
        &[
            Reference::new("kubescape", "C-0018"),
            Reference::new("polaris", "readinessProbeMissing"),
            Reference::new("kube-linter", "no-readiness-probe"),
            Reference::new("kube-score", "pod-probes"),
            Reference::new("checkov", "CKV_K8S_9"),
        ],
        check_readiness,
        false,
        "readinessProbe:\n  httpGet:\n    path: /ready\n    port: 8080\n  periodSeconds: 5\n",
    ),
    rule(
        "REL003",
        "startup-probe",
        REL,
        "Slow-starting containers should have a startup probe",
        Info,
        "A container with a liveness probe but no startup probe is killed if it starts slower than the liveness budget. Reported for containers that have a liveness probe and no startup probe; Jobs and CronJobs are exempt.",
        "Add `startupProbe` with a generous `failureThreshold` x `periodSeconds`, so the liveness probe only starts once the application is up.",
        &[Reference::new("kube-score", "pod-probes")],
        check_startup,
        false,
        "startupProbe:\n  httpGet:\n    path: /healthz\n    port: 8080\n  failureThreshold: 30\n  periodSeconds: 10\n",
    ),
];

// ---- helpers --------------------------------------------------------------------------------

/// Which container lists a rule looks at.
#[derive(Clone, Copy)]
enum Which {
    /// `containers` only (probes).
    Main,
    /// `initContainers` and `containers` (resources: the API forbids them on ephemeral
    /// containers).
    InitAndMain,
    /// All three, including `ephemeralContainers` (images, securityContext: a debug container
    /// runs in the pod's namespaces with whatever securityContext it sets, and PSA checks it).
    All,
}

struct Container<'a> {
    path: FieldPath,
    value: &'a Value,
    name: &'a str,
}

fn containers<'a>(t: &PodTemplate<'a>, which: Which) -> Vec<Container<'a>> {
    let keys: &[&str] = match which {
        Which::Main => &["containers"],
        Which::InitAndMain => &["initContainers", "containers"],
        Which::All => &["initContainers", "containers", "ephemeralContainers"],
    };
    let spec_path = sub(&t.base, &["spec"]);
    let mut out = Vec::new();
    for key in keys {
        for (i, c) in get_arr(t.spec, key).iter().enumerate() {
            if c.is_object() {
                out.push(Container {
                    path: spec_path.clone().key(*key).index(i),
                    value: c,
                    name: get_str(c, "name").unwrap_or(""),
                });
            }
        }
    }
    out
}

fn spec_path(t: &PodTemplate<'_>, keys: &[&str]) -> FieldPath {
    sub(&sub(&t.base, &["spec"]), keys)
}

fn hit(field: FieldPath, message: String) -> Hit {
    Hit {
        fields: vec![field],
        message,
        value_line: None,
    }
}

/// One hit per container for which `bad` returns the field (relative to the container).
fn per_container(
    t: &Target<'_>,
    which: Which,
    bad: impl Fn(&Container<'_>) -> Option<(Vec<&'static str>, String)>,
) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    containers(tpl, which)
        .iter()
        .filter_map(|c| bad(c).map(|(keys, msg)| hit(sub(&c.path, &keys), msg)))
        .collect()
}

fn sc(c: &Value) -> Option<&Value> {
    get_obj(c, "securityContext")
}

fn pod_sc<'a>(t: &PodTemplate<'a>) -> Option<&'a Value> {
    get_obj(t.spec, "securityContext")
}

// ---- checks ---------------------------------------------------------------------------------

fn check_read_only_root_fs(t: &Target<'_>) -> Vec<Hit> {
    per_container(t, Which::All, |c| {
        (sc(c.value).and_then(|s| get_bool(s, "readOnlyRootFilesystem")) != Some(true)).then(|| {
            (
                vec!["securityContext", "readOnlyRootFilesystem"],
                format!(
                    "container {:?} does not set securityContext.readOnlyRootFilesystem=true",
                    c.name
                ),
            )
        })
    })
}

fn resource_check(t: &Target<'_>, kind: &'static str, res: &'static str) -> Vec<Hit> {
    per_container(t, Which::InitAndMain, |c| {
        let set = get_obj(c.value, "resources")
            .and_then(|r| get_obj(r, kind))
            .and_then(|m| get(m, res))
            .is_some_and(|v| !matches!(v, Value::String(s) if s.is_empty()));
        (!set).then(|| {
            (
                vec!["resources", kind, res],
                format!("container {:?} does not set resources.{kind}.{res}", c.name),
            )
        })
    })
}

fn check_cpu_requests(t: &Target<'_>) -> Vec<Hit> {
    resource_check(t, "requests", "cpu")
}
fn check_cpu_limits(t: &Target<'_>) -> Vec<Hit> {
    resource_check(t, "limits", "cpu")
}
fn check_memory_requests(t: &Target<'_>) -> Vec<Hit> {
    resource_check(t, "requests", "memory")
}
fn check_memory_limits(t: &Target<'_>) -> Vec<Hit> {
    resource_check(t, "limits", "memory")
}

/// `(name, tag, digest)` of an image reference. The tag is what follows the last `:` after
/// the last `/` (a registry port such as `host:5000/app` is not a tag).
pub(crate) fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest.get(slash..).and_then(|last| last.rfind(':')) {
        Some(colon) => {
            let at = slash + colon;
            (rest.get(..at).unwrap_or(rest), rest.get(at + 1..), digest)
        }
        None => (rest, None, digest),
    }
}

fn check_image_tag(t: &Target<'_>) -> Vec<Hit> {
    per_container(t, Which::All, |c| {
        let image = get_str(c.value, "image")?;
        let (_, tag, digest) = split_image(image.trim());
        if digest.is_some() {
            return None;
        }
        match tag {
            Some(tag) if !tag.is_empty() && tag != "latest" => None,
            _ => Some((
                vec!["image"],
                format!(
                    "container {:?} uses image {image:?} with {}",
                    c.name,
                    if tag.is_some_and(|t| t == "latest") {
                        "the mutable tag \"latest\""
                    } else {
                        "no tag (that is, \"latest\")"
                    }
                ),
            )),
        }
    })
}

fn check_image_digest(t: &Target<'_>) -> Vec<Hit> {
    per_container(t, Which::All, |c| {
        let image = get_str(c.value, "image")?;
        let (_, _, digest) = split_image(image.trim());
        digest.is_none().then(|| {
            (
                vec!["image"],
                format!(
                    "container {:?} image {image:?} is not pinned by digest",
                    c.name
                ),
            )
        })
    })
}

fn check_pull_policy(t: &Target<'_>) -> Vec<Hit> {
    per_container(t, Which::All, |c| {
        let image = get_str(c.value, "image").unwrap_or("");
        if split_image(image.trim()).2.is_some() {
            return None;
        }
        match get_str(c.value, "imagePullPolicy") {
            Some("Always") => None,
            // Unset with a `latest`/missing tag defaults to Always (API server defaulting).
            None if matches!(split_image(image.trim()).1, None | Some("latest")) => None,
            other => Some((
                vec!["imagePullPolicy"],
                format!(
                    "container {:?} has imagePullPolicy {}",
                    c.name,
                    other.map_or_else(
                        || "IfNotPresent (the default for a tagged image)".to_owned(),
                        |p| format!("{p:?}")
                    )
                ),
            )),
        }
    })
}

fn check_automount(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    if get_bool(tpl.spec, "automountServiceAccountToken") == Some(false) {
        return Vec::new();
    }
    vec![hit(
        spec_path(tpl, &["automountServiceAccountToken"]),
        "pod does not set automountServiceAccountToken=false".to_owned(),
    )]
}

fn check_default_sa(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let name = get_str(tpl.spec, "serviceAccountName")
        .filter(|s| !s.is_empty())
        .or_else(|| get_str(tpl.spec, "serviceAccount").filter(|s| !s.is_empty()));
    match name {
        Some(n) if n != "default" => Vec::new(),
        _ => vec![hit(
            spec_path(tpl, &["serviceAccountName"]),
            "pod runs as the namespace's default service account".to_owned(),
        )],
    }
}

/// A capability as the runtime reads it: upper case, without a `CAP_` prefix.
fn cap_name(v: &Value) -> Option<String> {
    let s = v.as_str()?.trim().to_ascii_uppercase();
    Some(s.strip_prefix("CAP_").map(str::to_owned).unwrap_or(s))
}

fn caps<'a>(c: &'a Value, list: &str) -> &'a [Value] {
    sc(c)
        .and_then(|s| get_obj(s, "capabilities"))
        .map_or(&[], |caps| get_arr(caps, list))
}

fn check_net_raw(t: &Target<'_>) -> Vec<Hit> {
    per_container(t, Which::All, |c| {
        let dropped = caps(c.value, "drop")
            .iter()
            .filter_map(cap_name)
            .any(|n| n == "NET_RAW" || n == "ALL");
        (!dropped).then(|| {
            (
                vec!["securityContext", "capabilities", "drop"],
                format!("container {:?} does not drop NET_RAW (or ALL)", c.name),
            )
        })
    })
}

const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "BPF",
    "DAC_READ_SEARCH",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "NET_ADMIN",
    "NET_RAW",
    "PERFMON",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_TIME",
];

fn check_dangerous_caps(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for c in containers(tpl, Which::All) {
        let add = caps(c.value, "add");
        let bad: Vec<(usize, String)> = add
            .iter()
            .enumerate()
            .filter_map(|(i, v)| cap_name(v).map(|n| (i, n)))
            .filter(|(_, n)| DANGEROUS_CAPS.contains(&n.as_str()))
            .collect();
        if bad.is_empty() {
            continue;
        }
        let base = sub(&c.path, &["securityContext", "capabilities", "add"]);
        hits.push(Hit {
            value_line: None,
            fields: bad.iter().map(|(i, _)| base.clone().index(*i)).collect(),
            message: format!(
                "container {:?} adds {}",
                c.name,
                bad.iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    hits
}

const SENSITIVE_DIRS: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/var/run",
    "/run",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/crio",
    "/var/lib/etcd",
    "/etc/kubernetes",
];
const RUNTIME_SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "dockershim.sock",
    "podman.sock",
];

/// Why a host path is sensitive, if it is: `/` itself, a runtime socket anywhere, or at or
/// under one of [`SENSITIVE_DIRS`].
pub(crate) fn sensitive_host_path(path: &str) -> Option<&'static str> {
    let p = path.trim();
    let trimmed = p.trim_end_matches('/');
    if p.starts_with('/') && trimmed.is_empty() {
        return Some("the host's root filesystem");
    }
    let file = trimmed.rsplit('/').next().unwrap_or(trimmed);
    if RUNTIME_SOCKETS.contains(&file) {
        return Some("a container runtime socket");
    }
    SENSITIVE_DIRS
        .iter()
        .find(|d| {
            trimmed == **d
                || trimmed
                    .strip_prefix(**d)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .map(|_| "a sensitive host directory")
}

fn host_path_volumes<'a>(tpl: &PodTemplate<'a>) -> Vec<(usize, &'a str, &'a Value)> {
    get_arr(tpl.spec, "volumes")
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, get_str(v, "name").unwrap_or(""), get_obj(v, "hostPath")?)))
        .collect()
}

fn check_sensitive_host_path(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    host_path_volumes(tpl)
        .into_iter()
        .filter_map(|(i, name, hp)| {
            let path = get_str(hp, "path")?;
            let why = sensitive_host_path(path)?;
            Some(hit(
                spec_path(tpl, &["volumes"])
                    .index(i)
                    .key("hostPath")
                    .key("path"),
                format!("volume {name:?} mounts hostPath {path:?}, {why}"),
            ))
        })
        .collect()
}

fn check_writable_host_path(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let host: Vec<&str> = host_path_volumes(tpl).iter().map(|(_, n, _)| *n).collect();
    if host.is_empty() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for c in containers(tpl, Which::All) {
        for (j, m) in get_arr(c.value, "volumeMounts").iter().enumerate() {
            let Some(vol) = get_str(m, "name") else {
                continue;
            };
            if host.contains(&vol) && get_bool(m, "readOnly") != Some(true) {
                hits.push(hit(
                    sub(&c.path, &["volumeMounts"]).index(j).key("readOnly"),
                    format!(
                        "container {:?} mounts hostPath volume {vol:?} writable",
                        c.name
                    ),
                ));
            }
        }
    }
    hits
}

/// The effective value of an integer securityContext field: the container's, else the pod's.
fn effective_int(tpl: &PodTemplate<'_>, c: &Value, key: &str) -> Option<i64> {
    sc(c)
        .and_then(|s| get_int(s, key))
        .or_else(|| pod_sc(tpl).and_then(|s| get_int(s, key)))
}

fn high_id(t: &Target<'_>, key: &'static str, what: &str) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    // In a user namespace container IDs are not host IDs: nothing to collide with.
    if get_bool(tpl.spec, "hostUsers") == Some(false) {
        return Vec::new();
    }
    containers(tpl, Which::All)
        .iter()
        .filter_map(|c| {
            let v = effective_int(tpl, c.value, key);
            if v.is_some_and(|v| v > 10000) {
                return None;
            }
            let field = if sc(c.value).and_then(|s| get_int(s, key)).is_some()
                || pod_sc(tpl).and_then(|s| get_int(s, key)).is_none()
            {
                sub(&c.path, &["securityContext", key])
            } else {
                spec_path(tpl, &["securityContext", key])
            };
            Some(hit(
                field,
                match v {
                    Some(v) => format!("container {:?} runs with {what} {v} (<= 10000)", c.name),
                    None => format!("container {:?} does not set {key}", c.name),
                },
            ))
        })
        .collect()
}

fn check_high_uid(t: &Target<'_>) -> Vec<Hit> {
    high_id(t, "runAsUser", "UID")
}
fn check_high_gid(t: &Target<'_>) -> Vec<Hit> {
    high_id(t, "runAsGroup", "GID")
}

fn check_root_group(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let mut fields = Vec::new();
    if let Some(psc) = pod_sc(tpl) {
        for key in ["runAsGroup", "fsGroup"] {
            if get_int(psc, key) == Some(0) {
                fields.push(spec_path(tpl, &["securityContext", key]));
            }
        }
        for (i, g) in get_arr(psc, "supplementalGroups").iter().enumerate() {
            if g.as_i64() == Some(0) {
                fields.push(spec_path(tpl, &["securityContext", "supplementalGroups"]).index(i));
            }
        }
    }
    for c in containers(tpl, Which::All) {
        if sc(c.value).and_then(|s| get_int(s, "runAsGroup")) == Some(0) {
            fields.push(sub(&c.path, &["securityContext", "runAsGroup"]));
        }
    }
    if fields.is_empty() {
        return Vec::new();
    }
    vec![Hit {
        value_line: None,
        message: format!(
            "pod runs with the root group (GID 0) in {}",
            fields
                .iter()
                .map(|f| f
                    .segments()
                    .iter()
                    .rev()
                    .find_map(|s| match s {
                        palisade_core::PathSeg::Key(k) => Some(k.as_str()),
                        palisade_core::PathSeg::Index(_) => None,
                    })
                    .unwrap_or(""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        fields,
    }]
}

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "ACCESS_KEY",
    "ACCESSKEY",
    "CREDENTIAL",
];

/// Whether a variable or key name says it holds a secret. Names that say they hold a *path*
/// or a *reference* to one (`*_FILE`, `*_PATH`, `*_DIR`, `*_NAME`, `*_REF`) do not.
pub(crate) fn secret_like(name: &str) -> bool {
    // Compared in place, upper-cased with `-` and `.` read as `_`: this runs on every
    // `key: value` line of every ConfigMap value (dashboards hold thousands), and allocating a
    // normalised copy per line was most of a scan's rule time on the corpus.
    let n = name.as_bytes();
    let norm = |b: u8| match b {
        b'-' | b'.' => b'_',
        b => b.to_ascii_uppercase(),
    };
    let eq_at = |at: usize, word: &str| {
        n.get(at..at + word.len())
            .is_some_and(|s| s.iter().zip(word.bytes()).all(|(&a, w)| norm(a) == w))
    };
    if ["_FILE", "_PATH", "_DIR", "_NAME", "_REF", "_URL"]
        .iter()
        .any(|s| n.len() >= s.len() && eq_at(n.len() - s.len(), s))
    {
        return false;
    }
    SECRET_WORDS
        .iter()
        .any(|w| n.len() >= w.len() && (0..=n.len() - w.len()).any(|i| eq_at(i, w)))
}

/// What kind of secret a literal value holds, as a finding names it (the secret itself is
/// never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretKind {
    /// A PEM block `-----BEGIN <label>-----` whose label says `PRIVATE KEY`; holds the label.
    PrivateKey(String),
    /// An AWS access key ID: `AKIA` long-term, `ASIA` temporary (STS).
    AwsAccessKeyId { temporary: bool },
    /// A `NAME=value` / `NAME: value` line whose name is [`secret_like`]; holds the name.
    Assignment(String),
}

impl std::fmt::Display for SecretKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretKind::PrivateKey(label) => write!(f, "a PEM private key ({label})"),
            SecretKind::AwsAccessKeyId { temporary: false } => {
                f.write_str("an AWS access key ID (AKIA..., long-term)")
            }
            SecretKind::AwsAccessKeyId { temporary: true } => {
                f.write_str("an AWS temporary access key ID (ASIA...)")
            }
            SecretKind::Assignment(name) => {
                write!(f, "a value assigned to the secret-like name {name:?}")
            }
        }
    }
}

/// An AWS access key ID (`AKIA` long-term, `ASIA` temporary, then 16 upper-case letters or
/// digits) in `line`: a fixed, documented format, so matching it has almost no false
/// positives, whatever the variable or key is called.
fn aws_access_key_id(line: &str) -> Option<SecretKind> {
    if !(line.contains("AKIA") || line.contains("ASIA")) {
        return None;
    }
    line.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            w.len() == 20
                && (w.starts_with("AKIA") || w.starts_with("ASIA"))
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .map(|w| SecretKind::AwsAccessKeyId {
            temporary: w.starts_with("ASIA"),
        })
}

/// `-----BEGIN RSA PRIVATE KEY-----`, also with fewer dashes as people paste them.
fn pem_private_key(line: &str) -> Option<SecretKind> {
    let l = line.trim();
    if !l.starts_with("--") {
        return None;
    }
    let label = l.trim_start_matches('-').strip_prefix("BEGIN ")?;
    let label = label.split('-').next().unwrap_or(label).trim();
    label
        .contains("PRIVATE KEY")
        .then(|| SecretKind::PrivateKey(label.to_owned()))
}

/// `NAME=value` / `NAME: value` (optionally `export NAME=value`) with a [`secret_like`] name
/// and a literal value (an env file or properties file pasted into a value).
fn secret_assignment(line: &str) -> Option<SecretKind> {
    let line = line.trim().trim_start_matches("export ").trim();
    let (k, v) = line.split_once(['=', ':'])?;
    let k = k.trim();
    // Cheap refusals first: most lines of a config file are not `NAME=value`.
    if k.is_empty() || k.contains(char::is_whitespace) {
        return None;
    }
    let v = v.trim().trim_matches(['"', '\'']);
    // `${VAR}` / `$(VAR)` is a reference filled in at runtime, not the secret.
    let reference =
        (v.starts_with("${") && v.ends_with('}')) || (v.starts_with("$(") && v.ends_with(')'));
    // An empty YAML/JSON collection or null (`custom_secrets: []` in an application's config)
    // names no secret.
    let empty = matches!(v, "[]" | "{}" | "null" | "~");
    (!k.is_empty()
        && !k.contains(char::is_whitespace)
        && secret_like(k)
        && !v.is_empty()
        && !reference
        && !empty)
        .then(|| SecretKind::Assignment(k.to_owned()))
}

/// The first secret in a literal value: the 0-based line it is on and its kind. A secret is
/// a PEM private key block, an AWS access key ID, or a line `NAME=value` / `NAME: value`
/// whose name is [`secret_like`].
pub(crate) fn find_secret(value: &str) -> Option<(usize, SecretKind)> {
    // One search of the whole value each decides whether any line can hold a key block or an
    // access key ID, so the per-line work on long values (dashboards, scripts) is one test.
    let pem = value.contains("PRIVATE KEY");
    let aws = value.contains("AKIA") || value.contains("ASIA");
    value.lines().enumerate().find_map(|(i, line)| {
        pem.then(|| pem_private_key(line))
            .flatten()
            .or_else(|| aws.then(|| aws_access_key_id(line)).flatten())
            .or_else(|| secret_assignment(line))
            .map(|kind| (i, kind))
    })
}

/// The line of a multi-line value a hit should point at; `None` for a one-line value (its
/// key's line is the value's line).
fn line_within(value: &str, line: usize) -> Option<ValueLine> {
    value.contains('\n').then(|| ValueLine {
        line,
        lines: value.lines().count(),
    })
}

fn check_secret_env_value(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for c in containers(tpl, Which::All) {
        for (j, e) in get_arr(c.value, "env").iter().enumerate() {
            let name = get_str(e, "name").unwrap_or("");
            let value = get_str(e, "value").unwrap_or("");
            let field = sub(&c.path, &["env"]).index(j).key("value");
            if !value.trim().is_empty() && secret_like(name) {
                hits.push(hit(
                    field,
                    format!(
                        "container {:?} sets secret-like variable {name:?} to a literal value",
                        c.name
                    ),
                ));
            } else if let Some((line, kind)) = find_secret(value) {
                hits.push(Hit {
                    fields: vec![field],
                    message: format!(
                        "container {:?} variable {name:?} holds {kind}{}",
                        c.name,
                        line_phrase(value, line)
                    ),
                    value_line: line_within(value, line),
                });
            }
        }
    }
    hits
}

/// ` on line N of its value` for a multi-line value, nothing for a one-line value.
fn line_phrase(value: &str, line: usize) -> String {
    if value.contains('\n') {
        format!(" on line {} of its value", line + 1)
    } else {
        String::new()
    }
}

fn check_secret_as_env(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for c in containers(tpl, Which::All) {
        let mut fields = Vec::new();
        let mut names = Vec::new();
        for (j, e) in get_arr(c.value, "env").iter().enumerate() {
            if get_obj(e, "valueFrom")
                .and_then(|v| get_obj(v, "secretKeyRef"))
                .is_some()
            {
                fields.push(sub(&c.path, &["env"]).index(j).key("valueFrom"));
                names.push(get_str(e, "name").unwrap_or("").to_owned());
            }
        }
        for (j, e) in get_arr(c.value, "envFrom").iter().enumerate() {
            if let Some(s) = get_obj(e, "secretRef") {
                fields.push(sub(&c.path, &["envFrom"]).index(j).key("secretRef"));
                names.push(format!(
                    "envFrom secret {:?}",
                    get_str(s, "name").unwrap_or("")
                ));
            }
        }
        if !fields.is_empty() {
            hits.push(Hit {
                value_line: None,
                fields,
                message: format!(
                    "container {:?} reads Secrets into environment variables ({})",
                    c.name,
                    names.join(", ")
                ),
            });
        }
    }
    hits
}

fn check_default_namespace(t: &Target<'_>) -> Vec<Hit> {
    if t.template.is_none() {
        return Vec::new();
    }
    let ns = get_obj(t.object, "metadata").and_then(|m| get_str(m, "namespace"));
    if ns == Some("default") {
        vec![hit(
            FieldPath::parse("metadata.namespace"),
            format!("{} is placed in the default namespace", t.kind),
        )]
    } else {
        Vec::new()
    }
}

fn check_host_aliases(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    if get_arr(tpl.spec, "hostAliases").is_empty() {
        return Vec::new();
    }
    vec![hit(
        spec_path(tpl, &["hostAliases"]),
        "pod overrides /etc/hosts with hostAliases".to_owned(),
    )]
}

fn is_service(t: &Target<'_>) -> bool {
    t.kind == "Service" && get_str(t.object, "apiVersion") == Some("v1")
}

fn check_service_exposed(t: &Target<'_>) -> Vec<Hit> {
    if !is_service(t) {
        return Vec::new();
    }
    let spec = get_obj(t.object, "spec");
    match spec.and_then(|s| get_str(s, "type")) {
        Some(ty @ ("NodePort" | "LoadBalancer")) => vec![hit(
            FieldPath::parse("spec.type"),
            format!("Service is exposed outside the cluster with type {ty}"),
        )],
        _ => Vec::new(),
    }
}

fn check_external_ips(t: &Target<'_>) -> Vec<Hit> {
    if !is_service(t) {
        return Vec::new();
    }
    let ips = get_obj(t.object, "spec").map_or(&[][..], |s| get_arr(s, "externalIPs"));
    if ips.is_empty() {
        return Vec::new();
    }
    vec![hit(
        FieldPath::parse("spec.externalIPs"),
        format!(
            "Service sets externalIPs {}",
            ips.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )]
}

fn check_share_process_namespace(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    if get_bool(tpl.spec, "shareProcessNamespace") != Some(true) {
        return Vec::new();
    }
    vec![hit(
        spec_path(tpl, &["shareProcessNamespace"]),
        "pod sets shareProcessNamespace=true".to_owned(),
    )]
}

fn check_mac_absent(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let set = |s: Option<&Value>| {
        s.is_some_and(|s| {
            get_obj(s, "appArmorProfile").is_some() || get_obj(s, "seLinuxOptions").is_some()
        })
    };
    let annotated = get_obj(tpl.metadata, "annotations").is_some_and(|a| {
        a.as_object().is_some_and(|m| {
            m.keys()
                .any(|k| k.starts_with("container.apparmor.security.beta.kubernetes.io/"))
        })
    });
    if set(pod_sc(tpl)) || annotated {
        return Vec::new();
    }
    let cs = containers(tpl, Which::All);
    if !cs.is_empty() && cs.iter().all(|c| set(sc(c.value))) {
        return Vec::new();
    }
    vec![hit(
        spec_path(tpl, &["securityContext", "appArmorProfile"]),
        "pod sets neither an AppArmor profile nor SELinux options".to_owned(),
    )]
}

/// An Ingress's annotations (ingress-nginx reads its configuration from them).
fn ingress_annotations<'a>(t: &Target<'a>) -> Option<&'a serde_json::Map<String, Value>> {
    if t.kind != "Ingress" {
        return None;
    }
    get_obj(t.object, "metadata")
        .and_then(|m| get_obj(m, "annotations"))
        .and_then(Value::as_object)
}

fn check_nginx_snippet(t: &Target<'_>) -> Vec<Hit> {
    let Some(ann) = ingress_annotations(t) else {
        return Vec::new();
    };
    ann.keys()
        .filter(|k| {
            k.strip_prefix("nginx.ingress.kubernetes.io/")
                .is_some_and(|n| n.ends_with("-snippet"))
        })
        .map(|k| {
            hit(
                FieldPath::root()
                    .key("metadata")
                    .key("annotations")
                    .key(k.as_str()),
                format!("Ingress uses the ingress-nginx snippet annotation {k:?}"),
            )
        })
        .collect()
}

fn check_configmap_secrets(t: &Target<'_>) -> Vec<Hit> {
    if t.kind != "ConfigMap" || get_str(t.object, "apiVersion") != Some("v1") {
        return Vec::new();
    }
    let Some(data) = get_obj(t.object, "data").and_then(Value::as_object) else {
        return Vec::new();
    };
    data.iter()
        .filter_map(|(k, v)| {
            let v = v.as_str()?;
            let field = FieldPath::root().key("data").key(k.as_str());
            if secret_like(k) && !v.trim().is_empty() {
                return Some(hit(
                    field,
                    format!("ConfigMap key {k:?} looks like a secret: its name says it holds one"),
                ));
            }
            let (line, kind) = find_secret(v)?;
            Some(Hit {
                fields: vec![field],
                message: format!("ConfigMap key {k:?} holds {kind}{}", line_phrase(v, line)),
                value_line: line_within(v, line),
            })
        })
        .collect()
}

/// An apiVersion/kind pair the API server no longer serves: when, and what replaces it.
struct Removed {
    api_version: &'static str,
    /// Empty: every kind of the group version (it is gone entirely).
    kinds: &'static [&'static str],
    release: &'static str,
    replacement: &'static str,
}

const fn removed(
    api_version: &'static str,
    kinds: &'static [&'static str],
    release: &'static str,
    replacement: &'static str,
) -> Removed {
    Removed {
        api_version,
        kinds,
        release,
        replacement,
    }
}

const WORKLOADS: &[&str] = &["Deployment", "DaemonSet", "ReplicaSet", "StatefulSet"];
const ROLES: &[&str] = &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
const FLOW: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];
const FLOW_V1: &str = "flowcontrol.apiserver.k8s.io/v1";

/// The kubernetes.io Deprecated API Migration Guide's removals (and the alpha
/// `batch/v2alpha1` CronJob). Specific pairs first; a group version listed with no kinds
/// matches any kind after them.
const REMOVED_APIS: &[Removed] = &[
    removed(
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        "1.16",
        "apps/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        "1.16",
        "Pod Security Admission (policy/v1beta1 PodSecurityPolicy was removed in 1.25 too)",
    ),
    removed(
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &[],
        "1.22",
        "the kind's current group",
    ),
    removed("apps/v1beta1", &[], "1.16", "apps/v1"),
    removed("apps/v1beta2", &[], "1.16", "apps/v1"),
    removed("batch/v2alpha1", &["CronJob"], "1.21", "batch/v1"),
    removed(
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "admissionregistration.k8s.io/v1beta1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    removed(
        "authentication.k8s.io/v1beta1",
        &["TokenReview"],
        "1.22",
        "authentication.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SubjectAccessReview",
        ],
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        "1.22",
        "certificates.k8s.io/v1",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        &["Lease"],
        "1.22",
        "coordination.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        ROLES,
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed("batch/v1beta1", &["CronJob"], "1.25", "batch/v1"),
    removed(
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        "1.25",
        "discovery.k8s.io/v1",
    ),
    removed(
        "events.k8s.io/v1beta1",
        &["Event"],
        "1.25",
        "events.k8s.io/v1",
    ),
    removed(
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        "1.25",
        "autoscaling/v2",
    ),
    removed(
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        "policy/v1",
    ),
    removed(
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        "1.25",
        "Pod Security Admission (PodSecurityPolicy has no successor API)",
    ),
    removed(
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        "1.25",
        "node.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        FLOW,
        "1.26",
        FLOW_V1,
    ),
    removed(
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        "1.26",
        "autoscaling/v2",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        "1.27",
        "storage.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        FLOW,
        "1.29",
        FLOW_V1,
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        FLOW,
        "1.32",
        FLOW_V1,
    ),
];

/// The removal that applies to an apiVersion/kind pair, if any.
fn removal(api_version: &str, kind: &str) -> Option<&'static Removed> {
    REMOVED_APIS
        .iter()
        .find(|r| r.api_version == api_version && (r.kinds.is_empty() || r.kinds.contains(&kind)))
}

fn check_removed_api(t: &Target<'_>) -> Vec<Hit> {
    let Some(api_version) = get_str(t.object, "apiVersion") else {
        return Vec::new();
    };
    let Some(r) = removal(api_version, t.kind) else {
        return Vec::new();
    };
    // Say how a workload was still evaluated, so its other findings make sense.
    let evaluated = match &t.template {
        Some(tpl) if !tpl.inferred && WORKLOADS.contains(&t.kind) => {
            format!("; its pod template was checked as an apps/v1 {}", t.kind)
        }
        Some(tpl) if !tpl.inferred && t.kind == "CronJob" => {
            "; its pod template was checked as a batch/v1 CronJob".to_owned()
        }
        _ => String::new(),
    };
    vec![hit(
        FieldPath::root().key("apiVersion"),
        format!(
            "{} {api_version} was removed in Kubernetes {}: use {}{evaluated}",
            t.kind, r.release, r.replacement
        ),
    )]
}

/// How an ingress-nginx annotation's value ends up in nginx.conf.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AnnotationValue {
    /// A URL, host or path: also no `|`, `<`, `>`, `^` (not allowed in a URL).
    Url,
    /// A regular expression (`auth-tls-match-cn`): `|` and `\` are regex syntax there.
    Regex,
}

/// Annotations (after `nginx.ingress.kubernetes.io/`) whose values ingress-nginx interpolates
/// into nginx.conf, with the advisory that showed an injection through them where one did.
const INJECTABLE_ANNOTATIONS: &[(&str, AnnotationValue, &str)] = &[
    ("auth-url", AnnotationValue::Url, "CVE-2025-24514"),
    ("auth-signin", AnnotationValue::Url, ""),
    ("auth-tls-match-cn", AnnotationValue::Regex, "CVE-2025-1097"),
    ("mirror-target", AnnotationValue::Url, "CVE-2025-1098"),
    ("mirror-host", AnnotationValue::Url, "CVE-2025-1098"),
    ("permanent-redirect", AnnotationValue::Url, "CVE-2023-5044"),
    ("temporal-redirect", AnnotationValue::Url, ""),
    ("rewrite-target", AnnotationValue::Url, ""),
    ("app-root", AnnotationValue::Url, ""),
    ("x-forwarded-prefix", AnnotationValue::Url, ""),
    ("upstream-vhost", AnnotationValue::Url, ""),
];

/// The characters of `value` that can end an nginx directive or token (or, for a URL, that no
/// URL may hold), described for a message, in order of first appearance, each once; with the
/// 0-based line of the first one. `${name}` (an nginx variable) is not a brace problem.
fn injection_chars(value: &str, kind: AnnotationValue) -> Option<(usize, Vec<String>)> {
    let mut found: Vec<String> = Vec::new();
    let mut first_line = None;
    let mut line = 0;
    let mut in_variable = false;
    let mut prev = '\0';
    for c in value.chars() {
        let bad = match c {
            '\n' | '\r' => Some("a line break".to_owned()),
            c if c.is_whitespace() => Some("whitespace".to_owned()),
            c if c.is_control() => Some(format!("the control character U+{:04X}", u32::from(c))),
            '{' if prev == '$' => {
                in_variable = true;
                None
            }
            '}' if in_variable => {
                in_variable = false;
                None
            }
            ';' | '{' | '}' | '"' | '\'' | '`' => Some(format!("{c:?}")),
            '\\' if kind == AnnotationValue::Url => Some(format!("{c:?}")),
            '|' | '<' | '>' | '^' if kind == AnnotationValue::Url => Some(format!("{c:?}")),
            _ => None,
        };
        if let Some(b) = bad {
            first_line.get_or_insert(line);
            if !found.contains(&b) {
                found.push(b);
            }
        }
        if c == '\n' {
            line += 1;
        }
        prev = c;
    }
    Some((first_line?, found))
}

fn check_nginx_annotation_injection(t: &Target<'_>) -> Vec<Hit> {
    let Some(ann) = ingress_annotations(t) else {
        return Vec::new();
    };
    ann.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("nginx.ingress.kubernetes.io/")?;
            let &(_, kind, advisory) = INJECTABLE_ANNOTATIONS.iter().find(|(n, _, _)| *n == name)?;
            let value = v.as_str()?;
            let (line, chars) = injection_chars(value, kind)?;
            let advisory = if advisory.is_empty() {
                String::new()
            } else {
                format!(" ({advisory})")
            };
            Some(Hit {
                fields: vec![
                    FieldPath::root()
                        .key("metadata")
                        .key("annotations")
                        .key(k.as_str()),
                ],
                message: format!(
                    "Ingress annotation {k:?} contains {}, which ingress-nginx writes unescaped into nginx.conf{advisory}",
                    chars.join(", ")
                ),
                value_line: line_within(value, line),
            })
        })
        .collect()
}

/// Labels a kube-system component carries (kubeadm static pods, addons).
fn system_component(labels: Option<&Value>) -> bool {
    let Some(labels) = labels.and_then(Value::as_object) else {
        return false;
    };
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    label("tier") == Some("control-plane")
        || matches!(
            label("component"),
            Some(
                "kube-apiserver"
                    | "kube-controller-manager"
                    | "kube-scheduler"
                    | "etcd"
                    | "cloud-controller-manager"
                    | "kube-proxy"
            )
        )
        || labels.contains_key("k8s-app")
        || label("kubernetes.io/cluster-service") == Some("true")
        || labels.contains_key("addonmanager.kubernetes.io/mode")
}

fn check_kube_system_workload(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let meta = get_obj(t.object, "metadata");
    if meta.and_then(|m| get_str(m, "namespace")) != Some("kube-system") {
        return Vec::new();
    }
    let labelled = system_component(meta.and_then(|m| get_obj(m, "labels")))
        || system_component(get_obj(tpl.metadata, "labels"));
    let critical = matches!(
        get_str(tpl.spec, "priorityClassName"),
        Some("system-cluster-critical" | "system-node-critical")
    );
    if labelled || critical {
        return Vec::new();
    }
    vec![hit(
        FieldPath::parse("metadata.namespace"),
        format!(
            "{} runs in the kube-system namespace without the labels or priority class of a system component",
            t.kind
        ),
    )]
}

fn check_netpol_pod_selector(t: &Target<'_>) -> Vec<Hit> {
    if t.kind != "NetworkPolicy" {
        return Vec::new();
    }
    let spec = get_obj(t.object, "spec");
    if spec.and_then(|s| get(s, "podSelector")).is_some() {
        return Vec::new();
    }
    vec![hit(
        FieldPath::parse("spec.podSelector"),
        "NetworkPolicy has no spec.podSelector, so it applies to every pod in its namespace (write `podSelector: {}` if that is meant)".to_owned(),
    )]
}

fn check_tiller(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let mut hits: Vec<Hit> = containers(tpl, Which::All)
        .iter()
        .filter_map(|c| {
            let image = get_str(c.value, "image")?;
            let (repo, _, _) = split_image(image);
            (repo.rsplit('/').next() == Some("tiller")).then(|| {
                hit(
                    sub(&c.path, &["image"]),
                    format!("container {:?} runs Tiller (image {image:?})", c.name),
                )
            })
        })
        .collect();
    if hits.is_empty() {
        let helm_labels = |m: Option<&Value>| {
            let labels = m.and_then(|m| get_obj(m, "labels"));
            labels.and_then(|l| get_str(l, "app")) == Some("helm")
                && labels.and_then(|l| get_str(l, "name")) == Some("tiller")
        };
        if helm_labels(get_obj(t.object, "metadata")) {
            hits.push(hit(
                FieldPath::parse("metadata.labels"),
                format!("{} carries Tiller's labels app=helm, name=tiller", t.kind),
            ));
        } else if helm_labels(Some(tpl.metadata)) {
            hits.push(hit(
                sub(&tpl.base, &["metadata", "labels"]),
                format!(
                    "{}'s pod template carries Tiller's labels app=helm, name=tiller",
                    t.kind
                ),
            ));
        }
    }
    hits
}

fn check_host_users(t: &Target<'_>) -> Vec<Hit> {
    let Some(tpl) = &t.template else {
        return Vec::new();
    };
    let windows = get_obj(tpl.spec, "os").and_then(|o| get_str(o, "name")) == Some("windows");
    let host_namespace = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .any(|k| get_bool(tpl.spec, k) == Some(true));
    if windows || host_namespace || get_bool(tpl.spec, "hostUsers") == Some(false) {
        return Vec::new();
    }
    vec![hit(
        spec_path(tpl, &["hostUsers"]),
        "pod does not run in a user namespace (spec.hostUsers is not false)".to_owned(),
    )]
}

/// Jobs and CronJobs run to completion: probes are for long-running pods.
fn long_running(t: &Target<'_>) -> bool {
    !matches!(t.kind, "Job" | "CronJob")
        && t.template.as_ref().is_some_and(|tpl| {
            !matches!(
                get_str(tpl.spec, "restartPolicy"),
                Some("Never" | "OnFailure")
            )
        })
}

fn probe_check(t: &Target<'_>, probe: &'static str) -> Vec<Hit> {
    if !long_running(t) {
        return Vec::new();
    }
    per_container(t, Which::Main, |c| {
        get_obj(c.value, probe).is_none().then(|| {
            (
                vec![probe],
                format!("container {:?} has no {probe}", c.name),
            )
        })
    })
}

fn check_liveness(t: &Target<'_>) -> Vec<Hit> {
    probe_check(t, "livenessProbe")
}
fn check_readiness(t: &Target<'_>) -> Vec<Hit> {
    probe_check(t, "readinessProbe")
}
fn check_startup(t: &Target<'_>) -> Vec<Hit> {
    if !long_running(t) {
        return Vec::new();
    }
    per_container(t, Which::Main, |c| {
        (get_obj(c.value, "livenessProbe").is_some() && get_obj(c.value, "startupProbe").is_none())
            .then(|| {
                (
                    vec!["startupProbe"],
                    format!(
                        "container {:?} has a livenessProbe but no startupProbe",
                        c.name
                    ),
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_at_tag_and_digest() {
        assert_eq!(split_image("nginx"), ("nginx", None, None));
        assert_eq!(split_image("nginx:1.25"), ("nginx", Some("1.25"), None));
        assert_eq!(
            split_image("host:5000/team/app"),
            ("host:5000/team/app", None, None)
        );
        assert_eq!(
            split_image("host:5000/app:v1@sha256:ab"),
            ("host:5000/app", Some("v1"), Some("sha256:ab"))
        );
        assert_eq!(
            split_image("app@sha256:ab"),
            ("app", None, Some("sha256:ab"))
        );
    }

    #[test]
    fn sensitive_paths() {
        for p in [
            "/",
            "//",
            "/etc",
            "/etc/",
            "/etc/ssl",
            "/var/run/docker.sock",
            "/run/containerd/containerd.sock",
            "/var/lib/kubelet/pods",
            "/proc",
        ] {
            assert!(sensitive_host_path(p).is_some(), "{p}");
        }
        for p in [
            "/data",
            "/var/log",
            "/etcd-backup",
            "/opt/app",
            "/var/lib/kubelet-data",
            "",
        ] {
            assert!(sensitive_host_path(p).is_none(), "{p}");
        }
    }

    /// Ephemeral (debug) containers may set a securityContext and run in the pod's namespaces,
    /// so the securityContext rules check them (found by kubescape's
    /// immutable-container-filesystem/pod-ephemeralcontainer fixture); resources are forbidden
    /// on them, so the resource rules do not.
    #[test]
    fn security_context_rules_check_ephemeral_containers() {
        let hardened = serde_json::json!({
            "readOnlyRootFilesystem": true,
            "runAsUser": 20000, "runAsGroup": 20000,
            "capabilities": {"drop": ["ALL"]},
            "appArmorProfile": {"type": "RuntimeDefault"},
        });
        let pod = |debug_sc: Value| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {
                    "containers": [{"name": "app", "image": "app:1",
                        "securityContext": hardened,
                        "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                      "limits": {"cpu": "1", "memory": "1Gi"}}}],
                    "ephemeralContainers": [{"name": "debug", "image": "busybox:1",
                        "securityContext": debug_sc}],
                },
            })
        };
        let run = |id: &str, obj: &Value| {
            let rule = RULES.iter().find(|r| r.meta.id == id).unwrap();
            (rule.check)(&Target::new(obj))
        };
        let bare = pod(serde_json::json!({}));
        let good = pod(hardened.clone());
        for id in ["HRD001", "HRD011", "HRD015", "HRD016", "HRD025"] {
            let hits = run(id, &bare);
            assert_eq!(hits.len(), 1, "{id}: {hits:?}");
            assert!(
                hits[0].message.contains("debug") || id == "HRD025",
                "{id}: {hits:?}"
            );
            assert!(run(id, &good).is_empty(), "{id}");
        }
        for id in ["HRD002", "HRD003", "HRD004", "HRD005"] {
            assert!(
                run(id, &bare).is_empty(),
                "{id}: no resources on ephemeral containers"
            );
        }
    }

    fn secret_value(v: &str) -> bool {
        find_secret(v).is_some()
    }

    /// The kind of secret and the line it is on (issue #13 item 7: the finding used to say
    /// "a private key, an AWS access key ID or a secret-like NAME=value line").
    #[test]
    fn secret_kind_and_line_are_named() {
        assert_eq!(
            find_secret("log=debug\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"),
            Some((1, SecretKind::PrivateKey("RSA PRIVATE KEY".into())))
        );
        assert_eq!(
            find_secret("---BEGIN OPENSSH PRIVATE KEY---"),
            Some((0, SecretKind::PrivateKey("OPENSSH PRIVATE KEY".into())))
        );
        assert_eq!(
            find_secret("a=1\nb=2\nkey ASIAY34FZKBOKMUTVV7A"),
            Some((2, SecretKind::AwsAccessKeyId { temporary: true }))
        );
        assert_eq!(
            find_secret("AKIAIOSFODNN7EXAMPLE"),
            Some((0, SecretKind::AwsAccessKeyId { temporary: false }))
        );
        assert_eq!(
            find_secret("host=db\nport=5432\nexport DB_PASSWORD=\"x\"\n"),
            Some((2, SecretKind::Assignment("DB_PASSWORD".into())))
        );
        assert_eq!(
            SecretKind::Assignment("DB_PASSWORD".into()).to_string(),
            "a value assigned to the secret-like name \"DB_PASSWORD\""
        );
        assert_eq!(
            SecretKind::PrivateKey("EC PRIVATE KEY".into()).to_string(),
            "a PEM private key (EC PRIVATE KEY)"
        );
    }

    #[test]
    fn injection_characters_by_annotation_kind() {
        let url = AnnotationValue::Url;
        let re = AnnotationValue::Regex;
        for ok in [
            "https://auth.example/oauth2/auth",
            "https://$host/oauth2/start?rd=$escaped_request_uri",
            "https://${host}/start#/login",
            "/$2",
        ] {
            assert_eq!(injection_chars(ok, url), None, "{ok}");
        }
        for ok in ["CN=(client-a|client-b)\\.example", "CN=^client$"] {
            assert_eq!(injection_chars(ok, re), None, "{ok}");
        }
        assert_eq!(
            injection_chars("http://a/#;\ninjection", url),
            Some((0, vec!["';'".to_owned(), "a line break".to_owned()]))
        );
        assert_eq!(
            injection_chars("x\ny}", re),
            Some((0, vec!["a line break".to_owned(), "'}'".to_owned()]))
        );
        assert_eq!(
            injection_chars("http://a/b|c", url),
            Some((0, vec!["'|'".to_owned()]))
        );
        assert_eq!(injection_chars("CN=a|b", re), None);
        assert_eq!(
            injection_chars("CN=a b", re),
            Some((0, vec!["whitespace".to_owned()]))
        );
        assert_eq!(
            injection_chars("a\tb", url),
            Some((0, vec!["whitespace".to_owned()]))
        );
    }

    #[test]
    fn removed_api_table() {
        let r = removal("extensions/v1beta1", "Deployment").unwrap();
        assert_eq!((r.release, r.replacement), ("1.16", "apps/v1"));
        assert_eq!(
            removal("extensions/v1beta1", "Ingress").unwrap().release,
            "1.22"
        );
        assert_eq!(removal("batch/v1beta1", "CronJob").unwrap().release, "1.25");
        assert_eq!(
            removal("batch/v2alpha1", "CronJob").unwrap().release,
            "1.21"
        );
        assert_eq!(removal("apps/v1beta2", "Anything").unwrap().release, "1.16");
        assert!(removal("apps/v1", "Deployment").is_none());
        assert!(removal("policy/v1", "PodDisruptionBudget").is_none());
        assert!(removal("batch/v1beta1", "Job").is_none());
        let mut seen = std::collections::HashSet::new();
        for r in REMOVED_APIS {
            let minor = r
                .release
                .strip_prefix("1.")
                .unwrap()
                .parse::<u32>()
                .unwrap();
            assert!((16..=32).contains(&minor), "{}", r.api_version);
            assert!(!r.replacement.is_empty());
            for k in r.kinds {
                assert!(
                    seen.insert((r.api_version, *k)),
                    "duplicate {} {k}",
                    r.api_version
                );
            }
        }
    }

    #[test]
    fn secret_values() {
        assert!(secret_value("REDIS_PASSWORD=abcd1234"));
        assert!(secret_value("a: 1\nexport API_TOKEN=\"x\"\n"));
        assert!(secret_value(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(!secret_value("PASSWORD_FILE=/run/secrets/db"));
        assert!(!secret_value("password="));
        assert!(!secret_value("custom_secrets: []"));
        assert!(!secret_value("api_tokens: {}"));
        assert!(!secret_value("REDIS_PASSWORD=${REDIS_PASSWORD}"));
        // AWS access key IDs by format, alone or inside a line; not look-alikes.
        assert!(secret_value("AKIAIOSFODNN7EXAMPLE"));
        assert!(secret_value("aws --key ASIAY34FZKBOKMUTVV7A --region x"));
        assert!(!secret_value("AKIAIOSFODNN7EXAMPL"));
        assert!(!secret_value("AKIAIOSFODNN7EXAMPLE1"));
        assert!(!secret_value("akiaiosfodnn7example"));
        assert!(secret_value("---BEGIN OPENSSH PRIVATE KEY---\nxxxxx\n"));
        assert!(!secret_value("log level: debug"));
        assert!(!secret_value("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn secret_like_names() {
        for n in [
            "DB_PASSWORD",
            "aws_secret_access_key",
            "GITHUB_TOKEN",
            "api-key",
            "MyApiKey",
        ] {
            assert!(secret_like(n), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "LOG_LEVEL",
            "SECRET_NAME",
            "HOSTNAME",
        ] {
            assert!(!secret_like(n), "{n}");
        }
    }
}
