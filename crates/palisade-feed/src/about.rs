//! Which core components an announcement is about, when its version lines only say
//! "Kubernetes": the issue's own labels (`area/kubelet`, `sig/node`, `sig/windows`), the
//! `/area …` and `/sig …` commands in its body (which is how those labels were set), its title
//! ("… via kubelet Checkpoint API", "… on Windows nodes"), an "Affected Components" section, and
//! sentences that name one ("This bug affects kubelet", "discovered in Kubelet").
//!
//! The matcher uses it to narrow a whole-release range: a kubelet-only CVE whose lines say
//! `v1.27.0 - v1.27.1` is not reported for kube-apiserver. Broad SIG labels (`sig/network`,
//! `sig/auth`, `sig/api-machinery`, `sig/storage`) span several binaries and narrow nothing;
//! bodies mention `kubectl get …` commands everywhere, so only the phrases below count.

use crate::component;
use serde::{Deserialize, Serialize};

/// What narrows an issue, with where each piece came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    /// Core components the issue names (canonical names: `kubelet`, `kube-apiserver`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// `windows` when only Windows nodes are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Where each came from: `label area/kubelet`, `title "…"`, `Affected Components: kubelet`,
    /// `body "… affects kubelet"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl About {
    pub fn is_empty(&self) -> bool {
        self.components.is_empty() && self.os.is_none()
    }

    /// Whether a whole-release range of this issue applies to core component `name`: every
    /// server-side component when nothing narrows it, else only those named (Windows-only
    /// issues: the node components). Clients (kubectl, client-go) only when named: a cluster
    /// flaw does not make the CLI on a laptop vulnerable.
    pub fn admits(&self, name: &str) -> bool {
        if !self.components.is_empty() {
            return self.components.iter().any(|c| c == name);
        }
        if self.os.is_some() {
            return NODE.contains(&name);
        }
        !component::is_client(name)
    }

    fn add(&mut self, component: &str, evidence: String) {
        if !self.components.iter().any(|c| c == component) {
            self.components.push(component.to_owned());
        }
        if !self.evidence.contains(&evidence) {
            self.evidence.push(evidence);
        }
    }

    fn windows(&mut self, evidence: String) {
        self.os = Some("windows".to_owned());
        if !self.evidence.contains(&evidence) {
            self.evidence.push(evidence);
        }
    }
}

/// Components that run on every node.
const NODE: &[&str] = &["kubelet", "kube-proxy"];

/// Labels (and `/area`, `/sig` commands) that name one binary. `None`: Windows nodes.
const LABELS: &[(&str, Option<&str>)] = &[
    ("area/kubelet", Some("kubelet")),
    ("sig/node", Some("kubelet")),
    ("area/kubectl", Some("kubectl")),
    ("sig/cli", Some("kubectl")),
    ("area/apiserver", Some("kube-apiserver")),
    ("area/kube-apiserver", Some("kube-apiserver")),
    ("area/kube-proxy", Some("kube-proxy")),
    ("area/ipvs", Some("kube-proxy")),
    ("area/controller-manager", Some("kube-controller-manager")),
    (
        "area/kube-controller-manager",
        Some("kube-controller-manager"),
    ),
    ("area/kube-scheduler", Some("kube-scheduler")),
    ("sig/scheduling", Some("kube-scheduler")),
    ("area/client-libraries", Some("client-go")),
    ("sig/windows", None),
    ("area/windows", None),
];

/// Words before a component name that say the issue is in it.
const PHRASES: &[&[&str]] = &[
    &["affects"],
    &["affects", "the"],
    &["discovered", "in"],
    &["discovered", "in", "the"],
    &["identified", "in"],
    &["identified", "in", "the"],
    &["found", "in"],
    &["found", "in", "the"],
    &["occurs", "in"],
    &["occurs", "in", "the"],
    &["upgrade", "your"],
    &["upgrade", "the"],
];

/// Reads labels, title and body. `labels` are label names as GitHub returns them.
pub fn detect(labels: &[&str], title: &str, body: &str) -> About {
    let mut about = About::default();
    let mut label_names: Vec<String> = labels
        .iter()
        .map(|l| l.trim().to_ascii_lowercase())
        .collect();
    let (commands, listed) = scan_lines(body);
    label_names.extend(commands);
    for name in &label_names {
        if let Some((label, target)) = LABELS.iter().find(|(l, _)| l == name) {
            match target {
                Some(c) => about.add(c, format!("label {label}")),
                None => about.windows(format!("label {label}")),
            }
        }
    }
    let title_lower = title.to_ascii_lowercase();
    let quoted: String = title.trim().chars().take(100).collect();
    for c in named(&title_lower) {
        about.add(c, format!("title {quoted:?}"));
    }
    if has_word(&title_lower, "windows") {
        about.windows(format!("title {quoted:?}"));
    }
    for (c, section) in listed {
        about.add(c, format!("Affected Components: {section}"));
    }
    for (c, quote) in sentences(body) {
        about.add(c, format!("body \"…{quote}\""));
    }
    about
}

/// Core components (not the whole release) named in lower-case `text`.
fn named(text: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, aliases) in component::core_aliases() {
        if name == "kubernetes" {
            continue;
        }
        if aliases.iter().any(|a| has_word(text, a)) && !out.contains(&name) {
            out.push(name);
        }
    }
    // "Kubernetes API server" (CVE-2019-11254's section, CVE-2019-11253's title).
    if has_word(text, "api server") && !out.contains(&"kube-apiserver") {
        out.push("kube-apiserver");
    }
    out
}

/// `word` in `text` not inside a longer identifier.
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        let after = text.get(i + word.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// One pass over the body's lines: the labels its `/area …` and `/sig …` commands set (a Prow
/// command at the start of a line), and the components listed under an "Affected
/// Component(s)" heading or label line (not "…and Configurations", which is prose read by
/// [`sentences`]), up to the next blank line after them.
fn scan_lines(body: &str) -> (Vec<String>, Vec<(&'static str, String)>) {
    let mut commands = Vec::new();
    let mut out = Vec::new();
    let mut lines = body.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('/') {
            for (prefix, kind) in [("/area ", "area/"), ("/sig ", "sig/")] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    for word in rest.split_whitespace() {
                        commands.push(format!("{kind}{}", word.to_ascii_lowercase()));
                    }
                }
            }
            continue;
        }
        let head = line
            .trim_start_matches('#')
            .trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace());
        // Checked before lower-casing: nearly no line is this heading.
        if !head
            .get(..18)
            .is_some_and(|h| h.eq_ignore_ascii_case("affected component"))
        {
            continue;
        }
        let lower = head.to_ascii_lowercase();
        let Some(rest) = lower
            .strip_prefix("affected components")
            .or_else(|| lower.strip_prefix("affected component"))
        else {
            continue;
        };
        let rest = rest.trim_start_matches([':', '*', ' ']);
        if rest.starts_with("and") {
            continue;
        }
        let mut listed: Vec<String> = Vec::new();
        if !rest.is_empty() {
            listed.push(rest.to_owned());
        } else {
            while let Some(next) = lines.peek() {
                // The list ends at a blank line after it or at the next (pseudo-)heading.
                let heading = next.starts_with('#')
                    || (!listed.is_empty() && (next.starts_with("**") || next.starts_with("__")));
                if heading || (next.is_empty() && !listed.is_empty()) {
                    break;
                }
                if !next.is_empty() {
                    listed.push(
                        next.trim_start_matches(['*', '-', ' '])
                            .to_ascii_lowercase(),
                    );
                }
                lines.next();
                if listed.len() >= 5 {
                    break;
                }
            }
        }
        let text = listed.join(", ");
        for c in named(&text) {
            if !out.iter().any(|(n, _)| *n == c) {
                out.push((c, text.clone()));
            }
        }
    }
    (commands, out)
}

/// Components a sentence says the issue is in (`This bug affects kubelet.`, `discovered in
/// Kubelet`, `occurs in kube-controller-manager's logs`), and Go module paths of core components
/// (`k8s.io/client-go` users). Returns the component and the quoted words. One pass over the
/// words of the body as bytes (word characters are ASCII; no lower-cased copy, no decoding): it
/// runs on every announcement of every build.
fn sentences(body: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    // The three words before the current one, most recent last.
    let mut prev: [&[u8]; 3] = [b"", b"", b""];
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/');
    for raw in body.as_bytes().split(|b| !is_word(b)) {
        let mut word = raw;
        while let [rest @ .., b'.' | b'-' | b'/'] = word {
            word = rest;
        }
        if word.is_empty() {
            continue;
        }
        // Every alias and module starts with one of these letters and has at least six
        // characters ("server" of "api server"): most words stop here.
        let first = word.first().map(u8::to_ascii_lowercase);
        if word.len() >= 6 && matches!(first, Some(b'k' | b'a' | b'c' | b's')) {
            let found = if let Some((name, module)) = component::core_modules()
                .find(|(n, m)| *n != "kubernetes" && word.eq_ignore_ascii_case(m.as_bytes()))
            {
                Some((name, module.to_owned(), 0))
            } else if let Some(name) = alias_of(word) {
                Some((name, String::from_utf8_lossy(word).to_ascii_lowercase(), 1))
            } else if word.eq_ignore_ascii_case(b"server") && prev[2].eq_ignore_ascii_case(b"api") {
                Some(("kube-apiserver", "api server".to_owned(), 2))
            } else {
                None
            };
            if let Some((name, quote, alias_words)) = found
                && !out.iter().any(|(n, _)| *n == name)
            {
                // A module path counts on its own; a name needs a phrase before it.
                let before = prev
                    .get(..prev.len() + 1 - alias_words.max(1))
                    .unwrap_or(&[]);
                let phrase = if alias_words == 0 {
                    Some(String::new())
                } else {
                    PHRASES
                        .iter()
                        .filter(|p| ends_with_words(before, p))
                        .max_by_key(|p| p.len())
                        .map(|p| format!("{} ", p.join(" ")))
                };
                if let Some(phrase) = phrase {
                    out.push((name, format!("{phrase}{quote}")));
                }
            }
        }
        prev = [prev[1], prev[2], word];
    }
    out
}

/// The core component (not the whole release) that `word` is an alias of.
fn alias_of(word: &[u8]) -> Option<&'static str> {
    component::core_aliases()
        .filter(|(name, _)| *name != "kubernetes")
        .find(|(_, aliases)| {
            aliases
                .iter()
                .any(|a| word.eq_ignore_ascii_case(a.as_bytes()))
        })
        .map(|(name, _)| name)
}

/// Whether `words` end with `phrase`, ignoring case.
fn ends_with_words(words: &[&[u8]], phrase: &[&str]) -> bool {
    words.len() >= phrase.len()
        && words
            .iter()
            .rev()
            .zip(phrase.iter().rev())
            .all(|(w, p)| w.eq_ignore_ascii_case(p.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_commands() {
        let a = detect(
            &["official-cve-feed", "area/kubelet", "sig/node"],
            "CVE-2099-1: x",
            "",
        );
        assert_eq!(a.components, ["kubelet"]);
        assert_eq!(a.evidence, ["label area/kubelet", "label sig/node"]);
        let a = detect(
            &[],
            "CVE-2099-1: x",
            "text\n\n/area security\n/sig windows\n/kind bug\n",
        );
        assert_eq!(a.os.as_deref(), Some("windows"));
        assert!(a.admits("kubelet") && a.admits("kube-proxy") && !a.admits("kube-apiserver"));
        // Broad SIGs narrow nothing; then clients are left out and servers kept.
        let a = detect(&["sig/network", "sig/auth"], "CVE-2099-1: x", "");
        assert!(a.is_empty());
        assert!(a.admits("kube-apiserver") && a.admits("kubelet"));
        assert!(!a.admits("kubectl") && !a.admits("client-go"));
        let a = detect(&["area/kubectl"], "", "");
        assert!(a.admits("kubectl") && !a.admits("kube-apiserver"));
    }

    #[test]
    fn title_section_and_sentences() {
        assert_eq!(
            detect(&[], "Node Denial of Service via kubelet Checkpoint API", "").components,
            ["kubelet"]
        );
        assert_eq!(
            detect(&[], "Kubernetes API Server JSON/YAML parsing", "").components,
            ["kube-apiserver"]
        );
        let a = detect(
            &[],
            "Command Injection affecting Windows nodes",
            "#### Affected Components\nKubelet\n \n#### Affected Versions\n- kubelet v1.32.0\n",
        );
        assert_eq!(
            (a.components.as_slice(), a.os.as_deref()),
            (&["kubelet".to_owned()][..], Some("windows"))
        );
        assert!(
            a.evidence
                .iter()
                .any(|e| e == "Affected Components: kubelet"),
            "{a:?}"
        );
        let a = detect(
            &[],
            "x",
            "**Affected components:**\nKubernetes API server\n",
        );
        assert_eq!(a.components, ["kube-apiserver"]);
        // The list stops at the next bold pseudo-heading even without a blank line.
        let a = detect(
            &[],
            "x",
            "Affected Components\nkubelet\n**Affected Versions**\nkube-proxy v1.2.3\n",
        );
        assert_eq!(a.components, ["kubelet"]);
        let a = detect(
            &[],
            "x",
            "A security issue was discovered in Kubelet that allows…\nThis bug affects Kubelet.",
        );
        assert_eq!(a.components, ["kubelet"]);
        let a = detect(
            &[],
            "x",
            "This occurs in kube-controller-manager's logs during provisioning",
        );
        assert_eq!(a.components, ["kube-controller-manager"]);
        let a = detect(&[], "x", "* `k8s.io/client-go` users that use the method");
        assert_eq!(a.components, ["client-go"]);
        // Commands to run and passing mentions narrow nothing.
        let a = detect(
            &[],
            "x",
            "Run `kubectl get nodes` to check. Restart the kubelet after upgrading the apiserver-side config.\n### Affected Components and Configurations\nAll clusters.",
        );
        assert!(a.is_empty(), "{a:?}");
        assert!(!has_word("kubeletconfig", "kubelet"));
    }
}
