//! Kubernetes component binaries and the release version linked into them (research §C.3).

use crate::golang::{self, BuildInfo};

/// The components whose version is stamped by `hack/lib/version.sh` and matched against the
/// Kubernetes CVE feed.
pub(crate) const COMPONENTS: [&str; 7] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
    "kubeadm",
];

/// The component a file is, by its base name (`kubectl.exe` too).
pub(crate) fn component_from_file(path: &str) -> Option<&'static str> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    COMPONENTS.iter().copied().find(|c| *c == base)
}

/// Whether a file may be a component binary, judged by name before any byte is read: every
/// component's name starts with `kube` (renamed copies such as `kubectl.1.33` included).
pub(crate) fn may_be_component(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.starts_with("kube")
}

/// The component a Go main package is: `k8s.io/kubernetes/cmd/<component>`.
pub(crate) fn component_from_main(main_package: &str) -> Option<&'static str> {
    let name = main_package.strip_prefix("k8s.io/kubernetes/cmd/")?;
    COMPONENTS.iter().copied().find(|c| *c == name)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn ident_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The form `hack/lib/version.sh` accepts for `KUBE_GIT_VERSION`:
/// `^v(\d+)\.(\d+)(\.\d+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`.
pub(crate) fn is_git_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    if build.is_some_and(|b| !ident_chars(b)) {
        return false;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    if pre.is_some_and(|p| !ident_chars(p)) {
        return false;
    }
    // Checked per candidate string of a binary's read-only data: no allocation.
    let mut parts = 0;
    core.split('.').all(|p| {
        parts += 1;
        digits(p)
    }) && (parts == 2 || parts == 3)
}

/// The in-tree default (`v0.0.0-master+$Format:%H$`) and `v0.0.0` mean "not stamped".
fn is_release(version: &str) -> bool {
    is_git_version(version) && !version.starts_with("v0.0.0")
}

/// Steps 1 and 2 of research §C.3: the Go 1.24+ main-module version, else the `-X
/// …/version.gitVersion=` linker flag recorded in the build settings (builds without
/// `-trimpath`).
pub(crate) fn version_from_buildinfo(info: &BuildInfo) -> Option<String> {
    if let Some(main) = &info.main
        && main.path == "k8s.io/kubernetes"
        && is_release(&main.version)
        && !golang::is_pseudo_version(&main.version)
    {
        return Some(main.version.clone());
    }
    let ldflags = info.setting("-ldflags")?;
    let pairs = golang::x_flags(ldflags);
    let rank = |key: &str| {
        if key.ends_with("component-base/version.gitVersion") {
            Some(0)
        } else if key.ends_with("/version.gitVersion") {
            Some(1)
        } else {
            None
        }
    };
    pairs
        .iter()
        .filter(|(_, value)| is_release(value))
        .filter_map(|(key, value)| rank(key).map(|r| (r, value)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, value)| value.clone())
}

/// Whether a NUL-terminated candidate recorded from read-only data may be a stamped version.
pub(crate) fn is_candidate(version: &str) -> bool {
    is_release(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_versions() {
        for ok in [
            "v1.30.2",
            "v1.32.4-dispatcher",
            "v1.29.3+k3s1",
            "v1.28.5-eks-5e0fdde",
            "v1.30",
        ] {
            assert!(is_git_version(ok), "{ok}");
        }
        for bad in [
            "1.30.2",
            "v1",
            "v1.30.2-",
            "v1.x.2",
            "v1.30.2+",
            "v1.30.2.1",
        ] {
            assert!(!is_git_version(bad), "{bad}");
        }
        assert!(!is_release("v0.0.0-master+$Format:%H$"));
    }

    #[test]
    fn components_by_file_and_main_package() {
        assert_eq!(
            component_from_file("usr/local/bin/kube-apiserver"),
            Some("kube-apiserver")
        );
        assert_eq!(component_from_file("kubectl.exe"), Some("kubectl"));
        assert_eq!(component_from_file("usr/bin/kubectl-convert"), None);
        assert_eq!(
            component_from_main("k8s.io/kubernetes/cmd/kubelet"),
            Some("kubelet")
        );
        assert_eq!(component_from_main("k8s.io/kubernetes/cmd/genman"), None);
    }
}
