//! After all layers: os-release, the OS package databases at their well-known paths (resolved
//! through links inside the image), then the language packages found while streaming.

use std::collections::HashSet;
use std::sync::Arc;

use palisade_core::inventory::{Distro, Inventory, InventoryNote, Package};

use crate::tree::{Content, Entry, Node, ResolveError, Tree};
use crate::walk::Walker;
use crate::{apk, bdb, dpkg, osrelease, rpm};

const RPM_PATHS: [&str; 3] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/share/rpm/rpmdb.sqlite",
];
const RPM_BDB_PATHS: [&str; 2] = ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"];
const RPM_NDB_PATHS: [&str; 2] = [
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages.db",
];

struct Ctx<'a> {
    tree: &'a Tree,
    max_links: u32,
    digests: &'a [Option<String>],
    notes: Vec<InventoryNote>,
}

impl<'a> Ctx<'a> {
    fn layer(&self, index: usize) -> Option<String> {
        self.digests.get(index).cloned().flatten()
    }

    fn note(&mut self, layer: Option<String>, entry: &str, message: String) {
        self.notes.push(InventoryNote {
            layer,
            entry: Some(entry.to_string()),
            message,
        });
    }

    /// The kept bytes of the file at `path` (links followed). `None` when absent; a note when
    /// present but unusable.
    fn bytes(&mut self, path: &str) -> Option<(String, Option<String>, &'a [u8])> {
        let tree = self.tree;
        match tree.resolve(path, self.max_links) {
            Ok((real, entry)) => match &entry.node {
                Node::File(c) => match c.as_ref() {
                    Content::Bytes(b) => Some((real, self.layer(entry.layer), b.as_slice())),
                    // Skipped: the walker already said why.
                    Content::Skipped => None,
                    _ => {
                        let layer = self.layer(entry.layer);
                        self.note(
                            layer,
                            path,
                            format!("resolves to {real}, which was not kept while reading the layers (a hard link whose other name was read first?)"),
                        );
                        None
                    }
                },
                _ => None,
            },
            Err(ResolveError::Missing) => None,
            Err(ResolveError::Loop(at)) => {
                self.note(
                    None,
                    path,
                    format!(
                        "more than {} symbolic links followed at {at} (a link loop?); not read",
                        self.max_links
                    ),
                );
                None
            }
        }
    }
}

impl Ctx<'_> {
    /// A database's packages, each tagged with the layer it came from, and its problems as
    /// notes on the file (`real`) it was read from.
    fn add(
        &mut self,
        packages: &mut Vec<Package>,
        (pkgs, problems): (Vec<Package>, Vec<String>),
        real: &str,
        layer: Option<String>,
    ) {
        packages.extend(pkgs.into_iter().map(|mut p| {
            p.layer.clone_from(&layer);
            p
        }));
        for p in problems {
            self.note(layer.clone(), real, p);
        }
    }
}

pub(crate) fn catalog(walker: Walker<'_>, digests: &[Option<String>], inv: &mut Inventory) {
    let Walker {
        options,
        tree,
        mut notes,
        ..
    } = walker;
    let mut ctx = Ctx {
        tree: &tree,
        max_links: options.max_link_depth,
        digests,
        notes: Vec::new(),
    };

    // os-release: /etc first, /usr/lib only when /etc has none.
    let mut distro: Option<Distro> = None;
    for p in ["etc/os-release", "usr/lib/os-release"] {
        if let Some((_, _, bytes)) = ctx.bytes(p) {
            distro = osrelease::parse(bytes);
            break;
        }
    }
    let d = distro.as_ref();
    let mut packages: Vec<Package> = Vec::new();

    // dpkg
    if let Some((real, layer, bytes)) = ctx.bytes("var/lib/dpkg/status") {
        let found = dpkg::packages(bytes, d, "var/lib/dpkg/status");
        ctx.add(&mut packages, found, &real, layer);
    }
    // distroless: one stanza per file, *.md5sums beside them
    if let Ok((
        dir,
        Entry {
            node: Node::Dir, ..
        },
    )) = tree.resolve("var/lib/dpkg/status.d", options.max_link_depth)
    {
        let names: Vec<String> = tree
            .children(&dir)
            .map(|(k, _)| k.clone())
            .filter(|k| !k.ends_with(".md5sums"))
            .collect();
        for name in names {
            let shown = format!(
                "var/lib/dpkg/status.d/{}",
                name.rsplit('/').next().unwrap_or(&name)
            );
            if let Some((real, layer, bytes)) = ctx.bytes(&name) {
                let found = dpkg::packages(bytes, d, &shown);
                ctx.add(&mut packages, found, &real, layer);
            }
        }
    }
    // apk
    if let Some((real, layer, bytes)) = ctx.bytes("lib/apk/db/installed") {
        let found = apk::packages(bytes, d, "lib/apk/db/installed");
        ctx.add(&mut packages, found, &real, layer);
    }
    // rpm: sqlite, else Berkeley DB; the same database is often reachable under two of these
    // paths (var/lib/rpm -> ../../usr/lib/sysimage/rpm)
    let mut seen_rpm = HashSet::new();
    for (p, bdb) in RPM_PATHS
        .iter()
        .map(|p| (*p, false))
        .chain(RPM_BDB_PATHS.iter().map(|p| (*p, true)))
    {
        if bdb && !seen_rpm.is_empty() {
            break;
        }
        if let Ok((real, _)) = tree.resolve(p, options.max_link_depth)
            && !seen_rpm.insert(real)
        {
            continue;
        }
        if let Some((real, layer, bytes)) = ctx.bytes(p) {
            let headers = if bdb {
                bdb::blobs(bytes)
            } else {
                rpm::blobs(bytes)
            };
            match headers {
                Ok(headers) => {
                    let found = rpm::packages(&headers, d, p);
                    ctx.add(&mut packages, found, &real, layer);
                }
                Err(e) => ctx.note(layer, &real, format!("rpm database unreadable: {e}")),
            }
        }
    }
    if seen_rpm.is_empty() {
        for p in RPM_NDB_PATHS {
            if let Ok((real, entry)) = tree.resolve(p, options.max_link_depth) {
                let layer = ctx.layer(entry.layer);
                ctx.note(
                    layer,
                    &real,
                    "NDB rpm databases (SUSE) are not read (only rpmdb.sqlite and Berkeley DB Packages); rpm packages not listed".to_string(),
                );
                break;
            }
        }
    }

    // Language packages, once per file content (hard links share it).
    let mut seen: HashSet<*const Content> = HashSet::new();
    for (path, entry) in &tree.nodes {
        let Node::File(c) = &entry.node else {
            continue;
        };
        if !seen.insert(Arc::as_ptr(c)) {
            continue;
        }
        match c.as_ref() {
            Content::Packages {
                read_as,
                found: Ok(pkgs),
            } => {
                let layer = ctx.layer(entry.layer);
                for p in pkgs {
                    let mut p = p.clone();
                    p.layer.clone_from(&layer);
                    // A hard link read under another name whose first name was since deleted:
                    // the path is where the file is now.
                    p.path = match p.path.take() {
                        None => Some(path.clone()),
                        Some(old) => match old.strip_prefix(read_as.as_str()) {
                            Some(rest) if read_as != path => Some(format!("{path}{rest}")),
                            _ => Some(old),
                        },
                    };
                    packages.push(p);
                }
            }
            Content::Packages { found: Err(e), .. } => {
                let layer = ctx.layer(entry.layer);
                ctx.note(layer, path, format!("package metadata unreadable: {e}"));
            }
            _ => {}
        }
    }
    notes.extend(ctx.notes);
    inv.distro = distro;
    inv.packages = packages;
    inv.notes = notes;
}
