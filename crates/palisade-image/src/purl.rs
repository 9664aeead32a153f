//! Package URLs for OS packages (purl spec: type and namespace lowercase, name and version
//! percent-encoded, qualifiers sorted by key), with the `distro=<ID>-<VERSION_ID>` qualifier the
//! research note (§D.3) settles on.

use palisade_core::inventory::Distro;

/// Percent-encodes everything but the unreserved characters and `:` (the spec's own deb example
/// keeps the epoch colon and encodes `+`: `pkg:deb/debian/attr@1:2.4.47-2%2Bb1`).
pub(crate) fn encode(s: &str) -> String {
    palisade_langpkg::purl::encode_keeping(s, b":")
}

/// `<ID>-<VERSION_ID>`, or `<ID>-<VERSION_CODENAME>` when there is no version (Debian sid).
pub(crate) fn distro_qualifier(distro: Option<&Distro>) -> Option<String> {
    let d = distro?;
    if d.id.is_empty() {
        return None;
    }
    if !d.version_id.is_empty() {
        Some(format!("{}-{}", d.id, d.version_id))
    } else {
        d.version_codename
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|c| format!("{}-{c}", d.id))
    }
}

/// The purl namespace for an OS package: the os-release `ID` (`rhel` spelled `redhat` and the
/// openSUSE variants `opensuse`, as Trivy and Syft do), else the package manager's usual vendor.
pub(crate) fn namespace(distro: Option<&Distro>, fallback: &str) -> String {
    let id = distro
        .map(|d| d.id.to_ascii_lowercase())
        .filter(|id| !id.is_empty());
    match id.as_deref() {
        Some("rhel") => "redhat".to_string(),
        Some(id) if id.starts_with("opensuse") => "opensuse".to_string(),
        Some(id) => id.to_string(),
        None => fallback.to_string(),
    }
}

/// `pkg:<ty>/<ns>/<name>@<version>?<qualifiers sorted by key>`; empty qualifier values dropped.
pub(crate) fn build(
    ty: &str,
    ns: &str,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<String>)],
) -> String {
    let mut q: Vec<(&str, &String)> = qualifiers
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    q.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = format!("pkg:{ty}/{}/{}", encode(ns), encode(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    for (i, (k, v)) in q.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_deb_example() {
        let p = build(
            "deb",
            "debian",
            "attr",
            "1:2.4.47-2+b1",
            &[("arch", Some("amd64".into()))],
        );
        assert_eq!(p, "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64");
    }

    #[test]
    fn qualifiers_sorted_and_namespace_mapped() {
        let d = Distro {
            id: "rhel".into(),
            version_id: "9.4".into(),
            ..Distro::default()
        };
        let p = build(
            "rpm",
            &namespace(Some(&d), "rpm"),
            "bash",
            "5.1.8-9.el9",
            &[
                ("epoch", Some("1".into())),
                ("distro", distro_qualifier(Some(&d))),
                ("arch", Some("x86_64".into())),
            ],
        );
        assert_eq!(
            p,
            "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64&distro=rhel-9.4&epoch=1"
        );
    }
}
