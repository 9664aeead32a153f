//! Image containers and the merged view: OCI layout/archive, docker save, multi-arch indexes,
//! whiteouts, links, root filesystem directories.

use palisade_image::{ImageError, Options, inventory};

use crate::build::{
    E, digest, docker_save, gzip, oci_layout, oci_manifest, os_release, tar, tar_dir, write_index,
};

const STATUS: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\nPackage: b\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n";

fn base_layer() -> Vec<u8> {
    gzip(&tar(&[
        E::Dir("etc"),
        E::File("usr/lib/os-release", &os_release("debian", "12")),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::Dir("var/lib/dpkg"),
        E::File("var/lib/dpkg/status", STATUS),
    ]))
}

fn names(inv: &palisade_core::inventory::Inventory) -> Vec<String> {
    inv.packages.iter().map(|p| p.name.clone()).collect()
}

#[test]
fn oci_archive_is_read_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    std::fs::create_dir(&layout).unwrap();
    oci_layout(&layout, &[base_layer()]);
    let archive = dir.path().join("image.tar");
    tar_dir(&layout, &archive);
    let inv = inventory(&archive, &Options::default()).unwrap();
    assert_eq!(names(&inv), ["a", "b"]);
    assert_eq!(inv.distro.unwrap().version_id, "12");
    assert_eq!(inv.packages[0].layer, crate::build::diff_id(&base_layer()));
}

#[test]
fn docker_save_legacy_and_oci_style() {
    let plain = tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    let wh = tar(&[E::File("var/lib/dpkg/.wh.status", b"")]);
    for legacy in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("save.tar");
        docker_save(&f, std::slice::from_ref(&plain), legacy);
        let inv = inventory(&f, &Options::default()).unwrap();
        assert_eq!(names(&inv), ["a", "b"], "legacy={legacy}");
        assert_eq!(inv.image.as_deref(), Some("example/app:1.0"));
        // layer = the config's diff ID
        assert_eq!(
            inv.packages[0].layer.as_deref(),
            Some(digest(&plain).as_str())
        );
        assert!(inv.notes.is_empty(), "{:?}", inv.notes);
        docker_save(&f, &[plain.clone(), wh.clone()], legacy);
        let inv = inventory(&f, &Options::default()).unwrap();
        assert!(
            inv.packages.is_empty(),
            "whiteout in docker save, legacy={legacy}"
        );
    }
}

#[test]
fn multi_arch_index_picks_linux_amd64_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let arm = gzip(&tar(&[E::File(
        "var/lib/dpkg/status",
        b"Package: arm-only\nVersion: 1\n",
    )]));
    let m_arm = oci_manifest(dir.path(), &[arm], "arm64");
    let m_amd = oci_manifest(dir.path(), &[base_layer()], "amd64");
    // nested: the top index points at an index holding both
    let nested = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m_arm, m_amd]});
    let bytes = serde_json::to_vec(&nested).unwrap();
    let d = digest(&bytes);
    std::fs::write(
        dir.path()
            .join("blobs/sha256")
            .join(d.strip_prefix("sha256:").unwrap()),
        &bytes,
    )
    .unwrap();
    write_index(
        dir.path(),
        vec![
            serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": bytes.len()}),
        ],
    );
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(names(&inv), ["a", "b"]);
    assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    let m = &inv.notes[0].message;
    assert!(
        m.contains("linux/arm64") && m.contains("read linux/amd64"),
        "{m}"
    );
}

#[test]
fn whiteouts_and_opaque_directories() {
    let base = base_layer();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "file whiteout",
            tar(&[E::File("var/lib/dpkg/.wh.status", b"")]),
            vec![],
        ),
        (
            "directory whiteout",
            tar(&[E::File("var/lib/.wh.dpkg", b"")]),
            vec![],
        ),
        (
            // opaque applies to lower layers only, whatever the entry order in this layer
            "opaque after new content",
            tar(&[
                E::File(
                    "var/lib/dpkg/status",
                    b"Package: c\nStatus: install ok installed\nVersion: 3\n",
                ),
                E::File("var/lib/dpkg/.wh..wh..opq", b""),
            ]),
            vec!["c"],
        ),
        (
            "whiteout then recreate in a later layer is the next case",
            tar(&[E::File("var/lib/dpkg/.wh.other", b"")]),
            vec!["a", "b"],
        ),
    ];
    for (what, upper, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        oci_layout(dir.path(), &[base.clone(), upper]);
        let inv = inventory(dir.path(), &Options::default()).unwrap();
        assert_eq!(names(&inv), want, "{what}");
        // os-release in another directory is untouched
        assert!(inv.distro.is_some(), "{what}");
    }
    // deleted in layer 2, recreated in layer 3
    let dir = tempfile::tempdir().unwrap();
    oci_layout(
        dir.path(),
        &[
            base.clone(),
            tar(&[E::File("var/lib/.wh.dpkg", b"")]),
            tar(&[E::File(
                "var/lib/dpkg/status",
                b"Package: z\nStatus: install ok installed\nVersion: 9\n",
            )]),
        ],
    );
    assert_eq!(
        names(&inventory(dir.path(), &Options::default()).unwrap()),
        ["z"]
    );
}

#[test]
fn links_resolved_inside_the_image() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "absolute symlink re-rooted",
            tar(&[
                E::File("usr/lib/os-release", &os_release("alpine", "3.19.1")),
                E::Symlink("etc/os-release", "/usr/lib/os-release"),
            ]),
        ),
        (
            "symlink before its target, dots past the root clamped",
            tar(&[
                E::Symlink("etc/os-release", "../../../../usr/lib/os-release"),
                E::File("usr/lib/os-release", &os_release("alpine", "3.19.1")),
            ]),
        ),
        (
            "symlinked directory",
            tar(&[
                E::File("usr/lib/os-release", &os_release("alpine", "3.19.1")),
                E::Symlink("etc", "usr/lib"),
            ]),
        ),
        (
            "hard link",
            tar(&[
                E::File("usr/lib/os-release", &os_release("alpine", "3.19.1")),
                E::Hardlink("etc/os-release", "usr/lib/os-release"),
            ]),
        ),
    ];
    for (what, layer) in cases {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("l.tar");
        std::fs::write(&f, layer).unwrap();
        let inv = inventory(&f, &Options::default()).unwrap();
        let d = inv.distro.unwrap_or_else(|| panic!("{what}: no distro"));
        assert_eq!(d.version_id, "3.19.1", "{what}");
        assert!(inv.notes.is_empty(), "{what}: {:?}", inv.notes);
    }
}

#[test]
fn symlink_loop_is_a_note_and_usr_lib_is_used() {
    let layer = tar(&[
        E::Symlink("etc/os-release", "os-release2"),
        E::Symlink("etc/os-release2", "/etc/os-release"),
        E::File("usr/lib/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(&f, layer).unwrap();
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(inv.distro.as_ref().unwrap().id, "debian");
    assert_eq!(names(&inv), ["a", "b"]);
    assert_eq!(inv.notes.len(), 1);
    assert_eq!(inv.notes[0].entry.as_deref(), Some("etc/os-release"));
    assert!(
        inv.notes[0].message.contains("link loop"),
        "{:?}",
        inv.notes
    );
}

#[cfg(unix)]
#[test]
fn root_filesystem_directory_links_stay_inside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("usr/lib")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("usr/lib/os-release"),
        os_release("ubuntu", "24.04"),
    )
    .unwrap();
    // absolute: must mean <root>/usr/lib/os-release, not the host's
    std::os::unix::fs::symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), STATUS).unwrap();
    // two names of one inode: read once
    let di = root.join("usr/lib/python3/dist-packages/six-1.16.0.dist-info");
    std::fs::create_dir_all(&di).unwrap();
    std::fs::write(
        di.join("METADATA"),
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
    )
    .unwrap();
    let di2 = root.join("opt/py/six-1.16.0.dist-info");
    std::fs::create_dir_all(&di2).unwrap();
    std::fs::hard_link(di.join("METADATA"), di2.join("METADATA")).unwrap();
    // a socket is never opened
    let _sock = std::os::unix::net::UnixListener::bind(root.join("var/sock")).unwrap();
    let inv = inventory(root, &Options::default()).unwrap();
    assert_eq!(inv.distro.as_ref().unwrap().id, "ubuntu");
    assert_eq!(names(&inv), ["a", "b", "six"]);
    assert_eq!(
        inv.packages[0].purl,
        "pkg:deb/ubuntu/a@1.0?arch=amd64&distro=ubuntu-24.04"
    );
    assert!(inv.packages[0].layer.is_none());
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
}

#[test]
fn not_an_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.txt");
    std::fs::write(&f, "hello, this is not a tar").unwrap();
    let e = inventory(&f, &Options::default()).unwrap_err();
    assert!(matches!(e, ImageError::Unrecognised { .. }), "{e}");
    assert!(e.to_string().contains("notes.txt"), "{e}");
    let e = inventory(&dir.path().join("missing"), &Options::default()).unwrap_err();
    assert!(matches!(e, ImageError::Io { .. }), "{e}");
    // a layout whose index names a digest outside blobs/
    let l = dir.path().join("layout");
    std::fs::create_dir(&l).unwrap();
    write_index(
        &l,
        vec![
            serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:../../../etc/passwd", "size": 1}),
        ],
    );
    let e = inventory(&l, &Options::default()).unwrap_err();
    assert!(e.to_string().contains("index.json"), "{e}");
}

/// zstd layers, two frames back to back (multi-frame streams are valid zstd).
#[test]
fn zstd_layer_with_two_frames() {
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};
    let t = tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    let (a, b) = t.split_at(1536);
    let mut z = compress_to_vec(a, CompressionLevel::Fastest);
    z.extend(compress_to_vec(b, CompressionLevel::Fastest));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("layer.tar.zst");
    std::fs::write(&f, &z).unwrap();
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(names(&inv), ["a", "b"]);
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    // the diff ID: the uncompressed tar's digest
    assert_eq!(inv.packages[0].layer.as_deref(), Some(digest(&t).as_str()));
}

/// Names over 100 bytes arrive as GNU long-name records (tar crate builder) or PAX `path`.
#[test]
fn long_names_gnu_and_pax() {
    let long_dir = format!("opt/{}", "d".repeat(120));
    let target = format!("/{long_dir}/os-release");
    // GNU: the tar crate's builder writes ././@LongLink records for long names and link names
    let mut gnu = tar::Builder::new(Vec::new());
    let rel = os_release("debian", "12");
    let mut h = tar::Header::new_gnu();
    h.set_size(rel.len() as u64);
    h.set_mode(0o644);
    gnu.append_data(&mut h, format!("{long_dir}/os-release"), rel.as_slice())
        .unwrap();
    let mut l = tar::Header::new_gnu();
    l.set_entry_type(tar::EntryType::Symlink);
    l.set_size(0);
    gnu.append_link(&mut l, "etc/os-release", &target).unwrap();
    let gnu = gnu.into_inner().unwrap();
    // PAX: an 'x' record carrying path= for the next entry
    let mut pax = tar::Builder::new(Vec::new());
    pax.append_pax_extensions([("path", format!("{long_dir}/lib/dpkg/status").as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("placeholder").unwrap();
    h.set_size(STATUS.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    pax.append(&h, STATUS).unwrap();
    pax.append_pax_extensions([("linkpath", long_dir.as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("var").unwrap();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_cksum();
    pax.append(&h, &[][..]).unwrap();
    let pax = pax.into_inner().unwrap();
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), &[gnu, pax]);
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(inv.distro.as_ref().map(|d| d.id.as_str()), Some("debian"));
    // var -> opt/ddd...: the status file is reached through the symlinked directory
    assert_eq!(names(&inv), ["a", "b"]);
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
}

/// Files palisade-langpkg reads: a Python dist-info read whole, a real Go-built kube-apiserver
/// (testdata/go-binaries) streamed; a hard link to the binary is reported once, a whiteout in a
/// later layer removes it.
#[test]
fn language_packages_and_binaries_carry_their_layer() {
    use std::io::Read;
    let mut bin = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(crate::testdata("go-binaries/kube-apiserver.gz")).unwrap(),
    )
    .read_to_end(&mut bin)
    .unwrap();
    let meta = b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n";
    let apps = tar(&[
        E::File(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            meta,
        ),
        E::Exec("usr/local/bin/kube-apiserver", &bin),
        E::Hardlink("usr/bin/kube-apiserver", "usr/local/bin/kube-apiserver"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), &[base_layer(), apps.clone()]);
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    let apps_digest = digest(&apps);
    let six = inv.packages.iter().find(|p| p.name == "six").unwrap();
    assert_eq!(six.version, "1.16.0");
    assert_eq!(six.layer.as_deref(), Some(apps_digest.as_str()));
    let kube: Vec<_> = inv
        .packages
        .iter()
        .filter(|p| p.kind == palisade_core::inventory::PackageKind::Kubernetes)
        .collect();
    assert_eq!(kube.len(), 1, "{kube:?}");
    assert_eq!(kube[0].name, "kube-apiserver");
    assert_eq!(kube[0].version, "v1.30.2");
    assert_eq!(kube[0].layer.as_deref(), Some(apps_digest.as_str()));
    assert!(
        kube[0]
            .path
            .as_deref()
            .unwrap()
            .ends_with("bin/kube-apiserver"),
        "{kube:?}"
    );
    assert!(
        inv.packages
            .iter()
            .any(|p| p.kind == palisade_core::inventory::PackageKind::GoStdlib)
    );
    // removed by a whiteout of the directory in a third layer: only the hard link remains
    let dir2 = tempfile::tempdir().unwrap();
    oci_layout(
        dir2.path(),
        &[
            base_layer(),
            apps,
            tar(&[E::File("usr/local/.wh.bin", b"")]),
        ],
    );
    let inv2 = inventory(dir2.path(), &Options::default()).unwrap();
    let kube2: Vec<_> = inv2
        .packages
        .iter()
        .filter(|p| p.name == "kube-apiserver")
        .collect();
    assert_eq!(kube2.len(), 1);
    assert_eq!(kube2[0].path.as_deref(), Some("usr/bin/kube-apiserver"));
}

#[test]
fn compressed_image_archive_says_to_decompress() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("save.tar");
    docker_save(&f, &[base_layer()], true);
    let gz = dir.path().join("save.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&f).unwrap())).unwrap();
    let inv = inventory(&gz, &Options::default()).unwrap();
    assert!(inv.packages.is_empty());
    assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    assert!(
        inv.notes[0].message.contains("decompress it"),
        "{:?}",
        inv.notes
    );
}

#[test]
fn unreadable_and_ndb_rpm_databases_are_notes() {
    let layer = tar(&[
        E::File("etc/os-release", &os_release("centos", "7")),
        E::File("var/lib/rpm/Packages", &[0u8; 4096]),
    ]);
    let ndb = tar(&[E::File("usr/lib/sysimage/rpm/Packages.db", b"RpmP")]);
    for (what, l, want) in [
        ("zeros", layer, "not a Berkeley DB hash database"),
        ("ndb", ndb, "NDB"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("l.tar");
        std::fs::write(&f, l).unwrap();
        let inv = inventory(&f, &Options::default()).unwrap();
        assert!(inv.packages.is_empty(), "{what}");
        assert_eq!(inv.notes.len(), 1, "{what}: {:?}", inv.notes);
        assert!(
            inv.notes[0]
                .entry
                .as_deref()
                .unwrap()
                .contains("rpm/Packages"),
            "{what}"
        );
        assert!(
            inv.notes[0].message.contains(want),
            "{what}: {:?}",
            inv.notes
        );
    }
}

#[test]
fn missing_layer_blob_is_a_note_and_other_layers_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let lost = tar(&[E::File("usr/share/x", b"x")]);
    oci_layout(dir.path(), &[lost.clone(), base_layer()]);
    let d = digest(&lost);
    std::fs::remove_file(
        dir.path()
            .join("blobs/sha256")
            .join(d.strip_prefix("sha256:").unwrap()),
    )
    .unwrap();
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(names(&inv), ["a", "b"]);
    assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    assert_eq!(inv.notes[0].layer.as_deref(), Some(d.as_str()));
    assert!(inv.notes[0].message.contains("cannot be opened"));
}

#[test]
fn schema1_manifest_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let m = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
    let d = digest(m);
    std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
    std::fs::write(
        dir.path()
            .join("blobs/sha256")
            .join(d.strip_prefix("sha256:").unwrap()),
        m,
    )
    .unwrap();
    write_index(
        dir.path(),
        vec![
            serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": m.len()}),
        ],
    );
    let e = inventory(dir.path(), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("schema 1"), "{e}");
}

/// containerd-style export: manifest.json naming gzip blobs; packages carry the diff ID, the
/// blob is checked against its own name.
#[test]
fn docker_archive_with_compressed_blobs() {
    let plain = tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("save.tar");
    docker_save(&f, &[gzip(&plain)], false);
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(names(&inv), ["a", "b"]);
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
    assert_eq!(
        inv.packages[0].layer.as_deref(),
        Some(digest(&plain).as_str())
    );
}

/// A root filesystem (directory or tarball) that happens to hold an unrelated manifest.json.
#[test]
fn unrelated_manifest_json_falls_back_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("manifest.json"), br#"{"name": "my-app"}"#).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), STATUS).unwrap();
    let layer = dir.path().join("root.tar");
    std::fs::write(
        &layer,
        tar(&[
            E::File("manifest.json", br#"{"name": "my-app"}"#),
            E::File("var/lib/dpkg/status", STATUS),
        ]),
    )
    .unwrap();
    for p in [root, layer] {
        let inv = inventory(&p, &Options::default()).unwrap();
        assert_eq!(names(&inv), ["a", "b"], "{}", p.display());
        assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
        assert!(inv.notes[0].message.contains("not a docker save manifest"));
    }
}

#[test]
fn non_empty_rpm_wal_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(
        &f,
        tar(&[
            E::File("var/lib/rpm/rpmdb.sqlite-wal", &[1u8; 100]),
            E::File("var/lib/rpm/rpmdb.sqlite-shm", &[0u8; 100]),
        ]),
    )
    .unwrap();
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    assert!(
        inv.notes[0]
            .message
            .contains("write-ahead log holds 100 bytes")
    );
}
