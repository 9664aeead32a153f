//! Inputs to bytes: files, directories (recursive, sorted, hidden entries and non-manifest
//! extensions skipped), and `-` for stdin; with the size limits checked before reading.

use crate::{At, LimitKind, Limits, LoadError, Loaded, Sink, limit_error, load_bytes};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions read when walking a directory (an explicitly named file is read whatever its
/// extension).
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

enum Source {
    Stdin,
    File { path: PathBuf, name: String },
}

/// Loads files, directories and `-` (stdin, shown as `<stdin>`), in the order given;
/// directory contents sorted by path. Files are parsed on all cores; everything is returned
/// at once (see [`load_paths_each`] to bound memory on large inputs).
pub fn load_paths<P: AsRef<Path>>(inputs: &[P], limits: &Limits) -> Loaded {
    let (mut out, jobs, over_total) = plan(inputs, limits);
    for r in run_jobs(jobs, limits) {
        out.extend(r);
    }
    out.extend(over_total);
    out
}

/// Like [`load_paths`], but hands each file's result to `each` as soon as it and all the
/// files before it are done, in the same order, so a caller that checks and drops each
/// file's documents keeps only a few files in memory (a small batch is parsed in parallel).
/// Errors and notes not tied to one file (missing paths, empty directories) come first; the
/// total-size limit error, if any, comes last.
pub fn load_paths_each<P: AsRef<Path>>(
    inputs: &[P],
    limits: &Limits,
    mut each: impl FnMut(Loaded),
) {
    let (prelude, jobs, over_total) = plan(inputs, limits);
    if !(prelude.errors.is_empty() && prelude.notes.is_empty()) {
        each(prelude);
    }
    let batch = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) * 2;
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let chunk: Vec<(Job, u64)> = jobs.by_ref().take(batch).collect();
        for r in run_jobs(chunk, limits) {
            each(r);
        }
    }
    if !over_total.errors.is_empty() {
        each(over_total);
    }
}

/// Expands the inputs into read jobs: (errors and notes so far, jobs with their expected
/// sizes, the total-size limit error if it was reached).
fn plan<P: AsRef<Path>>(inputs: &[P], limits: &Limits) -> (Loaded, Vec<(Job, u64)>, Loaded) {
    let mut out = Loaded::default();
    let mut sources = Vec::new();
    for input in inputs {
        let path = input.as_ref();
        if path.as_os_str() == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let name = path.display().to_string();
        match fs::metadata(path) {
            Err(e) => io_error(&mut out, &name, &e),
            Ok(meta) if meta.is_dir() => walk(path, &mut sources, &mut out),
            Ok(_) => sources.push(Source::File {
                path: path.to_path_buf(),
                name,
            }),
        }
    }
    // Phase 1, in order: sizes from metadata (stdin is read here, its size is unknown
    // before), so the total-size limit is decided before anything else is read and the
    // result does not depend on scheduling.
    let count = sources.len();
    let mut total: u64 = 0;
    let mut jobs: Vec<(Job, u64)> = Vec::with_capacity(count);
    let mut over_total = Loaded::default();
    for (n, source) in sources.into_iter().enumerate() {
        let (job, size) = match source {
            Source::Stdin => {
                let read = read_limited(std::io::stdin().lock(), None, limits);
                let size = read.as_ref().map_or(0, |b| b.len() as u64);
                (Job::Read("<stdin>".to_owned(), read), size)
            }
            Source::File { path, name } => {
                let size = fs::metadata(&path)
                    .map(|m| m.len())
                    .ok()
                    .filter(|&len| len <= limits.max_file_bytes)
                    .unwrap_or(0);
                (Job::File { path, name }, size)
            }
        };
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            let mut sink = Sink {
                file: job.name().into(),
                out: &mut over_total,
            };
            sink.error(
                At::default(),
                &limit_error(
                    LimitKind::TotalBytes,
                    limits.max_total_bytes,
                    format_args!(
                        "reached at this input; it and the {} inputs after it were not read",
                        count - n - 1
                    ),
                ),
            );
            break;
        }
        jobs.push((job, size));
    }
    (out, jobs, over_total)
}

enum Job {
    Read(String, Result<Vec<u8>, ReadError>),
    File { path: PathBuf, name: String },
}

impl Job {
    fn name(&self) -> &str {
        match self {
            Job::Read(name, _) | Job::File { name, .. } => name,
        }
    }
}

/// Runs the jobs (each with its expected size) on up to 8 threads, largest first so that one
/// big file does not finish last; results come back in job order.
fn run_jobs(jobs: Vec<(Job, u64)>, limits: &Limits) -> Vec<Loaded> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(jobs.len())
        .min(8);
    if workers <= 1 {
        return jobs.into_iter().map(|(j, _)| run_job(j, limits)).collect();
    }
    let n = jobs.len();
    let mut order: Vec<(usize, Job, u64)> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, (j, size))| (i, j, size))
        .collect();
    order.sort_by_key(|(i, _, size)| (std::cmp::Reverse(*size), *i));
    let queue = std::sync::Mutex::new(order.into_iter().map(|(i, j, _)| (i, j)));
    let mut done: Vec<(usize, Loaded)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let next = match queue.lock() {
                            Ok(mut q) => q.next(),
                            Err(_) => None,
                        };
                        let Some((i, job)) = next else { break };
                        mine.push((i, run_job(job, limits)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(n);
    let mut results = done.into_iter().peekable();
    for i in 0..n {
        match results.next_if(|(j, _)| *j == i) {
            Some((_, l)) => out.push(l),
            None => {
                // Only if a worker died: say so rather than drop the input silently.
                let mut l = Loaded::default();
                let mut sink = Sink {
                    file: "<input>".into(),
                    out: &mut l,
                };
                sink.error(
                    At::default(),
                    &LoadError::Io {
                        path: format!("input #{}", i + 1),
                        reason: "internal error while loading it".to_owned(),
                    },
                );
                out.push(l);
            }
        }
    }
    out
}

fn run_job(job: Job, limits: &Limits) -> Loaded {
    let (name, read) = match job {
        Job::Read(name, read) => (name, read),
        Job::File { path, name } => {
            let read = match fs::File::open(&path) {
                Ok(f) => {
                    let len = f.metadata().map(|m| m.len()).ok();
                    read_limited(f, len, limits)
                }
                Err(e) => Err(ReadError::Io(e)),
            };
            (name, read)
        }
    };
    match read {
        Ok(bytes) => load_bytes(&name, &bytes, limits),
        Err(ReadError::Io(e)) => {
            let mut out = Loaded {
                files: 1,
                ..Loaded::default()
            };
            io_error(&mut out, &name, &e);
            out
        }
        Err(ReadError::TooLarge(size)) => {
            let mut out = Loaded {
                files: 1,
                ..Loaded::default()
            };
            let mut sink = Sink {
                file: name.as_str().into(),
                out: &mut out,
            };
            let detail = match size {
                Some(s) => format!("the file has {s} bytes; it was not read"),
                None => "the input is larger than that; it was not read".to_owned(),
            };
            sink.error(
                At::default(),
                &limit_error(LimitKind::FileBytes, limits.max_file_bytes, detail),
            );
            out
        }
    }
}

enum ReadError {
    Io(std::io::Error),
    /// Over `max_file_bytes`; the size when known from metadata.
    TooLarge(Option<u64>),
}

/// Reads at most `max_file_bytes`: refuses from the metadata size first, and stops reading
/// one byte past the limit for inputs whose size metadata does not tell (pipes, /dev files).
fn read_limited(
    reader: impl Read,
    meta_len: Option<u64>,
    limits: &Limits,
) -> Result<Vec<u8>, ReadError> {
    if let Some(len) = meta_len
        && len > limits.max_file_bytes
    {
        return Err(ReadError::TooLarge(Some(len)));
    }
    let mut buf = Vec::with_capacity(meta_len.unwrap_or(0).min(limits.max_file_bytes) as usize);
    reader
        .take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limits.max_file_bytes {
        return Err(ReadError::TooLarge(None));
    }
    Ok(buf)
}

fn io_error(out: &mut Loaded, name: &str, e: &std::io::Error) {
    let mut sink = Sink {
        file: name.into(),
        out,
    };
    sink.error(
        At::default(),
        &LoadError::Io {
            path: name.to_owned(),
            reason: e.to_string(),
        },
    );
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|s| s.starts_with('.'))
}

fn is_manifest(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

/// Every manifest file under `root`, sorted by path (component by component, so
/// `a/z.yaml` comes before `b.yaml`). Symlinked directories are not followed (no loops);
/// symlinked files are read.
fn walk(root: &Path, sources: &mut Vec<Source>, out: &mut Loaded) {
    let mut stack = vec![root.to_path_buf()];
    let mut files: Vec<PathBuf> = Vec::new();
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                io_error(out, &dir.display().to_string(), &e);
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    io_error(out, &dir.display().to_string(), &e);
                    continue;
                }
            };
            if is_hidden(&entry.file_name()) {
                continue;
            }
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
            } else if is_manifest(&path) && (ft.is_file() || path.is_file()) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        let name = root.display().to_string();
        let mut sink = Sink {
            file: name.as_str().into(),
            out,
        };
        sink.note(
            At::default(),
            "empty",
            "no .yaml, .yml or .json files in this directory (hidden entries are skipped)",
        );
    }
    files.sort();
    sources.extend(files.into_iter().map(|path| Source::File {
        name: path.display().to_string(),
        path,
    }));
}
