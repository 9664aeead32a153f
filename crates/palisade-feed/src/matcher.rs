//! "Am I affected?": which CVEs of a feed apply to a component version or a whole cluster.
//!
//! Reads the feed this crate writes (`_kubernetes_io.affected`, `_kubernetes_io.about`). Versions
//! of core components (kube-apiserver, kubelet, …) are Kubernetes release versions, so an item
//! whose lines name only "Kubernetes" can apply to any of them: to those the issue itself names
//! (labels, title, text: [`crate::about`]) when it names some, else to every server-side
//! component (not kubectl or client-go). Each match says which line matched and why
//! ([`Scope`]). Projects with their own versions (ingress-nginx, CSI drivers, Image Builder)
//! are matched only when asked for by name.

use crate::FeedError;
use crate::affected::AffectedComponent;
use crate::component;
use crate::feed::{JsonFeed, JsonItem};
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
    /// Why it matched: [`Scope::Component`] (the affected line names the component),
    /// [`Scope::Issue`] (the line names all of Kubernetes; the issue's labels, title or text
    /// name the component), [`Scope::Kubernetes`] (the line names all of Kubernetes and nothing
    /// narrows it).
    pub scope: Scope,
    /// The affected lines of the matched range as the announcement wrote them.
    pub lines: Vec<String>,
    /// One sentence: the line, what it names, and what narrowed it.
    pub reason: String,
    /// `windows` when the issue says only Windows nodes are affected (a Linux node running
    /// this kubelet version is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

/// How specifically a match names the component asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Component,
    Issue,
    Kubernetes,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Component => "component",
            Scope::Issue => "issue",
            Scope::Kubernetes => "kubernetes",
        }
    }
}

/// How to match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// Only matches whose line or issue names the component ([`Scope::Component`],
    /// [`Scope::Issue`]); whole-release ranges that nothing narrows are left out.
    pub component_specific: bool,
    /// The operating system of targets, by label (`node w1` -> `linux`; see [`node_os`]). An
    /// issue that affects only Windows nodes is not reported for a target known to run another
    /// OS; targets not listed (a `--version` query, the control plane) keep it, with the note.
    pub target_os: Vec<(String, String)>,
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

/// The CVEs of `feed` that apply to `target` (default options: whole-release ranges narrowed
/// by what each issue names, nothing else left out).
pub fn affected(feed: &JsonFeed, target: &Target) -> Vec<Match> {
    affected_with(feed, target, &MatchOptions::default())
}

/// How `comp` of `item` applies to `wanted` (`None`: any core component), or `None`.
fn scope_of(item: &JsonItem, comp: &AffectedComponent, wanted: Option<&str>) -> Option<Scope> {
    let whole = comp.component == "kubernetes";
    let about = &item.kubernetes_io.about;
    match wanted {
        None if !component::is_core(&comp.component) => None,
        None if !whole => Some(Scope::Component),
        None if about.is_empty() => Some(Scope::Kubernetes),
        None => Some(Scope::Issue),
        Some(w) if comp.component == w || comp.package == w => Some(Scope::Component),
        Some(w) if whole && component::is_core(w) && about.admits(w) => Some(if about.is_empty() {
            Scope::Kubernetes
        } else {
            Scope::Issue
        }),
        Some(_) => None,
    }
}

/// The CVEs of `feed` that apply to `target`. Per CVE the most specific matching range counts
/// (a line naming the component before a whole-release line).
pub fn affected_with(feed: &JsonFeed, target: &Target, options: &MatchOptions) -> Vec<Match> {
    let wanted = target
        .component
        .as_deref()
        .map(|c| component::lookup(c).map_or_else(|| c.to_ascii_lowercase(), |c| c.name));
    let os = options
        .target_os
        .iter()
        .find(|(label, _)| *label == target.label)
        .map(|(_, os)| os.as_str());
    let mut out = Vec::new();
    for item in &feed.items {
        if let (Some(only), Some(os)) = (&item.kubernetes_io.about.os, os)
            && !only.eq_ignore_ascii_case(os)
        {
            continue;
        }
        let best = item
            .kubernetes_io
            .affected
            .iter()
            .filter_map(|comp| {
                let scope = scope_of(item, comp, wanted.as_deref())?;
                let range = comp.ranges.iter().find(|r| r.contains(&target.version))?;
                Some((scope, comp, range))
            })
            .min_by_key(|(scope, ..)| *scope);
        let Some((scope, comp, range)) = best else {
            continue;
        };
        if options.component_specific && scope == Scope::Kubernetes {
            continue;
        }
        let lines = branch_lines(comp, &target.version);
        let reason = reason(item, comp, scope, &lines, wanted.as_deref());
        let cvss = item.kubernetes_io.cvss.as_ref();
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
            scope,
            lines,
            reason,
            os: item.kubernetes_io.about.os.clone(),
        });
    }
    out
}

/// The component's lines that name the version's branch (`1.27` in `v1.27.0 - v1.27.1`), else
/// all of them (`<= v1.24.13` reaching back, `All versions`).
fn branch_lines(comp: &AffectedComponent, v: &Version) -> Vec<String> {
    let branch = format!("{}.{}", v.major(), v.minor());
    let names_branch = |line: &str| {
        line.match_indices(&branch).any(|(i, _)| {
            let before = line.get(..i).and_then(|s| s.chars().next_back());
            let after = line.get(i + branch.len()..).and_then(|s| s.chars().next());
            !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
                && !after.is_some_and(|c| c.is_ascii_digit())
        })
    };
    let on_branch: Vec<String> = comp
        .lines
        .iter()
        .filter(|l| names_branch(l))
        .cloned()
        .collect();
    if on_branch.is_empty() {
        comp.lines.clone()
    } else {
        on_branch
    }
}

fn reason(
    item: &JsonItem,
    comp: &AffectedComponent,
    scope: Scope,
    lines: &[String],
    wanted: Option<&str>,
) -> String {
    let quoted = match lines {
        [] => "the affected ranges".to_owned(),
        [one] => format!("affected line {one:?}"),
        more => format!(
            "affected lines {}",
            more.iter()
                .map(|l| format!("{l:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let about = &item.kubernetes_io.about;
    let narrowed = || {
        let mut what: Vec<String> = about.components.clone();
        if let Some(os) = &about.os {
            what.push(format!("{os} nodes"));
        }
        format!(
            "the issue is about {} ({})",
            what.join(", "),
            about.evidence.join("; ")
        )
    };
    let os_note = match (&about.os, scope) {
        (Some(os), Scope::Component) => format!(
            "; only {os} nodes are affected ({})",
            about.evidence.join("; ")
        ),
        _ => String::new(),
    };
    match scope {
        Scope::Component => format!("{quoted} names {}{os_note}", comp.component),
        Scope::Issue => format!("{quoted} names all of Kubernetes; {}", narrowed()),
        Scope::Kubernetes => match wanted {
            Some(w) => format!(
                "{quoted} names all of Kubernetes, and nothing in the issue narrows it: taken to include {w}"
            ),
            None => format!("{quoted} names all of Kubernetes"),
        },
    }
}

/// Checks several targets and folds the same CVE at the same version into one match listing
/// every target. Sorted by score (highest first), then ID.
pub fn affected_all(feed: &JsonFeed, targets: &[Target]) -> Vec<Match> {
    affected_all_with(feed, targets, &MatchOptions::default())
}

/// [`affected_all`] with options.
pub fn affected_all_with(
    feed: &JsonFeed,
    targets: &[Target],
    options: &MatchOptions,
) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::new();
    for t in targets {
        for m in affected_with(feed, t, options) {
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

/// Each node's operating system (`status.nodeInfo.operatingSystem`) from `kubectl get nodes -o
/// json`, labelled as [`cluster_targets`] labels the node (`node w1`). Empty for other files;
/// nodes without the field are left out (their OS is unknown).
pub fn node_os(bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    let Some(items) = doc.get("items").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|node| {
            let name = node
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let os = node
                .pointer("/status/nodeInfo/operatingSystem")
                .and_then(Value::as_str)
                .filter(|os| !os.is_empty())?;
            Some((format!("node {name}"), os.to_ascii_lowercase()))
        })
        .collect()
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
