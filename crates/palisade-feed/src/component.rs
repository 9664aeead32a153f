//! Kubernetes component names -> Go module paths (the OSV `Kubernetes` ecosystem package names).
//!
//! The mapping follows kubernetes-sigs/cve-feed-osv and Trivy's KBOM (`k8s.io/apiserver` for
//! kube-apiserver, `k8s.io/kubelet` for the kubelet), so records match what scanners look up.

/// A component as named in announcements plus its Go module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub package: String,
}

/// `(canonical name, Go module, whether it is released with Kubernetes itself, aliases)`.
/// Aliases are matched case-insensitively against the words of a version line.
const TABLE: &[(&str, &str, bool, &[&str])] = &[
    (
        "kube-apiserver",
        "k8s.io/apiserver",
        true,
        &["kube-apiserver", "apiserver", "api-server"],
    ),
    ("kubelet", "k8s.io/kubelet", true, &["kubelet"]),
    ("kube-proxy", "k8s.io/kube-proxy", true, &["kube-proxy"]),
    (
        "kube-controller-manager",
        "k8s.io/controller-manager",
        true,
        &["kube-controller-manager", "controller-manager"],
    ),
    (
        "kube-scheduler",
        "k8s.io/kube-scheduler",
        true,
        &["kube-scheduler"],
    ),
    ("kubectl", "k8s.io/kubectl", true, &["kubectl"]),
    ("client-go", "k8s.io/client-go", true, &["client-go"]),
    (
        "kube-aggregator",
        "k8s.io/kube-aggregator",
        true,
        &["kube-aggregator"],
    ),
    (
        "kubernetes",
        "k8s.io/kubernetes",
        true,
        &["kubernetes", "k8s"],
    ),
    (
        "ingress-nginx",
        "k8s.io/ingress-nginx",
        false,
        &["ingress-nginx"],
    ),
    (
        "secrets-store-csi-driver",
        "sigs.k8s.io/secrets-store-csi-driver",
        false,
        &["secrets-store-csi-driver"],
    ),
    (
        "azure-file-csi-driver",
        "sigs.k8s.io/azurefile-csi-driver",
        false,
        &["azure-file-csi-driver", "azurefile-csi-driver"],
    ),
    (
        "csi-proxy",
        "github.com/kubernetes-csi/csi-proxy",
        false,
        &["kubernetes-csi-proxy", "csi-proxy"],
    ),
    (
        "image-builder",
        "sigs.k8s.io/image-builder",
        false,
        &["image-builder", "image builder"],
    ),
];

fn make(name: &str, package: &str) -> Component {
    Component {
        name: name.to_owned(),
        package: package.to_owned(),
    }
}

/// The component named `name` (a canonical name, an alias or a Go module path).
pub fn lookup(name: &str) -> Option<Component> {
    let n = name.trim().to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(canon, module, _, aliases)| {
            *canon == n || *module == n || aliases.contains(&n.as_str())
        })
        .map(|(canon, module, _, _)| make(canon, module))
}

/// Whether the component's versions are Kubernetes release versions (so a cluster version applies).
pub fn is_core(name: &str) -> bool {
    TABLE
        .iter()
        .any(|(canon, module, core, _)| *core && (*canon == name || *module == name))
}

/// Whether `name` (canonical or module) is a client rather than something a cluster runs: a
/// flaw in the cluster's servers does not make kubectl or a client-go program vulnerable.
pub fn is_client(name: &str) -> bool {
    matches!(
        name,
        "kubectl" | "client-go" | "k8s.io/kubectl" | "k8s.io/client-go"
    )
}

/// Canonical name and aliases of each component released with Kubernetes.
pub fn core_aliases() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    TABLE
        .iter()
        .filter(|(_, _, core, _)| *core)
        .map(|(canon, _, _, aliases)| (*canon, *aliases))
}

/// Canonical name and Go module of each component released with Kubernetes.
pub fn core_modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE
        .iter()
        .filter(|(_, _, core, _)| *core)
        .map(|(canon, module, _, _)| (*canon, *module))
}

/// The generic whole-release component, used when nothing more specific is known.
pub fn kubernetes() -> Component {
    make("kubernetes", "k8s.io/kubernetes")
}

/// Components named by the words before a version (`kubelet/kube-proxy`, `Kubernetes kube-apiserver`,
/// `ingress-nginx controller`, `Kubernetes Image Builder versions`). Vendor words go when a more
/// specific component follows. Empty when the words name none.
pub fn from_words(words: &[&str]) -> Vec<Component> {
    let joined = words.join(" ").to_ascii_lowercase();
    let mut found: Vec<Component> = Vec::new();
    // Two-word aliases first ("image builder").
    for (canon, module, _, aliases) in TABLE {
        if aliases
            .iter()
            .any(|a| a.contains(' ') && joined.contains(a))
            && !found.iter().any(|c| c.name == *canon)
        {
            found.push(make(canon, module));
        }
    }
    for w in joined.split([' ', '/']).filter(|w| !w.is_empty()) {
        if let Some(c) = lookup(w)
            && !found.contains(&c)
        {
            found.push(c);
        }
    }
    if found.len() > 1 {
        found.retain(|c| c.name != "kubernetes");
    }
    found
}

/// The component a body is about, for version lines that name none: the most-mentioned specific
/// component in the title and body, else `kubernetes`.
pub fn detect(title: &str, body: &str) -> Vec<Component> {
    let text = format!("{title}\n{body}").to_ascii_lowercase();
    let mut best: Option<(usize, Component)> = None;
    for (canon, module, _, aliases) in TABLE {
        if *canon == "kubernetes" {
            continue;
        }
        let count: usize = aliases.iter().map(|a| count_word(&text, a)).sum();
        if count > 0 && best.as_ref().is_none_or(|(n, _)| count > *n) {
            best = Some((count, make(canon, module)));
        }
    }
    // Only an issue clearly about one non-core project (ingress-nginx, a CSI driver) gets it as the
    // default; core bodies mention several binaries, and their unnamed lines mean the release.
    match best {
        Some((_, c)) if !is_core(&c.name) => vec![c],
        _ => vec![kubernetes()],
    }
}

/// Occurrences of `word` in `text` not inside a longer identifier (`kubelet` in `kubelet`, not
/// in `kubeletconfig`).
fn count_word(text: &str, word: &str) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word)
        .filter(|(i, _)| {
            let before = text.get(..*i).and_then(|s| s.chars().next_back());
            let after = text.get(i + word.len()..).and_then(|s| s.chars().next());
            !before.is_some_and(ident) && !after.is_some_and(ident)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: Vec<Component>) -> Vec<String> {
        v.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn words() {
        assert_eq!(
            names(from_words(&["kubelet", "/", "kube-proxy"])),
            ["kubelet", "kube-proxy"]
        );
        assert_eq!(
            names(from_words(&["Kubernetes", "kube-apiserver"])),
            ["kube-apiserver"]
        );
        assert_eq!(
            names(from_words(&["Kubernetes", "Image", "Builder", "versions"])),
            ["image-builder"]
        );
        assert_eq!(
            names(from_words(&["ingress-nginx", "controller"])),
            ["ingress-nginx"]
        );
        assert_eq!(names(from_words(&["Kubelet"])), ["kubelet"]);
        assert!(from_words(&["all", "versions"]).is_empty());
        assert_eq!(lookup("k8s.io/apiserver").unwrap().name, "kube-apiserver");
    }

    #[test]
    fn detection() {
        assert_eq!(
            names(detect(
                "",
                "A security issue in ingress-nginx; ingress-nginx users"
            )),
            ["ingress-nginx"]
        );
        assert_eq!(
            names(detect("", "This bug affects Kubelet.")),
            ["kubernetes"]
        );
        assert_eq!(count_word("kubeletconfig kubelet", "kubelet"), 1);
    }
}
