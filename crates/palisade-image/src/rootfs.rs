//! A root filesystem directory read like a single layer: every entry's type from its
//! directory entry's metadata, links not followed (links are recorded, never followed on the
//! host), files opened only when inventory wants them, FIFOs and devices never opened. One
//! thread lists and stats, the caller's applies (the same entries in the same order).

use std::io;
use std::path::Path;

use crate::ImageError;
use crate::walk::{Data, Kind, Walker};

/// What the listing thread found, in the order the walk applies it.
enum Item {
    Entry {
        rel: String,
        kind: Kind,
        link: Option<String>,
        len: u64,
        mode: u32,
    },
    Note(String, String),
    /// The root itself cannot be listed.
    RootUnreadable(io::Error),
}

/// Entries sent per message (one message per channel operation keeps the hand-off cheap).
const BATCH: usize = 256;

pub(crate) fn walk(walker: &mut Walker<'_>, root: &Path) -> Result<(), ImageError> {
    // Listing and stat calls (most of the time, all of it in the kernel) run on a second
    // thread while this one applies entries and reads the files inventory wants.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(8);
    let lister_root = root.to_path_buf();
    let lister = std::thread::spawn(move || list(&lister_root, &tx));
    let mut count: u64 = 0;
    let result = 'apply: {
        for batch in &rx {
            for item in batch {
                let (rel, kind, link, len, mode) = match item {
                    Item::Entry {
                        rel,
                        kind,
                        link,
                        len,
                        mode,
                    } => (rel, kind, link, len, mode),
                    Item::Note(entry, message) => {
                        walker.note(Some(&entry), message);
                        continue;
                    }
                    Item::RootUnreadable(e) => {
                        break 'apply Err(ImageError::Io {
                            path: root.to_path_buf(),
                            source: e,
                        });
                    }
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
                    break 'apply Ok(());
                }
                let full = root.join(&rel);
                // Errors reading a file are notes (Data::File), never a broken stream.
                let _ = walker.add(0, &rel, kind, len, mode, link, Data::File(&full), false);
            }
        }
        Ok(())
    };
    // Closing the channel stops the lister at its next batch.
    drop(rx);
    let _ = lister.join();
    result
}

/// Depth-first listing in name order, with an explicit stack (no recursion limit to hit on
/// deep trees). Stops when the receiver is gone.
fn list(root: &Path, tx: &std::sync::mpsc::SyncSender<Vec<Item>>) {
    let mut stack: Vec<String> = vec![String::new()];
    // Hard links of a root filesystem are separate directory entries: the second name of an
    // inode becomes a link to the first, so its packages are reported once (as in a layer tar).
    let mut inodes: std::collections::HashMap<(u64, u64), String> =
        std::collections::HashMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let read = match std::fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if rel.is_empty() => {
                let _ = tx.send(vec![Item::RootUnreadable(e)]);
                return;
            }
            Err(e) => {
                batch.push(Item::Note(rel, format!("directory unreadable: {e}")));
                continue;
            }
        };
        let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel_child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            // Relative to the open directory (no path walk from the root per entry); like
            // symlink_metadata, links are not followed.
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    batch.push(Item::Note(rel_child, format!("unreadable: {e}")));
                    continue;
                }
            };
            let ft = meta.file_type();
            let (kind, link) = if ft.is_dir() {
                subdirs.push(rel_child.clone());
                (Kind::Dir, None)
            } else if ft.is_symlink() {
                let target = std::fs::read_link(entry.path())
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
            batch.push(Item::Entry {
                rel: rel_child,
                kind,
                link,
                len: meta.len(),
                mode: mode_of(&meta),
            });
            if batch.len() >= BATCH
                && tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return;
            }
        }
        // Reverse so the stack pops them in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
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
