//! Builders for layer tars and images, written byte by byte where the `tar` crate's builder
//! would refuse hostile names.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

pub enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn header(name: &str, kind: u8, size: u64, mode: u32, link: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.as_bytes();
    assert!(n.len() <= 100, "test names must fit the v7 field");
    h[..n.len()].copy_from_slice(n);
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    let l = link.as_bytes();
    h[157..157 + l.len()].copy_from_slice(l);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A raw tar entry header for `size` bytes of data (caller appends data and padding).
pub fn raw_header(name: &str, size: u64) -> [u8; 512] {
    header(name, b'0', size, 0o644, "")
}

pub fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let (name, kind, data, mode, link): (&str, u8, &[u8], u32, &str) = match e {
            E::Dir(n) => (n, b'5', b"", 0o755, ""),
            E::File(n, d) => (n, b'0', d, 0o644, ""),
            E::Exec(n, d) => (n, b'0', d, 0o755, ""),
            E::Symlink(n, t) => (n, b'2', b"", 0o777, t),
            E::Hardlink(n, t) => (n, b'1', b"", 0o644, t),
        };
        out.extend_from_slice(&header(name, kind, data.len() as u64, mode, link));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

/// The diff ID (digest of the uncompressed tar); `None` for a broken gzip stream.
pub fn diff_id(layer: &[u8]) -> Option<String> {
    if layer.starts_with(&[0x1f, 0x8b]) {
        let mut t = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(layer), &mut t).ok()?;
        Some(digest(&t))
    } else {
        Some(digest(layer))
    }
}

pub fn os_release(id: &str, version: &str) -> Vec<u8> {
    format!("PRETTY_NAME=\"test {id}\"\nID={id}\nVERSION_ID=\"{version}\"\n").into_bytes()
}

fn put_blob(dir: &Path, data: &[u8]) -> String {
    let d = digest(data);
    let hex = d.strip_prefix("sha256:").unwrap();
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("blobs/sha256").join(hex), data).unwrap();
    d
}

/// Writes one image manifest (+ config) into an OCI layout's blobs; returns the manifest
/// descriptor JSON. The config lists the diff IDs unless a layer does not decompress.
pub fn oci_manifest(dir: &Path, layers: &[Vec<u8>], arch: &str) -> serde_json::Value {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| diff_id(l))
        .collect::<Option<_>>()
        .unwrap_or_default();
    let config = serde_json::json!({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = put_blob(dir, &config_bytes);
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| {
            let media = if l.starts_with(&[0x1f, 0x8b]) {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            serde_json::json!({"mediaType": media, "digest": put_blob(dir, l), "size": l.len()})
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len()},
        "layers": layer_descs,
    });
    let mbytes = serde_json::to_vec(&manifest).unwrap();
    let mdigest = put_blob(dir, &mbytes);
    serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": mdigest, "size": mbytes.len(),
        "platform": {"architecture": arch, "os": "linux"},
        "annotations": {"org.opencontainers.image.ref.name": format!("test:{arch}")}
    })
}

pub fn write_index(dir: &Path, manifests: Vec<serde_json::Value>) {
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// A single-image OCI layout directory.
pub fn oci_layout(dir: &Path, layers: &[Vec<u8>]) {
    let m = oci_manifest(dir, layers, "amd64");
    write_index(dir, vec![m]);
}

/// Tars a directory tree (an OCI archive from a layout).
pub fn tar_dir(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let mut b = tar::Builder::new(f);
    b.append_dir_all(".", dir).unwrap();
    b.finish().unwrap();
}

/// `docker save` archive: legacy (`<id>/layer.tar`) or Docker >= 25 (`blobs/sha256/<diffid>`,
/// with an index.json too).
pub fn docker_save(out: &Path, layers: &[Vec<u8>], legacy: bool) {
    let diff_ids: Vec<String> = layers.iter().map(|l| diff_id(l).unwrap()).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_hex = digest(&config_bytes)
        .strip_prefix("sha256:")
        .unwrap()
        .to_string();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut layer_paths = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let p = if legacy {
            format!("{:064x}/layer.tar", i + 1)
        } else {
            format!(
                "blobs/sha256/{}",
                digest(l).strip_prefix("sha256:").unwrap()
            )
        };
        members.push((p.clone(), l.clone()));
        layer_paths.push(p);
    }
    let config_path = if legacy {
        format!("{config_hex}.json")
    } else {
        format!("blobs/sha256/{config_hex}")
    };
    members.push((config_path.clone(), config_bytes));
    let manifest = serde_json::json!([{
        "Config": config_path, "RepoTags": ["example/app:1.0"], "Layers": layer_paths
    }]);
    members.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    if !legacy {
        members.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        // Docker 25.0's index.json could be wrong (moby#47065): manifest.json must win.
        members.push((
            "index.json".into(),
            br#"{"schemaVersion":2,"manifests":null}"#.to_vec(),
        ));
    }
    let f = std::fs::File::create(out).unwrap();
    let mut b = tar::Builder::new(f);
    for (p, d) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, d.as_slice()).unwrap();
    }
    b.finish().unwrap();
}
