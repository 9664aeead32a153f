//! Package URLs (purl spec) for the language ecosystems this crate reads.

/// Percent-encodes one purl component: everything but the spec's unreserved set
/// (`A-Z a-z 0-9 . - _ ~`) becomes `%XX` (so `@` → `%40`, `+` → `%2B`, `/` → `%2F`).
pub(crate) fn encode(component: &str) -> String {
    encode_keeping(component, b"")
}

/// The same, also leaving the ASCII bytes of `keep` as they are (OS package versions keep the
/// epoch colon, as the spec's deb example does).
pub fn encode_keeping(component: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(component.len());
    for byte in component.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'.' | b'-' | b'_' | b'~')
            || keep.contains(&byte)
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0xf));
        }
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + nibble - 10
    })
}

fn with_version(mut purl: String, version: &str) -> String {
    if !version.is_empty() {
        purl.push('@');
        purl.push_str(&encode(version));
    }
    purl
}

/// `pkg:golang/<path segments>@<version>`; the golang type lowercases namespace and name.
pub(crate) fn golang(module: &str, version: &str) -> String {
    let mut purl = String::from("pkg:golang");
    for segment in module.split('/').filter(|s| !s.is_empty()) {
        purl.push('/');
        purl.push_str(&encode(&segment.to_lowercase()));
    }
    with_version(purl, version)
}

/// `pkg:cargo/<crate>@<version>`.
pub(crate) fn cargo(name: &str, version: &str) -> String {
    with_version(format!("pkg:cargo/{}", encode(name)), version)
}

/// PEP 503 normalised name: runs of `-`, `_`, `.` become one `-`, lowercase.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// `pkg:pypi/<pep503 name>@<version>`.
pub(crate) fn pypi(name: &str, version: &str) -> String {
    with_version(format!("pkg:pypi/{}", encode(&pep503(name))), version)
}

/// `pkg:npm/%40scope/name@version` (the scope is the namespace, its `@` always encoded).
pub(crate) fn npm(name: &str, version: &str) -> String {
    let mut purl = String::from("pkg:npm/");
    match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => {
            purl.push_str(&encode(scope));
            purl.push('/');
            purl.push_str(&encode(rest));
        }
        _ => purl.push_str(&encode(name)),
    }
    with_version(purl, version)
}

/// `pkg:maven/<groupId>/<artifactId>@<version>`.
pub(crate) fn maven(group: &str, artifact: &str, version: &str) -> String {
    with_version(
        format!("pkg:maven/{}/{}", encode(group), encode(artifact)),
        version,
    )
}

/// `pkg:k8s/k8s.io%2F<component>@<version>`: the purl spec registers no Kubernetes type, so
/// this follows the one producer of `pkg:k8s` purls, Trivy's KBOM: the name `k8s.io/<component>`
/// with its `/` percent-encoded (as the spec's general rules require of a name), no namespace,
/// and the release without its `v` (`pkg:k8s/k8s.io%2Fkubelet@1.27.0`). The package's own
/// version keeps the binary's spelling (`v1.30.2`).
pub(crate) fn kubernetes(component: &str, version: &str) -> String {
    with_version(
        format!("pkg:k8s/{}", encode(&format!("k8s.io/{component}"))),
        version.strip_prefix('v').unwrap_or(version),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_spec_examples() {
        assert_eq!(
            npm("@angular/animation", "12.3.1"),
            "pkg:npm/%40angular/animation@12.3.1"
        );
        assert_eq!(npm("lodash", "4.17.21"), "pkg:npm/lodash@4.17.21");
        assert_eq!(
            maven("com.fasterxml.jackson.core", "jackson-databind", "2.9.1"),
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.1"
        );
        assert_eq!(
            golang("github.com/Azure/go-autorest", "v14.2.0+incompatible"),
            "pkg:golang/github.com/azure/go-autorest@v14.2.0%2Bincompatible"
        );
        assert_eq!(golang("stdlib", "1.22.3"), "pkg:golang/stdlib@1.22.3");
        assert_eq!(
            cargo("aho-corasick", "0.7.20"),
            "pkg:cargo/aho-corasick@0.7.20"
        );
        assert_eq!(
            kubernetes("kubelet", "v1.30.2"),
            "pkg:k8s/k8s.io%2Fkubelet@1.30.2"
        );
        assert_eq!(
            kubernetes("kubectl", "v1.32.4-dispatcher"),
            "pkg:k8s/k8s.io%2Fkubectl@1.32.4-dispatcher"
        );
        assert_eq!(golang("example.com/m", ""), "pkg:golang/example.com/m");
    }

    #[test]
    fn pypi_names_are_pep503_normalised() {
        assert_eq!(pep503("Foo.Bar__baz-Qux"), "foo-bar-baz-qux");
        assert_eq!(pypi("PyYAML", "6.0.1"), "pkg:pypi/pyyaml@6.0.1");
        assert_eq!(pypi("zope.interface", "6.0"), "pkg:pypi/zope-interface@6.0");
    }
}
