//! A root filesystem directory read like a single layer: every entry's type from
//! `symlink_metadata` (links are recorded, never followed on the host), files opened only when
//! inventory wants them, FIFOs and devices never opened.

use std::path::Path;

use crate::ImageError;
use crate::walk::{Data, Kind, Walker};

pub(crate) fn walk(walker: &mut Walker<'_>, root: &Path) -> Result<(), ImageError> {
    // Depth-first with an explicit stack (no recursion limit to hit on deep trees).
    let mut stack: Vec<String> = vec![String::new()];
    let mut count: u64 = 0;
    // Hard links of a root filesystem are separate directory entries: the second name of an
    // inode becomes a link to the first, so its packages are reported once (as in a layer tar).
    let mut inodes: std::collections::HashMap<(u64, u64), String> =
        std::collections::HashMap::new();
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let read = match std::fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if rel.is_empty() => {
                return Err(ImageError::Io {
                    path: dir,
                    source: e,
                });
            }
            Err(e) => {
                walker.note(Some(&rel), format!("directory unreadable: {e}"));
                continue;
            }
        };
        let mut names: Vec<_> = read.filter_map(Result::ok).map(|e| e.file_name()).collect();
        names.sort();
        let mut subdirs = Vec::new();
        for name in names {
            let name = name.to_string_lossy().into_owned();
            let rel_child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            count += 1;
            if count > walker.options.max_entries {
                walker.note(
                    None,
                    format!(
                        "more than {} entries (max_entries); rest of the directory not read",
                        walker.options.max_entries
                    ),
                );
                return Ok(());
            }
            let full = root.join(&rel_child);
            let meta = match std::fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(e) => {
                    walker.note(Some(&rel_child), format!("unreadable: {e}"));
                    continue;
                }
            };
            let ft = meta.file_type();
            let (kind, link) = if ft.is_dir() {
                subdirs.push(rel_child.clone());
                (Kind::Dir, None)
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&full)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (Kind::Symlink, Some(target))
            } else if ft.is_file() {
                match inode(&meta) {
                    Some(key) => match inodes.get(&key) {
                        Some(first) => (Kind::Hardlink, Some(first.clone())),
                        None => {
                            inodes.insert(key, rel_child.clone());
                            (Kind::File, None)
                        }
                    },
                    None => (Kind::File, None),
                }
            } else {
                (Kind::Other, None)
            };
            let mode = mode_of(&meta);
            // Errors reading a file are notes (Data::File), never a broken stream.
            let _ = walker.add(
                0,
                &rel_child,
                kind,
                meta.len(),
                mode,
                link,
                Data::File(&full),
                false,
            );
        }
        // Reverse so the stack pops them in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> u32 {
    0o644
}
