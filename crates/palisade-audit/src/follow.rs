//! `--follow`: a [`Read`] over a growing log file that waits for more data instead of
//! ending, and survives rotation (the path now names a new file) and truncation (the file
//! shrank) by reopening the path and reading the new file from its start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Follows one path like `tail -F`, starting at the beginning of the current file.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    id: Option<FileId>,
    pos: u64,
    poll: Duration,
    stop: Arc<AtomicBool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some(FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_m: &std::fs::Metadata) -> Option<FileId> {
    None
}

impl Follower {
    /// `stop` ends the stream (read returns 0) once it is set and no data is pending.
    pub fn new(
        path: impl Into<PathBuf>,
        poll: Duration,
        stop: Arc<AtomicBool>,
    ) -> io::Result<Self> {
        let path = path.into();
        let file = File::open(&path)?;
        let id = file_id(&file.metadata()?);
        Ok(Follower {
            path,
            file: Some(file),
            id,
            pos: 0,
            poll,
            stop,
        })
    }

    /// Has the path been rotated (new file) or truncated since we opened it?
    fn rotated(&self) -> bool {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            // Between rename and re-create: keep the old file until the new one appears.
            return false;
        };
        if file_id(&meta) != self.id {
            return true;
        }
        meta.len() < self.pos
    }

    fn reopen(&mut self) -> io::Result<()> {
        let mut f = File::open(&self.path)?;
        self.id = file_id(&f.metadata()?);
        f.seek(SeekFrom::Start(0))?;
        self.file = Some(f);
        self.pos = 0;
        Ok(())
    }
}

impl Read for Follower {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(f) = self.file.as_mut() {
                let n = f.read(buf)?;
                if n > 0 {
                    self.pos += n as u64;
                    return Ok(n);
                }
            }
            if self.rotated() {
                // Whatever the old file still had was read above (n == 0), so switch now.
                if self.reopen().is_ok() {
                    continue;
                }
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            std::thread::sleep(self.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventReader, ReadItem};
    use std::io::{BufReader, Write};

    #[test]
    fn follows_appends_rotation_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "{\"kind\":\"Event\",\"auditID\":\"1\"}\n").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let f = Follower::new(&path, Duration::from_millis(5), stop.clone()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            for item in EventReader::new(BufReader::new(f), "f") {
                if let ReadItem::Event(e) = item {
                    tx.send(e.audit_id().unwrap_or("").to_string()).unwrap();
                }
            }
        });
        let recv = || rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(recv(), "1");
        // Append, in two writes splitting a line.
        let mut a = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        a.write_all(b"{\"kind\":\"Event\",").unwrap();
        a.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        a.write_all(b"\"auditID\":\"2\"}\n").unwrap();
        assert_eq!(recv(), "2");
        // Rotate: rename away, create a new file at the same path.
        std::fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
        std::fs::write(&path, "{\"kind\":\"Event\",\"auditID\":\"3\"}\n").unwrap();
        assert_eq!(recv(), "3");
        // Truncate in place and write a shorter line.
        std::fs::write(&path, "{\"kind\":\"Event\"}\n").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(&path, "{\"auditID\":\"4\",\"kind\":\"Event\"}\n").unwrap_or(());
        let got = recv();
        assert!(got.is_empty() || got == "4", "{got}");
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
    }
}
