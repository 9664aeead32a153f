//! Metadata of the cross-object rules. IDs are stable and never reused: `RBAC001`..`RBAC025`
//! follow the escalation catalog R1..R25 of the research (Kubernetes "RBAC good practices",
//! CIS 5.1.x, rbac-police, Kubescape), then binding and workload rules; `NETPOL001..` are
//! isolation (per workload, per namespace) and lints.

use Severity::{Critical, High, Info, Low, Medium};
use palisade_core::{Reference, RuleFamily, RuleMeta, Severity};

const RBAC: RuleFamily = RuleFamily::new(
    "rbac",
    "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
);
const NETPOL: RuleFamily = RuleFamily::new(
    "netpol",
    "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
);

/// Indices into [`RULES`], named for the code that emits them.
pub(crate) mod ids {
    pub const CLUSTER_ADMIN: usize = 0;
    pub const EVERYONE: usize = 25;
    pub const SYSTEM_MASTERS: usize = 26;
    pub const POWERFUL_TOKEN: usize = 27;
    pub const DEFAULT_SA: usize = 28;
    pub const BOUND_TOKEN: usize = 29;
    pub const CLOUD_IAM: usize = 30;
    pub const NP_INGRESS: usize = 31;
    pub const NP_EGRESS: usize = 32;
    pub const NP_NS_INGRESS: usize = 33;
    pub const NP_NS_EGRESS: usize = 34;
    pub const NP_DANGLING: usize = 35;
    pub const NP_SPLIT_PEER: usize = 36;
    pub const NP_NO_DNS: usize = 37;
    pub const NP_NAMED_PORT: usize = 38;
    pub const NP_ALLOW_ALL: usize = 39;
}

pub static RULES: [RuleMeta; 40] = [
    RBAC.rule(
        "RBAC001",
        "rbac-cluster-admin",
        "Subject has every permission (cluster-admin equivalent)",
        Critical,
        "A rule with `*` verbs on `*` resources in the core or `*` API group grants everything at its scope: cluster-wide that is full control of the cluster; in a namespace it is full control of that namespace, including its secrets and every service account's token. Other RBAC findings for the same grant are folded into this one.",
        "Bind a role listing only the verbs and resources the subject needs; reserve `cluster-admin` for break-glass accounts.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.1"),
            Reference::new("cis", "5.1.3"),
            Reference::new("k8s-checklist", "authn.rbac-good-practices"),
            Reference::new("kubescape", "C-0035"),
            Reference::new("kubescape", "C-0185"),
            Reference::new("kubescape", "C-0187"),
            Reference::new("polaris", "clusterrolebindingClusterAdmin"),
            Reference::new("polaris", "rolebindingClusterAdminClusterRole"),
            Reference::new("polaris", "rolebindingClusterAdminRole"),
        ],
    ),
    RBAC.rule(
        "RBAC002",
        "rbac-read-secrets",
        "Subject can read Secrets",
        High,
        "`get`, `list` or `watch` on secrets returns their contents, including service account token secrets, whose holders' permissions the reader then has.",
        "Grant secret access by `resourceNames` to the few secrets needed, or mount them into the workload instead.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.2"),
            Reference::new("k8s-checklist", "authn.rbac-good-practices"),
            Reference::new("kubescape", "C-0015"),
            Reference::new("kubescape", "C-0186"),
        ],
    ),
    RBAC.rule(
        "RBAC003",
        "rbac-create-workloads",
        "Subject can create pods or pod controllers",
        High,
        "Whoever can create a pod (directly or through a Deployment, Job, DaemonSet, ...) can run it as any service account of the namespace and mount its secrets, config maps and volumes; with a weak Pod Security level, a privileged pod gives the node.",
        "Limit pod and controller creation to deployment pipelines; enforce Pod Security `restricted` in namespaces where people can create pods.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.4"),
            Reference::new("k8s-checklist", "pod-security.rbac-workload-rights"),
            Reference::new("kubescape", "C-0188"),
        ],
    ),
    RBAC.rule(
        "RBAC004",
        "rbac-modify-pods",
        "Subject can update or patch pods",
        High,
        "Changing a running pod's container image runs attacker code with the pod's service account and mounts.",
        "Remove `update`/`patch` on pods, or restrict it with `resourceNames`.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("k8s-checklist", "pod-security.rbac-workload-rights"),
        ],
    ),
    RBAC.rule(
        "RBAC005",
        "rbac-exec-pods",
        "Subject can exec or attach into pods",
        High,
        "`create pods/exec` or `pods/attach` runs commands in any pod at that scope, reading its service account token and mounted secrets. Before Kubernetes 1.35, `get` on these subresources was enough (WebSocket upgrade), so `get` counts too.",
        "Grant exec only to break-glass roles; do not grant `get` on `pods/exec` or `pods/attach` to read-only roles.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("kubescape", "C-0002"),
            Reference::new("polaris", "clusterrolePodExecAttach"),
            Reference::new("polaris", "rolePodExecAttach"),
        ],
    ),
    RBAC.rule(
        "RBAC006",
        "rbac-ephemeral-containers",
        "Subject can add ephemeral containers to pods",
        High,
        "`update`/`patch` on `pods/ephemeralcontainers` adds a container (privileged if Pod Security allows it) to any running pod.",
        "Remove the permission outside debugging roles.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC007",
        "rbac-port-forward-proxy",
        "Subject can port-forward or proxy to pods and services",
        Medium,
        "`pods/portforward`, `pods/proxy` and `services/proxy` reach pod and service ports through the API server, bypassing NetworkPolicies.",
        "Remove the permission outside debugging roles.",
        &[Reference::new("nsa", "authn-authz.rbac"), Reference::new("kubescape", "C-0063")],
    ),
    RBAC.rule(
        "RBAC008",
        "rbac-escalate",
        "Subject can escalate roles",
        Critical,
        "`escalate` on roles or clusterroles lifts the rule that a role may only be written with permissions the writer already holds: the subject can grant itself anything.",
        "Remove `escalate`; it is only needed by RBAC management controllers.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.8"),
            Reference::new("kubescape", "C-0191"),
        ],
    ),
    RBAC.rule(
        "RBAC009",
        "rbac-bind",
        "Subject can bind any role",
        Critical,
        "`bind` on roles or clusterroles lets the subject create bindings to roles it does not hold (with binding-create rights, e.g. to `cluster-admin`).",
        "Remove `bind`, or restrict it with `resourceNames` to the roles that may be delegated.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.8"),
            Reference::new("kubescape", "C-0191"),
        ],
    ),
    RBAC.rule(
        "RBAC010",
        "rbac-manage-rbac",
        "Subject can write roles or bindings",
        Medium,
        "Writing roles and bindings is bounded by escalation prevention, but together with aggregation labels, `bind` or `escalate` it is a path to more permissions, and it can hand the subject's own permissions to others.",
        "Keep RBAC writes with cluster administrators and GitOps controllers.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC011",
        "rbac-impersonate",
        "Subject can impersonate users, groups or service accounts",
        Critical,
        "`impersonate` lets the subject act as another identity, including the group `system:masters`, which bypasses authorization.",
        "Remove `impersonate`, or restrict it with `resourceNames` to specific identities.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.8"),
            Reference::new("kubescape", "C-0065"),
            Reference::new("kubescape", "C-0191"),
        ],
    ),
    RBAC.rule(
        "RBAC012",
        "rbac-create-sa-token",
        "Subject can mint service account tokens",
        Critical,
        "`create serviceaccounts/token` issues a token for any service account at that scope, and with it that account's permissions.",
        "Remove the permission; only the kubelet and token controllers need it.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.13"),
            Reference::new("kubescape", "C-0282"),
        ],
    ),
    RBAC.rule(
        "RBAC013",
        "rbac-write-secrets",
        "Subject can create or modify Secrets",
        High,
        "Creating a `kubernetes.io/service-account-token` Secret annotated with a service account makes the token controller fill in that account's token.",
        "Restrict secret writes with `resourceNames`, or to the controllers that manage them.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC014",
        "rbac-node-proxy",
        "Subject can use the kubelet API through nodes/proxy",
        Critical,
        "`nodes/proxy` reaches the kubelet API: exec in every pod on every node, bypassing admission and audit. `get` is not read-only here (WebSocket exec).",
        "Remove `nodes/proxy`; monitoring should use the metrics endpoints instead.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.10"),
            Reference::new("kubescape", "C-0279"),
        ],
    ),
    RBAC.rule(
        "RBAC015",
        "rbac-approve-csr",
        "Subject can approve client certificates",
        Critical,
        "Approving CertificateSigningRequests for the `kubernetes.io/kube-apiserver-client` signer mints client certificates for any identity, including `O=system:masters`.",
        "Remove `update certificatesigningrequests/approval` together with `approve` on `signers`.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.11"),
            Reference::new("kubescape", "C-0280"),
        ],
    ),
    RBAC.rule(
        "RBAC016",
        "rbac-control-webhooks",
        "Subject can change admission webhooks",
        High,
        "Writing validating or mutating webhook configurations disables policy enforcement or sends every admitted object (secrets included) to an attacker's webhook, which may also mutate it.",
        "Restrict webhook configuration writes to cluster administrators.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.12"),
            Reference::new("kubescape", "C-0281"),
        ],
    ),
    RBAC.rule(
        "RBAC017",
        "rbac-control-admission-policies",
        "Subject can change admission policies",
        High,
        "Writing ValidatingAdmissionPolicies, MutatingAdmissionPolicies or their bindings disables or alters in-process admission control.",
        "Restrict these writes to cluster administrators.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC018",
        "rbac-create-persistent-volumes",
        "Subject can create PersistentVolumes",
        High,
        "A `hostPath` PersistentVolume mounts any node directory into a pod.",
        "Let a storage provisioner create volumes; remove `create persistentvolumes` from people.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.9"),
            Reference::new("kubescape", "C-0278"),
        ],
    ),
    RBAC.rule(
        "RBAC019",
        "rbac-modify-nodes",
        "Subject can modify nodes",
        Medium,
        "Updating nodes or `nodes/status` (labels, taints, capacity) steers powerful pods onto a node the attacker controls.",
        "Only node agents and the node lifecycle controller need this.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC020",
        "rbac-modify-pod-status",
        "Subject can modify pod status",
        Low,
        "Writing `pods/status` changes what Services and controllers believe about pods, e.g. to take over Service traffic.",
        "Only the kubelet needs this.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC021",
        "rbac-modify-service-status",
        "Subject can modify service status",
        Medium,
        "Writing `services/status` sets `status.loadBalancer.ingress.ip`, intercepting traffic to that IP cluster-wide (CVE-2020-8554).",
        "Only load-balancer controllers need this.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("k8s-checklist", "network.loadbalancer-externalips"),
        ],
    ),
    RBAC.rule(
        "RBAC022",
        "rbac-modify-namespaces",
        "Subject can modify namespaces",
        Medium,
        "Updating a Namespace changes its Pod Security labels (`pod-security.kubernetes.io/*`) or the labels NetworkPolicies select on. A RoleBinding grants this on its own namespace.",
        "Keep namespace writes with cluster administrators.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC023",
        "rbac-control-api-extensions",
        "Subject can register APIs or CRDs",
        High,
        "Writing APIServices redirects an API group to any service; writing CustomResourceDefinitions extends or breaks the API surface that controllers and policies rely on.",
        "Restrict these writes to cluster administrators.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC024",
        "rbac-modify-aws-auth",
        "Subject can modify the aws-auth ConfigMap (EKS)",
        High,
        "On EKS, `kube-system/aws-auth` maps IAM identities to Kubernetes users and groups, including `system:masters`.",
        "Remove `update`/`patch` on configmaps in kube-system; use EKS access entries.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    RBAC.rule(
        "RBAC025",
        "rbac-delete-critical",
        "Subject can delete workloads, secrets or nodes",
        Medium,
        "Delete rights on pods, controllers, secrets, config maps, volumes, namespaces or nodes are a denial-of-service and data-destruction path, and deleting pods or nodes moves workloads.",
        "Grant delete only where it is needed.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("k8s-checklist", "pod-security.rbac-workload-rights"),
            Reference::new("kubescape", "C-0007"),
        ],
    ),
    RBAC.rule(
        "RBAC026",
        "rbac-binding-to-everyone",
        "Binding grants permissions to every user or every service account",
        High,
        "A subject of `system:anonymous`, `system:unauthenticated`, `system:authenticated` or `system:serviceaccounts` gives the role to everyone who can reach the API server (or holds any token). The default bindings of a new cluster are not reported.",
        "Bind specific users, groups or service accounts instead.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("kubescape", "C-0262"),
            Reference::new("kubescape", "C-0265"),
        ],
    ),
    RBAC.rule(
        "RBAC027",
        "rbac-system-masters-binding",
        "Binding names the system:masters group",
        Low,
        "`system:masters` bypasses authorization altogether; a binding to it is redundant, and its presence suggests credentials with `O=system:masters`, which cannot be revoked by RBAC.",
        "Remove the binding; issue credentials for a normal group bound to a role instead.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.7"),
            Reference::new("k8s-checklist", "authn.no-system-masters"),
            Reference::new("kubescape", "C-0246"),
        ],
    ),
    RBAC.rule(
        "RBAC028",
        "rbac-powerful-token-mounted",
        "Workload mounts the token of a service account with dangerous permissions",
        High,
        "Anyone who compromises a container of this workload reads the mounted service account token and holds its permissions (any high or critical RBAC finding above). Critical when one of those permissions is critical.",
        "Give the workload its own service account with only what it needs, or set `automountServiceAccountToken: false` when it does not call the API.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("nsa", "pod-security.service-account-tokens"),
            Reference::new("kubescape", "C-0267"),
            Reference::new("kubescape", "C-0272"),
        ],
    ),
    RBAC.rule(
        "RBAC029",
        "rbac-default-sa-automount",
        "A namespace's default service account mounts its token",
        Low,
        "Every pod without `serviceAccountName` runs as `default`; unless the default account sets `automountServiceAccountToken: false`, each such pod carries an API token it does not need.",
        "Set `automountServiceAccountToken: false` on the `default` ServiceAccount and give workloads that call the API their own account.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.5"),
            Reference::new("nsa", "pod-security.service-account-tokens"),
            Reference::new("kubescape", "C-0189"),
        ],
    ),
    RBAC.rule(
        "RBAC030",
        "rbac-bound-token-mounted",
        "Workload mounts the token of a service account that has RBAC bindings",
        Info,
        "The workload's token carries the service account's bindings; if the workload does not call the API, the token is only useful to an attacker.",
        "Set `automountServiceAccountToken: false` in the pod template or on the service account when the workload does not use the API.",
        &[
            Reference::new("nsa", "authn-authz.rbac"),
            Reference::new("cis", "5.1.6"),
            Reference::new("nsa", "pod-security.service-account-tokens"),
            Reference::new("k8s-checklist", "secrets.service-account-tokens"),
            Reference::new("kubescape", "C-0261"),
            Reference::new("kubescape", "C-0190"),
        ],
    ),
    RBAC.rule(
        "RBAC031",
        "rbac-cloud-iam-sa",
        "Service account is linked to a cloud IAM identity",
        Low,
        "An IRSA, GKE Workload Identity or Azure Workload Identity annotation gives pods using the account cloud credentials: compromising the pod (or anyone who can run pods as the account, see RBAC003) reaches the cloud account.",
        "Grant the cloud role least privilege and restrict who can create pods in the namespace.",
        &[Reference::new("nsa", "authn-authz.rbac")],
    ),
    NETPOL.rule(
        "NETPOL001",
        "netpol-ingress-not-isolated",
        "Workload accepts traffic from anywhere (no ingress policy selects it)",
        Medium,
        "A pod no NetworkPolicy with `Ingress` in its effective `policyTypes` selects accepts connections from every pod in the cluster and from outside. (A policy without `policyTypes` has `Ingress` always, and `Egress` only when it lists `egress` rules.)",
        "Add a default-deny ingress policy in the namespace (`podSelector: {}`, `policyTypes: [Ingress]`) and allow-policies for the traffic the workload needs.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("k8s-checklist", "network.ingress-egress-policies"),
            Reference::new("kubescape", "C-0260"),
            Reference::new("kube-score", "pod-networkpolicy"),
            Reference::new("polaris", "missingNetworkPolicy"),
        ],
    ),
    NETPOL.rule(
        "NETPOL002",
        "netpol-egress-not-isolated",
        "Workload can connect anywhere (no egress policy selects it)",
        Low,
        "A pod no NetworkPolicy with `Egress` in its effective `policyTypes` selects can reach every pod, the API server, node and cloud metadata endpoints, and the internet.",
        "Add a default-deny egress policy (`policyTypes: [Egress]`) with an allowance for DNS, then allow the destinations the workload needs.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("k8s-checklist", "network.ingress-egress-policies"),
            Reference::new("kube-score", "pod-networkpolicy"),
            Reference::new("polaris", "missingNetworkPolicy"),
        ],
    ),
    NETPOL.rule(
        "NETPOL003",
        "netpol-namespace-no-default-deny-ingress",
        "Namespace has no default-deny ingress policy",
        Medium,
        "Without a policy selecting every pod (`podSelector: {}`) with `Ingress` type and no ingress rules, each new workload in the namespace is reachable from anywhere until someone writes a policy for it. Reported per namespace as: no policy at all, or isolated by allow-policies only.",
        "Add `podSelector: {}` / `policyTypes: [Ingress]` with no `ingress` rules to the namespace.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("cis", "5.3.2"),
            Reference::new("k8s-checklist", "network.default-deny"),
            Reference::new("kubescape", "C-0206"),
            Reference::new("kubeaudit", "MissingDefaultDenyIngressNetworkPolicy"),
        ],
    ),
    NETPOL.rule(
        "NETPOL004",
        "netpol-namespace-no-default-deny-egress",
        "Namespace has no default-deny egress policy",
        Low,
        "Without a policy selecting every pod with explicit `policyTypes: [Egress]` and no egress rules, new workloads can connect anywhere.",
        "Add `podSelector: {}` / `policyTypes: [Egress]` with no `egress` rules, plus a DNS allowance.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("k8s-checklist", "network.default-deny"),
            Reference::new("kubeaudit", "MissingDefaultDenyEgressNetworkPolicy"),
        ],
    ),
    NETPOL.rule(
        "NETPOL005",
        "netpol-selects-nothing",
        "NetworkPolicy selects no workload in the scanned set",
        Low,
        "A policy whose `podSelector` matches no pod template in its namespace protects nothing: usually a label typo or a policy in the wrong namespace.",
        "Fix the selector or the namespace; delete the policy if the workload is gone.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("kubescape", "C-0299"),
            Reference::new("kube-linter", "dangling-networkpolicy"),
            Reference::new("kube-score", "networkpolicy-targets-pod"),
        ],
    ),
    NETPOL.rule(
        "NETPOL006",
        "netpol-split-peer",
        "Peer list has a namespaceSelector and a podSelector in separate entries (OR, not AND)",
        Medium,
        "`- namespaceSelector: ...` followed by `- podSelector: ...` is two peers: all pods of those namespaces OR those pods of the policy's own namespace. Written as one entry (no second dash) they would be ANDed; the split form is a common indentation mistake that allows far more than intended.",
        "If you meant pods with those labels in those namespaces, put both selectors in one list entry.",
        &[Reference::new("nsa", "network.network-policies")],
    ),
    NETPOL.rule(
        "NETPOL007",
        "netpol-egress-without-dns",
        "Egress policy isolates pods without allowing DNS",
        Low,
        "Once pods are egress-isolated, only listed destinations are reachable; if no egress policy in the namespace allows port 53, name resolution fails and the workload breaks (or someone later adds an allow-all).",
        "Allow UDP and TCP port 53 to the cluster DNS (e.g. `namespaceSelector` on `kubernetes.io/metadata.name: kube-system` with `k8s-app: kube-dns`).",
        &[Reference::new("nsa", "network.network-policies")],
    ),
    NETPOL.rule(
        "NETPOL008",
        "netpol-named-port-undefined",
        "Policy refers to a named port no selected pod defines",
        Low,
        "A named port is resolved against the destination pods' container ports; a name no pod defines matches nothing, so the rule allows no traffic.",
        "Use the port number, or name the container port.",
        &[Reference::new("nsa", "network.network-policies")],
    ),
    NETPOL.rule(
        "NETPOL009",
        "netpol-allow-all",
        "Policy allows all traffic to or from every pod of the namespace",
        Medium,
        "A policy selecting every pod with a rule `{}` (any peer, any port) undoes a default-deny for the whole namespace, since policies are additive.",
        "Replace it with rules for the traffic actually needed.",
        &[
            Reference::new("nsa", "network.network-policies"),
            Reference::new("kubeaudit", "AllowAllIngressNetworkPolicyExists"),
            Reference::new("kubeaudit", "AllowAllEgressNetworkPolicyExists"),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_names_and_fields() {
        let mut names = HashSet::new();
        let (mut rb, mut np) = (0, 0);
        for m in &RULES {
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            let n = match m.family {
                "rbac" => {
                    rb += 1;
                    format!("RBAC{rb:03}")
                }
                "netpol" => {
                    np += 1;
                    format!("NETPOL{np:03}")
                }
                f => panic!("family {f}"),
            };
            assert_eq!(m.id, n);
            assert!(m.name.starts_with(m.family));
            for s in [m.title, m.rationale, m.remediation, m.help_uri] {
                assert!(!s.trim().is_empty(), "{}", m.id);
            }
            assert!(!m.references.is_empty(), "{}", m.id);
            assert!(
                m.references
                    .iter()
                    .all(|r| r.source == r.source.to_lowercase()),
                "{}",
                m.id
            );
        }
        assert_eq!(RULES[ids::EVERYONE].id, "RBAC026");
        assert_eq!(RULES[ids::CLOUD_IAM].id, "RBAC031");
        assert_eq!(RULES[ids::NP_INGRESS].id, "NETPOL001");
        assert_eq!(RULES[ids::NP_ALLOW_ALL].id, "NETPOL009");
    }
}
