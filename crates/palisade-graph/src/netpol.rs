//! NetworkPolicy (`networking.k8s.io/v1`) semantics over a set of objects: effective
//! `policyTypes` (explicit, else `Ingress` plus `Egress` iff `egress` rules exist), pod and
//! namespace selection (namespace labels include the automatic
//! `kubernetes.io/metadata.name`), additive allow rules, isolation per workload and per
//! namespace, pod-to-pod reachability (the sender's egress AND the receiver's ingress must
//! allow), and the lints of the `netpol` family.
//!
//! Not modelled: `ipBlock` peers never match pods (pod IPs are unknown offline, and the API
//! documents ipBlock as meant for cluster-external addresses); traffic from the node to its
//! own pods is always allowed by Kubernetes and is not a question this model answers;
//! CNI-specific policies (Cilium, Calico) and AdminNetworkPolicy are not read.

use crate::Docs;
use crate::catalog::{RULES, ids};
use crate::finding;
use crate::objects::{self, Labels, Namespace, Selector, Workload};
use palisade_core::{Document, FieldPath, Finding, InputError, RuleMeta};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortValue {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub protocol: String,
    /// `None`: every port of the protocol.
    pub port: Option<PortValue>,
    pub end_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// `namespaceSelector` and/or `podSelector` in one entry (ANDed).
    Pods {
        namespaces: Option<Selector>,
        pods: Option<Selector>,
    },
    IpBlock {
        cidr: String,
        except: Vec<String>,
    },
}

/// One ingress or egress rule. Empty `peers` = every peer; empty `ports` = every port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub peers: Vec<Peer>,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn key(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    fn peer_key(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub doc: usize,
    /// The file it was read from.
    pub file: std::sync::Arc<str>,
    pub namespace: String,
    pub name: String,
    pub pod_selector: Selector,
    pub ingress_type: bool,
    pub egress_type: bool,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
}

impl Policy {
    fn parse(doc: usize, file: std::sync::Arc<str>, v: &Value) -> Policy {
        let spec = v.get("spec");
        let rules = |key: &str, peer_key: &str| -> Vec<PolicyRule> {
            match spec.and_then(|s| s.get(key)) {
                Some(Value::Array(rs)) => rs.iter().map(|r| parse_rule(r, peer_key)).collect(),
                _ => Vec::new(),
            }
        };
        let ingress = rules("ingress", "from");
        let egress = rules("egress", "to");
        let types = objects::string_list(spec.and_then(|s| s.get("policyTypes")));
        let (ingress_type, egress_type) = if types.is_empty() {
            (true, !egress.is_empty())
        } else {
            (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            )
        };
        Policy {
            doc,
            file,
            namespace: objects::namespace(v).to_owned(),
            name: objects::name(v).to_owned(),
            pod_selector: Selector::parse(spec.and_then(|s| s.get("podSelector"))),
            ingress_type,
            egress_type,
            ingress,
            egress,
        }
    }

    pub fn display(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn has_type(&self, d: Direction) -> bool {
        match d {
            Direction::Ingress => self.ingress_type,
            Direction::Egress => self.egress_type,
        }
    }

    pub fn rules(&self, d: Direction) -> &[PolicyRule] {
        match d {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub fn selects(&self, w: &Workload) -> bool {
        self.namespace == w.namespace && self.pod_selector.matches(&w.labels)
    }

    /// Selects every pod of its namespace with `d` in its types and no `d` rules.
    pub fn is_default_deny(&self, d: Direction) -> bool {
        self.pod_selector.is_empty() && self.has_type(d) && self.rules(d).is_empty()
    }
}

fn parse_rule(v: &Value, peer_key: &str) -> PolicyRule {
    let peers = match v.get(peer_key) {
        Some(Value::Array(ps)) => ps.iter().map(parse_peer).collect(),
        _ => Vec::new(),
    };
    let ports = match v.get("ports") {
        Some(Value::Array(ps)) => ps
            .iter()
            .map(|p| Port {
                protocol: p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_owned(),
                port: match p.get("port") {
                    Some(Value::Number(n)) => n
                        .as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .map(PortValue::Number),
                    Some(Value::String(s)) => Some(match s.parse::<u16>() {
                        Ok(n) => PortValue::Number(n),
                        Err(_) => PortValue::Name(s.clone()),
                    }),
                    _ => None,
                },
                end_port: p
                    .get("endPort")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok()),
            })
            .collect(),
        _ => Vec::new(),
    };
    PolicyRule { peers, ports }
}

fn parse_peer(v: &Value) -> Peer {
    if let Some(ip) = v.get("ipBlock") {
        return Peer::IpBlock {
            cidr: objects::str_at(ip, &["cidr"]).unwrap_or("").to_owned(),
            except: objects::string_list(ip.get("except")),
        };
    }
    Peer::Pods {
        namespaces: v.get("namespaceSelector").map(|s| Selector::parse(Some(s))),
        pods: v.get("podSelector").map(|s| Selector::parse(Some(s))),
    }
}

/// Isolation of a workload or namespace in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// No policy with this direction selects it: everything is allowed.
    NotIsolated,
    /// Selected only by policies that allow some traffic.
    AllowPoliciesOnly,
    /// Selected by a policy with no rules in this direction (a default-deny).
    DefaultDeny,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectionReport {
    pub isolation: Isolation,
    /// Policies (`ns/name`) selecting it with this direction.
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    pub workload: String,
    pub ingress: DirectionReport,
    pub egress: DirectionReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamespaceReport {
    pub namespace: String,
    pub policies: usize,
    /// Whether the scanned set has a NetworkPolicy or the Namespace object of this namespace
    /// (see [`Netpol::judged`]); when not, its isolation assumes it has no policies at all.
    pub seen: bool,
    pub ingress: Isolation,
    pub egress: Isolation,
    pub workloads: Vec<WorkloadReport>,
}

/// Options of the `netpol` family's findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetpolOptions {
    /// Treat the scanned set as the whole cluster: judge isolation (NETPOL001-004) in every
    /// namespace. Off, namespaces with neither a NetworkPolicy nor a Namespace object in the
    /// set are not judged (one note counts them): a per-file scan has not seen their policies.
    pub assume_complete: bool,
}

/// The port asked about in a reachability query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortQuery {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Whether some policy isolates this end in this direction.
    pub isolated: bool,
    pub allowed: bool,
    /// The deciding policies: those allowing the traffic, or, when denied, those isolating.
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reach {
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    pub protocol: String,
    pub allowed: bool,
    /// The deciding policies of both ends (`ns/name`).
    pub policies: Vec<String>,
    /// The sender's egress side.
    pub egress: Side,
    /// The receiver's ingress side.
    pub ingress: Side,
}

/// The NetworkPolicy model of a set of documents.
#[derive(Debug, Clone, Default)]
pub struct Netpol {
    pub policies: Vec<Policy>,
    pub workloads: Vec<Workload>,
    pub namespaces: Vec<Namespace>,
    /// Indices into `policies` per namespace (a policy selects only pods of its own
    /// namespace, so a workload's question never needs the other namespaces' policies).
    by_namespace: BTreeMap<String, Vec<usize>>,
    /// Index into `namespaces` by name.
    namespace_index: BTreeMap<String, usize>,
    /// Policies by namespace and one `matchLabels` pair of their pod selector (a pod without
    /// that label is not selected), so a pod is checked against the policies that may select
    /// it, not against every policy of its namespace.
    by_label: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<usize>>>>,
    /// Per namespace, the policies whose pod selector has no `matchLabels` (checked for
    /// every pod). Invalid selectors select nothing and are in neither index.
    unlabelled: BTreeMap<String, Vec<usize>>,
}

impl Netpol {
    pub fn build(docs: &(impl Docs + ?Sized)) -> Netpol {
        let mut policies = Vec::new();
        let mut workloads = Vec::new();
        let mut scanned = Vec::new();
        for i in 0..docs.count() {
            let Some(d) = docs.doc_value(i) else {
                continue;
            };
            let v = &d.value;
            if let Some(n) = objects::namespace_object(i, &d) {
                scanned.push(n);
                continue;
            }
            if objects::kind(v) == "NetworkPolicy"
                && objects::group_of(objects::str_at(v, &["apiVersion"]).unwrap_or(""))
                    == "networking.k8s.io"
            {
                policies.push(Policy::parse(i, d.file.clone(), v));
            } else if let Some(w) = objects::workload(i, &d) {
                workloads.push(w);
            }
        }
        let used = policies
            .iter()
            .map(|p: &Policy| p.namespace.clone())
            .chain(workloads.iter().map(|w: &Workload| w.namespace.clone()))
            .collect::<Vec<_>>();
        let namespaces = objects::namespaces(scanned.into_iter(), used.into_iter());
        let mut by_namespace: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut by_label: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<usize>>>> =
            BTreeMap::new();
        let mut unlabelled: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, p) in policies.iter().enumerate() {
            by_namespace.entry(p.namespace.clone()).or_default().push(i);
            if p.pod_selector.invalid {
                continue;
            }
            match p.pod_selector.match_labels.iter().next() {
                Some((k, v)) => by_label
                    .entry(p.namespace.clone())
                    .or_default()
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(i),
                None => unlabelled.entry(p.namespace.clone()).or_default().push(i),
            }
        }
        let namespace_index = namespaces
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        Netpol {
            policies,
            workloads,
            namespaces,
            by_namespace,
            namespace_index,
            by_label,
            unlabelled,
        }
    }

    /// Indices (ascending) of the policies that may select pods of namespace `ns` with
    /// `labels`: a superset of those that do, from the label index.
    fn candidates(&self, ns: &str, labels: &Labels) -> Vec<usize> {
        let mut out: Vec<usize> = self.unlabelled.get(ns).cloned().unwrap_or_default();
        if let Some(keys) = self.by_label.get(ns) {
            for (k, v) in labels {
                if let Some(list) = keys.get(k).and_then(|vals| vals.get(v)) {
                    out.extend_from_slice(list);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The policies of namespace `ns`, in input order.
    fn policies_in<'a>(&'a self, ns: &str) -> impl Iterator<Item = &'a Policy> + 'a {
        self.by_namespace
            .get(ns)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.policies.get(i))
    }

    /// Does `sel` select namespace `ns` (its labels, or only the automatic name label for
    /// a namespace not in the set)?
    fn ns_selected(&self, sel: &Selector, ns: &str) -> bool {
        match self
            .namespace_index
            .get(ns)
            .and_then(|&i| self.namespaces.get(i))
        {
            Some(n) => sel.matches(&n.labels),
            None => sel.matches(&Labels::from([(
                objects::NS_NAME_LABEL.to_owned(),
                ns.to_owned(),
            )])),
        }
    }

    fn selecting(&self, w: &Workload, d: Direction) -> Vec<&Policy> {
        self.candidates(&w.namespace, &w.labels)
            .into_iter()
            .filter_map(|i| self.policies.get(i))
            .filter(|p| p.has_type(d) && p.selects(w))
            .collect()
    }

    pub fn workload_isolation(&self, w: &Workload, d: Direction) -> DirectionReport {
        let sel = self.selecting(w, d);
        let isolation = if sel.is_empty() {
            Isolation::NotIsolated
        } else if sel.iter().any(|p| p.rules(d).is_empty()) {
            Isolation::DefaultDeny
        } else {
            Isolation::AllowPoliciesOnly
        };
        DirectionReport {
            isolation,
            policies: sel.iter().map(|p| p.display()).collect(),
        }
    }

    pub fn namespace_isolation(&self, ns: &str, d: Direction) -> Isolation {
        let mine: Vec<&Policy> = self.policies_in(ns).filter(|p| p.has_type(d)).collect();
        if mine.iter().any(|p| p.is_default_deny(d)) {
            Isolation::DefaultDeny
        } else if mine.is_empty() {
            Isolation::NotIsolated
        } else {
            Isolation::AllowPoliciesOnly
        }
    }

    /// Whether the set says anything about the policies of namespace `ns`: it has a
    /// NetworkPolicy there or the Namespace object. A scan of one file with a Deployment has
    /// neither, and "no policy selects it" would only mean the file holds none.
    pub fn judged(&self, ns: &str) -> bool {
        self.by_namespace.contains_key(ns)
            || self
                .namespace_index
                .get(ns)
                .and_then(|&i| self.namespaces.get(i))
                .is_some_and(|n| n.doc.is_some())
    }

    /// Per namespace (every namespace seen) and per workload, both directions.
    pub fn report(&self) -> Vec<NamespaceReport> {
        let mut by_ns: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
        for w in &self.workloads {
            by_ns.entry(w.namespace.as_str()).or_default().push(w);
        }
        self.namespaces
            .iter()
            .map(|n| NamespaceReport {
                namespace: n.name.clone(),
                policies: self.by_namespace.get(&n.name).map_or(0, Vec::len),
                seen: self.judged(&n.name),
                ingress: self.namespace_isolation(&n.name, Direction::Ingress),
                egress: self.namespace_isolation(&n.name, Direction::Egress),
                workloads: by_ns
                    .get(n.name.as_str())
                    .into_iter()
                    .flatten()
                    .map(|w| WorkloadReport {
                        workload: w.reference(),
                        ingress: self.workload_isolation(w, Direction::Ingress),
                        egress: self.workload_isolation(w, Direction::Egress),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Finds a workload by `namespace/kind/name` (kind case-insensitive).
    pub fn find(&self, spec: &str) -> Result<&Workload, crate::GraphError> {
        let mut parts = spec.splitn(3, '/');
        let (Some(ns), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(crate::GraphError::BadWorkload {
                value: spec.to_owned(),
            });
        };
        self.workloads
            .iter()
            .find(|w| w.namespace == ns && w.kind.eq_ignore_ascii_case(kind) && w.name == name)
            .ok_or_else(|| crate::GraphError::WorkloadNotFound {
                value: spec.to_owned(),
                known: self
                    .workloads
                    .iter()
                    .map(|w| format!("{}/{}/{}", w.namespace, w.kind, w.name))
                    .take(20)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn peer_matches(&self, peers: &[Peer], other: &Workload, policy_ns: &str) -> bool {
        peers.is_empty()
            || peers.iter().any(|p| match p {
                Peer::IpBlock { .. } => false,
                Peer::Pods { namespaces, pods } => {
                    let ns_ok = match namespaces {
                        Some(sel) => self.ns_selected(sel, &other.namespace),
                        None => other.namespace == policy_ns,
                    };
                    ns_ok && pods.as_ref().is_none_or(|s| s.matches(&other.labels))
                }
            })
    }

    fn side(
        &self,
        end: &Workload,
        other: &Workload,
        dest: &Workload,
        d: Direction,
        port: Option<&PortQuery>,
        proto: &str,
    ) -> Side {
        let sel = self.selecting(end, d);
        if sel.is_empty() {
            return Side {
                isolated: false,
                allowed: true,
                policies: Vec::new(),
            };
        }
        let allowing: Vec<String> = sel
            .iter()
            .filter(|p| {
                p.rules(d).iter().any(|r| {
                    self.peer_matches(&r.peers, other, &p.namespace)
                        && ports_match(&r.ports, dest, port, proto)
                })
            })
            .map(|p| p.display())
            .collect();
        if allowing.is_empty() {
            Side {
                isolated: true,
                allowed: false,
                policies: sel.iter().map(|p| p.display()).collect(),
            }
        } else {
            Side {
                isolated: true,
                allowed: true,
                policies: allowing,
            }
        }
    }

    /// Can pods of `from` open a connection to pods of `to` (on `port`/`protocol`, or on
    /// some port when `port` is `None`)?
    pub fn can_reach(
        &self,
        from: &Workload,
        to: &Workload,
        port: Option<&PortQuery>,
        protocol: &str,
    ) -> Reach {
        let egress = self.side(from, to, to, Direction::Egress, port, protocol);
        let ingress = self.side(to, from, to, Direction::Ingress, port, protocol);
        let allowed = egress.allowed && ingress.allowed;
        let mut policies: Vec<String> = Vec::new();
        // Denied: only the denying side decides; allowed: both sides' allowing policies.
        for s in [&egress, &ingress] {
            if allowed || !s.allowed {
                policies.extend(s.policies.iter().cloned());
            }
        }
        policies.dedup();
        Reach {
            from: from.reference(),
            to: to.reference(),
            port: port.map(|p| match p {
                PortQuery::Number(n) => n.to_string(),
                PortQuery::Name(s) => s.clone(),
            }),
            protocol: protocol.to_owned(),
            allowed,
            policies,
            egress,
            ingress,
        }
    }
}

fn named_port<'a>(
    dest: &'a Workload,
    name: &str,
    proto: &str,
) -> Option<&'a objects::ContainerPort> {
    dest.ports
        .iter()
        .find(|p| p.name.as_deref() == Some(name) && p.protocol.eq_ignore_ascii_case(proto))
}

fn ports_match(ports: &[Port], dest: &Workload, q: Option<&PortQuery>, proto: &str) -> bool {
    ports.is_empty()
        || ports.iter().any(|p| {
            if !p.protocol.eq_ignore_ascii_case(proto) {
                return false;
            }
            let Some(pv) = &p.port else {
                return true;
            };
            // The queried port as a number, resolving a name against the destination.
            let qn = match q {
                None => None,
                Some(PortQuery::Number(n)) => Some(*n),
                Some(PortQuery::Name(s)) => named_port(dest, s, proto).map(|c| c.port),
            };
            match (pv, q) {
                (PortValue::Number(n), None) => {
                    let _ = n;
                    true
                }
                (PortValue::Number(n), Some(_)) => qn.is_some_and(|q| match p.end_port {
                    Some(e) => (*n..=e).contains(&q),
                    None => q == *n,
                }),
                (PortValue::Name(s), None) => named_port(dest, s, proto).is_some(),
                (PortValue::Name(s), Some(PortQuery::Name(qs))) => s == qs,
                (PortValue::Name(s), Some(PortQuery::Number(_))) => {
                    named_port(dest, s, proto).is_some_and(|c| Some(c.port) == qn)
                }
            }
        })
}

fn dir_path(d: Direction, rule: usize) -> FieldPath {
    FieldPath::root().key("spec").key(d.key()).index(rule)
}

/// Allows DNS: a rule (any peer) whose ports include 53 (or every port), UDP or TCP.
fn allows_dns(p: &Policy) -> bool {
    p.egress.iter().any(|r| {
        r.ports.is_empty()
            || r.ports.iter().any(|port| {
                (port.protocol == "UDP" || port.protocol == "TCP")
                    && match &port.port {
                        None => true,
                        Some(PortValue::Number(n)) => match port.end_port {
                            Some(e) => (*n..=e).contains(&53),
                            None => *n == 53,
                        },
                        Some(PortValue::Name(s)) => s == "dns" || s == "dns-tcp",
                    }
            })
    })
}

/// The `netpol` family's findings with the default options: namespaces the set says nothing
/// about are not judged (see [`findings_with`], which also returns the note saying so).
pub fn findings(
    docs: &(impl Docs + ?Sized),
    m: &Netpol,
    enabled: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Finding> {
    findings_with(docs, m, enabled, NetpolOptions::default()).0
}

/// The `netpol` family's findings, and a note when isolation (NETPOL001-004) was not judged
/// in some namespaces for want of any NetworkPolicy or Namespace object there.
pub fn findings_with(
    docs: &(impl Docs + ?Sized),
    m: &Netpol,
    enabled: &dyn Fn(&RuleMeta) -> bool,
    opts: NetpolOptions,
) -> (Vec<Finding>, Option<InputError>) {
    let judged = |ns: &str| opts.assume_complete || m.judged(ns);
    let mut out = Vec::new();
    for (rule, d) in [
        (&RULES[ids::NP_INGRESS], Direction::Ingress),
        (&RULES[ids::NP_EGRESS], Direction::Egress),
    ] {
        if !enabled(rule) {
            continue;
        }
        // Isolation depends on the namespace and the pod labels only: worked out once per
        // pair (copies of a workload, or replicas of one chart, share the answer).
        let mut isolated: BTreeMap<(&str, &Labels), bool> = BTreeMap::new();
        for w in &m.workloads {
            if !judged(&w.namespace) {
                continue;
            }
            let iso = *isolated
                .entry((w.namespace.as_str(), &w.labels))
                .or_insert_with(|| !m.selecting(w, d).is_empty());
            if iso {
                continue;
            }
            let Some(doc) = docs.doc(w.doc) else {
                continue;
            };
            let doc = &*doc;
            {
                let what = match d {
                    Direction::Ingress => "accepts connections from any source",
                    Direction::Egress => "can connect to any destination",
                };
                out.push(finding(
                    doc,
                    rule,
                    rule.severity,
                    format!(
                        "{} {what}: no NetworkPolicy with {} in its policyTypes selects its pods (labels {})",
                        w.display(),
                        match d {
                            Direction::Ingress => "Ingress",
                            Direction::Egress => "Egress",
                        },
                        label_text(&w.labels)
                    ),
                    &w.template.clone().key("metadata").key("labels"),
                ));
            }
        }
    }
    namespace_findings(docs, m, enabled, &judged, &mut out);
    lint_findings(docs, m, enabled, &mut out);
    let isolation_rules = [
        ids::NP_INGRESS,
        ids::NP_EGRESS,
        ids::NP_NS_INGRESS,
        ids::NP_NS_EGRESS,
    ];
    let note = if isolation_rules
        .iter()
        .any(|&i| RULES.get(i).is_some_and(enabled))
    {
        unjudged_note(docs, m, &judged)
    } else {
        None
    };
    (out, note)
}

/// One note for every workload and namespace left unjudged, anchored at the first such
/// workload (else the first such namespace's anchor is a policy, which cannot be: a policy
/// makes its namespace judged, so namespaces known only from workloads are all there is).
fn unjudged_note(
    docs: &(impl Docs + ?Sized),
    m: &Netpol,
    judged: &dyn Fn(&str) -> bool,
) -> Option<InputError> {
    let skipped: Vec<&Workload> = m
        .workloads
        .iter()
        .filter(|w| !judged(&w.namespace))
        .collect();
    let first = skipped.first()?;
    let namespaces: BTreeSet<&str> = skipped.iter().map(|w| w.namespace.as_str()).collect();
    let doc = docs.doc(first.doc);
    let span = doc
        .as_deref()
        .map(|d| d.locate(&first.template.clone().key("metadata").key("labels")));
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    Some(InputError {
        file: first.file.to_string(),
        document: doc.as_deref().map(|d| d.index),
        line: span.map(|s| s.line),
        column: span.map(|s| s.column),
        kind: "netpol-incomplete".to_owned(),
        message: format!(
            "NetworkPolicy isolation (NETPOL001-004) not judged for {} in {} ({}): the scanned files have no NetworkPolicy or Namespace object there, so they may not be all of it; scan the namespace's policies with them, or pass --assume-complete to judge the files as the whole cluster",
            plural(skipped.len(), "workload", "workloads"),
            plural(namespaces.len(), "namespace", "namespaces"),
            namespaces.into_iter().collect::<Vec<_>>().join(", ")
        ),
    })
}

fn label_text(l: &Labels) -> String {
    if l.is_empty() {
        return "none".to_owned();
    }
    l.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn namespace_findings(
    docs: &(impl Docs + ?Sized),
    m: &Netpol,
    enabled: &dyn Fn(&RuleMeta) -> bool,
    judged: &dyn Fn(&str) -> bool,
    out: &mut Vec<Finding>,
) {
    let mut first_workload: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &m.workloads {
        first_workload.entry(w.namespace.as_str()).or_insert(w.doc);
    }
    for (rule, d) in [
        (&RULES[ids::NP_NS_INGRESS], Direction::Ingress),
        (&RULES[ids::NP_NS_EGRESS], Direction::Egress),
    ] {
        if !enabled(rule) {
            continue;
        }
        for n in &m.namespaces {
            if !judged(&n.name) {
                continue;
            }
            // Where to report: the Namespace object, else its first workload, else its
            // first policy. A namespace known only from RBAC objects is not reported.
            let anchor = n
                .doc
                .map(|i| (i, FieldPath::root().key("metadata").key("name")))
                .or_else(|| {
                    first_workload
                        .get(n.name.as_str())
                        .map(|&d| (d, FieldPath::root().key("metadata").key("namespace")))
                })
                .or_else(|| {
                    m.policies_in(&n.name)
                        .next()
                        .map(|p| (p.doc, FieldPath::root().key("metadata").key("namespace")))
                });
            let Some((di, path)) = anchor else {
                continue;
            };
            let Some(doc) = docs.doc(di) else {
                continue;
            };
            let doc = &*doc;
            let status = match m.namespace_isolation(&n.name, d) {
                Isolation::DefaultDeny => continue,
                Isolation::NotIsolated => "no NetworkPolicy applies to this direction",
                Isolation::AllowPoliciesOnly => "pods are isolated by allow-policies only",
            };
            let dir = match d {
                Direction::Ingress => "ingress",
                Direction::Egress => "egress",
            };
            out.push(finding(
                doc,
                rule,
                rule.severity,
                format!(
                    "namespace {} has no default-deny {dir} policy ({status}); new workloads there are not {dir}-isolated",
                    n.name
                ),
                &path,
            ));
        }
    }
}

fn lint_findings(
    docs: &(impl Docs + ?Sized),
    m: &Netpol,
    enabled: &dyn Fn(&RuleMeta) -> bool,
    out: &mut Vec<Finding>,
) {
    let dangling = &RULES[ids::NP_DANGLING];
    let split = &RULES[ids::NP_SPLIT_PEER];
    let no_dns = &RULES[ids::NP_NO_DNS];
    let named = &RULES[ids::NP_NAMED_PORT];
    let allow_all = &RULES[ids::NP_ALLOW_ALL];
    let mut dns_reported: BTreeMap<&str, ()> = BTreeMap::new();
    let mut dns_allowed: BTreeMap<&str, bool> = BTreeMap::new();
    // Workloads that agree in namespace, labels and ports are alike to every lint: each
    // policy looks at one of each kind (copies of an object would make this quadratic).
    let mut seen: BTreeSet<(&str, &Labels, &[objects::ContainerPort])> = BTreeSet::new();
    let kinds: Vec<&Workload> = m
        .workloads
        .iter()
        .filter(|w| seen.insert((w.namespace.as_str(), &w.labels, w.ports.as_slice())))
        .collect();
    // The kinds each policy selects, found from the kinds' side through the label index.
    let mut selected_by: Vec<Vec<&Workload>> = vec![Vec::new(); m.policies.len()];
    for w in &kinds {
        for i in m.candidates(&w.namespace, &w.labels) {
            if let (Some(p), Some(list)) = (m.policies.get(i), selected_by.get_mut(i))
                && p.selects(w)
            {
                list.push(w);
            }
        }
    }
    for (p, selected) in m.policies.iter().zip(&selected_by) {
        let Some(doc) = docs.doc(p.doc) else {
            continue;
        };
        let doc = &*doc;
        if enabled(dangling) && !p.pod_selector.is_empty() && selected.is_empty() {
            out.push(finding(
                doc,
                dangling,
                dangling.severity,
                format!(
                    "NetworkPolicy {} selects no workload in namespace {} (podSelector {})",
                    p.display(),
                    p.namespace,
                    p.pod_selector.display()
                ),
                &FieldPath::root().key("spec").key("podSelector"),
            ));
        }
        for d in [Direction::Ingress, Direction::Egress] {
            for (ri, r) in p.rules(d).iter().enumerate() {
                let ns_only = r.peers.iter().any(|x| {
                    matches!(
                        x,
                        Peer::Pods {
                            namespaces: Some(_),
                            pods: None
                        }
                    )
                });
                let pod_only = r.peers.iter().any(|x| {
                    matches!(
                        x,
                        Peer::Pods {
                            namespaces: None,
                            pods: Some(_)
                        }
                    )
                });
                if enabled(split) && ns_only && pod_only {
                    out.push(finding(
                        doc,
                        split,
                        split.severity,
                        format!(
                            "NetworkPolicy {} {}[{ri}].{} lists a namespaceSelector and a podSelector as separate peers: that allows every pod of the selected namespaces OR the selected pods of {}, not those pods in those namespaces",
                            p.display(),
                            d.key(),
                            d.peer_key(),
                            p.namespace
                        ),
                        &dir_path(d, ri).key(d.peer_key()),
                    ));
                }
                if enabled(allow_all)
                    && p.pod_selector.is_empty()
                    && p.has_type(d)
                    && r.peers.is_empty()
                    && r.ports.is_empty()
                {
                    out.push(finding(
                        doc,
                        allow_all,
                        allow_all.severity,
                        format!(
                            "NetworkPolicy {} allows all {} traffic for every pod of namespace {}, overriding any default-deny",
                            p.display(),
                            d.key(),
                            p.namespace
                        ),
                        &dir_path(d, ri),
                    ));
                }
                if enabled(named) {
                    named_port_lint(m, &kinds, p, d, ri, r, selected, doc, out);
                }
            }
        }
        if enabled(no_dns) && p.egress_type && !dns_reported.contains_key(p.namespace.as_str()) {
            let egress_policies = || m.policies_in(&p.namespace).filter(|q| q.egress_type);
            let allowed = *dns_allowed
                .entry(p.namespace.as_str())
                .or_insert_with(|| egress_policies().any(allows_dns));
            if !allowed {
                dns_reported.insert(&p.namespace, ());
                out.push(finding(
                    doc,
                    no_dns,
                    no_dns.severity,
                    format!(
                        "NetworkPolicy {} makes pods egress-isolated and no egress policy in namespace {} allows DNS (port 53): {}",
                        p.display(),
                        p.namespace,
                        objects::distinct(egress_policies().map(|q| (q.display(), &*q.file))).join(", ")
                    ),
                    &FieldPath::root().key("spec").key("policyTypes"),
                ));
            }
        }
    }
}

/// `kinds`: one workload of each (namespace, labels, ports); `selected`: those `p` selects.
#[allow(clippy::too_many_arguments)]
fn named_port_lint(
    m: &Netpol,
    kinds: &[&Workload],
    p: &Policy,
    d: Direction,
    ri: usize,
    r: &PolicyRule,
    selected: &[&Workload],
    doc: &Document,
    out: &mut Vec<Finding>,
) {
    let rule = &RULES[ids::NP_NAMED_PORT];
    // Ingress: names resolve against the policy's own pods; egress: against the destinations.
    let candidates: Vec<&Workload> = match d {
        Direction::Ingress => selected.to_vec(),
        Direction::Egress => kinds
            .iter()
            .copied()
            .filter(|w| m.peer_matches(&r.peers, w, &p.namespace))
            .collect(),
    };
    if candidates.is_empty() {
        return;
    }
    for (pi, port) in r.ports.iter().enumerate() {
        let Some(PortValue::Name(name)) = &port.port else {
            continue;
        };
        if !candidates
            .iter()
            .any(|w| named_port(w, name, &port.protocol).is_some())
        {
            out.push(finding(
                doc,
                rule,
                rule.severity,
                format!(
                    "NetworkPolicy {} {}[{ri}] uses port name {name:?} ({}), which no {} defines, so the rule matches nothing",
                    p.display(),
                    d.key(),
                    port.protocol,
                    match d {
                        Direction::Ingress => "selected pod",
                        Direction::Egress => "destination pod",
                    }
                ),
                &dir_path(d, ri).key("ports").index(pi).key("port"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(spec: Value) -> Policy {
        Policy::parse(
            0,
            "t.yaml".into(),
            &json!({"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "n"}, "spec": spec}),
        )
    }

    #[test]
    fn policy_types_inference() {
        let p = policy(json!({"podSelector": {}, "egress": [{}]}));
        assert!(p.ingress_type && p.egress_type);
        assert!(p.is_default_deny(Direction::Ingress) && !p.is_default_deny(Direction::Egress));
        let q = policy(json!({"podSelector": {}}));
        assert!(q.ingress_type && !q.egress_type);
        let r = policy(json!({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}));
        assert!(!r.ingress_type && r.egress_type && r.is_default_deny(Direction::Egress));
        let s = policy(json!({"podSelector": {}, "egress": []}));
        assert!(!s.egress_type, "an empty egress list does not add Egress");
    }

    #[test]
    fn port_matching() {
        let dest = Workload {
            doc: 0,
            file: "t.yaml".into(),
            kind: "Pod".into(),
            namespace: "n".into(),
            name: "d".into(),
            namespace_given: true,
            labels: Labels::new(),
            service_account: "default".into(),
            automount: None,
            ports: vec![objects::ContainerPort {
                name: Some("http".into()),
                port: 8080,
                protocol: "TCP".into(),
            }],
            template: FieldPath::root(),
        };
        let rule = parse_rule(
            &json!({"ports": [{"port": 80, "endPort": 90}, {"port": "http"}, {"protocol": "UDP"}]}),
            "from",
        );
        let q = |n: u16| Some(PortQuery::Number(n));
        assert!(ports_match(&rule.ports, &dest, q(85).as_ref(), "TCP"));
        assert!(!ports_match(&rule.ports, &dest, q(91).as_ref(), "TCP"));
        assert!(ports_match(&rule.ports, &dest, q(8080).as_ref(), "TCP"));
        assert!(ports_match(&rule.ports, &dest, q(1).as_ref(), "UDP"));
        assert!(!ports_match(&rule.ports, &dest, q(1).as_ref(), "SCTP"));
        assert!(ports_match(
            &rule.ports,
            &dest,
            Some(&PortQuery::Name("http".into())),
            "TCP"
        ));
        assert!(ports_match(&[], &dest, q(1).as_ref(), "SCTP"));
        assert!(allows_dns(&policy(
            json!({"policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})
        )));
        assert!(!allows_dns(&policy(
            json!({"policyTypes": ["Egress"], "egress": [{"ports": [{"port": 443}]}]})
        )));
    }
}
