//! Real Go vulnerability database records (testdata/osv-go) against synthetic inventories.

use crate::{ids, inv, pkg, testdata};
use palisade_core::Severity;
use palisade_core::inventory::PackageKind;
use palisade_vuln::{OsvDb, match_inventory, match_report};

fn db() -> OsvDb {
    let db = OsvDb::open(&testdata("osv-go")).unwrap();
    assert!(db.warnings().is_empty(), "{:?}", db.warnings());
    assert_eq!(db.records(), 14);
    db
}

fn go_ids(name: &str, version: &str) -> Vec<String> {
    let db = db();
    ids(&match_inventory(
        &inv(vec![pkg(PackageKind::Go, name, version)]),
        Some(&db),
        None,
    ))
}

fn stdlib_ids(version: &str) -> Vec<String> {
    let db = db();
    ids(&match_inventory(
        &inv(vec![pkg(PackageKind::GoStdlib, "stdlib", version)]),
        Some(&db),
        None,
    ))
}

#[test]
fn stdlib_by_toolchain_version() {
    // GO-2023-2102: fixed 1.20.10 and 1.21.3; GO-2026-6218: fixed 1.25.13 (introduced 0).
    assert_eq!(stdlib_ids("1.21.2"), ["GO-2023-2102", "GO-2026-6218"]);
    assert_eq!(stdlib_ids("1.21.3"), ["GO-2026-6218"]);
    assert_eq!(stdlib_ids("1.20.9"), ["GO-2023-2102", "GO-2026-6218"]);
    // The prerelease-inclusive bound `1.21.0-0` admits go1.21rc2.
    assert_eq!(stdlib_ids("1.21.0-rc.2"), ["GO-2023-2102", "GO-2026-6218"]);
    // Raw toolchain strings are converted (go1.16 = 1.16.0, GO-2021-0067 is 1.16.0-0..1.16.1).
    assert_eq!(
        stdlib_ids("go1.16"),
        [
            "GO-2021-0067",
            "GO-2022-0969",
            "GO-2023-2102",
            "GO-2026-6218"
        ]
    );
    assert_eq!(
        stdlib_ids("go1.16.1 X:boringcrypto"),
        ["GO-2022-0969", "GO-2023-2102", "GO-2026-6218"]
    );
    // Branch fixes: 1.26.6 and 1.27.0-rc.3.
    assert_eq!(stdlib_ids("1.26.5"), ["GO-2026-6218"]);
    assert!(stdlib_ids("1.26.6").is_empty());
    assert_eq!(stdlib_ids("1.27.0-rc.2"), ["GO-2026-6218"]);
    assert!(stdlib_ids("1.27.0").is_empty());
}

#[test]
fn stdlib_is_not_the_toolchain_module() {
    // GO-2021-0068 names the `toolchain` pseudo-module (cmd/go), fixed 1.14.14 / 1.15.7.
    assert!(!stdlib_ids("1.15.6").contains(&"GO-2021-0068".to_owned()));
    assert_eq!(go_ids("toolchain", "v1.15.6"), ["GO-2021-0068"]);
}

#[test]
fn stdlib_as_an_sbom_names_it() {
    // CycloneDX/SPDX from other tools: pkg:golang/stdlib@v1.21.2, kind Go.
    assert_eq!(
        go_ids("stdlib", "v1.21.2"),
        ["GO-2023-2102", "GO-2026-6218"]
    );
}

#[test]
fn modules_with_fixed_versions_and_pseudo_version_bounds() {
    assert_eq!(go_ids("golang.org/x/net", "v0.16.0"), ["GO-2023-2102"]);
    assert!(go_ids("golang.org/x/net", "v0.17.0").is_empty());
    // GO-2022-0969 is fixed at pseudo-version 0.0.0-20220906165146-f3363e06e74c.
    assert_eq!(
        go_ids("golang.org/x/net", "v0.0.0-20220812174116-3211cb980234"),
        ["GO-2022-0969", "GO-2023-2102"]
    );
    assert_eq!(
        go_ids("golang.org/x/net", "v0.0.0-20220906165146-f3363e06e74c"),
        ["GO-2023-2102"]
    );
    assert_eq!(
        go_ids("golang.org/x/crypto", "v0.0.0-20200210000000-aaaaaaaaaaaa"),
        ["GO-2020-0012"]
    );
    assert!(go_ids("golang.org/x/crypto", "v0.1.0").is_empty());
}

#[test]
fn pseudo_versions_installed() {
    // miekg/dns: GO-2020-0006 fixed at 1.0.4-0.20180125103619-43913f2f4fbd,
    // GO-2020-0008 at 1.1.25-0.20191211073109-8ebf2e419df7.
    assert_eq!(
        go_ids(
            "github.com/miekg/dns",
            "v1.0.4-0.20180101000000-aaaaaaaaaaaa"
        ),
        ["GO-2020-0006", "GO-2020-0008"]
    );
    assert_eq!(go_ids("github.com/miekg/dns", "v1.0.4"), ["GO-2020-0008"]);
    assert_eq!(
        go_ids(
            "github.com/miekg/dns",
            "v1.1.25-0.20191211073109-8ebf2e419df7"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        go_ids("github.com/seccomp/libseccomp-golang", "v0.9.0"),
        ["GO-2020-0007"]
    );
}

#[test]
fn incompatible_build_metadata_is_ignored() {
    // GO-2021-0072: fixed 2.7.0-rc.0+incompatible.
    assert_eq!(
        go_ids("github.com/docker/distribution", "v2.6.2+incompatible"),
        ["GO-2021-0072"]
    );
    assert!(go_ids("github.com/docker/distribution", "v2.7.0-rc.0+incompatible").is_empty());
    assert!(go_ids("github.com/docker/distribution", "v2.8.3+incompatible").is_empty());
}

#[test]
fn kubernetes_modules_and_withdrawn_records() {
    assert_eq!(go_ids("k8s.io/kubernetes", "v1.19.5"), ["GO-2021-0066"]);
    assert_eq!(
        go_ids("k8s.io/kubernetes", "v1.20.0-alpha.0"),
        ["GO-2021-0066"]
    );
    // GO-2022-0617 (introduced 0, no fix) is withdrawn: never reported.
    assert!(go_ids("k8s.io/kubernetes", "v1.20.0").is_empty());
    assert!(go_ids("github.com/gravitational/teleport", "v1.0.0").is_empty());
    assert_eq!(go_ids("k8s.io/client-go", "v0.19.4"), ["GO-2021-0064"]);
    assert!(go_ids("k8s.io/client-go", "v0.20.0-alpha.2").is_empty());
}

#[test]
fn replaced_modules_are_matched_by_the_module_reported() {
    // palisade-langpkg reports a replaced dependency under its replacement's identity (a
    // fork: its path and version; a local directory: the original path with the
    // replacement's version). A fork of x/net is not x/net; x/net replaced by a local copy
    // at v0.17.0 is x/net v0.17.0.
    assert!(go_ids("github.com/example/net-fork", "v0.10.0").is_empty());
    assert!(go_ids("golang.org/x/net", "v0.17.0").is_empty());
    assert_eq!(go_ids("golang.org/x/net", "v0.16.0"), ["GO-2023-2102"]);
}

#[test]
fn finding_fields() {
    let db = db();
    let found = match_inventory(
        &inv(vec![pkg(PackageKind::Go, "golang.org/x/net", "v0.16.0")]),
        Some(&db),
        None,
    );
    let f = &found[0];
    assert_eq!(f.id, "GO-2023-2102");
    assert_eq!(f.aliases, ["CVE-2023-39325", "GHSA-4374-p667-p6c8"]);
    assert_eq!(f.installed, "v0.16.0");
    assert_eq!(f.fixed, ["0.17.0"]);
    // Go records carry no severity: unrated.
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!((f.cvss.as_deref(), f.score), (None, None));
    assert_eq!(
        f.url.as_deref(),
        Some("https://pkg.go.dev/vuln/GO-2023-2102")
    );
    assert_eq!(f.source, "osv");
    assert_eq!(
        f.summary,
        "HTTP/2 rapid reset can cause excessive work in net/http"
    );
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["package"]["name"], "golang.org/x/net");
    assert_eq!(
        json["severity"],
        serde_json::to_value(Severity::Medium).unwrap()
    );
}

#[test]
fn modules_without_versions_are_counted_in_one_note() {
    let db = db();
    let r = match_report(
        &inv(vec![
            pkg(PackageKind::Go, "example.com/app", ""),
            pkg(PackageKind::Go, "example.com/lib", "(devel)"),
            pkg(PackageKind::Go, "golang.org/x/net", "not-a-version"),
        ]),
        Some(&db),
        None,
    );
    assert!(r.findings.is_empty());
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("2 Go module(s) without a release version")),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes.contains(
            &"golang.org/x/net \"not-a-version\" is not a SemVer version: not matched against its 2 record(s)"
                .to_owned()
        ),
        "{:?}",
        r.notes
    );
}

#[test]
fn agrees_with_an_independent_evaluation() {
    // testdata/osv-go/expected.tsv: every range bound of every vendored record and versions
    // next to it, evaluated by oracle.py (a separate Python implementation of the OSV
    // algorithm and SemVer precedence). Run over all 241 records of the shared snapshot the
    // same way, 1,421 queries agreed as well.
    let db = db();
    let mut n = 0;
    for line in crate::read("osv-go/expected.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split('\t').collect();
        let kind = if f[0] == "stdlib" {
            PackageKind::GoStdlib
        } else {
            PackageKind::Go
        };
        let mut got = ids(&match_inventory(
            &inv(vec![pkg(kind, f[1], f[2])]),
            Some(&db),
            None,
        ));
        got.sort();
        let want: Vec<&str> = f[3].split(',').filter(|s| !s.is_empty()).collect();
        assert_eq!(got, want, "{line}");
        n += 1;
    }
    assert_eq!(n, 111);
}
