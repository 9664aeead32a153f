//! Inputs to bytes: files, directories (recursive, sorted, hidden entries and non-manifest
//! extensions skipped), and `-` for stdin; with the size limits checked before reading.

use crate::{At, LimitKind, Limits, LoadError, Loaded, Sink, limit_error};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions read when walking a directory (an explicitly named file is read whatever its
/// extension).
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

enum Source {
    Stdin,
    File {
        path: PathBuf,
        name: String,
    },
    /// A job made by `--render` (rendered output, or the note or error about a target).
    Rendered,
}

/// Loads files, directories and `-` (stdin, shown as `<stdin>`), in the order given;
/// directory contents sorted by path. Parsed on all cores; everything is returned at once
/// (see [`load_paths_map`] to bound memory on large inputs).
pub fn load_paths<P: AsRef<Path>>(inputs: &[P], limits: &Limits) -> Loaded {
    let mut out = Loaded::default();
    crate::pipeline::run(inputs, limits, &|l| l, &mut |l, _| out.extend(l));
    out
}

/// Like [`load_paths`], but hands each file's result to `each` as soon as it and all the
/// files before it are done, in the same order. A file is held whole until it is handed
/// over; [`load_paths_map`] holds only a few documents at a time.
/// Errors and notes not tied to one file (missing paths, empty directories) come first; the
/// total-size limit error, if any, comes last.
pub fn load_paths_each<P: AsRef<Path>>(
    inputs: &[P],
    limits: &Limits,
    mut each: impl FnMut(Loaded),
) {
    let mut file = Loaded::default();
    crate::pipeline::run(inputs, limits, &|l| l, &mut |l, end| {
        file.extend(l);
        if end {
            each(std::mem::take(&mut file));
        }
    });
}

/// Streams the inputs in pieces: `map` runs on worker threads over each piece as soon as it
/// is parsed (and its documents are dropped after it), and `each` gets the results on the
/// calling thread, in input order. A piece holds whole YAML documents of one file (every
/// object of a `*List` is in the same piece), about [`PIECE_BYTES`] of source at a time;
/// a file's `files` and `bytes` are counted in its first piece. Pieces in flight are
/// bounded, so memory follows the largest document, not the largest file: a file is read
/// whole once to be decoded and cut, then its text is dropped and each piece reads its
/// part again (the text of stdin is held while its pieces are parsed).
/// Pieces together hold exactly what [`load_paths`] returns, in the same order.
pub fn load_paths_map<P: AsRef<Path>, R: Send>(
    inputs: &[P],
    limits: &Limits,
    map: &(dyn Fn(Loaded) -> R + Sync),
    mut each: impl FnMut(R),
) {
    crate::pipeline::run(inputs, limits, map, &mut |r, _| each(r));
}

pub use crate::pipeline::PIECE_BYTES;

/// Expands the inputs into read jobs: (errors and notes so far, jobs with their expected
/// sizes, the total-size limit error if it was reached).
pub(crate) fn plan<P: AsRef<Path>>(
    inputs: &[P],
    limits: &Limits,
) -> (Loaded, Vec<(Job, u64)>, Loaded) {
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
    // Kustomizations and the patch files they list are reported as notes, not loaded.
    let files: Vec<PathBuf> = sources
        .iter()
        .filter_map(|s| match s {
            Source::File { path, .. } => Some(path.clone()),
            Source::Stdin | Source::Rendered => None,
        })
        .collect();
    let mut roles = crate::kustomize::roles(&files, limits);
    // --render: each chart or root kustomization is rendered once, at its first file; the
    // output replaces every file it renders (one note per target says so). A target that
    // cannot be rendered is an error, and its files are the notes they are without --render.
    let mut rendered: HashMap<usize, Vec<Job>> = HashMap::new();
    let mut replaced: HashSet<usize> = HashSet::new();
    if let Some(renderer) = &limits.render {
        let (targets, of_file) = crate::render::targets(&files, limits);
        let mut first: HashMap<usize, usize> = HashMap::new();
        for (&file, &t) in &of_file {
            let e = first.entry(t).or_insert(file);
            *e = (*e).min(file);
        }
        for (t, target) in targets.iter().enumerate() {
            let Some(&at) = first.get(&t) else { continue };
            let mut jobs = Vec::new();
            let mut report = Loaded::default();
            let mut sink = Sink {
                file: target.dir().display().to_string().into(),
                out: &mut report,
            };
            match crate::render::render(target, renderer, limits.max_file_bytes) {
                Ok(r) => {
                    let count = of_file.values().filter(|&&x| x == t).count();
                    sink.note(
                        At::default(),
                        "rendered",
                        format!(
                            "rendered with `{}`: its {count} file(s) are scanned as the rendered \
                             objects, locations are lines of the rendered output",
                            r.command
                        ),
                    );
                    jobs.push(Job::Done(target.dir().display().to_string(), report));
                    for (name, text) in r.files {
                        jobs.push(Job::Read(name, Ok(text.into_bytes())));
                    }
                    for (&file, &x) in &of_file {
                        if x == t {
                            replaced.insert(file);
                            roles.remove(&file);
                        }
                    }
                    rendered.insert(at, jobs);
                }
                Err(e) => {
                    sink.error(At::default(), &LoadError::Render(e.to_string()));
                    jobs.push(Job::Done(target.dir().display().to_string(), report));
                    rendered.insert(at, jobs);
                }
            }
        }
    }
    // Phase 1, in order: sizes from metadata (stdin is read here, its size is unknown
    // before), so the total-size limit is decided before anything else is read and the
    // result does not depend on scheduling.
    let mut total: u64 = 0;
    let mut over_total = Loaded::default();
    let mut expanded: Vec<(Source, Option<Job>, usize)> = Vec::with_capacity(sources.len());
    {
        let mut file_index = 0usize;
        for source in sources {
            match source {
                Source::Stdin => expanded.push((Source::Stdin, None, usize::MAX)),
                Source::File { path, name } => {
                    let i = file_index;
                    file_index += 1;
                    if let Some(jobs) = rendered.remove(&i) {
                        expanded.extend(jobs.into_iter().map(|j| (Source::Rendered, Some(j), i)));
                    }
                    if replaced.contains(&i) {
                        continue;
                    }
                    expanded.push((Source::File { path, name }, None, i));
                }
                Source::Rendered => {}
            }
        }
    }
    let count = expanded.len();
    let mut jobs: Vec<(Job, u64)> = Vec::with_capacity(count);
    for (n, (source, ready, file_no)) in expanded.into_iter().enumerate() {
        let (job, size) = match source {
            Source::Rendered => {
                let job = ready.unwrap_or_else(|| Job::Done(String::new(), Loaded::default()));
                let size = match &job {
                    Job::Read(_, Ok(b)) => b.len() as u64,
                    _ => 0,
                };
                (job, size)
            }
            Source::Stdin => {
                let read = read_limited(std::io::stdin().lock(), None, limits);
                let size = read.as_ref().map_or(0, |b| b.len() as u64);
                (Job::Read("<stdin>".to_owned(), read), size)
            }
            Source::File { name, .. } if roles.contains_key(&file_no) => {
                let role = roles.remove(&file_no);
                let loaded = role
                    .map(|r| crate::kustomize::noted(&name, &r))
                    .unwrap_or_default();
                (Job::Done(name, loaded), 0)
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

pub(crate) enum Job {
    Read(String, Result<Vec<u8>, ReadError>),
    File {
        path: PathBuf,
        name: String,
    },
    /// A file whose result is known without reading it (a Kustomize file: a note).
    Done(String, Loaded),
}

impl Job {
    pub(crate) fn name(&self) -> &str {
        match self {
            Job::Read(name, _) | Job::File { name, .. } | Job::Done(name, _) => name,
        }
    }
}

/// A job's bytes read whole.
pub(crate) struct ReadFile {
    pub name: String,
    pub bytes: Vec<u8>,
    /// The open file they came from (None for stdin), for reading parts of it again.
    pub file: Option<fs::File>,
}

/// Reads a job's bytes, or the result that reports why they could not be read.
pub(crate) fn read_job(job: Job, limits: &Limits) -> Result<ReadFile, Loaded> {
    let (name, read, file) = match job {
        Job::Done(_, loaded) => return Err(loaded),
        Job::Read(name, read) => (name, read, None),
        Job::File { path, name } => match fs::File::open(&path) {
            Ok(f) => {
                let len = f.metadata().map(|m| m.len()).ok();
                (name, read_limited(&f, len, limits), Some(f))
            }
            Err(e) => (name, Err(ReadError::Io(e)), None),
        },
    };
    match read {
        Ok(bytes) => Ok(ReadFile { name, bytes, file }),
        Err(ReadError::Io(e)) => {
            let mut out = Loaded {
                files: 1,
                ..Loaded::default()
            };
            io_error(&mut out, &name, &e);
            Err(out)
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
            Err(out)
        }
    }
}

pub(crate) enum ReadError {
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
