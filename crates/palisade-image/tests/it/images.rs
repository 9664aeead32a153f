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
    assert_eq!(
        inv.packages[0].layer.as_deref(),
        Some(digest(&base_layer()).as_str())
    );
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
    // a socket is never opened
    let _sock = std::os::unix::net::UnixListener::bind(root.join("var/sock")).unwrap();
    let inv = inventory(root, &Options::default()).unwrap();
    assert_eq!(inv.distro.as_ref().unwrap().id, "ubuntu");
    assert_eq!(names(&inv), ["a", "b"]);
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
