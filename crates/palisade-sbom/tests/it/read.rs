//! Readers on SBOMs written by others: the Kubernetes release tooling, Trivy, the CycloneDX and
//! SPDX specifications' own samples.
use crate::fixtures::read_testdata;
use palisade_core::inventory::{Inventory, Package, PackageKind};
use palisade_sbom::read;

fn inv(rel: &str) -> Inventory {
    read(&read_testdata(rel), rel).unwrap_or_else(|e| panic!("{e}"))
}

fn find<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

fn count(inv: &Inventory, kind: PackageKind) -> usize {
    inv.packages.iter().filter(|p| p.kind == kind).count()
}

/// The Kubernetes release tooling's SBOM of etcd v3.4.16 (SPDX 2.2 tag-value, 80 packages,
/// 1,367 files): Go modules named `module@version` without purl lines get Go purls; the two
/// packages the document describes that hold the others (the source tree, the image) are the
/// subject; files are not packages.
#[test]
fn kubernetes_release_sbom_etcd() {
    let inv = inv("sbom-k8s/etcd-v3.4.16.spdx");
    assert_eq!(inv.packages.len(), 78);
    assert_eq!(count(&inv, PackageKind::Go), 72);
    assert_eq!(
        count(&inv, PackageKind::Other),
        6,
        "the image's layer tarballs"
    );
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    assert_eq!(inv.distro, None);
    let sys = find(&inv, "golang.org/x/sys");
    assert_eq!(sys.version, "v0.0.0-20210603125802-9665404d3644");
    assert_eq!(
        sys.purl,
        "pkg:golang/golang.org/x/sys@v0.0.0-20210603125802-9665404d3644"
    );
    assert_eq!(sys.licenses, ["BSD-3-Clause"]);
    let systemd = find(&inv, "github.com/coreos/go-systemd/v22");
    assert_eq!(
        systemd.purl,
        "pkg:golang/github.com/coreos/go-systemd/v22@v22.3.2"
    );
    let raft = find(&inv, "go.etcd.io/etcd/raft/v3");
    assert_eq!(raft.version, "v3.5.0-beta.4");
    assert_eq!(raft.licenses, ["Apache-2.0"]);
    // every Go package: module path and version split, purl built from them
    for p in inv.packages.iter().filter(|p| p.kind == PackageKind::Go) {
        assert!(!p.name.contains('@'), "{}", p.name);
        if !p.version.is_empty() {
            assert_eq!(
                p.purl,
                format!("pkg:golang/{}@{}", p.name, p.version.replace('+', "%2B"))
            );
        }
    }
    // the main module is written `go.etcd.io/etcd/v3@` without a version
    let main = find(&inv, "go.etcd.io/etcd/v3");
    assert_eq!(
        (main.version.as_str(), main.purl.as_str()),
        ("", "pkg:golang/go.etcd.io/etcd/v3")
    );
    // the subjects are not packages
    assert!(inv.packages.iter().all(|p| p.name != "coreos/etcd"));
    assert!(
        inv.packages
            .iter()
            .all(|p| p.name != "48c442ed-075f-4a3c-a78c-7e083f4a6fea")
    );
    // a layer tarball stays an (unmatched) package, named as the SBOM names it
    let layer = find(&inv, "4d5ad3a2ccdc5bfb6be086224aa936366e621500");
    assert_eq!(
        (layer.kind, layer.purl.as_str(), layer.version.as_str()),
        (PackageKind::Other, "", "")
    );
}

/// Kubernetes release provenance is an in-toto statement with an SLSA predicate: refused by name.
#[test]
fn kubernetes_release_provenance_is_not_an_sbom() {
    let err = read(
        &read_testdata("sbom-k8s/k8s-1.23.0-alpha.4-provenance.json"),
        "prov.json",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("prov.json: not a supported SBOM"), "{err}");
    assert!(err.contains("https://slsa.dev/provenance/v0.1"), "{err}");
}

/// One CentOS 7 image as Trivy writes it in four forms: the same two packages every time.
#[test]
fn trivy_centos_in_every_form() {
    for rel in [
        "sbom-trivy/centos-7-cyclonedx.json",
        "sbom-trivy/centos-7-cyclonedx.intoto.jsonl",
        "sbom-trivy/centos-7-spdx.json",
        "sbom-trivy/centos-7-spdx.txt",
    ] {
        let inv = inv(rel);
        assert_eq!(
            inv.image.as_deref(),
            Some("integration/testdata/fixtures/images/centos-7.tar.gz"),
            "{rel}"
        );
        let d = inv.distro.clone().unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str()),
            ("centos", "7.6.1810"),
            "{rel}"
        );
        assert_eq!(inv.packages.len(), 2, "{rel}");
        assert!(
            inv.packages.iter().all(|p| p.kind == PackageKind::Rpm),
            "{rel}"
        );
        let bash = find(&inv, "bash");
        // the SPDX forms say `4.2.46`; the purl's `4.2.46-31.el7` is the full version
        assert_eq!(bash.version, "4.2.46-31.el7", "{rel}");
        assert_eq!(
            bash.purl,
            "pkg:rpm/centos/bash@4.2.46-31.el7?arch=x86_64&distro=centos-7.6.1810"
        );
        assert_eq!(bash.arch.as_deref(), Some("x86_64"));
        assert_eq!(bash.licenses, ["GPLv3+"], "{rel}");
        assert_eq!(bash.source_name.as_deref(), Some("bash"), "{rel}");
        assert_eq!(
            bash.source_version.as_deref(),
            Some("4.2.46-31.el7"),
            "{rel}"
        );
        assert_eq!(
            bash.layer.as_deref(),
            Some("sha256:89169d87dbe2b72ba42bfbb3579c957322baca28e03a1e558076542a1c1b2b4a"),
            "{rel}"
        );
        let ssl = find(&inv, "openssl-libs");
        if rel.ends_with("spdx.json") {
            // this fixture's versionInfo disagrees with its own purl; the document's word wins
            assert_eq!(ssl.version, "1:1.0.2k-19.el7");
        } else {
            // Trivy leaves the epoch out of the version and puts it in the purl's qualifier
            assert_eq!(ssl.version, "1:1.0.2k-16.el7", "{rel}");
        }
    }
    let cdx = inv("sbom-trivy/centos-7-cyclonedx.json");
    let ssl = find(&cdx, "openssl-libs");
    // SrcName / SrcEpoch:SrcVersion-SrcRelease
    assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
    assert_eq!(ssl.source_version.as_deref(), Some("1:1.0.2k-16.el7"));
}

#[test]
fn trivy_debian_image_with_a_gem() {
    let inv = inv("sbom-trivy/fluentd-multiple-lockfiles-cyclonedx.json");
    let d = inv.distro.clone().unwrap();
    assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "10.2"));
    assert_eq!(inv.packages.len(), 3);
    let idn = find(&inv, "libidn2-0");
    assert_eq!(idn.kind, PackageKind::Deb);
    assert_eq!(idn.source_name.as_deref(), Some("libidn2"));
    let gem = find(&inv, "activesupport");
    assert_eq!(
        gem.kind,
        PackageKind::Other,
        "no gem ecosystem in the model"
    );
    assert_eq!(gem.purl, "pkg:gem/activesupport@6.0.2.1");
    assert_eq!(
        gem.path.as_deref(),
        Some("var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec")
    );
}

/// Trivy writes Maven components without `group`: the purl supplies `group:artifact`.
#[test]
fn trivy_maven_without_group() {
    let inv = inv("sbom-trivy/license-cyclonedx.json");
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "org.eclipse.sisu:org.eclipse.sisu.plexus",
            "org.ow2.asm:asm",
            "org.slf4j:slf4j-api"
        ]
    );
    assert_eq!(find(&inv, "org.slf4j:slf4j-api").licenses, ["MIT License"]);
    assert_eq!(inv.image, None, "an application subject is not an image");
}

/// A Kubernetes cluster KBOM: Kubernetes components by their `pkg:k8s` purls, the node's OS,
/// no node or grouping components among the packages.
#[test]
fn trivy_kubernetes_kbom() {
    let inv = inv("sbom-trivy/minikube-kbom.json");
    let k8s: Vec<(&str, &str)> = inv
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Kubernetes)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        k8s,
        [
            ("apiserver", "1.27.0"),
            ("controller-manager", "1.27.0"),
            ("kube-proxy", "1.27.0"),
            ("kube-scheduler", "1.27.0"),
            ("kubelet", "1.27.0"),
        ]
    );
    assert_eq!(find(&inv, "docker").kind, PackageKind::Go);
    assert_eq!(find(&inv, "go.etcd.io/etcd/v3").kind, PackageKind::Other);
    assert_eq!(inv.packages.len(), 7);
    let d = inv.distro.unwrap();
    assert_eq!(
        (d.id.as_str(), d.version_id.as_str()),
        ("ubuntu", "22.04.2")
    );
}

/// The CycloneDX specification's own valid BOMs for 1.4, 1.5 and 1.6.
#[test]
fn cyclonedx_spec_samples() {
    for v in ["1.4", "1.5"] {
        let inv = inv(&format!("sbom-samples/cyclonedx-valid-bom-{v}.json"));
        assert_eq!(inv.packages.len(), 2, "{v}");
        let tomcat = &inv.packages[0];
        // these two files pair a Maven-looking component with an npm purl; the purl decides
        assert_eq!(tomcat.kind, PackageKind::Npm);
        assert_eq!(tomcat.name, "com.acme/tomcat-catalina");
        assert_eq!(tomcat.licenses, ["Apache-2.0"]);
        assert_eq!(inv.packages[1].kind, PackageKind::Other);
    }
    let bom = inv("sbom-samples/cyclonedx-valid-bom-1.6.json");
    let got: Vec<(PackageKind, &str, &str, Vec<String>)> = bom
        .packages
        .iter()
        .map(|p| {
            (
                p.kind,
                p.name.as_str(),
                p.version.as_str(),
                p.licenses.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                PackageKind::Maven,
                "com.acme:tomcat-catalina",
                "9.0.14",
                vec!["Apache-2.0".to_string()]
            ),
            (
                PackageKind::Maven,
                "org.example:mylibrary",
                "1.0.0",
                vec!["EPL-2.0 OR GPL-2.0-with-classpath-exception".to_string()]
            ),
            (
                PackageKind::Maven,
                "com.example:myframework",
                "1.0.0",
                vec!["Some random license".to_string()]
            ),
        ]
    );
    for v in ["1.4", "1.5", "1.6"] {
        let vulns = inv(&format!(
            "sbom-samples/cyclonedx-valid-vulnerability-{v}.json"
        ));
        assert!(
            vulns
                .packages
                .iter()
                .any(|p| p.name == "com.fasterxml.jackson.core:jackson-databind"),
            "{v}: {:?}",
            vulns.packages
        );
        // metadata.tools in the 1.4 array form and the 1.5+ object form both read
        let tools = read(
            &read_testdata(&format!(
                "sbom-samples/cyclonedx-valid-metadata-tool-{v}.json"
            )),
            "t",
        )
        .unwrap();
        assert!(tools.packages.is_empty());
    }
}

/// The SPDX specification's example document in JSON and in tag-value: the same packages. The
/// described `glibc` package holds others, so it is the subject.
#[test]
fn spdx_spec_example_in_both_syntaxes() {
    let json = inv("sbom-samples/SPDXJSONExample-v2.2.spdx.json");
    let tv = inv("sbom-samples/SPDXTagExample-v2.2.spdx");
    assert_eq!(json.packages, tv.packages);
    let names: Vec<&str> = json.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Apache Commons Lang",
            "org.apache.jena:apache-jena",
            "Saxon"
        ]
    );
    let jena = find(&json, "org.apache.jena:apache-jena");
    assert_eq!(jena.kind, PackageKind::Maven);
    assert_eq!(jena.version, "3.12.0");
    assert_eq!(find(&json, "Saxon").licenses, ["MPL-1.0"]);
}

/// Syft's own encoder snapshots (image input) in CycloneDX 1.7 JSON, SPDX 2.3 JSON and
/// tag-value: the same two packages; Syft's location properties give layer and path; its
/// test purl `a-purl-1` is not a package URL (a note, the package kept).
#[test]
fn syft_image_in_every_form() {
    for rel in [
        "sbom-syft/cyclonedxjson-TestCycloneDxImageEncoder.golden",
        "sbom-syft/spdxjson-TestSPDXJSONImageEncoder.golden",
        "sbom-syft/spdxtagvalue-TestSPDXTagValueImageEncoder.golden",
    ] {
        let inv = inv(rel);
        let mut names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["package-1", "package-2"], "{rel}");
        let deb = find(&inv, "package-2");
        assert_eq!(deb.kind, PackageKind::Deb, "{rel}");
        assert_eq!(deb.version, "2.0.1");
        let py = find(&inv, "package-1");
        assert_eq!(
            (py.kind, py.purl.as_str()),
            (PackageKind::Other, ""),
            "{rel}"
        );
        assert_eq!(py.licenses, ["MIT"], "{rel}");
        assert_eq!(inv.notes.len(), 1, "{rel}: {:?}", inv.notes);
        assert!(
            inv.notes[0]
                .message
                .contains("`a-purl-1` is not a package URL")
        );
        assert!(
            inv.image
                .as_deref()
                .unwrap()
                .starts_with("user-image-input@sha256:"),
            "{rel}: {:?}",
            inv.image
        );
    }
    let cdx = inv("sbom-syft/cyclonedxjson-TestCycloneDxImageEncoder.golden");
    let d = cdx.distro.clone().unwrap();
    assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "1.2.3"));
    let deb = find(&cdx, "package-2");
    assert_eq!(deb.path.as_deref(), Some("somefile-2.txt"));
    assert_eq!(deb.layer.as_deref(), Some("sha256:redacted"));
}
