//! The rule catalog: one rule per Pod Security Admission check, stable IDs `PSS001`..`PSS019`
//! in PSA's evaluation order (the same order as `pss::CHECKS`). IDs are never renumbered or
//! reused; new rules get new IDs at the end of their family.

use palisade_core::{Reference, RuleMeta, Severity};

const PSS_URL_BASELINE: &str =
    "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline";
const PSS_URL_RESTRICTED: &str =
    "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted";

const fn pss(control: &'static str, restricted: bool) -> Reference {
    Reference {
        source: "pss",
        id: control,
        url: if restricted {
            PSS_URL_RESTRICTED
        } else {
            PSS_URL_BASELINE
        },
    }
}

const fn cis(id: &'static str) -> Reference {
    peer("cis", id)
}

const fn nsa(id: &'static str) -> Reference {
    peer("nsa", id)
}

const fn checklist(id: &'static str) -> Reference {
    peer("k8s-checklist", id)
}

const fn peer(source: &'static str, id: &'static str) -> Reference {
    Reference {
        source,
        id,
        url: "",
    }
}

const fn rule(
    id: &'static str,
    name: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    references: &'static [Reference],
) -> RuleMeta {
    RuleMeta {
        id,
        name,
        family: "pss",
        title,
        severity,
        rationale,
        remediation,
        references,
        // The first reference is the PSS control; its page section is the rule's help.
        help_uri: match references {
            [first, ..] => first.url,
            [] => "",
        },
    }
}

use Severity::{High, Low, Medium};

/// Severity rationale: controls whose violation gives a container the host (privileged,
/// HostProcess, host namespaces, hostPath, non-default capabilities) are `high`; controls
/// that remove a kernel hardening layer or expose the node are `medium`; the probe/lifecycle
/// host control (an SSRF-style redirect, no privilege by itself) is `low`.
pub(crate) static CATALOG: [RuleMeta; 19] = [
    rule(
        "PSS001",
        "apparmor-profile",
        "AppArmor profile must not be overridden or disabled",
        Medium,
        "On hosts with AppArmor, the runtime's default profile confines every container. Setting the profile to `Unconfined` (field) or `unconfined` (deprecated annotation) removes that mandatory-access-control layer, so a compromised process can reach files and capabilities the default profile blocks.",
        "Remove `appArmorProfile` (the runtime default applies) or set `securityContext.appArmorProfile.type` to `RuntimeDefault` or `Localhost` (with `localhostProfile`); for the deprecated `container.apparmor.security.beta.kubernetes.io/<container>` annotations use `runtime/default` or `localhost/<profile>`.",
        &[
            pss("AppArmor", false),
            checklist("app.apparmor-selinux"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.apparmor-or-selinux"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0002"),
            peer("kubescape", "C-0055"),
            peer("polaris", "linuxHardening"),
            peer("kubesec", "ApparmorUnconfined"),
            peer("kubeaudit", "apparmor"),
        ],
    ),
    rule(
        "PSS002",
        "capabilities-baseline",
        "Containers must not add capabilities beyond the default set",
        High,
        "Capabilities outside the container runtime's default set (for example `SYS_ADMIN`, `NET_RAW`, `SYS_MODULE`, `ALL`) grant kernel powers that enable container escape, network spoofing or loading kernel modules.",
        "Remove the capability from `securityContext.capabilities.add`, or add only values from the default set: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (exact upper-case names, no `CAP_` prefix).",
        &[
            pss("Capabilities", false),
            checklist("app.drop-capabilities"),
            cis("5.2.9"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0022"),
            peer("trivy", "KSV-0005"),
            peer("trivy", "KSV-0119"),
            peer("trivy", "KSV-0120"),
            peer("kubescape", "C-0046"),
            peer("kubescape", "C-0199"),
            peer("kubescape", "C-0200"),
            peer("polaris", "dangerousCapabilities"),
            peer("polaris", "insecureCapabilities"),
            peer("kube-linter", "drop-net-raw-capability"),
            peer("checkov", "CKV_K8S_25"),
            peer("checkov", "CKV_K8S_28"),
            peer("checkov", "CKV_K8S_39"),
        ],
    ),
    rule(
        "PSS003",
        "host-namespaces",
        "Pods must not share the host's network, PID or IPC namespace",
        High,
        "`hostNetwork`, `hostPID` and `hostIPC` put the pod in the node's namespaces: it can sniff and bind node traffic, see and signal every process on the node, and read shared memory of other workloads.",
        "Remove `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC` or set them to `false`; expose ports through a Service instead of the host network.",
        &[
            pss("Host Namespaces", false),
            cis("5.2.3"),
            cis("5.2.4"),
            cis("5.2.5"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0008"),
            peer("trivy", "KSV-0009"),
            peer("trivy", "KSV-0010"),
            peer("kubescape", "C-0038"),
            peer("kubescape", "C-0041"),
            peer("polaris", "hostIPCSet"),
            peer("polaris", "hostPIDSet"),
            peer("polaris", "hostNetworkSet"),
            peer("kube-linter", "host-network"),
            peer("kube-linter", "host-pid"),
            peer("kube-linter", "host-ipc"),
            peer("checkov", "CKV_K8S_17"),
            peer("checkov", "CKV_K8S_18"),
            peer("checkov", "CKV_K8S_19"),
            peer("kubesec", "HostNetwork"),
            peer("kubesec", "HostPID"),
            peer("kubesec", "HostIPC"),
            peer("kubeaudit", "hostns"),
        ],
    ),
    rule(
        "PSS004",
        "host-path-volumes",
        "Pods must not mount hostPath volumes",
        High,
        "A hostPath volume exposes the node's filesystem to the container: the container runtime socket, kubelet credentials or `/etc` are a write away from node takeover.",
        "Replace the `hostPath` volume with a `persistentVolumeClaim`, `emptyDir`, `configMap`, `secret` or CSI volume. At the restricted level this is reported by `restricted-volumes` (PSS016), which overrides this check.",
        &[
            pss("HostPath Volumes", false),
            cis("5.2.11"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0023"),
            peer("trivy", "KSV-0006"),
            peer("kubescape", "C-0048"),
            peer("kubescape", "C-0045"),
            peer("polaris", "hostPathSet"),
            peer("kube-linter", "sensitive-host-mounts"),
            peer("checkov", "CKV_K8S_27"),
            peer("kubeaudit", "mounts"),
        ],
    ),
    rule(
        "PSS005",
        "host-ports",
        "Containers must not bind host ports",
        Medium,
        "A `hostPort` binds a port on the node's own addresses, bypassing Service load balancing and NetworkPolicy assumptions, and limits scheduling. PSA has no allow-list: any non-zero host port fails. Pods with `hostNetwork: true` get `hostPort = containerPort` by API defaulting, so they fail too.",
        "Remove `ports[*].hostPort` (or set it to 0) and expose the port through a Service (`NodePort`/`LoadBalancer`) or an Ingress.",
        &[
            pss("Host Ports", false),
            cis("5.2.12"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0024"),
            peer("kubescape", "C-0044"),
            peer("polaris", "hostPortSet"),
            peer("checkov", "CKV_K8S_26"),
        ],
    ),
    rule(
        "PSS006",
        "host-probes-and-host-lifecycle",
        "Probes and lifecycle hooks must not target another host",
        Low,
        "The kubelet runs `httpGet`/`tcpSocket` probes and lifecycle hooks from the node. A `host` field lets a pod make the kubelet connect to arbitrary addresses (including node-local services) on its behalf. Enforced from policy v1.34.",
        "Remove the `host` field from `livenessProbe`, `readinessProbe`, `startupProbe` and `lifecycle.postStart`/`preStop` `httpGet`/`tcpSocket` handlers (the pod IP is used), or set it to an empty string.",
        &[
            pss("Host Probes / Lifecycle Hooks (v1.34+)", false),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
        ],
    ),
    rule(
        "PSS007",
        "privileged",
        "Containers must not run privileged",
        High,
        "A privileged container has every capability, all host devices and no seccomp/AppArmor confinement: it is root on the node.",
        "Remove `securityContext.privileged` or set it to `false`; grant the specific capability or device the workload needs instead.",
        &[
            pss("Privileged Containers", false),
            checklist("app.no-privileged"),
            cis("5.2.2"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0017"),
            peer("kubescape", "C-0057"),
            peer("kubescape", "C-0193"),
            peer("polaris", "runAsPrivileged"),
            peer("kube-linter", "privileged-container"),
            peer("checkov", "CKV_K8S_16"),
            peer("kubesec", "Privileged"),
            peer("kubeaudit", "privileged"),
        ],
    ),
    rule(
        "PSS008",
        "proc-mount",
        "Containers must use the default /proc mount",
        Medium,
        "`procMount: Unmasked` exposes the paths of `/proc` the runtime masks (kernel keys, timers, `sysrq-trigger`...), leaking host information and enabling host interference. From policy v1.35 any value is allowed for pods in a user namespace (`hostUsers: false`).",
        "Remove `securityContext.procMount` or set it to `Default`.",
        &[
            pss("/proc Mount Type", false),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0027"),
            peer("kubescape", "C-0211"),
            peer("polaris", "procMount"),
            peer("kube-linter", "unsafe-proc-mount"),
        ],
    ),
    rule(
        "PSS009",
        "selinux-options",
        "SELinux options must not set a custom type, user or role",
        Medium,
        "A custom SELinux type such as `spc_t` (super-privileged container) or a custom user/role escapes the container SELinux policy that separates workloads from the host and from each other.",
        "Remove `seLinuxOptions.user` and `seLinuxOptions.role`; leave `type` unset or use `container_t`, `container_init_t`, `container_kvm_t` (or `container_engine_t` from policy v1.31). `level` may be set.",
        &[
            pss("SELinux", false),
            checklist("app.apparmor-selinux"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.apparmor-or-selinux"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0025"),
            peer("kubescape", "C-0211"),
            peer("polaris", "linuxHardening"),
        ],
    ),
    rule(
        "PSS010",
        "seccomp-profile-baseline",
        "Seccomp must not be disabled",
        Medium,
        "Seccomp filters the system calls a container may make; `Unconfined` exposes the whole kernel attack surface. Policy v1.0-v1.18 checks the deprecated seccomp annotations, v1.19+ the `seccompProfile` fields.",
        "Set `securityContext.seccompProfile.type` to `RuntimeDefault` or `Localhost` (or remove the `Unconfined` setting). For policy versions before v1.19, use `runtime/default`, `docker/default` or `localhost/<profile>` in the seccomp annotations. At restricted (v1.19+) this is reported by `seccomp-profile-restricted` (PSS019).",
        &[
            pss("Seccomp", false),
            checklist("app.seccomp"),
            cis("5.6.2"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.seccomp"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0104"),
            peer("kubescape", "C-0211"),
            peer("polaris", "linuxHardening"),
            peer("checkov", "CKV_K8S_31"),
            peer("kubesec", "SeccompUnconfined"),
            peer("kubeaudit", "seccomp"),
        ],
    ),
    rule(
        "PSS011",
        "sysctls",
        "Pods must only set safe, namespaced sysctls",
        Medium,
        "Sysctls outside the safe set can affect the whole node (other pods' networking, kernel limits) or disable security mechanisms. The safe set grows with the policy version (v1.27, v1.29, v1.32, v1.37); names must match exactly, so the slash form `net/ipv4/...` fails.",
        "Remove the sysctl from `spec.securityContext.sysctls`, or use only the names allowed at your policy version (e.g. `net.ipv4.ip_local_port_range`, `net.ipv4.ip_unprivileged_port_start`, `kernel.shm_rmid_forced`); set node-level sysctls on the node instead.",
        &[
            pss("Sysctls", false),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0026"),
            peer("kubescape", "C-0211"),
            peer("kube-linter", "unsafe-sysctls"),
        ],
    ),
    rule(
        "PSS012",
        "windows-host-process",
        "Windows pods must not run as HostProcess",
        High,
        "A Windows HostProcess container runs directly on the host with the host's network and filesystem: the Windows equivalent of a privileged container.",
        "Remove `securityContext.windowsOptions.hostProcess` (pod and containers) or set it to `false`.",
        &[
            pss("HostProcess", false),
            cis("5.2.10"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0103"),
            peer("kubescape", "C-0202"),
            peer("kubescape", "C-0211"),
            peer("polaris", "hostProcess"),
        ],
    ),
    rule(
        "PSS013",
        "allow-privilege-escalation",
        "Containers must set allowPrivilegeEscalation to false",
        Medium,
        "Unless `allowPrivilegeEscalation` is explicitly `false`, a process can gain more privileges than its parent (setuid binaries, file capabilities). PSA requires the explicit setting (unset fails); from policy v1.25 pods with `spec.os.name: windows` are exempt.",
        "Set `securityContext.allowPrivilegeEscalation: false` on every container, init container and ephemeral container.",
        &[
            pss("Privilege Escalation (v1.8+)", true),
            checklist("app.no-privilege-escalation"),
            cis("5.2.6"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0001"),
            peer("kubescape", "C-0016"),
            peer("kubescape", "C-0197"),
            peer("polaris", "privilegeEscalationAllowed"),
            peer("kube-linter", "privilege-escalation-container"),
            peer("checkov", "CKV_K8S_20"),
            peer("kubesec", "AllowPrivilegeEscalation"),
            peer("kubeaudit", "privesc"),
        ],
    ),
    rule(
        "PSS014",
        "capabilities-restricted",
        "Containers must drop ALL capabilities and add at most NET_BIND_SERVICE",
        Medium,
        "Even the runtime's default capabilities (e.g. `NET_RAW`, `DAC_OVERRIDE`, `SETUID`) widen what a compromised process can do. Restricted requires dropping `ALL` (exact, upper-case) and adding back only `NET_BIND_SERVICE`. From policy v1.25 Windows pods are exempt; at restricted this check replaces `capabilities-baseline` (PSS002).",
        "Set `securityContext.capabilities.drop: [\"ALL\"]` on every container and remove everything but `NET_BIND_SERVICE` from `capabilities.add`.",
        &[
            pss("Capabilities (v1.22+)", true),
            checklist("app.drop-capabilities"),
            cis("5.2.9"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0106"),
            peer("trivy", "KSV-0003"),
            peer("trivy", "KSV-0004"),
            peer("kubescape", "C-0211"),
            peer("polaris", "insecureCapabilities"),
            peer("checkov", "CKV_K8S_37"),
            peer("kubesec", "CapDropAll"),
            peer("kubeaudit", "capabilities"),
        ],
    ),
    rule(
        "PSS015",
        "proc-mount-restricted",
        "Containers must use the default /proc mount, even in a user namespace",
        Medium,
        "From policy v1.35 the baseline /proc mount control allows any value for pods in a user namespace; restricted keeps the strict rule (`Default` only) for every pod and replaces `proc-mount` (PSS008).",
        "Remove `securityContext.procMount` or set it to `Default`.",
        &[
            pss("/proc Mount Type", true),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0027"),
            peer("polaris", "procMount"),
            peer("kube-linter", "unsafe-proc-mount"),
        ],
    ),
    rule(
        "PSS016",
        "restricted-volumes",
        "Pods must only use core volume types",
        Medium,
        "Restricted allows only volume types that cannot reach node or external storage directly with pod-supplied settings: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret. hostPath and in-tree network volumes (nfs, iscsi, rbd, cephfs...) fail; at restricted this check replaces `host-path-volumes` (PSS004).",
        "Use a `persistentVolumeClaim` (backed by a PersistentVolume or CSI driver the cluster admin controls) instead of an inline network or host volume.",
        &[
            pss("Volume Types", true),
            cis("5.2.11"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0028"),
            peer("trivy", "KSV-0023"),
        ],
    ),
    rule(
        "PSS017",
        "run-as-non-root",
        "Containers must run as non-root",
        Medium,
        "A process running as root inside the container is root on the node after any escape, and owns every file the image ships. PSA requires `runAsNonRoot: true` on the pod or every container; any explicit `false` fails, and a non-zero `runAsUser` does not count. From policy v1.35 pods in a user namespace (`hostUsers: false`) are exempt.",
        "Set `spec.securityContext.runAsNonRoot: true` (or on every container) and make sure the image runs as a non-zero UID (`USER` in the Dockerfile or `runAsUser`).",
        &[
            pss("Running as Non-root", true),
            checklist("images.unprivileged-user"),
            checklist("app.run-as-non-root"),
            cis("5.2.7"),
            nsa("pod-security.non-root"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0012"),
            peer("kubescape", "C-0013"),
            peer("kubescape", "C-0198"),
            peer("polaris", "runAsRootAllowed"),
            peer("kube-linter", "run-as-non-root"),
            peer("checkov", "CKV_K8S_23"),
            peer("kubesec", "RunAsNonRoot"),
            peer("kubeaudit", "nonroot"),
        ],
    ),
    rule(
        "PSS018",
        "run-as-user",
        "Containers must not set runAsUser to 0",
        Medium,
        "`runAsUser: 0` explicitly runs the container as root. Enforced from policy v1.23; from v1.35 pods in a user namespace (`hostUsers: false`) are exempt, since UID 0 there maps to an unprivileged host UID.",
        "Remove `runAsUser: 0` from the pod and container security contexts or set a non-zero UID.",
        &[
            pss("Running as Non-root user (v1.23+)", true),
            checklist("images.unprivileged-user"),
            checklist("app.less-privileged-user"),
            cis("5.2.7"),
            nsa("pod-security.non-root"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0105"),
            peer("kubescape", "C-0013"),
            peer("polaris", "runAsRootAllowed"),
            peer("kube-linter", "run-as-non-root"),
            peer("kubeaudit", "nonroot"),
        ],
    ),
    rule(
        "PSS019",
        "seccomp-profile-restricted",
        "Seccomp profile must be set to RuntimeDefault or Localhost",
        Medium,
        "Without an explicit seccomp profile most runtimes run containers unconfined. Restricted requires `RuntimeDefault` or `Localhost` on the pod or on every container (from policy v1.19), and replaces `seccomp-profile-baseline` (PSS010); from v1.25 Windows pods are exempt.",
        "Set `spec.securityContext.seccompProfile.type: RuntimeDefault` (or `Localhost` with `localhostProfile`), or the same on every container.",
        &[
            pss("Seccomp (v1.19+)", true),
            checklist("app.seccomp"),
            cis("5.6.2"),
            nsa("pod-security.enforcement"),
            checklist("pod-security.seccomp"),
            checklist("pod-security.pss-enforced"),
            peer("trivy", "KSV-0030"),
            peer("kubescape", "C-0211"),
            peer("polaris", "linuxHardening"),
            peer("checkov", "CKV_K8S_31"),
            peer("kube-score", "container-seccomp-profile"),
            peer("kubesec", "SeccompAny"),
            peer("kubeaudit", "seccomp"),
        ],
    ),
];

/// Fields each PSS rule inspects and how its behaviour changes by policy version (for docs).
pub(crate) static PSS_DETAILS: [(&str, &str); 19] = [
    (
        "`metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/*\"]`, `spec.securityContext.appArmorProfile.type`, `<containers>.securityContext.appArmorProfile.type`",
        "v1.0 (annotation and field checks at every version, as in Kubernetes 1.30+)",
    ),
    (
        "`<containers>.securityContext.capabilities.add`",
        "v1.0; overridden at restricted from v1.22",
    ),
    ("`spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC`", "v1.0"),
    (
        "`spec.volumes[*].hostPath`",
        "v1.0; overridden at restricted by restricted-volumes",
    ),
    (
        "`<containers>.ports[*].hostPort` (after hostNetwork port defaulting for Pods)",
        "v1.0",
    ),
    (
        "`<containers>.{liveness,readiness,startup}Probe.{httpGet,tcpSocket}.host`, `<containers>.lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host`",
        "v1.34",
    ),
    ("`<containers>.securityContext.privileged`", "v1.0"),
    (
        "`<containers>.securityContext.procMount`",
        "v1.0 strict; v1.35 any value with `hostUsers: false`; overridden at restricted from v1.35",
    ),
    (
        "`spec.securityContext.seLinuxOptions`, `<containers>.securityContext.seLinuxOptions` (`type`, `user`, `role`)",
        "v1.0; v1.31 adds `container_engine_t`",
    ),
    (
        "v1.0-v1.18: `metadata.annotations[\"seccomp.security.alpha.kubernetes.io/pod\"]`, `metadata.annotations[\"container.seccomp.security.alpha.kubernetes.io/<name>\"]`; v1.19+: `spec.securityContext.seccompProfile.type`, `<containers>.securityContext.seccompProfile.type`",
        "v1.0 annotations; v1.19 fields; overridden at restricted from v1.19",
    ),
    (
        "`spec.securityContext.sysctls[*].name`",
        "v1.0 (5 names); v1.27 +`net.ipv4.ip_local_reserved_ports`; v1.29 +4 `tcp_keepalive_*`/`tcp_fin_timeout`; v1.32 +`tcp_rmem`, `tcp_wmem`; v1.37 +`tcp_slow_start_after_idle`, `tcp_notsent_lowat`",
    ),
    (
        "`spec.securityContext.windowsOptions.hostProcess`, `<containers>.securityContext.windowsOptions.hostProcess`",
        "v1.0",
    ),
    (
        "`<containers>.securityContext.allowPrivilegeEscalation`",
        "v1.8; v1.25 skips `spec.os.name: windows`",
    ),
    (
        "`<containers>.securityContext.capabilities.drop`, `<containers>.securityContext.capabilities.add`",
        "v1.22; v1.25 skips `spec.os.name: windows`",
    ),
    ("`<containers>.securityContext.procMount`", "v1.35"),
    (
        "`spec.volumes[*]` (the volume source)",
        "v1.0 (`image` allowed at every version, as in Kubernetes 1.33+)",
    ),
    (
        "`spec.securityContext.runAsNonRoot`, `<containers>.securityContext.runAsNonRoot`",
        "v1.0; v1.35 skips `hostUsers: false`",
    ),
    (
        "`spec.securityContext.runAsUser`, `<containers>.securityContext.runAsUser`",
        "v1.23; v1.35 skips `hostUsers: false`",
    ),
    (
        "`spec.securityContext.seccompProfile.type`, `<containers>.securityContext.seccompProfile.type`",
        "v1.19; v1.25 skips `spec.os.name: windows`",
    ),
];

/// Corrected YAML for each PSS rule's docs page, in catalog order.
pub(crate) static PSS_FIX: [&str; 19] = [
    "spec:\n  securityContext:\n    appArmorProfile:\n      type: RuntimeDefault\n",
    "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]\n",
    "spec:\n  hostNetwork: false\n  hostPID: false\n  hostIPC: false\n",
    "volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n",
    "ports:\n  - containerPort: 8080\n    protocol: TCP\n",
    "livenessProbe:\n  httpGet:\n    path: /healthz\n    port: 8080\n",
    "securityContext:\n  privileged: false\n",
    "securityContext:\n  procMount: Default\n",
    "securityContext:\n  seLinuxOptions:\n    type: container_t\n    level: \"s0:c123,c456\"\n",
    "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n",
    "spec:\n  securityContext:\n    sysctls:\n      - name: net.ipv4.ip_unprivileged_port_start\n        value: \"80\"\n",
    "securityContext:\n  windowsOptions:\n    hostProcess: false\n",
    "securityContext:\n  allowPrivilegeEscalation: false\n",
    "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]\n",
    "securityContext:\n  procMount: Default\n",
    "volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n  - name: scratch\n    emptyDir: {}\n",
    "spec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 10001\n",
    "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n",
    "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n",
];
