//! Real binaries streamed through `BinaryScanner` in different chunk sizes.

use palisade_core::inventory::{Package, PackageKind};
use palisade_langpkg::BinaryScanner;

use crate::{gunzip, scan};

fn summary(packages: &[Package]) -> Vec<(PackageKind, String, String, String)> {
    packages
        .iter()
        .map(|p| (p.kind, p.name.clone(), p.version.clone(), p.purl.clone()))
        .collect()
}

fn row(
    kind: PackageKind,
    name: &str,
    version: &str,
    purl: &str,
) -> (PackageKind, String, String, String) {
    (
        kind,
        name.to_string(),
        version.to_string(),
        purl.to_string(),
    )
}

/// go1.19.8, `-trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v1.30.2 …"`:
/// stripped, no ldflags in the build info, so the version comes from the string headers in
/// `.data` (testdata/go/PROVENANCE.md).
#[test]
fn trimpath_kube_apiserver_version_from_data_headers() {
    let bytes = gunzip("go-binaries/kube-apiserver.gz");
    let expected = vec![
        row(
            PackageKind::GoStdlib,
            "stdlib",
            "1.19.8",
            "pkg:golang/stdlib@1.19.8",
        ),
        row(
            PackageKind::Go,
            "k8s.io/kubernetes",
            "v1.30.2",
            "pkg:golang/k8s.io/kubernetes@v1.30.2",
        ),
        // Replaced by a local directory: Go records `(devel)` as the replacement's version;
        // the purl carries no version (none was released).
        row(
            PackageKind::Go,
            "example.com/dep",
            "(devel)",
            "pkg:golang/example.com/dep",
        ),
        row(
            PackageKind::Go,
            "k8s.io/component-base",
            "v0.30.2",
            "pkg:golang/k8s.io/component-base@v0.30.2",
        ),
        row(
            PackageKind::Kubernetes,
            "kube-apiserver",
            "v1.30.2",
            "pkg:k8s/k8s.io%2Fkube-apiserver@1.30.2",
        ),
    ];
    for chunk in [1 << 20, 65536, 4099, 13] {
        let packages = scan("usr/local/bin/kube-apiserver", &bytes, chunk);
        assert_eq!(summary(&packages), expected, "chunk size {chunk}");
        assert!(packages.iter().all(
            |p| p.path.as_deref() == Some("usr/local/bin/kube-apiserver") && p.layer.is_none()
        ));
    }
}

/// The same program renamed: without a component file name the `.data` scan is not run and a
/// `(devel)` main module stays without version; no Kubernetes package is invented.
#[test]
fn renamed_trimpath_binary_has_no_kubernetes_version() {
    let bytes = gunzip("go-binaries/kube-apiserver.gz");
    let packages = scan("usr/bin/server", &bytes, 65536);
    // The main package path still says kube-apiserver, but nothing recorded the version.
    assert!(packages.iter().all(|p| p.kind != PackageKind::Kubernetes));
    let main = packages
        .iter()
        .find(|p| p.name == "k8s.io/kubernetes")
        .unwrap();
    assert_eq!(main.version, "");
}

/// go1.19.8 without `-trimpath`: the `-ldflags` build setting carries the `-X` flags; the
/// component comes from the main package path `k8s.io/kubernetes/cmd/kube-apiserver`.
#[test]
fn ldflags_kube_apiserver_version_from_build_settings() {
    let bytes = gunzip("go-binaries/kube-apiserver-ldflags.gz");
    let packages = scan("opt/kube-apiserver-ldflags", &bytes, 65536);
    let kube: Vec<_> = packages
        .iter()
        .filter(|p| p.kind == PackageKind::Kubernetes)
        .collect();
    assert_eq!(kube.len(), 1);
    assert_eq!(kube[0].name, "kube-apiserver");
    assert_eq!(kube[0].version, "v1.29.3+k3s1");
    assert_eq!(
        kube[0].purl,
        "pkg:k8s/k8s.io%2Fkube-apiserver@1.29.3%2Bk3s1"
    );
}

#[test]
fn non_executables_are_dropped_after_four_bytes() {
    let mut scanner = BinaryScanner::new("usr/bin/script", 100);
    scanner.feed(b"#!/bin/sh\necho hi\n");
    assert!(scanner.is_done());
    assert_eq!(scanner.finish().unwrap(), Vec::new());
}

/// Real Kubernetes release builds (excerpts keeping the bytes the scanner needs, see
/// testdata/kubectl-excerpts/PROVENANCE.md): v1.27.16 and v1.32.5 record `(devel)` as main
/// module version and no `-ldflags`, so their version comes from the `.data` string headers;
/// v1.33.1 (Go 1.24) records it as main-module version.
#[test]
fn kubectl_release_excerpts() {
    // file, Go, kubectl version, dep lines in the build info
    let cases = [
        ("kubectl.1.27.excerpt.gz", "1.22.5", "v1.27.16", 82),
        ("kubectl.1.32.excerpt.gz", "1.23.8", "v1.32.5", 82),
        ("kubectl.1.33.excerpt.gz", "1.24.2", "v1.33.1", 81),
    ];
    for (file, go, kube, deps) in cases {
        let bytes = gunzip(&format!("kubectl-excerpts/{file}"));
        let packages = scan("usr/local/bin/kubectl", &bytes, 1 << 20);
        assert_eq!(
            packages.len(),
            deps + 3,
            "{file}: stdlib + main + deps + component"
        );
        let find = |name: &str| packages.iter().find(|p| p.name == name).unwrap();
        assert_eq!(find("stdlib").version, go, "{file}");
        let component = find("kubectl");
        assert_eq!(
            (component.kind, component.version.as_str()),
            (PackageKind::Kubernetes, kube),
            "{file}"
        );
        assert_eq!(find("k8s.io/kubernetes").version, kube, "{file}");
        // Staging modules are built from the same tree: k8s.io/api v0.<minor>.<patch>.
        let staging = kube.replacen("v1.", "v0.", 1);
        assert_eq!(find("k8s.io/api").version, staging, "{file}");
        assert_eq!(find("k8s.io/client-go").version, staging, "{file}");
        // Real modules keep their own versions.
        assert_eq!(find("github.com/pkg/errors").version, "v0.9.1", "{file}");
    }
}

/// The same v1.32.5 bytes under a name that is no component and with a main package path
/// that is kubectl's: the component is still recognised from the build info, but the
/// `.data` scan (gated by file name) does not run, so no version is claimed.
#[test]
fn kubectl_excerpt_renamed_claims_no_version() {
    let bytes = gunzip("kubectl-excerpts/kubectl.1.32.excerpt.gz");
    let packages = scan("usr/bin/k", &bytes, 1 << 20);
    assert!(packages.iter().all(|p| p.kind != PackageKind::Kubernetes));
    assert_eq!(
        packages
            .iter()
            .find(|p| p.name == "k8s.io/api")
            .unwrap()
            .version,
        ""
    );
}

/// PE and Mach-O Go binaries: the build info is found by its aligned magic like in ELF.
#[test]
fn pe_and_macho_build_info() {
    for file in [
        "go-binaries/kube-apiserver-windows.excerpt.gz",
        "go-binaries/kube-apiserver-darwin.excerpt.gz",
    ] {
        let bytes = gunzip(file);
        let packages = scan("app/server", &bytes, 65536);
        let names: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("stdlib", "1.19.8"),
                ("k8s.io/kubernetes", ""),
                ("example.com/dep", "(devel)"),
                ("k8s.io/component-base", "(devel)"),
            ],
            "{file}"
        );
    }
}

/// 32-bit and big-endian ELF: pointer size and byte order come from the ELF header.
#[test]
fn elf32_and_big_endian_kubernetes_version() {
    for file in [
        "go-binaries/kube-apiserver-386.excerpt.gz",
        "go-binaries/kube-apiserver-s390x.excerpt.gz",
    ] {
        let bytes = gunzip(file);
        let packages = scan("usr/local/bin/kube-apiserver", &bytes, 100_000);
        let component = packages
            .iter()
            .find(|p| p.kind == PackageKind::Kubernetes)
            .unwrap_or_else(|| panic!("{file}: no component in {packages:?}"));
        assert_eq!(
            (component.name.as_str(), component.version.as_str()),
            ("kube-apiserver", "v1.28.7"),
            "{file}"
        );
        assert_eq!(packages[0].version, "1.19.8", "{file}");
    }
}

/// A Go < 1.18 binary (build info in the pointer format, simulated by clearing the inline flag
/// of the real go1.19 build): its Go packages cannot be read in one pass, but the component
/// version is found from the string headers alone. Without a component name it is an error.
#[test]
fn pointer_format_build_info_still_yields_the_component() {
    let mut bytes = gunzip("go-binaries/kube-apiserver.gz");
    let magic = bytes
        .windows(14)
        .enumerate()
        .find(|(i, w)| *w == b"\xff Go buildinf:" && i % 16 == 0)
        .map(|(i, _)| i)
        .unwrap();
    bytes[magic + 15] = 0;
    let packages = scan("usr/local/bin/kube-apiserver", &bytes, 65536);
    let summary: Vec<(PackageKind, &str, &str)> = packages
        .iter()
        .map(|p| (p.kind, p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![(PackageKind::Kubernetes, "kube-apiserver", "v1.30.2")]
    );
    let mut scanner = BinaryScanner::new("usr/bin/app", bytes.len() as u64);
    scanner.feed(&bytes);
    let err = scanner.finish().unwrap_err().to_string();
    assert_eq!(
        err,
        "usr/bin/app: Go build info in the pre-Go-1.18 pointer format is not read"
    );
}

/// The image fixture's kube-apiserver (testdata/images/PROVENANCE.md): a version package that
/// declares only `gitVersion`, `gitCommit` and `gitTreeState` and links the three with `-X`,
/// so `.data` holds a run of three string headers (in symbol-name order), not the six of
/// upstream's `base.go`. Vendor and trimmed builds do this too; the version must still be found.
#[test]
fn three_variable_version_package_is_recognised() {
    let bytes = std::fs::read(crate::testdata(
        "images/fixture/rootfs/usr/local/bin/kube-apiserver",
    ))
    .unwrap();
    for chunk in [1 << 20, 4099, 13] {
        let packages = scan("usr/local/bin/kube-apiserver", &bytes, chunk);
        let find = |name: &str| packages.iter().find(|p| p.name == name).unwrap();
        let component = find("kube-apiserver");
        assert_eq!(component.kind, PackageKind::Kubernetes, "chunk {chunk}");
        assert_eq!(component.version, "v1.30.2", "chunk {chunk}");
        assert_eq!(find("k8s.io/kubernetes").version, "v1.30.2");
        assert_eq!(find("k8s.io/component-base").version, "v0.30.2");
        let greeting = find("example.com/greeting");
        assert_eq!(greeting.version, "(devel)");
        assert_eq!(greeting.purl, "pkg:golang/example.com/greeting");
    }
}
