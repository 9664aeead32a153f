//! `palisade image` and `palisade sbom`: formats, exit codes, per-input errors, and the
//! package-for-package comparison with Trivy on the vendored fixture (testdata/images), whose
//! every difference is listed in `EXPECTED_DIFFERENCES` with its class (docs/images.md).

use crate::{palisade, root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    root().join("testdata/images/fixture").join(rel)
}

fn run(args: &[&str]) -> (i32, Value, String) {
    let out = palisade().args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json, stderr)
}

// ------------------------------------------------------------------ Trivy side by side

/// A package as both tools are compared: purl type, name as palisade spells it (npm
/// `@scope/name`, Maven `group:artifact`, PyPI normalised), version.
type Key = (String, String, String);

fn norm(ptype: &str, name: &str) -> String {
    if ptype == "pypi" {
        let mut out = String::new();
        for c in name.chars() {
            let c = if matches!(c, '_' | '.') { '-' } else { c };
            if !(c == '-' && out.ends_with('-')) {
                out.push(c.to_ascii_lowercase());
            }
        }
        out
    } else {
        name.to_owned()
    }
}

fn purl_type(kind: &str) -> &str {
    match kind {
        "go" | "gostdlib" => "golang",
        "kubernetes" => "k8s",
        k => k,
    }
}

/// (key, kind, path) of palisade's packages in `report`'s first input.
fn palisade_packages(report: &Value) -> Vec<(Key, String, String)> {
    report["inputs"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let kind = p["kind"].as_str().unwrap();
            let t = purl_type(kind).to_owned();
            let name = norm(&t, p["name"].as_str().unwrap());
            let path = p["path"].as_str().unwrap_or("").to_owned();
            (
                (t, name, p["version"].as_str().unwrap().to_owned()),
                kind.to_owned(),
                path,
            )
        })
        .collect()
}

/// (key, path) of the packages in a Trivy CycloneDX SBOM: components other than the
/// operating system and the scanned binaries themselves (`application`).
fn trivy_packages(cdx: &Value) -> Vec<(Key, String)> {
    let mut out = Vec::new();
    for c in cdx["components"].as_array().unwrap() {
        let ctype = c["type"].as_str().unwrap();
        if ctype == "operating-system" || ctype == "application" {
            continue;
        }
        let mut name = c["name"].as_str().unwrap().to_owned();
        let group = c["group"].as_str();
        let t = match c["purl"].as_str() {
            Some(purl) => {
                let t = purl
                    .strip_prefix("pkg:")
                    .unwrap()
                    .split('/')
                    .next()
                    .unwrap()
                    .to_owned();
                match (t.as_str(), group) {
                    ("npm", Some(g)) => name = format!("{g}/{name}"),
                    ("maven", Some(g)) => name = format!("{g}:{name}"),
                    _ => {}
                }
                t
            }
            None => "(none)".to_owned(),
        };
        let path = c["properties"]
            .as_array()
            .and_then(|props| {
                props
                    .iter()
                    .find(|p| p["name"] == "aquasecurity:trivy:FilePath")
            })
            .and_then(|p| p["value"].as_str())
            .unwrap_or("")
            .to_owned();
        let version = c["version"].as_str().unwrap_or("").to_owned();
        out.push(((t.clone(), norm(&t, &name), version), path));
    }
    out
}

/// Files dpkg owns in the fixture (its `*.md5sums`), as Trivy reads them.
fn dpkg_owned() -> Vec<String> {
    let mut owned = Vec::new();
    for e in std::fs::read_dir(fixture("rootfs/var/lib/dpkg/info")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md5sums") {
            for line in std::fs::read_to_string(path).unwrap().lines() {
                if let Some((_, file)) = line.split_once("  ") {
                    owned.push(file.to_owned());
                }
            }
        }
    }
    owned
}

/// Every package only one tool reports on the fixture, and why. Each class is checked by
/// `check_class` against the package itself, so a label cannot drift from the reason.
const EXPECTED_DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    // (class, only in, purl type, name, version)
    ("go-local-replace", "trivy", "(none)", "../cb", ""),
    ("go-local-replace", "trivy", "(none)", "../dep", ""),
    (
        "go-local-replace",
        "palisade",
        "golang",
        "example.com/greeting",
        "(devel)",
    ),
    // The fixture's kube-apiserver is recognised as Kubernetes v1.30.2 (from the `-X`-stamped
    // string headers in its data): its `(devel)` main module and the staging-style module
    // `k8s.io/component-base` (replaced by `../cb`) take the release.
    (
        "kubernetes-devel-modules",
        "trivy",
        "golang",
        "k8s.io/kubernetes",
        "",
    ),
    (
        "kubernetes-devel-modules",
        "palisade",
        "golang",
        "k8s.io/kubernetes",
        "v1.30.2",
    ),
    (
        "kubernetes-devel-modules",
        "palisade",
        "golang",
        "k8s.io/component-base",
        "v0.30.2",
    ),
    (
        "kubernetes-component",
        "palisade",
        "k8s",
        "kube-apiserver",
        "v1.30.2",
    ),
    (
        "go-stdlib-v-prefix",
        "palisade",
        "golang",
        "stdlib",
        "1.19.8",
    ),
    ("go-stdlib-v-prefix", "trivy", "golang", "stdlib", "v1.19.8"),
    (
        "dpkg-owned-language-package",
        "palisade",
        "pypi",
        "six",
        "1.16.0",
    ),
    ("npm-application-root", "trivy", "npm", "demo-app", "1.0.0"),
];

fn check_class(
    class: &str,
    side: &str,
    key: &Key,
    kind: &str,
    path: &str,
    other: &[Key],
    owned: &[String],
) {
    let (t, name, version) = key;
    let ok = match class {
        // A Go module replaced by a local directory (`=> ../dep`): Trivy lists it under the
        // directory's name without purl or version; palisade under the module path with the
        // version Go records for it, `(devel)` (the code is whatever the directory held, not
        // the required version).
        "go-local-replace" => {
            (side == "trivy" && t == "(none)" && name.starts_with("../"))
                || (side == "palisade" && t == "golang" && version == "(devel)" && !path.is_empty())
        }
        // The application's own package.json (outside node_modules): Trivy lists it as a
        // package, palisade lists only installed dependencies (node_modules/**/package.json).
        "npm-application-root" => side == "trivy" && t == "npm" && !path.contains("node_modules/"),
        // A Kubernetes binary's main and staging modules are `(devel)`: Trivy gives them no
        // version, palisade the release linked into the binary.
        "kubernetes-devel-modules" => {
            t == "golang"
                && name.starts_with("k8s.io/")
                && (version.is_empty() == (side == "trivy"))
        }
        // The Go standard library: Trivy spells its version `v1.19.8`, palisade `1.19.8` (the
        // toolchain's own spelling, which OSV's Go ecosystem uses for stdlib).
        "go-stdlib-v-prefix" => {
            let alt = match version.strip_prefix('v') {
                Some(v) => v.to_owned(),
                None => format!("v{version}"),
            };
            name == "stdlib" && other.contains(&(t.clone(), name.clone(), alt))
        }
        // Kubernetes component binaries: palisade reports the component and its release as a
        // package of its own (matched against the Kubernetes CVE feed); Trivy has no such type.
        "kubernetes-component" => side == "palisade" && kind == "kubernetes" && t == "k8s",
        // Language packages whose files dpkg owns (listed in var/lib/dpkg/info/*.md5sums): Trivy
        // drops them as part of the OS package; palisade reports them too.
        "dpkg-owned-language-package" => {
            side == "palisade"
                && t != "deb"
                && owned.iter().any(|f| f.trim_start_matches('/') == path)
        }
        other => panic!("unknown difference class {other}"),
    };
    assert!(
        ok,
        "{side}-only {key:?} (kind {kind}, path {path}) is not of class {class}"
    );
}

fn compare_with_trivy(input: &str, trivy: &str) {
    let (code, report, stderr) = run(&["image", input, "-f", "json", "--fail-on", "never"]);
    assert_eq!(code, 0, "{stderr}");
    let cdx: Value = serde_json::from_slice(&std::fs::read(fixture(trivy)).unwrap()).unwrap();
    let pal = palisade_packages(&report);
    let triv = trivy_packages(&cdx);
    let pal_keys: Vec<Key> = pal.iter().map(|p| p.0.clone()).collect();
    let triv_keys: Vec<Key> = triv.iter().map(|p| p.0.clone()).collect();
    let owned = dpkg_owned();

    let mut found: BTreeMap<(String, Key), (String, String)> = BTreeMap::new();
    for (key, kind, path) in &pal {
        if !triv_keys.contains(key) {
            found.insert(
                ("palisade".into(), key.clone()),
                (kind.clone(), path.clone()),
            );
        }
    }
    for (key, path) in &triv {
        if !pal_keys.contains(key) {
            found.insert(("trivy".into(), key.clone()), (String::new(), path.clone()));
        }
    }
    let mut expected: BTreeMap<(String, Key), &str> = BTreeMap::new();
    for (class, side, t, name, version) in EXPECTED_DIFFERENCES {
        expected.insert(
            (
                (*side).into(),
                ((*t).into(), (*name).into(), (*version).into()),
            ),
            class,
        );
    }
    let unexplained: Vec<_> = found
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !found.contains_key(*k))
        .collect();
    assert!(
        unexplained.is_empty() && missing.is_empty(),
        "{input}: differences not in the table: {unexplained:#?}\ntable entries that no longer differ: {missing:#?}"
    );
    for ((side, key), class) in &expected {
        let (kind, path) = &found[&(side.clone(), key.clone())];
        let other = if side == "palisade" {
            &triv_keys
        } else {
            &pal_keys
        };
        check_class(class, side, key, kind, path, other, &owned);
    }
    // Where both list a package of an image, both place it in the same layer (Trivy's
    // LayerDiffID property, palisade's `layer`).
    let layers = |items: &Value, key: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = items
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                let layer = match key {
                    "trivy" => p["properties"]
                        .as_array()?
                        .iter()
                        .find(|q| q["name"] == "aquasecurity:trivy:LayerDiffID")?["value"]
                        .as_str()?,
                    _ => p["layer"].as_str()?,
                };
                Some((p["name"].as_str()?.to_owned(), layer.to_owned()))
            })
            .collect();
        v.sort();
        v
    };
    let pal_layers = layers(&report["inputs"][0]["packages"], "palisade");
    let triv_layers = layers(&cdx["components"], "trivy");
    let mut compared = 0;
    for (name, layer) in &triv_layers {
        if let Some((_, mine)) = pal_layers.iter().find(|(n, _)| n == name) {
            assert_eq!(mine, layer, "{input}: layer of {name}");
            compared += 1;
        }
    }
    if input.ends_with(".tar") {
        assert!(compared >= 8, "{input}: only {compared} layers compared");
    }
    // Agreement is the rule: 10 of Trivy's 15 packages (5 deb, 2 npm, 1 Maven, 2 PyPI) are
    // the same in both; its other 5 are listed differences.
    let same = pal_keys.iter().filter(|k| triv_keys.contains(k)).count();
    assert_eq!(same, 10, "{input}: packages that agree");
}

#[test]
fn fixture_rootfs_agrees_with_trivy_except_the_listed_differences() {
    compare_with_trivy(
        "testdata/images/fixture/rootfs",
        "trivy-0.76.0-rootfs.cdx.json",
    );
}

#[test]
fn fixture_docker_archive_agrees_with_trivy_except_the_listed_differences() {
    compare_with_trivy(
        "testdata/images/fixture/image-docker.tar",
        "trivy-0.76.0-docker.cdx.json",
    );
}

// ------------------------------------------------------------------ formats and exit status

const ROOTFS: &str = "testdata/images/fixture/rootfs";
/// Three real Go vulnerability records (testdata/images/osv/PROVENANCE.md): two affect the
/// fixture binary's Go 1.19.8 standard library, GO-2023-1571 (fixed in 1.19.6) does not.
const OSV: &str = "testdata/images/osv";

fn ids(findings: &Value) -> Vec<String> {
    let mut ids: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn image_json_has_inventory_findings_and_summary() {
    let (code, report, stderr) = run(&[
        "image",
        ROOTFS,
        "--osv-db",
        OSV,
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["tool"]["name"], "palisade");
    let input = &report["inputs"][0];
    assert_eq!(input["source"], ROOTFS);
    assert_eq!(input["distro"]["id"], "debian");
    let pkgs = input["packages"].as_array().unwrap();
    let bsdutils = pkgs.iter().find(|p| p["name"] == "bsdutils").unwrap();
    assert_eq!(bsdutils["kind"], "deb");
    assert_eq!(bsdutils["version"], "1:2.38.1-5+deb12u3");
    assert_eq!(bsdutils["source_name"], "util-linux");
    assert_eq!(bsdutils["path"], "var/lib/dpkg/status");
    // Sorted by kind (in the model's order: OS packages first), then name.
    const KINDS: [&str; 11] = [
        "deb",
        "apk",
        "rpm",
        "go",
        "gostdlib",
        "cargo",
        "pypi",
        "npm",
        "maven",
        "kubernetes",
        "other",
    ];
    let order: Vec<(usize, String)> = pkgs
        .iter()
        .map(|p| {
            let kind = KINDS.iter().position(|k| p["kind"] == *k).unwrap();
            (kind, p["name"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    assert_eq!(ids(&input["findings"]), ["GO-2023-1840", "GO-2023-2102"]);
    for f in input["findings"].as_array().unwrap() {
        assert_eq!(f["package"]["name"], "stdlib");
        assert_eq!(f["package"]["path"], "usr/local/bin/kube-apiserver");
        assert_eq!(f["installed"], "1.19.8");
        assert_eq!(f["source"], "osv");
        assert!(!f["fixed"].as_array().unwrap().is_empty(), "{f}");
    }
    assert_eq!(report["summary"]["inputs"], 1);
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["findings"], 2);
    assert_eq!(report["summary"]["packages"], pkgs.len());
}

#[test]
fn image_exit_status_follows_fail_on() {
    let args = ["image", ROOTFS, "--osv-db", OSV, "-f", "json"];
    let (never, _, _) = run(&[&args[..], &["--fail-on", "never"]].concat());
    assert_eq!(never, 0);
    let (info, report, _) = run(&[&args[..], &["--fail-on", "info"]].concat());
    assert_eq!(info, 1, "findings at or above info: {report}");
    // No database: nothing to find, exit 0 at the default --fail-on.
    let (clean, report, _) = run(&["image", ROOTFS, "-f", "json"]);
    assert_eq!(clean, 0);
    assert_eq!(report["summary"]["findings"], 0);
}

#[test]
fn image_unreadable_input_is_reported_and_the_others_still_read() {
    let (code, report, stderr) = run(&[
        "image",
        "testdata/images/no-such-image.tar",
        ROOTFS,
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error: ") && stderr.contains("no-such-image.tar"),
        "{stderr}"
    );
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(
        inputs[0]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-image.tar")
    );
    assert!(inputs[0].get("packages").is_none());
    assert!(!inputs[1]["packages"].as_array().unwrap().is_empty());
    assert_eq!(report["summary"]["errors"], 1);
}

#[test]
fn image_bad_osv_db_stops_before_reading_inputs() {
    let (code, _, stderr) = run(&["image", ROOTFS, "--osv-db", "testdata/images/no-such-db"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--osv-db") && stderr.contains("no-such-db"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["image", ROOTFS, "--feed", "testdata/images/PROVENANCE.md"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--feed"), "{stderr}");
}

#[test]
fn image_table_lists_packages_then_vulnerabilities() {
    let out = palisade()
        .args(["image", ROOTFS, "--osv-db", OSV, "--fail-on", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("KIND") && text.contains("VULNERABILITY"),
        "{text}"
    );
    let pkg = text.find("bsdutils").unwrap();
    let vuln = text.find("GO-2023-1840").unwrap();
    assert!(pkg < vuln, "{text}");
    assert!(!text.contains("GO-2023-1571"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
}

fn sarif_schema_errors(sarif: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("testdata/sarif-schema/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn image_sarif_is_valid_one_rule_per_id_located_at_the_binary() {
    let (code, sarif, stderr) = run(&[
        "image",
        ROOTFS,
        "--osv-db",
        OSV,
        "-f",
        "sarif",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let errors = sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let run0 = &sarif["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["GO-2023-1840", "GO-2023-2102"]);
    for r in run0["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(r["ruleId"], rules[idx]);
        let loc = &r["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "usr/local/bin/kube-apiserver"
        );
        assert_eq!(loc["logicalLocations"][0]["fullyQualifiedName"], ROOTFS);
        assert_eq!(r["properties"]["installed"], "1.19.8");
    }
}

#[test]
fn image_cyclonedx_and_spdx_documents() {
    let (code, cdx, stderr) = run(&[
        "image",
        ROOTFS,
        "--osv-db",
        OSV,
        "-f",
        "cyclonedx",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["specVersion"], "1.6");
    let purls: Vec<&str> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/bsdutils@")),
        "{purls:?}"
    );
    let vulns: Vec<&str> = cdx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(vulns.contains(&"GO-2023-1840"), "{vulns:?}");

    let (code, spdx, stderr) = run(&["image", ROOTFS, "-f", "spdx"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert!(
        spdx["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "bsdutils")
    );
}

#[test]
fn sbom_reads_an_sbom_palisade_wrote_and_finds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let cdx = dir.path().join("fixture.cdx.json");
    let out = palisade()
        .args(["image", ROOTFS, "-f", "cyclonedx", "-o"])
        .arg(&cdx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let cdx = cdx.to_str().unwrap();
    let (code, report, stderr) = run(&[
        "sbom",
        cdx,
        "--osv-db",
        OSV,
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["inputs"][0]["source"], cdx);
    assert_eq!(
        ids(&report["inputs"][0]["findings"]),
        ["GO-2023-1840", "GO-2023-2102"]
    );
    // A file that is no SBOM: exit 2, named.
    let (code, _, stderr) = run(&["sbom", "testdata/images/PROVENANCE.md"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("PROVENANCE.md"), "{stderr}");
}

/// The feed as `palisade feed build` writes it, from the vendored 2025 issue pages.
fn build_feed(dir: &std::path::Path) -> PathBuf {
    let out = palisade()
        .args([
            "feed",
            "build",
            "--input",
            "testdata/cve-feed/github-pages-2025",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    dir.join("official-cve-feed.json")
}

/// End to end: the fixture's kube-apiserver binary is recognised as Kubernetes v1.30.2 and its
/// Kubernetes CVEs come from the feed, each linking to the feed's own entry (same ID and URL).
#[test]
fn image_matches_the_fixture_kube_apiserver_against_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let feed_path = build_feed(dir.path());
    let (code, report, stderr) = run(&[
        "image",
        ROOTFS,
        "--feed",
        feed_path.to_str().unwrap(),
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let input = &report["inputs"][0];
    let component = input["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "kubernetes")
        .unwrap_or_else(|| panic!("no Kubernetes component in {input}"));
    assert_eq!(component["name"], "kube-apiserver");
    assert_eq!(component["version"], "v1.30.2");
    assert_eq!(component["purl"], "pkg:k8s/k8s.io%2Fkube-apiserver@1.30.2");
    assert_eq!(component["path"], "usr/local/bin/kube-apiserver");

    let feed: Value = serde_json::from_slice(&std::fs::read(&feed_path).unwrap()).unwrap();
    let items = feed["items"].as_array().unwrap();
    let findings = input["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{report}");
    for f in findings {
        assert_eq!(f["source"], "kubernetes-feed", "{f}");
        assert_eq!(f["package"]["name"], "kube-apiserver");
        assert_eq!(f["package"]["path"], "usr/local/bin/kube-apiserver");
        assert_eq!(f["installed"], "1.30.2", "{f}");
        let item = items
            .iter()
            .find(|i| i["id"] == f["id"])
            .unwrap_or_else(|| panic!("{} is not in the feed", f["id"]));
        assert_eq!(f["url"], item["url"], "{f}");
        assert!(
            f["url"]
                .as_str()
                .unwrap()
                .starts_with("https://github.com/kubernetes/kubernetes/issues/"),
            "{f}"
        );
    }
    // Only the component is matched against the feed; the OSV side is not asked for.
    assert!(
        findings
            .iter()
            .all(|f| f["package"]["kind"] == "kubernetes"),
        "{findings:?}"
    );
    // The table shows them too.
    let out = palisade()
        .args(["image", ROOTFS, "--fail-on", "never", "--feed"])
        .arg(&feed_path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = findings[0]["id"].as_str().unwrap();
    assert!(
        text.contains(first) && text.contains("kube-apiserver"),
        "{text}"
    );
    // Through palisade's own CycloneDX (purl `pkg:k8s/k8s.io%2Fkube-apiserver@1.30.2`, version
    // `v1.30.2`) and `palisade sbom`, the same CVEs.
    let cdx = dir.path().join("fixture.cdx.json");
    let out = palisade()
        .args(["image", ROOTFS, "-f", "cyclonedx", "-o"])
        .arg(&cdx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (code, again, stderr) = run(&[
        "sbom",
        cdx.to_str().unwrap(),
        "--feed",
        feed_path.to_str().unwrap(),
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        ids(&again["inputs"][0]["findings"]),
        ids(&input["findings"])
    );
}

#[test]
fn sbom_matches_a_kubernetes_component_against_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let feed = build_feed(dir.path());
    let (code, report, stderr) = run(&[
        "sbom",
        "testdata/images/kube-apiserver-v1.30.2.cdx.json",
        "--feed",
        feed.to_str().unwrap(),
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let input = &report["inputs"][0];
    assert_eq!(input["packages"][0]["kind"], "kubernetes");
    let findings = input["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{report}");
    for f in findings {
        assert_eq!(f["source"], "kubernetes-feed");
        assert_eq!(f["package"]["name"], "kube-apiserver");
        assert!(f["id"].as_str().unwrap().starts_with("CVE-"), "{f}");
    }
}

#[test]
fn sbom_reads_spdx_tag_value_and_standard_input() {
    // etcd's release SBOM (SPDX tag-value, Kubernetes' bom tool), vendored by palisade-sbom.
    let (code, report, stderr) = run(&[
        "sbom",
        "testdata/sbom-k8s/etcd-v3.4.16.spdx",
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let pkgs = report["inputs"][0]["packages"].as_array().unwrap();
    assert!(
        pkgs.iter()
            .any(|p| p["kind"] == "go" && p["name"] == "go.etcd.io/bbolt"),
        "{pkgs:?}"
    );

    let bytes =
        std::fs::read(root().join("testdata/images/kube-apiserver-v1.30.2.cdx.json")).unwrap();
    let out = palisade()
        .args(["sbom", "-", "-f", "json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["source"], "-");
    assert_eq!(report["inputs"][0]["packages"][0]["name"], "kube-apiserver");
}

/// What matching could not evaluate is said, in every format: the fixture's
/// `example.com/greeting` is built from a local directory (`(devel)`), so OSV is not asked.
#[test]
fn image_match_notes_reach_stderr_json_and_sarif() {
    let args = ["image", ROOTFS, "--osv-db", OSV, "--fail-on", "never"];
    let (code, report, stderr) = run(&[&args[..], &["-f", "json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("note: {ROOTFS}: not matched: "))
            && stderr.contains("without a release version"),
        "{stderr}"
    );
    let notes = report["inputs"][0]["notes"].as_array().unwrap();
    let matched: Vec<&Value> = notes.iter().filter(|n| n["stage"] == "match").collect();
    assert_eq!(matched.len(), 1, "{notes:?}");
    assert!(
        matched[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("1 Go module(s) without a release version"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .all(|n| n["stage"] == "read" || n["stage"] == "match")
    );

    let (code, sarif, stderr) = run(&[&args[..], &["-f", "sarif"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "warning"
            && n["properties"]["stage"] == "match"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .contains("without a release version")),
        "{notes:?}"
    );

    let out = palisade().args(args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1 notes (standard error)"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not matched"), "{err}");
}

/// An unreadable input is an unsuccessful invocation with an error notification in SARIF.
#[test]
fn image_sarif_invocation_reports_unreadable_inputs() {
    let (code, sarif, stderr) = run(&[
        "image",
        "testdata/images/no-such-image.tar",
        ROOTFS,
        "-f",
        "sarif",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let errors = sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let errors: Vec<&Value> = inv["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["level"] == "error")
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("no-such-image.tar")
    );
}

/// `--verify-digests` checks each layer against the diff ID its config names (a legacy
/// `docker save` has no other digest); by default nothing is hashed and nothing is said.
#[test]
fn image_verify_digests_names_a_layer_whose_content_differs_from_its_diff_id() {
    let bytes = std::fs::read(fixture("image-docker.tar")).unwrap();
    let marker = b"\"diff_ids\":[\"sha256:";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap()
        + marker.len();
    let mut forged = bytes.clone();
    // Same length, so the tar stays well-formed; only the config's claim changes.
    forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forged.tar");
    std::fs::write(&path, &forged).unwrap();
    let path = path.to_str().unwrap();

    let (code, json, stderr) = run(&["image", path, "-f", "json", "--verify-digests"]);
    assert_eq!(code, 0, "{stderr}");
    let notes = json["inputs"][0]["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["message"].as_str().is_some_and(|m| m
            .contains("diff ID is sha256:")
            && m.contains("the image config names"))),
        "{notes:?}"
    );
    assert!(stderr.contains("the image config names"), "{stderr}");
    // The packages are still read.
    assert!(!json["inputs"][0]["packages"].as_array().unwrap().is_empty());

    let (code, json, stderr) = run(&["image", path, "-f", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        json["inputs"][0]["notes"]
            .as_array()
            .is_none_or(|n| n.is_empty()),
        "{json}"
    );

    // The untouched archive verifies cleanly.
    let (_, json, _) = run(&[
        "image",
        fixture("image-docker.tar").to_str().unwrap(),
        "-f",
        "json",
        "--verify-digests",
    ]);
    assert!(
        json["inputs"][0]["notes"]
            .as_array()
            .is_none_or(|n| n.is_empty()),
        "{json}"
    );
}
