//! Compliance frameworks: named rule sets whose controls are read from the rules' own
//! references, so a rule joins a framework by citing it (the graph rules too). `pss-baseline`
//! and `pss-restricted` group the PSS rules by Pod Security Standards control; `nsa` groups
//! rules by NSA/CISA Kubernetes Hardening Guidance (v1.2) section; `cis` by CIS Kubernetes
//! Benchmark (v1.12) recommendation; `k8s-checklist` by item of the kubernetes.io Security
//! Checklist and Application Security Checklist; `all` is every one of them.

use palisade_core::RuleMeta;
use std::fmt;
use std::str::FromStr;

use crate::catalog;
use crate::pss::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framework {
    PssBaseline,
    PssRestricted,
    Nsa,
    Cis,
    K8sChecklist,
    All,
}

impl Framework {
    pub const ALL: [Framework; 6] = [
        Framework::PssBaseline,
        Framework::PssRestricted,
        Framework::Nsa,
        Framework::Cis,
        Framework::K8sChecklist,
        Framework::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Framework::PssBaseline => "pss-baseline",
            Framework::PssRestricted => "pss-restricted",
            Framework::Nsa => "nsa",
            Framework::Cis => "cis",
            Framework::K8sChecklist => "k8s-checklist",
            Framework::All => "all",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Framework::PssBaseline => "Pod Security Standards: Baseline",
            Framework::PssRestricted => "Pod Security Standards: Restricted",
            Framework::Nsa => "NSA/CISA Kubernetes Hardening Guidance v1.2",
            Framework::Cis => "CIS Kubernetes Benchmark v1.12 (section 5, policies)",
            Framework::K8sChecklist => {
                "kubernetes.io Security Checklist and Application Security Checklist"
            }
            Framework::All => "All frameworks",
        }
    }

    /// The PSS level the framework implies: baseline for `pss-baseline` (so restricted
    /// overrides do not hide baseline controls), restricted for the others.
    pub fn pss_level(self) -> Level {
        match self {
            Framework::PssBaseline => Level::Baseline,
            _ => Level::Restricted,
        }
    }

    /// The frameworks whose summaries `self` prints (`all` = pss-baseline, pss-restricted, nsa
    /// and cis).
    pub fn parts(self) -> Vec<Framework> {
        match self {
            Framework::All => vec![
                Framework::PssBaseline,
                Framework::PssRestricted,
                Framework::Nsa,
                Framework::Cis,
                Framework::K8sChecklist,
            ],
            f => vec![f],
        }
    }

    /// The control IDs `rule` maps to in this framework (empty: not part of it).
    pub fn control_ids(self, rule: &RuleMeta) -> Vec<&'static str> {
        let (source, baseline_only) = match self {
            Framework::PssBaseline => ("pss", true),
            Framework::PssRestricted => ("pss", false),
            Framework::Nsa => ("nsa", false),
            Framework::Cis => ("cis", false),
            Framework::K8sChecklist => ("k8s-checklist", false),
            Framework::All => {
                return Framework::All
                    .parts()
                    .into_iter()
                    .flat_map(|f| f.control_ids(rule))
                    .collect();
            }
        };
        if baseline_only && !is_baseline(rule) {
            return Vec::new();
        }
        rule.references
            .iter()
            .filter(|r| r.source == source)
            .map(|r| r.id)
            .collect()
    }

    /// Whether the framework runs `rule`.
    pub fn includes(self, rule: &RuleMeta) -> bool {
        !self.control_ids(rule).is_empty()
    }

    /// The framework's controls, in first-seen catalog order (PSS, NSA), ID order (CIS) or the
    /// checklists' own order (k8s-checklist), each with the catalog rules that implement it.
    pub fn controls(self) -> Vec<Control> {
        let mut out: Vec<Control> = Vec::new();
        for part in self.parts() {
            let mut mine: Vec<Control> = Vec::new();
            for rule in crate::catalog() {
                for id in part.control_ids(rule) {
                    match mine.iter_mut().find(|c| c.id == id) {
                        Some(c) => c.rules.push(rule.id),
                        None => mine.push(Control {
                            framework: part,
                            id,
                            title: control_title(part, id).unwrap_or(id),
                            rules: vec![rule.id],
                            field_filters: Vec::new(),
                        }),
                    }
                }
            }
            match part {
                Framework::Cis => mine.sort_by_key(|c| cis_key(c.id)),
                Framework::K8sChecklist => mine.sort_by_key(|c| {
                    CHECKLIST_TITLES
                        .iter()
                        .position(|(id, _)| *id == c.id)
                        .unwrap_or(usize::MAX)
                }),
                _ => {}
            }
            for c in &mut mine {
                c.field_filters = FIELD_FILTERS
                    .iter()
                    .filter(|(fw, ctl, rule, _)| {
                        *fw == part && *ctl == c.id && c.rules.contains(rule)
                    })
                    .map(|(_, _, rule, suffix)| (*rule, *suffix))
                    .collect();
            }
            out.extend(mine);
        }
        out
    }
}

/// A baseline PSS rule: its PSS reference points at the baseline section.
fn is_baseline(rule: &RuleMeta) -> bool {
    rule.family == "pss"
        && catalog::CATALOG.iter().any(|c| c.id == rule.id)
        && rule
            .references
            .iter()
            .any(|r| r.source == "pss" && r.url.ends_with("#baseline"))
}

fn cis_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown framework {given:?}: expected one of pss-baseline, pss-restricted, nsa, cis, k8s-checklist, all"
)]
pub struct ParseFrameworkError {
    pub given: String,
}

impl FromStr for Framework {
    type Err = ParseFrameworkError;

    fn from_str(s: &str) -> Result<Framework, ParseFrameworkError> {
        Framework::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFrameworkError {
                given: s.to_owned(),
            })
    }
}

/// One control of a framework and the rules that check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub framework: Framework,
    pub id: &'static str,
    pub title: &'static str,
    pub rules: Vec<&'static str>,
    /// `(rule, field suffix)`: only that rule's findings naming a field ending in the suffix
    /// count against the control (one PSS rule covers several CIS controls).
    pub field_filters: Vec<(&'static str, &'static str)>,
}

/// Where one rule covers several controls: PSS003 (host namespaces) is three CIS
/// recommendations, one per namespace, so a pod with only `hostNetwork` fails 5.2.5 alone
/// (the mapping Trivy's NSA spec gets wrong).
static FIELD_FILTERS: &[(Framework, &str, &str, &str)] = &[
    (Framework::Cis, "5.2.3", "PSS003", "hostPID"),
    (Framework::Cis, "5.2.4", "PSS003", "hostIPC"),
    (Framework::Cis, "5.2.5", "PSS003", "hostNetwork"),
];

/// The published title of a control, when Palisade knows it.
pub fn control_title(framework: Framework, id: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = match framework {
        Framework::Cis => CIS_TITLES,
        Framework::Nsa => NSA_TITLES,
        Framework::K8sChecklist => CHECKLIST_TITLES,
        Framework::PssBaseline | Framework::PssRestricted => return None,
        Framework::All => return None,
    };
    table.iter().find(|(k, _)| *k == id).map(|(_, t)| *t)
}

/// CIS Kubernetes Benchmark v1.12.0, section 5 (as kube-bench's `cis-1.12` ships it).
pub(crate) static CIS_TITLES: &[(&str, &str)] = &[
    (
        "5.1.1",
        "Ensure that the cluster-admin role is only used where required",
    ),
    ("5.1.2", "Minimize access to secrets"),
    ("5.1.3", "Minimize wildcard use in Roles and ClusterRoles"),
    ("5.1.4", "Minimize access to create pods"),
    (
        "5.1.5",
        "Ensure that default service accounts are not actively used",
    ),
    (
        "5.1.6",
        "Ensure that Service Account Tokens are only mounted where necessary",
    ),
    ("5.1.7", "Avoid use of system:masters group"),
    (
        "5.1.8",
        "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster",
    ),
    ("5.1.9", "Minimize access to create persistent volumes"),
    (
        "5.1.10",
        "Minimize access to the proxy sub-resource of nodes",
    ),
    (
        "5.1.11",
        "Minimize access to the approval sub-resource of certificatesigningrequests objects",
    ),
    ("5.1.12", "Minimize access to webhook configuration objects"),
    (
        "5.1.13",
        "Minimize access to the service account token creation",
    ),
    ("5.2.2", "Minimize the admission of privileged containers"),
    (
        "5.2.3",
        "Minimize the admission of containers wishing to share the host process ID namespace",
    ),
    (
        "5.2.4",
        "Minimize the admission of containers wishing to share the host IPC namespace",
    ),
    (
        "5.2.5",
        "Minimize the admission of containers wishing to share the host network namespace",
    ),
    (
        "5.2.6",
        "Minimize the admission of containers with allowPrivilegeEscalation",
    ),
    ("5.2.7", "Minimize the admission of root containers"),
    (
        "5.2.8",
        "Minimize the admission of containers with the NET_RAW capability",
    ),
    (
        "5.2.9",
        "Minimize the admission of containers with capabilities assigned",
    ),
    (
        "5.2.10",
        "Minimize the admission of Windows HostProcess containers",
    ),
    ("5.2.11", "Minimize the admission of HostPath volumes"),
    (
        "5.2.12",
        "Minimize the admission of containers which use HostPorts",
    ),
    (
        "5.3.1",
        "Ensure that the CNI in use supports NetworkPolicies",
    ),
    (
        "5.3.2",
        "Ensure that all Namespaces have NetworkPolicies defined",
    ),
    (
        "5.4.1",
        "Prefer using Secrets as files over Secrets as environment variables",
    ),
    ("5.4.2", "Consider external secret storage"),
    (
        "5.5.1",
        "Configure Image Provenance using ImagePolicyWebhook admission controller",
    ),
    (
        "5.6.1",
        "Create administrative boundaries between resources using namespaces",
    ),
    (
        "5.6.2",
        "Ensure that the seccomp profile is set to docker/default in your Pod definitions",
    ),
    ("5.6.3", "Apply SecurityContext to your Pods and Containers"),
    ("5.6.4", "The default namespace should not be used"),
];

/// NSA/CISA Kubernetes Hardening Guidance v1.2 sections (the guide does not number its
/// sub-sections; Palisade's IDs are `<section>.<sub-section>` slugs of their headings).
pub(crate) static NSA_TITLES: &[(&str, &str)] = &[
    (
        "pod-security.non-root",
        "Kubernetes Pod security: \"Non-root\" containers and \"rootless\" container engines",
    ),
    (
        "pod-security.immutable-filesystem",
        "Kubernetes Pod security: Immutable container file systems",
    ),
    (
        "pod-security.secure-images",
        "Kubernetes Pod security: Building secure container images",
    ),
    (
        "pod-security.enforcement",
        "Kubernetes Pod security: Pod security enforcement",
    ),
    (
        "pod-security.service-account-tokens",
        "Kubernetes Pod security: Protecting Pod service account tokens",
    ),
    (
        "pod-security.hardening-container-environments",
        "Kubernetes Pod security: Hardening container environments",
    ),
    (
        "network.namespaces",
        "Network separation and hardening: Namespaces",
    ),
    (
        "network.network-policies",
        "Network separation and hardening: Network policies",
    ),
    (
        "network.resource-policies",
        "Network separation and hardening: Resource policies",
    ),
    (
        "network.secrets",
        "Network separation and hardening: Secrets",
    ),
    (
        "authn-authz.authentication",
        "Authentication and authorization: Authentication",
    ),
    (
        "authn-authz.rbac",
        "Authentication and authorization: Role-based access control",
    ),
];

/// kubernetes.io checklist items Palisade cites (`source: k8s-checklist`), in the pages' order:
/// the Security Checklist (`concepts/security/security-checklist`, IDs `<section>.<item>`),
/// then the Application Security Checklist (`concepts/security/application-security-checklist`,
/// IDs `app.<item>`). The pages do not number their items; the titles paraphrase them.
pub(crate) static CHECKLIST_TITLES: &[(&str, &str)] = &[
    (
        "authn.no-system-masters",
        "Authentication & Authorization: the system:masters group is not used for user or component authentication after bootstrapping",
    ),
    (
        "authn.rbac-good-practices",
        "Authentication & Authorization: the Role Based Access Control Good Practices are followed",
    ),
    (
        "network.ingress-egress-policies",
        "Network security: ingress and egress network policies are applied to all workloads in the cluster",
    ),
    (
        "network.default-deny",
        "Network security: default network policies within each namespace, selecting all pods, denying everything, are in place",
    ),
    (
        "network.loadbalancer-externalips",
        "Network security: the usage of LoadBalancer and ExternalIPs is restricted (CVE-2020-8554)",
    ),
    (
        "pod-security.rbac-workload-rights",
        "Pod security: RBAC rights to create, update, patch, delete workloads are only granted if necessary",
    ),
    (
        "pod-security.pss-enforced",
        "Pod security: an appropriate Pod Security Standards policy is applied for all namespaces and enforced",
    ),
    (
        "pod-security.memory-limit",
        "Pod security: memory limit is set for the workloads with a limit equal to or inferior to the request",
    ),
    (
        "pod-security.cpu-limit",
        "Pod security: CPU limit might be set on sensitive workloads",
    ),
    (
        "pod-security.seccomp",
        "Pod security: for nodes that support it, Seccomp is enabled with appropriate syscalls profile for programs",
    ),
    (
        "pod-security.apparmor-or-selinux",
        "Pod security: for nodes that support it, AppArmor or SELinux is enabled with appropriate profile for programs",
    ),
    (
        "secrets.service-account-tokens",
        "Secrets: service account tokens are not mounted in pods that don't require them",
    ),
    (
        "secrets.no-configmaps",
        "Secrets: ConfigMaps are not used to hold confidential data",
    ),
    (
        "images.unprivileged-user",
        "Images: the container runs as an unprivileged user",
    ),
    (
        "images.digest-or-signature",
        "Images: container images are referenced by sha256 digest or their signatures are validated at admission",
    ),
    (
        "admission.always-pull-images",
        "Admission controllers: AlwaysPullImages (situational)",
    ),
    (
        "app.resources-qos",
        "Application security, application design: the QoS class is set through resource requests and limits (memory limit set, CPU limit on sensitive workloads)",
    ),
    (
        "app.default-service-account",
        "Application security, service account: the default ServiceAccount is not used; each workload has its own",
    ),
    (
        "app.automount-token",
        "Application security, service account: automountServiceAccountToken is false unless the pod needs the Kubernetes API",
    ),
    (
        "app.run-as-non-root",
        "Application security, pod securityContext: runAsNonRoot is true",
    ),
    (
        "app.less-privileged-user",
        "Application security, pod securityContext: the container runs as a less privileged user and group (runAsUser, runAsGroup)",
    ),
    (
        "app.no-privilege-escalation",
        "Application security, container securityContext: allowPrivilegeEscalation is false",
    ),
    (
        "app.read-only-root-filesystem",
        "Application security, container securityContext: the root filesystem is read-only",
    ),
    (
        "app.no-privileged",
        "Application security, container securityContext: the container is not privileged",
    ),
    (
        "app.drop-capabilities",
        "Application security, container securityContext: all capabilities are dropped and only needed ones added back",
    ),
    (
        "app.seccomp",
        "Application security, advanced: an appropriate seccomp profile is set",
    ),
    (
        "app.apparmor-selinux",
        "Application security, advanced: an AppArmor profile or SELinux labels are set",
    ),
];

/// Title of a kubernetes.io checklist item Palisade cites.
pub fn checklist_title(id: &str) -> Option<&'static str> {
    control_title(Framework::K8sChecklist, id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn k8s_checklist_parses_and_is_part_of_all() {
        let f: Framework = "k8s-checklist".parse().unwrap();
        assert_eq!(f, Framework::K8sChecklist);
        assert_eq!(f.to_string(), "k8s-checklist");
        assert_eq!(f.pss_level(), Level::Restricted);
        assert!(Framework::All.parts().contains(&f));
        let err = "soc2".parse::<Framework>().unwrap_err().to_string();
        assert!(err.contains("k8s-checklist"), "{err}");
    }

    /// Controls come from the rules' `k8s-checklist` references, each with its published item
    /// (never the bare ID), in the checklists' order; every item Palisade knows is checked by
    /// some rule, so the summary has no control that can never fail.
    #[test]
    fn k8s_checklist_controls_are_the_cited_items_in_page_order() {
        let controls = Framework::K8sChecklist.controls();
        let ids: Vec<&str> = controls.iter().map(|c| c.id).collect();
        let table: Vec<&str> = CHECKLIST_TITLES.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, table, "every item cited, in page order");
        for c in &controls {
            assert_eq!(Some(c.title), checklist_title(c.id));
            assert!(!c.rules.is_empty());
            assert_eq!(c.framework, Framework::K8sChecklist);
        }
        let rules = |id: &str| {
            controls
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.rules.clone())
                .unwrap()
        };
        assert_eq!(rules("app.run-as-non-root"), ["PSS017"]);
        assert_eq!(rules("app.default-service-account"), ["HRD010"]);
        assert_eq!(rules("app.no-privileged"), ["PSS007"]);
        assert_eq!(
            rules("app.resources-qos"),
            ["HRD002", "HRD003", "HRD004", "HRD005"]
        );
        // Graph rules join by citing the item too (RBAC021: services/status, CVE-2020-8554).
        assert_eq!(
            rules("network.loadbalancer-externalips"),
            ["HRD022", "HRD023", "RBAC021"]
        );
        assert_eq!(rules("authn.no-system-masters"), ["RBAC027"]);
        assert_eq!(rules("authn.rbac-good-practices"), ["RBAC001", "RBAC002"]);
        assert_eq!(
            rules("pod-security.rbac-workload-rights"),
            ["RBAC003", "RBAC004", "RBAC025"]
        );
        assert_eq!(
            rules("network.ingress-egress-policies"),
            ["NETPOL001", "NETPOL002"]
        );
        assert_eq!(rules("network.default-deny"), ["NETPOL003", "NETPOL004"]);
        assert_eq!(
            rules("secrets.service-account-tokens"),
            ["HRD009", "RBAC030"]
        );
        // The framework runs exactly the rules that cite it.
        for r in crate::catalog() {
            let cited = r.references.iter().any(|x| x.source == "k8s-checklist");
            assert_eq!(Framework::K8sChecklist.includes(r), cited, "{}", r.id);
        }
    }
}
