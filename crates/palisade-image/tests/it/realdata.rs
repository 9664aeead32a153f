//! The real package databases of testdata/image-pkgdb (kubernetes-sigs/bom fixtures).

use palisade_core::inventory::PackageKind;
use palisade_image::{Options, inventory};

use crate::build::{E, digest, gzip, oci_layout, os_release, tar};
use crate::testdata;

#[test]
fn distroless_status_d_with_os_release_link_after_target() {
    let path = testdata("image-pkgdb/distroless.tar");
    let inv = inventory(&path, &Options::default()).unwrap();
    let d = inv
        .distro
        .as_ref()
        .expect("distro from etc/os-release -> usr/lib/os-release");
    assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "11"));
    assert_eq!(d.pretty_name.as_deref(), Some("Distroless"));
    let names: Vec<(&str, &str, Option<&str>)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.arch.as_deref()))
        .collect();
    // *.md5sums siblings are not stanzas; status.d order is by name
    assert_eq!(
        names,
        [
            ("base-files", "11.1+deb11u7", Some("amd64")),
            ("netbase", "6.3", Some("all")),
            ("tzdata", "2021a-1+deb11u10", Some("all")),
        ]
    );
    let base = &inv.packages[0];
    assert_eq!(
        base.purl,
        "pkg:deb/debian/base-files@11.1%2Bdeb11u7?arch=amd64&distro=debian-11"
    );
    assert_eq!(
        base.path.as_deref(),
        Some("var/lib/dpkg/status.d/base-files")
    );
    let file_digest = digest(&std::fs::read(&path).unwrap());
    assert_eq!(base.layer.as_deref(), Some(file_digest.as_str()));
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
}

#[test]
fn os_release_links_with_and_without_dot_prefix() {
    for f in ["link-with-dots.tar.gz", "link-with-no-dots.tar.gz"] {
        let inv = inventory(&testdata(&format!("image-pkgdb/{f}")), &Options::default()).unwrap();
        let d = inv.distro.unwrap_or_else(|| panic!("{f}: no distro"));
        assert!(!d.id.is_empty(), "{f}");
        assert!(inv.notes.is_empty(), "{f}: {:?}", inv.notes);
    }
}

/// Layer 2 replaces layer 1's dpkg status (84 -> 88 packages); the packages carry layer 2's digest.
#[test]
fn upper_layer_status_replaces_lower_in_oci_layout() {
    let l1 = std::fs::read(testdata("image-pkgdb/dpkg-layer1.tar.gz")).unwrap();
    let l2 = std::fs::read(testdata("image-pkgdb/dpkg-layer2.tar.gz")).unwrap();
    let rel = gzip(&tar(&[
        E::Dir("etc"),
        E::File("etc/os-release", &os_release("debian", "10")),
    ]));
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), &[l1.clone(), rel.clone(), l2.clone()]);
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    assert_eq!(inv.image.as_deref(), Some("test:amd64"));
    let debs: Vec<_> = inv
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Deb)
        .collect();
    assert_eq!(debs.len(), 88);
    let l2d = crate::build::diff_id(&l2).unwrap();
    assert!(
        debs.iter()
            .all(|p| p.layer.as_deref() == Some(l2d.as_str()))
    );
    let bsd = debs.iter().find(|p| p.name == "bsdutils").unwrap();
    assert_eq!(bsd.version, "1:2.33.1-0.1");
    assert_eq!(bsd.source_name.as_deref(), Some("util-linux"));
    assert_eq!(bsd.source_version.as_deref(), Some("2.33.1-0.1"));
    assert_eq!(
        bsd.purl,
        "pkg:deb/debian/bsdutils@1:2.33.1-0.1?arch=amd64&distro=debian-10"
    );
    let ssl = debs.iter().find(|p| p.name == "libssl1.1").unwrap();
    assert_eq!(ssl.version, "1.1.1d-0+deb10u7");
    assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
    assert_eq!(ssl.source_version.as_deref(), Some("1.1.1d-0+deb10u7"));
    // Without layer 2, layer 1's 84 packages.
    let dir1 = tempfile::tempdir().unwrap();
    oci_layout(dir1.path(), &[l1, rel]);
    let inv1 = inventory(dir1.path(), &Options::default()).unwrap();
    assert_eq!(inv1.packages.len(), 84);
    assert!(!inv1.packages.iter().any(|p| p.name == "libssl1.1"));
}

#[test]
fn apk_installed_db_wolfi() {
    let db = std::fs::read(testdata("image-pkgdb/apkdb")).unwrap();
    let layer = tar(&[
        E::File("etc/os-release", &os_release("wolfi", "20230201")),
        E::File("lib/apk/db/installed", &db),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("layer.tar");
    std::fs::write(&f, &layer).unwrap();
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 39);
    assert!(inv.packages.iter().all(|p| p.kind == PackageKind::Apk));
    let ssl = inv.packages.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(ssl.version, "3.0.7-r1");
    assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
    assert_eq!(
        ssl.purl,
        "pkg:apk/wolfi/libssl3@3.0.7-r1?arch=x86_64&distro=wolfi-20230201"
    );
    let with_origin = inv
        .packages
        .iter()
        .filter(|p| p.source_name.as_deref() != Some(p.name.as_str()))
        .count();
    // 22 records carry o:, some equal to their own name
    assert!(with_origin > 0 && with_origin <= 22, "{with_origin}");
    assert!(inv.packages.iter().any(|p| p.version == "5.2_rc4-r0"));
}

#[test]
fn rpm_sqlite_amazon_linux() {
    let layer = std::fs::read(testdata("image-pkgdb/rpmdb.tar.gz")).unwrap();
    let rel = tar(&[E::File(
        "etc/os-release",
        b"NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nVERSION_ID=\"2023\"\n",
    )]);
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), &[layer, rel]);
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    // 9 headers minus the two gpg-pubkey pseudo-packages
    assert_eq!(inv.packages.len(), 7, "{names:?}");
    assert!(!names.contains(&"gpg-pubkey"));
    let sr = inv
        .packages
        .iter()
        .find(|p| p.name == "system-release")
        .unwrap();
    assert_eq!(sr.version, "2023.1.20230823-0.amzn2023");
    assert_eq!(sr.arch.as_deref(), Some("noarch"));
    assert_eq!(
        sr.purl,
        "pkg:rpm/amzn/system-release@2023.1.20230823-0.amzn2023?arch=noarch&distro=amzn-2023"
    );
    let repo = inv
        .packages
        .iter()
        .find(|p| p.name == "amazon-linux-repo-cdn")
        .unwrap();
    assert_eq!(repo.source_name.as_deref(), Some("system-release"));
    assert!(inv.packages.iter().all(|p| !p.licenses.is_empty()));
    assert_eq!(
        inv.packages[0].path.as_deref(),
        Some("var/lib/rpm/rpmdb.sqlite")
    );
}

/// The same nine headers in a Berkeley DB hash database written by libdb 5.3 (DERIVED fixture,
/// see PROVENANCE.md), reached through `var/lib/rpm -> ../../usr/lib/sysimage/rpm` the way
/// newer images link it: the same seven packages as the sqlite database.
#[test]
fn rpm_berkeley_db_matches_sqlite() {
    let rel = tar(&[E::File(
        "etc/os-release",
        b"ID=\"amzn\"\nVERSION_ID=\"2023\"\n",
    )]);
    let sqlite_dir = tempfile::tempdir().unwrap();
    oci_layout(
        sqlite_dir.path(),
        &[
            std::fs::read(testdata("image-pkgdb/rpmdb.tar.gz")).unwrap(),
            rel.clone(),
        ],
    );
    let want = inventory(sqlite_dir.path(), &Options::default()).unwrap();
    let bdb = std::fs::read(testdata("image-pkgdb/rpm-bdb.tar.gz")).unwrap();
    // move var/lib/rpm under usr/lib/sysimage and link it back
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(bdb.as_slice()),
        &mut bytes,
    )
    .unwrap();
    let mut db = Vec::new();
    for e in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().ends_with("Packages") {
            std::io::Read::read_to_end(&mut e, &mut db).unwrap();
        }
    }
    assert!(db.len() > 300_000);
    let moved = tar(&[
        E::File("usr/lib/sysimage/rpm/Packages", &db),
        E::Symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm"),
    ]);
    for layers in [vec![bdb, rel.clone()], vec![moved, rel]] {
        let dir = tempfile::tempdir().unwrap();
        oci_layout(dir.path(), &layers);
        let got = inventory(dir.path(), &Options::default()).unwrap();
        assert!(got.notes.is_empty(), "{:?}", got.notes);
        let strip = |inv: &palisade_core::inventory::Inventory| -> Vec<(String, String, String)> {
            let mut v: Vec<_> = inv
                .packages
                .iter()
                .map(|p| (p.name.clone(), p.version.clone(), p.purl.clone()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(strip(&got), strip(&want));
        assert_eq!(got.packages.len(), 7);
    }
}
