use palisade_core::Severity;
use palisade_core::inventory::{Distro, Inventory, Package, PackageKind};
use palisade_vuln::VulnFinding;
use serde_json::Value;
use std::path::PathBuf;

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

pub fn read_testdata(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel)).unwrap()
}

fn json_file(rel: &str) -> Value {
    serde_json::from_slice(&read_testdata(rel)).unwrap()
}

/// Serves the schemas the CycloneDX schema `$ref`s from testdata, nothing from the network.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        match name {
            "spdx.schema.json" | "jsf-0.82.schema.json" => {
                Ok(json_file(&format!("sbom-schemas/{name}")))
            }
            _ => Err(format!("schema {uri} is not vendored").into()),
        }
    }
}

fn errors(schema: &Value, doc: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(Vendored)
        .build(schema)
        .unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Schema errors of a CycloneDX 1.6 document (`bom-1.6.schema.json` + its two references).
pub fn cyclonedx_errors(doc: &Value) -> Vec<String> {
    errors(&json_file("sbom-schemas/bom-1.6.schema.json"), doc)
}

/// Schema errors of an SPDX 2.3 JSON document.
pub fn spdx_errors(doc: &Value) -> Vec<String> {
    errors(&json_file("sbom-schemas/spdx-schema-2.3.json"), doc)
}

pub fn pkg(kind: PackageKind, name: &str, version: &str, purl: &str) -> Package {
    Package {
        kind,
        name: name.into(),
        version: version.into(),
        purl: purl.into(),
        ..Package::default()
    }
}

/// An image-shaped inventory touching every feature the writers have: OS packages with
/// source packages, arch and layers, a package in two layers (same purl twice), every
/// language ecosystem, a package without purl, licences in SPDX and free-text form.
pub fn image() -> Inventory {
    let layer1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let layer2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    let mut tzdata = pkg(
        PackageKind::Deb,
        "tzdata",
        "2024a-0+deb12u1",
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
    );
    tzdata.arch = Some("all".into());
    tzdata.licenses = vec!["public-domain".into()];
    tzdata.layer = Some(layer1.into());
    tzdata.path = Some("var/lib/dpkg/status".into());
    let mut libc = pkg(
        PackageKind::Deb,
        "libc6",
        "2.36-9+deb12u7",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
    );
    libc.source_name = Some("glibc".into());
    libc.source_version = Some("2.36-9+deb12u7".into());
    libc.arch = Some("amd64".into());
    libc.licenses = vec!["LGPL-2.1-or-later".into(), "GPL-2.0-or-later".into()];
    libc.layer = Some(layer1.into());
    libc.path = Some("var/lib/dpkg/status".into());
    let mut libc_again = libc.clone();
    libc_again.layer = Some(layer2.into());
    let mut go = pkg(
        PackageKind::Go,
        "golang.org/x/net",
        "v0.23.0",
        "pkg:golang/golang.org/x/net@v0.23.0",
    );
    go.path = Some("usr/local/bin/kube-proxy".into());
    go.layer = Some(layer2.into());
    let mut stdlib = pkg(
        PackageKind::GoStdlib,
        "stdlib",
        "1.22.3",
        "pkg:golang/stdlib@1.22.3",
    );
    stdlib.path = Some("usr/local/bin/kube-proxy".into());
    let mut k8s = pkg(
        PackageKind::Kubernetes,
        "kube-proxy",
        "v1.30.2",
        "pkg:k8s/k8s.io%2Fkube-proxy@v1.30.2",
    );
    k8s.path = Some("usr/local/bin/kube-proxy".into());
    let mut local = pkg(PackageKind::Go, "./staging/src/k8s.io/api", "(devel)", "");
    local.path = Some("usr/local/bin/kube-proxy".into());
    let mut npm = pkg(
        PackageKind::Npm,
        "@babel/helper-string-parser",
        "7.23.4",
        "pkg:npm/%40babel/helper-string-parser@7.23.4",
    );
    npm.licenses = vec!["MIT".into()];
    npm.path = Some("app/node_modules/@babel/helper-string-parser/package.json".into());
    let maven = pkg(
        PackageKind::Maven,
        "com.fasterxml.jackson.core:jackson-databind",
        "2.9.1",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.1",
    );
    let mut pypi = pkg(
        PackageKind::Pypi,
        "PyYAML",
        "6.0.1",
        "pkg:pypi/pyyaml@6.0.1",
    );
    pypi.licenses = vec!["MIT OR Apache-2.0".into()];
    let cargo = pkg(
        PackageKind::Cargo,
        "aho-corasick",
        "0.7.20",
        "pkg:cargo/aho-corasick@0.7.20",
    );
    let mut other = pkg(PackageKind::Other, "some tool", "1", "");
    other.licenses = vec!["GPL v2 or later".into()];
    Inventory {
        source: "kube-proxy.tar".into(),
        image: Some("registry.k8s.io/kube-proxy:v1.30.2".into()),
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            version_codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }),
        packages: vec![
            tzdata, libc, libc_again, go, stdlib, k8s, local, npm, maven, pypi, cargo, other,
        ],
        notes: Vec::new(),
    }
}

/// A root filesystem without an os-release.
pub fn rootfs() -> Inventory {
    Inventory {
        source: "/srv/rootfs".into(),
        packages: vec![pkg(
            PackageKind::Go,
            "github.com/spf13/cobra",
            "v1.8.0",
            "pkg:golang/github.com/spf13/cobra@v1.8.0",
        )],
        ..Inventory::default()
    }
}

pub fn findings(inv: &Inventory) -> Vec<VulnFinding> {
    let find = |name: &str| {
        inv.packages
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .unwrap()
    };
    let net = find("golang.org/x/net");
    let libc = find("libc6");
    let k8s = find("kube-proxy");
    vec![
        VulnFinding {
            id: "GO-2024-2687".into(),
            aliases: vec!["CVE-2023-45288".into(), "GHSA-4v7x-pqxf-cx7m".into()],
            installed: net.version.clone(),
            package: net,
            fixed: vec!["v0.23.1".into()],
            severity: Severity::Medium,
            cvss: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L".into()),
            score: Some(5.3),
            summary: "HTTP/2 CONTINUATION flood in net/http".into(),
            url: Some("https://pkg.go.dev/vuln/GO-2024-2687".into()),
            source: "osv".into(),
        },
        VulnFinding {
            id: "DEBIAN-CVE-2024-2961".into(),
            aliases: vec!["CVE-2024-2961".into()],
            installed: libc.version.clone(),
            package: libc,
            fixed: vec!["2.36-9+deb12u8".into()],
            severity: Severity::High,
            cvss: Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            score: Some(8.1),
            summary: "iconv buffer overflow".into(),
            url: None,
            source: "osv".into(),
        },
        VulnFinding {
            id: "CVE-2024-3177".into(),
            aliases: Vec::new(),
            installed: k8s.version.clone(),
            package: k8s,
            fixed: Vec::new(),
            severity: Severity::Low,
            cvss: None,
            score: None,
            summary:
                "Bypassing mountable secrets policy imposed by the ServiceAccount admission plugin"
                    .into(),
            url: Some("https://github.com/kubernetes/kubernetes/issues/124336".into()),
            source: "kubernetes-feed".into(),
        },
    ]
}
