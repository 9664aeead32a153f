//! Images in use (`palisade scan --images`): every container, init container and ephemeral
//! container image of every scanned object with a pod template, with the workloads that use
//! it and, for live Pods, the digest the node resolved it to (`status.*ContainerStatuses[].imageID`).
//!
//! References are parsed as container runtimes parse them (the `distribution/reference`
//! grammar with Docker's normalisation: `nginx` is `docker.io/library/nginx:latest`); a
//! reference that does not parse is listed with its error, never dropped. Objects created by a
//! built-in controller are named by their top owner when owner deduplication is on (a
//! Deployment's ReplicaSet's Pods name the Deployment), as findings are.

use crate::owners::{self, Facts};
use palisade_core::{Document, Origin};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where Docker Hub images live once normalised.
pub const DOCKER_HUB: &str = "docker.io";
/// The tag a reference without tag or digest is pulled at.
pub const DEFAULT_TAG: &str = "latest";
/// Longest repository path the grammar accepts.
const MAX_PATH: usize = 255;

/// An image reference, normalised as a container runtime pulls it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// Registry host and optional port (`docker.io` when the reference names none).
    pub registry: String,
    /// Path inside the registry (`library/nginx` for Docker Hub's official images).
    pub repository: String,
    /// The tag; `latest` when the reference has neither tag nor digest ([`ImageRef::tag_implied`]).
    pub tag: Option<String>,
    /// No tag was written: `latest` is what gets pulled. On an [`Image`], only when no use
    /// wrote a tag.
    pub tag_implied: bool,
    /// `algorithm:hex` when the reference pins a digest (the runtime then ignores any tag).
    pub digest: Option<String>,
}

impl ImageRef {
    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The fully qualified reference: `registry/repository[:tag][@digest]`.
    pub fn canonical(&self) -> String {
        let mut s = self.name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// Why a reference does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

/// Parses `reference` with the `distribution/reference` grammar and Docker's normalisation
/// (`ParseNormalizedNamed`): the first path component is the registry only when it contains
/// `.` or `:`, is `localhost`, or has an upper-case letter; otherwise the registry is
/// `docker.io` and a one-component path gets `library/`. `index.docker.io` is `docker.io`.
///
/// One deviation: a first component that is taken as a registry but is not a valid host
/// (`my_registry.io/app`) is an error here, where the Go parser would re-read the whole name
/// as a path without a registry.
pub fn parse_reference(reference: &str) -> Result<ImageRef, ReferenceError> {
    let err = |reason: &str| ReferenceError {
        reference: reference.to_owned(),
        reason: reason.to_owned(),
    };
    if reference.is_empty() {
        return Err(err("repository name must have at least one component"));
    }
    if reference.len() == 64
        && reference
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(err(
            "a 64-character hexadecimal string is an image ID, not a repository name",
        ));
    }
    let (registry, remainder) = split_registry(reference);
    // The path and tag cannot hold '@' or ':' (the registry, which may, is split off).
    let (named, digest) = match remainder.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (&*remainder, None),
    };
    let (path, tag) = match named.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (named, None),
    };
    if path.to_lowercase() != path {
        return Err(err(&format!("repository name {path:?} must be lowercase")));
    }
    if !valid_host(registry) {
        return Err(err(&format!(
            "registry {registry:?} is not a host name, IPv4 or [IPv6] address with an optional :port"
        )));
    }
    if path.is_empty() {
        return Err(err("repository name must have at least one component"));
    }
    if let Some(c) = path.split('/').find(|c| !valid_path_component(c)) {
        return Err(err(&format!(
            "path component {c:?} must be lower-case letters and digits separated by '.', '_', '__' or dashes"
        )));
    }
    if path.len() > MAX_PATH {
        return Err(err(&format!(
            "repository name must not be more than {MAX_PATH} characters"
        )));
    }
    if let Some(t) = tag
        && !valid_tag(t)
    {
        return Err(err(&format!(
            "tag {t:?} must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        )));
    }
    if let Some(d) = digest {
        check_digest(d).map_err(|r| err(&r))?;
    }
    let tag_implied = tag.is_none() && digest.is_none();
    Ok(ImageRef {
        registry: registry.to_owned(),
        repository: path.to_owned(),
        tag: match tag {
            Some(t) => Some(t.to_owned()),
            None if tag_implied => Some(DEFAULT_TAG.to_owned()),
            None => None,
        },
        tag_implied,
        digest: digest.map(str::to_owned),
    })
}

/// Docker's split of the registry from the rest; the path is `library/`-prefixed on Docker Hub.
fn split_registry(reference: &str) -> (&str, std::borrow::Cow<'_, str>) {
    let Some((first, rest)) = reference.split_once('/') else {
        return (DOCKER_HUB, format!("library/{reference}").into());
    };
    let (registry, remainder) =
        if first == "localhost" || first.contains(['.', ':']) || first.to_lowercase() != first {
            if first == "index.docker.io" {
                (DOCKER_HUB, rest)
            } else {
                (first, rest)
            }
        } else {
            (DOCKER_HUB, reference)
        };
    if registry == DOCKER_HUB && !remainder.contains('/') {
        return (registry, format!("library/{remainder}").into());
    }
    (registry, remainder.into())
}

/// `host[:port]`: DNS-like labels (letters, digits, inner dashes) joined by dots, or `[v6]`.
fn valid_host(s: &str) -> bool {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => ("[v6]", Some(p)),
            None if after.is_empty() => ("[v6]", None),
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    host == "[v6]"
        || (!host.is_empty()
            && host.split('.').all(|label| {
                let b = label.as_bytes();
                match (b.first(), b.last()) {
                    (Some(f), Some(l)) => {
                        f.is_ascii_alphanumeric()
                            && l.is_ascii_alphanumeric()
                            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                    }
                    _ => false,
                }
            }))
}

/// `[a-z0-9]+` runs separated by one `.`, one `_`, `__` or any number of `-`.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    let mut expect_alnum = true;
    while let Some(x) = b.get(i) {
        if alnum(x) {
            while b.get(i).is_some_and(alnum) {
                i += 1;
            }
            expect_alnum = false;
            continue;
        }
        if expect_alnum {
            return false;
        }
        let sep_len = match x {
            b'.' => 1,
            b'_' if b.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => b
                .get(i..)
                .map_or(0, |r| r.iter().take_while(|c| **c == b'-').count()),
            _ => return false,
        };
        i += sep_len;
        expect_alnum = true;
    }
    !expect_alnum
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    b.first().is_some_and(|f| word(*f))
        && b.len() <= 128
        && b.iter().all(|c| word(*c) || *c == b'.' || *c == b'-')
}

/// `algorithm:hex`, checked as `go-digest` checks what `distribution/reference` hands it: the
/// algorithms it registers by default (sha256, sha512: the OCI image specification's; sha384
/// is no longer registered) with their exact lower-case hex length.
fn check_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!("digest {d:?} must be algorithm:hex"));
    };
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            let shaped = alg.split(['+', '.', '_', '-']).all(|c| {
                c.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                    && c.bytes().all(|b| b.is_ascii_alphanumeric())
            });
            return Err(if shaped {
                format!("digest algorithm {alg:?} is not supported (sha256, sha512)")
            } else {
                format!("digest algorithm {alg:?} is malformed")
            });
        }
    };
    if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "{alg} digest must be {len} lower-case hexadecimal characters"
        ));
    }
    Ok(())
}

/// The repository digest in a container status `imageID` (`docker-pullable://nginx@sha256:…`,
/// `docker.io/library/nginx@sha256:…`), or `None` when it names only a local image ID
/// (`sha256:…`, `docker://sha256:…`: the image's configuration, not what a registry serves).
pub fn resolved_digest(image_id: &str) -> Option<&str> {
    let (_, digest) = image_id.rsplit_once('@')?;
    check_digest(digest).ok()?;
    Some(digest)
}

/// Which list of the pod spec a container is in.
pub const CONTAINER_LISTS: [(&str, &str); 3] = [
    ("initContainers", "initContainerStatuses"),
    ("containers", "containerStatuses"),
    ("ephemeralContainers", "ephemeralContainerStatuses"),
];

/// One workload's use of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The workload (the top owner of the object that holds the container, with owner
    /// deduplication): kind, namespace and name.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The container's name and its list (`containers`, `initContainers`, `ephemeralContainers`).
    pub container: String,
    pub container_list: &'static str,
    /// The reference as written in the object.
    pub reference: String,
    /// `file:line` of the image field, or the object's `cluster://` URI.
    pub location: String,
    /// The file (or `cluster://` URI) and 1-based line (none for cluster objects).
    pub file: String,
    pub line: Option<u32>,
    /// How many objects created by this workload's controllers (ReplicaSets, Pods, Jobs)
    /// carry the same container and were folded into it.
    pub owned_objects: usize,
    /// `imageID`s the Pods' container statuses report, as reported, sorted.
    pub image_ids: Vec<String>,
}

/// One image and the workloads that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The normalised reference ([`ImageRef::canonical`]); for a reference that does not
    /// parse, the reference as written.
    pub image: String,
    pub parsed: Result<ImageRef, ReferenceError>,
    /// Repository digests the nodes resolved it to (from the Pods' `imageID`), sorted.
    pub resolved_digests: Vec<String>,
    /// Sorted by namespace, kind, name, container list, container.
    pub workloads: Vec<Use>,
}

/// The images in use, sorted by [`Image::image`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageList {
    pub images: Vec<Image>,
}

/// One container as read from one object.
#[derive(Debug)]
struct Container {
    list: &'static str,
    name: String,
    /// `None`: the container has no image (or a non-string one).
    image: Option<String>,
    line: Option<u32>,
    image_id: Option<String>,
}

/// What the collector keeps of one object (a few strings per container, not the object).
#[derive(Debug)]
struct Object {
    kind: String,
    namespace: Option<String>,
    name: String,
    file: String,
    cluster: bool,
    /// Owner deduplication applies to this object (cluster objects by default).
    dedup: bool,
    facts: Facts,
    containers: Vec<Container>,
}

/// Gathers the images of each object as it is checked; [`Collector::finish`] groups them.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    objects: Vec<Object>,
}

impl Collector {
    /// Records the containers of `doc` (nothing when it has no pod template and is not a
    /// controller another object may name as owner).
    pub(crate) fn record(&mut self, doc: &Document, origin: Option<&Origin>, dedup: bool) {
        let template = palisade_rules::pss::workload_template(&doc.value);
        let facts = owners::facts(&doc.value);
        if template.is_none() && facts.workload.is_none() {
            return;
        }
        let o = palisade_core::ObjectRef::of(&doc.value);
        let mut containers = Vec::new();
        if let Some(t) = &template {
            // Live Pods carry what the node ran in their status.
            let status = t.is_pod.then(|| doc.value.get("status")).flatten();
            for (list, status_list) in CONTAINER_LISTS {
                let items = t.spec.get(list).and_then(Value::as_array);
                for (i, c) in items.into_iter().flatten().enumerate() {
                    let name = c
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let image = c.get("image").and_then(Value::as_str).map(str::to_owned);
                    let line = (origin.is_none()).then(|| {
                        let path = t.base.clone().key("spec").key(list).index(i).key("image");
                        doc.locate(&path).line
                    });
                    let image_id = status
                        .and_then(|s| s.get(status_list))
                        .and_then(Value::as_array)
                        .and_then(|st| {
                            st.iter().find(|s| {
                                s.get("name").and_then(Value::as_str) == Some(name.as_str())
                            })
                        })
                        .and_then(|s| s.get("imageID"))
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned);
                    containers.push(Container {
                        list,
                        name,
                        image,
                        line: line.filter(|l| *l > 0),
                        image_id,
                    });
                }
            }
        }
        self.objects.push(Object {
            kind: o.kind,
            namespace: o.namespace,
            name: o.name.unwrap_or_default(),
            file: doc.file.to_string(),
            cluster: origin.is_some(),
            dedup,
            facts,
            containers,
        });
    }

    pub(crate) fn merge(&mut self, other: Collector) {
        self.objects.extend(other.objects);
    }

    /// Groups the containers by image, each use named by its workload's top owner.
    pub(crate) fn finish(self) -> ImageList {
        let objects = self.objects;
        // Controllers by name, for following ownerReferences.
        let mut controllers: HashMap<&owners::OwnerName, Vec<(Option<&str>, usize)>> =
            HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            if let Some((name, uid)) = &o.facts.workload {
                controllers
                    .entry(name)
                    .or_default()
                    .push((uid.as_deref(), i));
            }
        }
        let owner_of = |o: &Object| -> Option<usize> {
            let (name, uid) = o.facts.owner.as_ref()?;
            let seen = controllers.get(name)?;
            // A uid on both sides must match (a stale reference names a deleted owner).
            seen.iter()
                .find(|(u, _)| match (u, uid) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                })
                .map(|(_, i)| *i)
        };
        let top_of = |start: usize| -> usize {
            let mut at = start;
            // Chains are short (Pod -> ReplicaSet -> Deployment); the bound stops a loop.
            for _ in 0..8 {
                let Some(o) = objects.get(at) else { break };
                if !o.dedup {
                    break;
                }
                match owner_of(o) {
                    Some(next) if next != at => at = next,
                    _ => break,
                }
            }
            at
        };
        type UseKey = (usize, &'static str, String, String);
        let mut uses: BTreeMap<String, BTreeMap<UseKey, Use>> = BTreeMap::new();
        let mut parsed: HashMap<String, Result<ImageRef, ReferenceError>> = HashMap::new();
        let mut resolved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, o) in objects.iter().enumerate() {
            let top = top_of(i);
            let Some(owner) = objects.get(top) else {
                continue;
            };
            for c in &o.containers {
                let written = c.image.clone().unwrap_or_default();
                let p = if c.image.is_some() {
                    parse_reference(&written)
                } else {
                    Err(ReferenceError {
                        reference: String::new(),
                        reason: "the container has no image (left for a controller or config management to fill in?)".to_owned(),
                    })
                };
                let key = match &p {
                    Ok(r) => r.canonical(),
                    Err(_) => written.clone(),
                };
                // The image implies `latest` only if no use wrote a tag.
                parsed
                    .entry(key.clone())
                    .and_modify(|e| {
                        if let (Ok(a), Ok(b)) = (e, &p) {
                            a.tag_implied &= b.tag_implied;
                        }
                    })
                    .or_insert(p);
                if let Some(d) = c.image_id.as_deref().and_then(resolved_digest) {
                    resolved
                        .entry(key.clone())
                        .or_default()
                        .insert(d.to_owned());
                }
                let (location, line) = if o.cluster {
                    (o.file.clone(), None)
                } else {
                    match c.line {
                        Some(l) => (format!("{}:{l}", o.file), Some(l)),
                        None => (o.file.clone(), None),
                    }
                };
                let entry = uses
                    .entry(key)
                    .or_default()
                    .entry((top, c.list, c.name.clone(), written.clone()))
                    .or_insert_with(|| Use {
                        kind: owner.kind.clone(),
                        namespace: owner.namespace.clone(),
                        name: owner.name.clone(),
                        container: c.name.clone(),
                        container_list: c.list,
                        reference: written.clone(),
                        location: location.clone(),
                        file: o.file.clone(),
                        line,
                        owned_objects: 0,
                        image_ids: Vec::new(),
                    });
                if i == top {
                    // The workload's own template is the place to point at.
                    entry.location = location;
                    entry.file = o.file.clone();
                    entry.line = line;
                } else {
                    entry.owned_objects += 1;
                }
                if let Some(id) = &c.image_id
                    && !entry.image_ids.contains(id)
                {
                    entry.image_ids.push(id.clone());
                }
            }
        }
        let images = uses
            .into_iter()
            .map(|(image, by_use)| {
                let mut workloads: Vec<Use> = by_use.into_values().collect();
                for w in &mut workloads {
                    w.image_ids.sort();
                }
                workloads.sort_by(|a, b| {
                    (
                        &a.namespace,
                        &a.kind,
                        &a.name,
                        a.container_list,
                        &a.container,
                        &a.file,
                    )
                        .cmp(&(
                            &b.namespace,
                            &b.kind,
                            &b.name,
                            b.container_list,
                            &b.container,
                            &b.file,
                        ))
                });
                Image {
                    parsed: parsed.remove(&image).unwrap_or_else(|| {
                        Err(ReferenceError {
                            reference: image.clone(),
                            reason: "not parsed".to_owned(),
                        })
                    }),
                    resolved_digests: resolved
                        .remove(&image)
                        .map(|s| s.into_iter().collect())
                        .unwrap_or_default(),
                    image,
                    workloads,
                }
            })
            .collect();
        ImageList { images }
    }
}

impl Use {
    /// `Kind/namespace/name` (or `Kind/name`).
    pub fn workload(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

impl ImageList {
    /// Images whose reference does not parse.
    pub fn errors(&self) -> usize {
        self.images.iter().filter(|i| i.parsed.is_err()).count()
    }

    /// The JSON report (`palisade scan --images -f json`); its fields are documented in
    /// docs/images.md ("Images in use") and stable.
    pub fn to_json(&self) -> Value {
        let images: Vec<Value> = self
            .images
            .iter()
            .map(|i| {
                let (registry, repository, tag, implied, digest, error) = match &i.parsed {
                    Ok(r) => (
                        Some(r.registry.as_str()),
                        Some(r.repository.as_str()),
                        r.tag.as_deref(),
                        r.tag_implied,
                        r.digest.as_deref(),
                        None,
                    ),
                    Err(e) => (None, None, None, false, None, Some(e.reason.as_str())),
                };
                let workloads: Vec<Value> = i
                    .workloads
                    .iter()
                    .map(|u| {
                        json!({
                            "kind": u.kind,
                            "namespace": u.namespace,
                            "name": u.name,
                            "container": u.container,
                            "containerType": u.container_list,
                            "reference": u.reference,
                            "location": u.location,
                            "file": u.file,
                            "line": u.line,
                            "ownedObjects": u.owned_objects,
                            "imageIDs": u.image_ids,
                        })
                    })
                    .collect();
                json!({
                    "image": i.image,
                    "registry": registry,
                    "repository": repository,
                    "tag": tag,
                    "tagImplied": implied,
                    "digest": digest,
                    "error": error,
                    "resolvedDigests": i.resolved_digests,
                    "workloads": workloads,
                })
            })
            .collect();
        json!({
            "images": images,
            "summary": {
                "images": self.images.len(),
                "uses": self.images.iter().map(|i| i.workloads.len()).sum::<usize>(),
                "invalid": self.errors(),
            },
        })
    }

    /// The table: image, tag or digest, how many workloads use it, the first of them.
    pub fn table(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "IMAGE".to_owned(),
            "TAG/DIGEST".to_owned(),
            "WORKLOADS".to_owned(),
            "FIRST WORKLOAD".to_owned(),
        ]];
        for i in &self.images {
            let (name, version) = match &i.parsed {
                Ok(r) => {
                    let mut v = match (&r.tag, r.tag_implied) {
                        (Some(t), true) => format!("{t} (implied)"),
                        (Some(t), false) => t.clone(),
                        (None, _) => String::new(),
                    };
                    if let Some(d) = &r.digest {
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push('@');
                        v.push_str(short_digest(d));
                    }
                    (r.name(), v)
                }
                Err(e) => (
                    if i.image.is_empty() {
                        "<none>".to_owned()
                    } else {
                        i.image.clone()
                    },
                    format!("invalid: {}", e.reason),
                ),
            };
            let distinct: BTreeSet<String> = i.workloads.iter().map(Use::workload).collect();
            let first = i
                .workloads
                .first()
                .map(|u| format!("{} ({})", u.workload(), u.location))
                .unwrap_or_default();
            rows.push([name, version, distinct.len().to_string(), first]);
        }
        let mut widths = [0usize; 4];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in &rows {
            let mut line = String::new();
            for (k, (w, c)) in widths.iter().zip(r).enumerate() {
                if k + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&" ".repeat(w - c.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "\n{} image{}, {} invalid reference{}\n",
            self.images.len(),
            if self.images.len() == 1 { "" } else { "s" },
            self.errors(),
            if self.errors() == 1 { "" } else { "s" },
        ));
        out
    }
}

/// `sha256:0123456789ab` (12 hex digits, as `docker images` shortens IDs).
fn short_digest(d: &str) -> &str {
    let cut = d.find(':').map_or(0, |i| i + 13);
    d.get(..cut).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn ok(s: &str) -> ImageRef {
        parse_reference(s).unwrap_or_else(|e| panic!("{e}"))
    }

    const D: &str = "sha256:2d8f0b7ec3a0d7b8a1c1f2b6c1a7b5b0a6f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0";

    #[test]
    fn docker_hub_normalisation() {
        let r = ok("nginx");
        assert_eq!(r.canonical(), "docker.io/library/nginx:latest");
        assert!(r.tag_implied);
        assert_eq!(
            ok("bitnami/redis:7.2").canonical(),
            "docker.io/bitnami/redis:7.2"
        );
        assert_eq!(
            ok("index.docker.io/nginx:1").canonical(),
            "docker.io/library/nginx:1"
        );
        assert_eq!(
            ok("docker.io/nginx").canonical(),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(ok("localhost/app").registry, "localhost");
        assert_eq!(ok("localhost:5000/app:v1").registry, "localhost:5000");
        assert_eq!(ok("registry.k8s.io/pause:3.9").repository, "pause");
        assert_eq!(
            ok("Registry/app").registry,
            "Registry",
            "upper case: a host"
        );
        // A port-looking tag on a one-component name is a tag.
        assert_eq!(ok("foo:5000").tag.as_deref(), Some("5000"));
        assert_eq!(ok("[::1]:5000/app").registry, "[::1]:5000");
        assert_eq!(ok("192.168.1.1:30500/team/app:1").repository, "team/app");
    }

    #[test]
    fn digests_and_tags() {
        let r = ok(&format!("quay.io/org/app@{D}"));
        assert_eq!(r.tag, None, "a digest pins: no implied tag");
        assert!(!r.tag_implied);
        assert_eq!(r.digest.as_deref(), Some(D));
        let r = ok(&format!("app:1.2@{D}"));
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.canonical(), format!("docker.io/library/app:1.2@{D}"));
        assert_eq!(ok("a:_x.Y-1").tag.as_deref(), Some("_x.Y-1"));
        assert_eq!(ok("a/b__c/d---e.f_g:1").repository, "a/b__c/d---e.f_g");
    }

    #[test]
    fn malformed_references() {
        let long_tag = format!("nginx:{}", "a".repeat(129));
        for (bad, why) in [
            ("", "at least one component"),
            ("Nginx", "lowercase"),
            ("nginx:", "tag"),
            ("nginx:-1", "tag"),
            (long_tag.as_str(), "tag"),
            ("nginx@sha256:abc", "64 lower-case"),
            (
                "nginx@md5:0123456789abcdef0123456789abcdef",
                "not supported",
            ),
            ("a//b", "path component"),
            ("a/b_", "path component"),
            ("a/b___c", "path component"),
            ("a/.b", "path component"),
            ("my_registry.io/app", "registry"),
            ("host:port/app", "registry"),
            ("reg.io/", "at least one component"),
            (
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "image ID",
            ),
            ("nginx latest", "path component"),
            ("a@b@c", "digest"),
        ] {
            let e = parse_reference(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} parsed"));
            assert!(e.reason.contains(why), "{bad:?}: {e}");
        }
        let long = format!("x/{}", "a".repeat(254));
        assert!(parse_reference(&long).unwrap_err().reason.contains("255"));
    }

    #[test]
    fn image_ids() {
        assert_eq!(
            resolved_digest(&format!("docker-pullable://nginx@{D}")),
            Some(D)
        );
        assert_eq!(
            resolved_digest(&format!("docker.io/library/nginx@{D}")),
            Some(D)
        );
        assert_eq!(resolved_digest(D), None, "a local image ID");
        assert_eq!(resolved_digest(&format!("docker://{D}")), None);
    }

    #[test]
    fn short_digests() {
        assert_eq!(short_digest(D), "sha256:2d8f0b7ec3a0");
    }
}
