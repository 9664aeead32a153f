//! "Am I affected?": which CVEs of a feed apply to a component version or a whole cluster.
//!
//! Reads the feed this crate writes (`_kubernetes_io.affected`). Versions of core components
//! (kube-apiserver, kubelet, …) are Kubernetes release versions, so an item whose lines name only
//! "Kubernetes" applies to every core component. Projects with their own versions (ingress-nginx,
//! CSI drivers, Image Builder) are matched only when asked for by name.

use crate::FeedError;
use crate::component;
use crate::feed::JsonFeed;
use crate::version::Version;
use serde::Serialize;
use serde_json::Value;

/// One CVE that applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub id: String,
    /// The component whose range matched (`kubernetes` for whole-release ranges).
    pub component: String,
    pub package: String,
    /// The version checked, without `v`.
    pub version: String,
    /// The first fixed version on that branch, `null` when none is known.
    pub fixed: Option<String>,
    pub severity: Option<String>,
    pub base_score: Option<f64>,
    pub summary: String,
    pub url: String,
    /// What in the cluster runs this version (`control plane`, `node worker-1`); the query itself
    /// for `--version`.
    pub targets: Vec<String>,
}

/// What to check: one component at one version, with a label saying where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub label: String,
    /// `None`: every core component at this Kubernetes version.
    pub component: Option<String>,
    pub version: Version,
}

/// Reads a feed file's JSON (ours; upstream's works too, with no ranges to match).
pub fn load_feed(bytes: &[u8], source: &str) -> Result<JsonFeed, FeedError> {
    serde_json::from_slice(bytes).map_err(|e| FeedError::BadFeed {
        source_name: source.to_owned(),
        message: e.to_string(),
    })
}

/// The CVEs of `feed` that apply to `target`.
pub fn affected(feed: &JsonFeed, target: &Target) -> Vec<Match> {
    let wanted = target
        .component
        .as_deref()
        .map(|c| component::lookup(c).map_or_else(|| c.to_ascii_lowercase(), |c| c.name));
    let mut out = Vec::new();
    for item in &feed.items {
        for comp in &item.kubernetes_io.affected {
            let applies = match &wanted {
                None => component::is_core(&comp.component),
                Some(w) => {
                    comp.component == *w
                        || comp.package == *w
                        || (comp.component == "kubernetes" && component::is_core(w))
                }
            };
            if !applies {
                continue;
            }
            let Some(range) = comp.ranges.iter().find(|r| r.contains(&target.version)) else {
                continue;
            };
            let cvss = item.kubernetes_io.cvss.as_ref();
            if out.iter().any(|m: &Match| m.id == item.id) {
                continue;
            }
            out.push(Match {
                id: item.id.clone(),
                component: comp.component.clone(),
                package: comp.package.clone(),
                version: target.version.to_string(),
                fixed: range.fixed.as_ref().map(ToString::to_string),
                severity: cvss.map(|c| c.score.severity.clone()),
                base_score: cvss.map(|c| c.score.base_score),
                summary: item.summary.clone(),
                url: item.url.clone(),
                targets: vec![target.label.clone()],
            });
        }
    }
    out
}

/// Checks several targets and folds the same CVE at the same version into one match listing
/// every target. Sorted by score (highest first), then ID.
pub fn affected_all(feed: &JsonFeed, targets: &[Target]) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::new();
    for t in targets {
        for m in affected(feed, t) {
            match out
                .iter_mut()
                .find(|o| o.id == m.id && o.version == m.version)
            {
                Some(o) => {
                    for label in m.targets {
                        if !o.targets.contains(&label) {
                            o.targets.push(label);
                        }
                    }
                }
                None => out.push(m),
            }
        }
    }
    out.sort_by(|a, b| {
        b.base_score
            .unwrap_or(-1.0)
            .total_cmp(&a.base_score.unwrap_or(-1.0))
            .then_with(|| b.id.cmp(&a.id))
            .then_with(|| a.version.cmp(&b.version))
    });
    out
}

/// A version as a cluster reports it: `v1.27.1`, `v1.27.1-eks-2f008fe`, `v1.28.3+k3s1`,
/// `v1.30.0-rc.1`. Vendor suffixes are dropped (they are builds of that release, and as SemVer
/// pre-releases they would sort below it); `alpha`/`beta`/`rc` pre-releases are kept.
pub fn cluster_version(raw: &str) -> Result<Version, crate::version::VersionError> {
    let t = raw.trim();
    let t = t.split('+').next().unwrap_or(t);
    let (core, pre) = t.split_once('-').unwrap_or((t, ""));
    let keep_pre = ["alpha", "beta", "rc"].iter().any(|p| pre.starts_with(p));
    if keep_pre {
        Version::parse(t)
    } else {
        Version::parse(core)
    }
}

/// Targets from `kubectl version -o json` (server -> control plane components, client ->
/// kubectl) or `kubectl get nodes -o json` (each node's kubelet and kube-proxy).
pub fn cluster_targets(bytes: &[u8], source: &str) -> Result<Vec<Target>, FeedError> {
    let bad = |message: String| FeedError::BadCluster {
        source_name: source.to_owned(),
        message,
    };
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON ({e})")))?;
    let mut out = Vec::new();
    let mut add = |label: String, components: &[&str], raw: &str| -> Result<(), FeedError> {
        let version = cluster_version(raw).map_err(|e| bad(format!("{label}: {e}")))?;
        for c in components {
            out.push(Target {
                label: label.clone(),
                component: Some((*c).to_owned()),
                version: version.clone(),
            });
        }
        Ok(())
    };
    if doc.get("serverVersion").is_some() || doc.get("clientVersion").is_some() {
        if let Some(v) = doc
            .pointer("/serverVersion/gitVersion")
            .and_then(Value::as_str)
        {
            add(
                "control plane".to_owned(),
                &[
                    "kube-apiserver",
                    "kube-controller-manager",
                    "kube-scheduler",
                ],
                v,
            )?;
        }
        if let Some(v) = doc
            .pointer("/clientVersion/gitVersion")
            .and_then(Value::as_str)
        {
            add("client (kubectl)".to_owned(), &["kubectl"], v)?;
        }
    } else if let Some(items) = doc.get("items").and_then(Value::as_array) {
        for (i, node) in items.iter().enumerate() {
            let name = node
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let info = node.pointer("/status/nodeInfo").ok_or_else(|| {
                bad(format!(
                    "items[{i}] ({name}) has no status.nodeInfo: is this a NodeList?"
                ))
            })?;
            if let Some(v) = info.get("kubeletVersion").and_then(Value::as_str) {
                add(format!("node {name}"), &["kubelet"], v)?;
            }
            if let Some(v) = info
                .get("kubeProxyVersion")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
            {
                add(format!("node {name}"), &["kube-proxy"], v)?;
            }
        }
    } else {
        return Err(bad(
            "expected `serverVersion`/`clientVersion` or a NodeList `items` array".to_owned(),
        ));
    }
    if out.is_empty() {
        return Err(bad("no versions found".to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_versions() {
        let v = |s: &str| cluster_version(s).unwrap().to_string();
        assert_eq!(v("v1.27.1-eks-2f008fe"), "1.27.1");
        assert_eq!(v("v1.28.3+k3s1"), "1.28.3");
        assert_eq!(v("v1.30.0-rc.1"), "1.30.0-rc.1");
        assert!(cluster_version("latest").is_err());
    }

    #[test]
    fn cluster_files() {
        let t = cluster_targets(br#"{"clientVersion":{"gitVersion":"v1.29.0"},"serverVersion":{"gitVersion":"v1.27.1"}}"#, "v.json").unwrap();
        assert_eq!(t.len(), 4);
        let t = cluster_targets(br#"{"kind":"List","items":[{"metadata":{"name":"n1"},"status":{"nodeInfo":{"kubeletVersion":"v1.26.3","kubeProxyVersion":"v1.26.3"}}}]}"#, "n.json").unwrap();
        assert_eq!(
            t.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["node n1", "node n1"]
        );
        for bad in [
            &b"{}"[..],
            b"[",
            br#"{"items":[{"metadata":{}}]}"#,
            br#"{"serverVersion":{"gitVersion":"vX"}}"#,
        ] {
            assert!(cluster_targets(bad, "x").is_err());
        }
    }
}
