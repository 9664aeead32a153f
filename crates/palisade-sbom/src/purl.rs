//! Package URLs (purl spec) as SBOMs carry them: parsed into parts, mapped to a
//! [`PackageKind`], a package name as its ecosystem spells it, and a distribution.

use palisade_core::inventory::{Distro, PackageKind};

/// A parsed package URL; every part percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purl {
    /// Lowercased (`deb`, `golang`, ...).
    pub ty: String,
    /// Namespace segments joined with `/` (empty when absent).
    pub namespace: String,
    pub name: String,
    pub version: String,
    /// Keys lowercased, in the order given.
    pub qualifiers: Vec<(String, String)>,
    pub subpath: String,
}

impl Purl {
    /// Parses `text`; the error says what is missing.
    pub fn parse(text: &str) -> Result<Purl, String> {
        let rest = match text.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkg:") => text.get(4..).unwrap_or(""),
            _ => return Err("does not start with `pkg:`".to_string()),
        };
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.rsplit_once('#') {
            Some((r, s)) => (r, decode(s.trim_matches('/'))),
            None => (rest, String::new()),
        };
        let (rest, qualifiers) = match rest.rsplit_once('?') {
            Some((r, q)) => (r, parse_qualifiers(q)),
            None => (rest, Vec::new()),
        };
        let (ty, path) = rest
            .split_once('/')
            .ok_or_else(|| "has no `type/name`".to_string())?;
        if ty.is_empty() {
            return Err("has an empty type".to_string());
        }
        let path = path.trim_end_matches('/');
        // The version starts at the last `@` of the last segment: an unencoded npm scope
        // (`@babel/core`) is a namespace, not a version.
        let (path, version) = match path.rsplit_once('/') {
            Some((ns, last)) => match last.rsplit_once('@') {
                Some((n, v)) if !n.is_empty() => (format!("{ns}/{n}"), decode(v)),
                _ => (path.to_string(), String::new()),
            },
            None => match path.rsplit_once('@') {
                Some((n, v)) if !n.is_empty() => (n.to_string(), decode(v)),
                _ => (path.to_string(), String::new()),
            },
        };
        let mut segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let name = segments.pop().unwrap_or_default();
        if name.is_empty() {
            return Err("has no name".to_string());
        }
        Ok(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: segments.join("/"),
            name,
            version,
            qualifiers,
            subpath,
        })
    }

    /// The value of qualifier `key` (lowercase).
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The ecosystem this purl type stands for.
    pub fn kind(&self) -> PackageKind {
        match self.ty.as_str() {
            "deb" => PackageKind::Deb,
            "apk" => PackageKind::Apk,
            "rpm" => PackageKind::Rpm,
            "golang" if self.namespace.is_empty() && self.name == "stdlib" => PackageKind::GoStdlib,
            "golang" => PackageKind::Go,
            "cargo" => PackageKind::Cargo,
            "pypi" => PackageKind::Pypi,
            "npm" => PackageKind::Npm,
            "maven" => PackageKind::Maven,
            "k8s" => PackageKind::Kubernetes,
            _ => PackageKind::Other,
        }
    }

    /// The package name as the model spells it (Go: module path; Maven: `group:artifact`;
    /// npm: `@scope/name`; Kubernetes: the component without Trivy's `k8s.io/` prefix).
    pub fn package_name(&self) -> String {
        match self.kind() {
            PackageKind::Maven if !self.namespace.is_empty() => {
                format!("{}:{}", self.namespace, self.name)
            }
            PackageKind::Deb
            | PackageKind::Apk
            | PackageKind::Rpm
            | PackageKind::Cargo
            | PackageKind::Pypi
            | PackageKind::GoStdlib
            | PackageKind::Maven => self.name.clone(),
            PackageKind::Kubernetes => self
                .name
                .strip_prefix("k8s.io/")
                .unwrap_or(&self.name)
                .to_string(),
            PackageKind::Go | PackageKind::Npm | PackageKind::Other => {
                if self.namespace.is_empty() {
                    self.name.clone()
                } else {
                    format!("{}/{}", self.namespace, self.name)
                }
            }
        }
    }

    /// The installed version: the purl's, with Trivy's `epoch` qualifier put back in front
    /// (`1:2.33.1-0.1`) for Debian and RPM.
    pub fn package_version(&self) -> String {
        match (self.kind(), self.qualifier("epoch")) {
            (PackageKind::Deb | PackageKind::Rpm, Some(epoch))
                if !epoch.is_empty() && epoch != "0" && !self.version.contains(':') =>
            {
                format!("{epoch}:{}", self.version)
            }
            _ => self.version.clone(),
        }
    }

    /// The distribution the `distro` qualifier names. Three spellings are in use:
    /// `debian-12` (Syft, Palisade), `debian-10.2` (Trivy deb/rpm), and a bare `3.10.2`
    /// (Trivy apk), whose distribution is the purl namespace.
    pub fn distro(&self) -> Option<Distro> {
        let value = self.qualifier("distro")?.trim();
        if value.is_empty() {
            return None;
        }
        // The version starts at the first `-` followed by a digit, so ids with a dash
        // (`opensuse-leap-15.1`) stay whole.
        let split = value
            .match_indices('-')
            .map(|(i, _)| i)
            .find(|&i| {
                value
                    .get(i + 1..)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .filter(|&i| value.get(..i).is_some_and(|p| p.starts_with(is_alpha)));
        let (id, version) = match split {
            Some(i) => (
                value.get(..i).unwrap_or(value),
                value.get(i + 1..).unwrap_or(""),
            ),
            None if value.starts_with(is_alpha) => (value, ""),
            None => (self.namespace.as_str(), value),
        };
        if id.is_empty() {
            return None;
        }
        Some(Distro {
            id: id.to_ascii_lowercase(),
            version_id: version.to_string(),
            ..Distro::default()
        })
    }
}

fn is_alpha(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn parse_qualifiers(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim().to_ascii_lowercase();
            (!k.is_empty()).then(|| (k, decode(v)))
        })
        .collect()
}

/// Percent-decodes `text`; a `%` not followed by two hex digits stays as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| hex(*c)),
                bytes.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Percent-encodes one purl component: everything but unreserved characters
/// (`A-Z a-z 0-9 . - _ ~`), so `+` in a Debian version becomes `%2B`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:golang/<module>@<version>` with each path segment encoded.
pub fn golang(module: &str, version: &str) -> String {
    let path: Vec<String> = module.split('/').map(encode).collect();
    if version.is_empty() {
        format!("pkg:golang/{}", path.join("/"))
    } else {
        format!("pkg:golang/{}@{}", path.join("/"), encode(version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_deb_example() {
        let p = Purl::parse("pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64").unwrap();
        assert_eq!(p.ty, "deb");
        assert_eq!(p.namespace, "debian");
        assert_eq!(p.name, "attr");
        assert_eq!(p.version, "1:2.4.47-2+b1");
        assert_eq!(p.qualifier("arch"), Some("amd64"));
        assert_eq!(p.kind(), PackageKind::Deb);
    }

    #[test]
    fn trivy_epoch_qualifier_goes_back_into_the_version() {
        let p =
            Purl::parse("pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1")
                .unwrap();
        assert_eq!(p.package_version(), "1:2.33.1-0.1");
        let d = p.distro().unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "10.2"));
    }

    #[test]
    fn distro_spellings() {
        let d = |s: &str| {
            let d = Purl::parse(s).unwrap().distro().unwrap();
            (d.id, d.version_id)
        };
        assert_eq!(
            d("pkg:deb/debian/tzdata@2021a-1?distro=debian-12"),
            ("debian".into(), "12".into())
        );
        assert_eq!(
            d("pkg:apk/alpine/musl@1.2?arch=x86_64&distro=3.10.2"),
            ("alpine".into(), "3.10.2".into())
        );
        assert_eq!(
            d("pkg:apk/alpine/musl@1.2?distro=alpine-3.14.2"),
            ("alpine".into(), "3.14.2".into())
        );
        assert_eq!(
            d("pkg:rpm/opensuse/bash@4.2?distro=opensuse-leap-15.1"),
            ("opensuse-leap".into(), "15.1".into())
        );
        assert_eq!(
            d("pkg:rpm/redhat/bash@4.2?distro=redhat-7.7"),
            ("redhat".into(), "7.7".into())
        );
        assert_eq!(
            d("pkg:deb/debian/x@1?distro=sid"),
            ("sid".into(), String::new())
        );
        assert!(
            Purl::parse("pkg:deb/debian/x@1")
                .unwrap()
                .distro()
                .is_none()
        );
    }

    #[test]
    fn names_per_ecosystem() {
        let n = |s: &str| {
            let p = Purl::parse(s).unwrap();
            (p.kind(), p.package_name())
        };
        assert_eq!(
            n("pkg:golang/github.com/aquasecurity/tracee@v0.49.0"),
            (PackageKind::Go, "github.com/aquasecurity/tracee".into())
        );
        assert_eq!(
            n("pkg:golang/stdlib@v1.22.1"),
            (PackageKind::GoStdlib, "stdlib".into())
        );
        assert_eq!(
            n("pkg:npm/%40angular/animation@12.3.1"),
            (PackageKind::Npm, "@angular/animation".into())
        );
        assert_eq!(
            n("pkg:npm/@babel/core"),
            (PackageKind::Npm, "@babel/core".into())
        );
        assert_eq!(
            n("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.1"),
            (
                PackageKind::Maven,
                "com.fasterxml.jackson.core:jackson-databind".into()
            )
        );
        assert_eq!(
            n("pkg:k8s/k8s.io%2Fkubelet@1.27.0"),
            (PackageKind::Kubernetes, "kubelet".into())
        );
        assert_eq!(
            n("pkg:cargo/aho-corasick@0.7.20"),
            (PackageKind::Cargo, "aho-corasick".into())
        );
        assert_eq!(
            n("pkg:oci/debian@sha256%3Aabc?repository_url=docker.io/library/debian"),
            (PackageKind::Other, "debian".into())
        );
    }

    #[test]
    fn subpath_and_unscoped_version() {
        let p = Purl::parse("pkg:golang/google.golang.org/genproto#googleapis/api/annotations")
            .unwrap();
        assert_eq!(p.namespace, "google.golang.org");
        assert_eq!(p.name, "genproto");
        assert_eq!(p.version, "");
        assert_eq!(p.subpath, "googleapis/api/annotations");
    }

    #[test]
    fn malformed() {
        assert!(Purl::parse("deb/debian/x@1").is_err());
        assert!(Purl::parse("pkg:deb").is_err());
        assert!(Purl::parse("pkg:/x").is_err());
        assert!(Purl::parse("pkg:deb/").is_err());
        assert_eq!(Purl::parse("pkg:x/a%zz").unwrap().name, "a%zz");
    }

    #[test]
    fn encodes_like_the_spec() {
        assert_eq!(encode("2021a-1+deb11u10"), "2021a-1%2Bdeb11u10");
        assert_eq!(
            golang("github.com/a/b", "v1.0.0+incompatible"),
            "pkg:golang/github.com/a/b@v1.0.0%2Bincompatible"
        );
    }
}
