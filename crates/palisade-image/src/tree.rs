//! The merged root filesystem view: every path the layers left behind, with what was kept of
//! each file. Layers are applied in order (whiteouts and opaque directories delete from lower
//! layers only), links are resolved inside the image root after all layers are applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_core::inventory::Package;

/// A tar entry name or directory-walk path made relative to the image root: leading `./` and
/// `/` removed, `.` dropped, `..` applied lexically. `Err` when `..` would leave the root.
pub(crate) fn normalize(name: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("entry path {name:?} leaves the image root"));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// What was kept of one regular file (shared between hard links to it).
#[derive(Debug)]
pub(crate) enum Content {
    /// Nothing inventory needs.
    Ignored,
    /// An OS package database or os-release: its bytes, parsed once all layers are applied
    /// (the purls need the final os-release).
    Bytes(Vec<u8>),
    /// A language package file or binary, already read under `read_as`: the packages found in
    /// it, or why not.
    Packages {
        read_as: String,
        found: Result<Vec<Package>, String>,
    },
    /// Not read (too large, limit); the note was already given.
    Skipped,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Dir,
    File(Arc<Content>),
    /// The link target exactly as recorded.
    Symlink(String),
    /// Devices, FIFOs, sockets: present (they hide lower layers) but never read.
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub node: Node,
    /// Index of the layer that last wrote this path.
    pub layer: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub nodes: BTreeMap<String, Entry>,
    /// Bytes held by `Content::Bytes` of live nodes.
    pub kept_bytes: u64,
}

/// Why a path could not be resolved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ResolveError {
    Missing,
    Loop(String),
}

fn content_bytes(node: &Node) -> u64 {
    match node {
        Node::File(c) if Arc::strong_count(c) == 1 => match c.as_ref() {
            Content::Bytes(b) => b.len() as u64,
            _ => 0,
        },
        _ => 0,
    }
}

impl Tree {
    fn forget(&mut self, entry: &Entry) {
        self.kept_bytes = self.kept_bytes.saturating_sub(content_bytes(&entry.node));
    }

    /// Removes `path` and everything under it that lower layers (index < `layer`) wrote.
    pub fn whiteout(&mut self, path: &str, layer: usize) {
        if let Some(e) = self.nodes.get(path)
            && e.layer < layer
            && let Some(e) = self.nodes.remove(path)
        {
            self.forget(&e);
        }
        self.remove_children(path, Some(layer));
    }

    /// Opaque directory: hides every child that lower layers wrote, keeps this layer's.
    pub fn opaque(&mut self, dir: &str, layer: usize) {
        self.remove_children(dir, Some(layer));
    }

    /// Removes the subtree under `dir` (not `dir` itself); with `below`, only entries of lower
    /// layers.
    fn remove_children(&mut self, dir: &str, below: Option<usize>) {
        let (start, end) = if dir.is_empty() {
            (String::new(), None)
        } else {
            // '0' is the byte after '/', so the range is exactly the paths under `dir/`.
            (format!("{dir}/"), Some(format!("{dir}0")))
        };
        let keys: Vec<String> = match &end {
            Some(end) => self.nodes.range(start.clone()..end.clone()),
            None => self.nodes.range(start.clone()..),
        }
        .filter(|(k, e)| !k.is_empty() && below.is_none_or(|l| e.layer < l))
        .map(|(k, _)| k.clone())
        .collect();
        for k in keys {
            if let Some(e) = self.nodes.remove(&k) {
                self.forget(&e);
            }
        }
    }

    /// Removes `path` and its subtree whatever layer wrote them: a file nobody needs replaced
    /// them, and is not recorded itself (the tree holds only directories, links and kept files,
    /// so its size follows what inventory needs, not the image's file count).
    pub fn replace_with_nothing(&mut self, path: &str) {
        if let Some(e) = self.nodes.remove(path) {
            self.forget(&e);
        }
        self.remove_children(path, None);
    }

    /// Adds an entry from a layer: a directory over a directory keeps the children, any other
    /// combination replaces the old path and its subtree.
    pub fn insert(&mut self, path: String, node: Node, layer: usize) {
        // A layer writing `a/b/c` has the directories `a` and `a/b`: a lower layer's symlink or
        // file at either is replaced (as overlayfs shows it), not followed.
        let mut end = 0;
        while let Some(i) = path.get(end..).and_then(|rest| rest.find('/')) {
            end += i;
            if let Some(parent) = path.get(..end)
                && let Some(e) = self.nodes.get_mut(parent)
                && !matches!(e.node, Node::Dir)
            {
                let old = std::mem::replace(
                    e,
                    Entry {
                        node: Node::Dir,
                        layer,
                    },
                );
                self.forget(&old);
            }
            end += 1;
        }
        let replacing_dir = matches!(
            self.nodes.get(&path),
            Some(Entry {
                node: Node::Dir,
                ..
            })
        );
        if replacing_dir && !matches!(node, Node::Dir) {
            self.remove_children(&path, None);
        }
        let added = content_bytes(&node);
        if let Some(old) = self.nodes.insert(path, Entry { node, layer }) {
            self.forget(&old);
        }
        self.kept_bytes = self.kept_bytes.saturating_add(added);
    }

    /// Follows symlinks in every component of `path` (absolute targets re-rooted at the image
    /// root, `..` clamped at the root) and returns the real path and its entry.
    pub fn resolve(&self, path: &str, max_links: u32) -> Result<(String, &Entry), ResolveError> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let mut current: Vec<String> = Vec::new();
        let mut followed = 0u32;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    current.pop();
                    continue;
                }
                _ => {}
            }
            current.push(part);
            let here = current.join("/");
            match self.nodes.get(&here) {
                Some(Entry {
                    node: Node::Symlink(target),
                    ..
                }) => {
                    followed += 1;
                    if followed > max_links {
                        return Err(ResolveError::Loop(here));
                    }
                    current.pop();
                    if target.starts_with('/') {
                        current.clear();
                    }
                    pending.extend(
                        target
                            .split('/')
                            .rev()
                            .filter(|p| !p.is_empty())
                            .map(str::to_string),
                    );
                }
                Some(_) => {}
                // Tars often omit parent directory entries: a missing component is an implicit
                // directory unless it is the last one.
                None if pending.is_empty() => return Err(ResolveError::Missing),
                None => {}
            }
        }
        let real = current.join("/");
        match self.nodes.get(&real) {
            Some(e) => Ok((real, e)),
            None => Err(ResolveError::Missing),
        }
    }

    /// Direct children of the directory `dir` (a real path), in name order.
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Entry)> {
        let start = format!("{dir}/");
        let end = format!("{dir}0");
        let prefix_len = start.len();
        self.nodes
            .range(start..end)
            .filter(move |(k, _)| k.get(prefix_len..).is_some_and(|rest| !rest.contains('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Node {
        Node::File(Arc::new(Content::Ignored))
    }

    #[test]
    fn normalize_strips_and_rejects_escapes() {
        assert_eq!(normalize("./etc/os-release").unwrap(), "etc/os-release");
        assert_eq!(normalize("/etc//a/./b/../c").unwrap(), "etc/a/c");
        assert_eq!(normalize("./").unwrap(), "");
        assert!(normalize("../etc/passwd").is_err());
        assert!(normalize("a/../../b").is_err());
    }

    #[test]
    fn whiteout_removes_lower_subtree_only() {
        let mut t = Tree::default();
        t.insert("a".into(), Node::Dir, 0);
        t.insert("a/x".into(), file(), 0);
        t.insert("a/y".into(), file(), 1);
        t.insert("ab".into(), file(), 0);
        t.opaque("a", 1);
        assert!(t.nodes.contains_key("a"));
        assert!(!t.nodes.contains_key("a/x"));
        assert!(t.nodes.contains_key("a/y"));
        assert!(t.nodes.contains_key("ab"));
        t.whiteout("a", 2);
        assert!(!t.nodes.contains_key("a") && !t.nodes.contains_key("a/y"));
        assert!(t.nodes.contains_key("ab"));
    }

    #[test]
    fn resolve_follows_relative_absolute_and_clamps() {
        let mut t = Tree::default();
        t.insert("usr/lib/os-release".into(), file(), 0);
        t.insert(
            "etc/os-release".into(),
            Node::Symlink("../usr/lib/os-release".into()),
            0,
        );
        t.insert(
            "etc/abs".into(),
            Node::Symlink("/usr/lib/os-release".into()),
            0,
        );
        t.insert(
            "etc/up".into(),
            Node::Symlink("../../../../usr/lib/os-release".into()),
            0,
        );
        t.insert("lib".into(), Node::Symlink("usr/lib".into()), 0);
        t.insert("loop1".into(), Node::Symlink("loop2".into()), 0);
        t.insert("loop2".into(), Node::Symlink("/loop1".into()), 0);
        for p in ["etc/os-release", "etc/abs", "etc/up", "lib/os-release"] {
            assert_eq!(t.resolve(p, 40).unwrap().0, "usr/lib/os-release", "{p}");
        }
        assert!(matches!(t.resolve("loop1", 40), Err(ResolveError::Loop(_))));
        assert_eq!(t.resolve("nope", 40).unwrap_err(), ResolveError::Missing);
    }

    #[test]
    fn file_over_dir_drops_subtree_and_children_lists_direct_only() {
        let mut t = Tree::default();
        t.insert("d".into(), Node::Dir, 0);
        t.insert("d/a".into(), file(), 0);
        t.insert("d/b".into(), Node::Dir, 0);
        t.insert("d/b/c".into(), file(), 0);
        let kids: Vec<_> = t.children("d").map(|(k, _)| k.clone()).collect();
        assert_eq!(kids, ["d/a", "d/b"]);
        t.insert("d".into(), file(), 1);
        assert_eq!(t.nodes.len(), 1);
        // writing under a lower layer's symlink replaces it with a directory
        t.insert("l".into(), Node::Symlink("/elsewhere".into()), 1);
        t.insert("l/x/y".into(), file(), 2);
        assert!(matches!(t.nodes["l"].node, Node::Dir));
        assert_eq!(t.resolve("l/x/y", 40).unwrap().0, "l/x/y");
    }
}
