//! What an input is and where its layers are: an OCI image layout (directory or tar of one), a
//! `docker save` archive (legacy `<id>/layer.tar` or Docker >= 25's OCI-style blobs; also
//! extracted into a directory), a single layer tar (plain, gzip, zstd) or a root filesystem
//! directory. Archives are indexed by member offset and read in place, never extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use palisade_core::inventory::InventoryNote;
use serde::Deserialize;

use crate::ImageError;
use crate::tree::normalize;

/// Largest JSON document (index, manifest, config, manifest.json) read from an image.
const MAX_JSON: u64 = 16 << 20;
/// Nested image indexes followed.
const MAX_INDEX_DEPTH: u32 = 4;

/// Where an image's files live.
#[derive(Debug)]
pub(crate) enum Container {
    Dir(PathBuf),
    Tar {
        path: PathBuf,
        /// Normalised member path -> (data offset, size).
        members: HashMap<String, (u64, u64)>,
    },
}

/// One layer to read.
#[derive(Debug)]
pub(crate) struct LayerRef {
    /// How notes name the layer before its digest is known: digest, or member path.
    pub name: String,
    /// The digest packages carry: the manifest's layer digest (OCI), the config's diff ID
    /// (docker save), else `None` (computed while reading).
    pub digest: Option<String>,
    /// The digest the stored bytes must hash to, when the image names one for them (an OCI
    /// blob's digest, a `blobs/sha256/<hex>` member's name).
    pub verify: Option<String>,
    /// Member path inside the container.
    pub member: String,
}

#[derive(Debug)]
pub(crate) enum Plan {
    Image {
        container: Container,
        image: Option<String>,
        layers: Vec<LayerRef>,
        notes: Vec<InventoryNote>,
    },
    /// A single layer file (and notes on how it was recognised).
    Layer(PathBuf, Vec<InventoryNote>),
    RootFs(PathBuf, Vec<InventoryNote>),
}

fn io_err(path: &Path, source: io::Error) -> ImageError {
    ImageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Container {
    fn root(&self) -> &Path {
        match self {
            Container::Dir(p) => p,
            Container::Tar { path, .. } => path,
        }
    }

    pub fn has(&self, member: &str) -> bool {
        match self {
            Container::Dir(d) => d.join(member).exists(),
            Container::Tar { members, .. } => members.contains_key(member),
        }
    }

    /// Opens a member for streaming.
    pub fn open(&self, member: &str) -> io::Result<Box<dyn Read + Send>> {
        match self {
            Container::Dir(d) => Ok(Box::new(File::open(d.join(member))?)),
            Container::Tar { path, members } => {
                let (offset, size) = members.get(member).copied().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{member} is not in the archive"),
                    )
                })?;
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(f.take(size)))
            }
        }
    }

    /// Where a member's bytes lie in one host file, for reading it in place.
    pub fn range(&self, member: &str) -> Option<Range> {
        match self {
            Container::Dir(d) => {
                let path = d.join(member);
                let len = std::fs::metadata(&path).ok().filter(|m| m.is_file())?.len();
                Some(Range {
                    path,
                    start: 0,
                    len,
                })
            }
            Container::Tar { path, members } => {
                let (start, len) = members.get(member).copied()?;
                Some(Range {
                    path: path.clone(),
                    start,
                    len,
                })
            }
        }
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, member: &str) -> Result<T, ImageError> {
        let doc_err = |message: String| ImageError::Manifest {
            path: self.root().to_path_buf(),
            document: member.to_string(),
            message,
        };
        let r = self.open(member).map_err(|e| doc_err(e.to_string()))?;
        let mut bytes = Vec::new();
        r.take(MAX_JSON + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| doc_err(e.to_string()))?;
        if bytes.len() as u64 > MAX_JSON {
            return Err(doc_err(format!("larger than {MAX_JSON} bytes")));
        }
        serde_json::from_slice(&bytes).map_err(|e| doc_err(format!("invalid JSON: {e}")))
    }
}

/// A byte range of a host file: a layer blob inside an archive, or a whole file.
#[derive(Debug, Clone)]
pub(crate) struct Range {
    pub path: PathBuf,
    pub start: u64,
    pub len: u64,
}

/// `Read + Seek` over a byte range of `F`, positions relative to the range's start; reads stop
/// at its end.
pub(crate) struct RangeReader<F> {
    inner: F,
    start: u64,
    len: u64,
    pos: u64,
}

impl<F: Read + Seek> RangeReader<F> {
    pub fn new(mut inner: F, start: u64, len: u64) -> io::Result<Self> {
        inner.seek(SeekFrom::Start(start))?;
        Ok(RangeReader {
            inner,
            start,
            len,
            pos: 0,
        })
    }
}

impl<F: Read + Seek> Read for RangeReader<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<F: Read + Seek> Seek for RangeReader<F> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the range's start")
        })?;
        let abs = self.start.checked_add(target).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek past the largest offset")
        })?;
        self.inner.seek(SeekFrom::Start(abs))?;
        self.pos = target;
        Ok(target)
    }
}

/// Member path -> (data offset, size), and why indexing stopped early, if it did.
type TarIndex = (HashMap<String, (u64, u64)>, Option<String>);

/// Indexes a tar archive's members without reading their data (seeking over it).
fn index_tar(path: &Path) -> Result<TarIndex, ImageError> {
    let f = File::open(path).map_err(|e| io_err(path, e))?;
    let mut archive = tar::Archive::new(io::BufReader::new(f));
    let mut members = HashMap::new();
    let entries = archive.entries_with_seek().map_err(|e| io_err(path, e))?;
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return Ok((members, Some(e.to_string()))),
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if let Ok(n) = normalize(&name) {
            members.insert(n, (entry.raw_file_position(), entry.size()));
        }
    }
    Ok((members, None))
}

/// Decides what `path` is.
pub(crate) fn plan(path: &Path) -> Result<Plan, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        let c = Container::Dir(path.to_path_buf());
        let oci = c.has("oci-layout") || (c.has("index.json") && c.has("blobs"));
        if oci {
            return image_plan(c);
        }
        if c.has("manifest.json") {
            return match image_plan(c) {
                Ok(plan) => Ok(plan),
                Err(e) => Ok(Plan::RootFs(
                    path.to_path_buf(),
                    vec![not_docker(e, "a root filesystem")],
                )),
            };
        }
        return Ok(Plan::RootFs(path.to_path_buf(), Vec::new()));
    }
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|e| io_err(path, e))?;
    let head = head.as_slice();
    if crate::walk::compressed_magic(head) {
        // A compressed archive cannot be indexed in place; it is read as one layer.
        return Ok(Plan::Layer(path.to_path_buf(), Vec::new()));
    }
    if !looks_like_tar(head) {
        return Err(ImageError::Unrecognised {
            path: path.to_path_buf(),
            reason: format!(
                "neither a directory nor a tar, gzip or zstd file (starts with {:02x?})",
                head.get(..8.min(head.len())).unwrap_or_default()
            ),
        });
    }
    let (members, broken) = index_tar(path)?;
    let c = Container::Tar {
        path: path.to_path_buf(),
        members,
    };
    let oci = c.has("oci-layout") || c.has("index.json") && has_blobs(&c);
    if c.has("manifest.json") || oci {
        let mut plan = match image_plan(c) {
            Ok(p) => p,
            // A root filesystem tarball may hold an unrelated manifest.json.
            Err(e) if !oci => {
                return Ok(Plan::Layer(
                    path.to_path_buf(),
                    vec![not_docker(e, "a single layer")],
                ));
            }
            Err(e) => return Err(e),
        };
        if let (Some(why), Plan::Image { notes, .. }) = (broken, &mut plan) {
            notes.push(InventoryNote {
                layer: None,
                entry: None,
                message: format!(
                    "archive unreadable past some point ({why}); members after it are missing"
                ),
            });
        }
        return Ok(plan);
    }
    // Not an image: a layer, whose walk notes where it breaks.
    Ok(Plan::Layer(path.to_path_buf(), Vec::new()))
}

fn not_docker(e: ImageError, read_as: &str) -> InventoryNote {
    InventoryNote {
        layer: None,
        entry: Some("manifest.json".to_string()),
        message: format!("not a docker save manifest ({e}); read as {read_as}"),
    }
}

fn has_blobs(c: &Container) -> bool {
    match c {
        Container::Dir(d) => d.join("blobs").is_dir(),
        Container::Tar { members, .. } => members.keys().any(|k| k.starts_with("blobs/")),
    }
}

/// A tar header block: `ustar` magic at 257, or a valid header checksum (v7 tars).
fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    if head.get(257..262) == Some(b"ustar") {
        return true;
    }
    let Some(field) = head.get(148..156) else {
        return false;
    };
    let text = String::from_utf8_lossy(field);
    let Ok(stored) = u32::from_str_radix(text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = head
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

#[derive(Deserialize)]
struct DockerItem {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Config {
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize, Clone)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

#[derive(Deserialize, Clone)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion", default)]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// `blobs/<alg>/<encoded>`, refusing digests that would name a path outside `blobs/`.
fn blob_path(root: &Path, digest: &str) -> Result<String, ImageError> {
    let bad = || ImageError::Manifest {
        path: root.to_path_buf(),
        document: "index.json".to_string(),
        message: format!("digest {digest:?} is not <algorithm>:<hex>"),
    };
    let (alg, enc) = digest.split_once(':').ok_or_else(bad)?;
    let ok_alg = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let ok_enc = !enc.is_empty()
        && enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    if !ok_alg || !ok_enc {
        return Err(bad());
    }
    Ok(format!("blobs/{alg}/{enc}"))
}

fn image_plan(c: Container) -> Result<Plan, ImageError> {
    // docker save's manifest.json first (Docker 25.0's index.json had bugs, see research §A.3).
    if c.has("manifest.json") {
        return docker_plan(c);
    }
    oci_plan(c)
}

fn docker_plan(c: Container) -> Result<Plan, ImageError> {
    let items: Vec<DockerItem> = c.read_json("manifest.json")?;
    let mut notes = Vec::new();
    let Some(item) = items.first() else {
        return Err(ImageError::Manifest {
            path: c.root().to_path_buf(),
            document: "manifest.json".to_string(),
            message: "lists no image".to_string(),
        });
    };
    if items.len() > 1 {
        notes.push(InventoryNote {
            layer: None,
            entry: Some("manifest.json".to_string()),
            message: format!(
                "the archive holds {} images; read the first ({})",
                items.len(),
                item.repo_tags
                    .as_ref()
                    .and_then(|t| t.first())
                    .map_or(item.config.as_str(), String::as_str)
            ),
        });
    }
    let config_member = normalize(&item.config).map_err(|e| ImageError::Manifest {
        path: c.root().to_path_buf(),
        document: "manifest.json".to_string(),
        message: format!("Config: {e}"),
    })?;
    let config: Config = c.read_json(&config_member).unwrap_or_else(|e| {
        notes.push(InventoryNote {
            layer: None,
            entry: Some(config_member.clone()),
            message: format!("image config unreadable, layer digests computed instead: {e}"),
        });
        Config::default()
    });
    let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    let config_digest = config_member
        .strip_prefix("blobs/sha256/")
        .or_else(|| config_member.strip_suffix(".json"))
        .map(|h| format!("sha256:{h}"));
    let image = item
        .repo_tags
        .as_ref()
        .and_then(|t| t.first().cloned())
        .or(config_digest);
    let mut layers = Vec::new();
    for (i, l) in item.layers.iter().enumerate() {
        let member = normalize(l).map_err(|e| ImageError::Manifest {
            path: c.root().to_path_buf(),
            document: "manifest.json".to_string(),
            message: format!("Layers[{i}]: {e}"),
        })?;
        // The stored blob may be compressed (containerd exports), so its name, not the diff
        // ID, is what its bytes hash to.
        let verify = member
            .strip_prefix("blobs/sha256/")
            .map(|h| format!("sha256:{h}"));
        let digest = diff_ids.get(i).cloned();
        layers.push(LayerRef {
            name: digest.clone().unwrap_or_else(|| member.clone()),
            digest,
            verify,
            member,
        });
    }
    Ok(Plan::Image {
        container: c,
        image,
        layers,
        notes,
    })
}

/// Collects the image manifests an index names (nested indexes followed).
fn collect_manifests(
    c: &Container,
    member: &str,
    depth: u32,
    out: &mut Vec<Descriptor>,
) -> Result<(), ImageError> {
    let index: Index = c.read_json(member)?;
    for d in index.manifests.unwrap_or_default() {
        if INDEX_TYPES.contains(&d.media_type.as_str()) {
            if depth >= MAX_INDEX_DEPTH {
                return Err(ImageError::Manifest {
                    path: c.root().to_path_buf(),
                    document: member.to_string(),
                    message: format!("image indexes nested more than {MAX_INDEX_DEPTH} deep"),
                });
            }
            let nested = blob_path(c.root(), &d.digest)?;
            collect_manifests(c, &nested, depth + 1, out)?;
        } else if MANIFEST_TYPES.contains(&d.media_type.as_str()) || d.media_type.is_empty() {
            out.push(d);
        }
        // Other media types (artifacts, signatures) are skipped, as the spec requires.
    }
    Ok(())
}

fn oci_plan(c: Container) -> Result<Plan, ImageError> {
    let mut candidates = Vec::new();
    collect_manifests(&c, "index.json", 0, &mut candidates)?;
    // BuildKit attestation manifests carry platform unknown/unknown.
    candidates.retain(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"));
    let mut notes = Vec::new();
    let chosen = if candidates.len() <= 1 {
        candidates.first().cloned()
    } else {
        let amd64 = candidates.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
        });
        let pick = amd64.or(candidates.first()).cloned();
        if let Some(p) = &pick {
            let platforms: Vec<String> = candidates
                .iter()
                .map(|d| match &d.platform {
                    Some(p) => match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    },
                    None => d.digest.clone(),
                })
                .collect();
            notes.push(InventoryNote {
                layer: None,
                entry: Some("index.json".to_string()),
                message: format!(
                    "the index holds {} images ({}); read {} ({})",
                    candidates.len(),
                    platforms.join(", "),
                    if amd64.is_some() {
                        "linux/amd64"
                    } else {
                        "the first"
                    },
                    p.digest
                ),
            });
        }
        pick
    };
    let Some(desc) = chosen else {
        return Err(ImageError::Manifest {
            path: c.root().to_path_buf(),
            document: "index.json".to_string(),
            message: "names no image manifest".to_string(),
        });
    };
    let manifest_member = blob_path(c.root(), &desc.digest)?;
    let manifest: Manifest = c.read_json(&manifest_member)?;
    if manifest.schema_version != 2
        || manifest
            .media_type
            .starts_with("application/vnd.docker.distribution.manifest.v1")
    {
        return Err(ImageError::Manifest {
            path: c.root().to_path_buf(),
            document: manifest_member,
            message: format!(
                "schema version {} / media type {:?} is not an image manifest v2 (schema 1 is deprecated and not read)",
                manifest.schema_version, manifest.media_type
            ),
        });
    }
    let image = desc
        .annotations
        .get("io.containerd.image.name")
        .or_else(|| desc.annotations.get("org.opencontainers.image.ref.name"))
        .cloned()
        .or_else(|| manifest.config.as_ref().map(|c| c.digest.clone()));
    // Packages carry the layer's diff ID (as docker save archives name layers and Trivy
    // reports them); from the config when it lists them, else computed while reading.
    let diff_ids = match &manifest.config {
        Some(cd) => match blob_path(c.root(), &cd.digest).and_then(|m| c.read_json::<Config>(&m)) {
            Ok(cfg) => cfg.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
            Err(e) => {
                notes.push(InventoryNote {
                    layer: None,
                    entry: Some(cd.digest.clone()),
                    message: format!(
                        "image config unreadable, layer diff IDs computed instead: {e}"
                    ),
                });
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    if !diff_ids.is_empty() && diff_ids.len() != manifest.layers.len() {
        notes.push(InventoryNote {
            layer: None,
            entry: None,
            message: format!(
                "the config lists {} diff IDs for {} layers; diff IDs computed instead",
                diff_ids.len(),
                manifest.layers.len()
            ),
        });
    }
    let diff_ids = if diff_ids.len() == manifest.layers.len() {
        diff_ids
    } else {
        Vec::new()
    };
    let mut layers = Vec::new();
    for (i, l) in manifest.layers.iter().enumerate() {
        let member = blob_path(c.root(), &l.digest)?;
        let digest = diff_ids.get(i).cloned();
        layers.push(LayerRef {
            name: digest.clone().unwrap_or_else(|| l.digest.clone()),
            digest,
            verify: Some(l.digest.clone()),
            member,
        });
    }
    Ok(Plan::Image {
        container: c,
        image,
        layers,
        notes,
    })
}
