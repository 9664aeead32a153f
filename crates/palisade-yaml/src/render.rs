//! `--render`: Helm charts and Kustomize trees are not Kubernetes objects until rendered.
//! With a renderer on `PATH` (`helm`, `kubectl`), the scan renders each chart and each root
//! kustomization found among its inputs and scans the output instead of the source files.
//!
//! Locations point into the rendered stream: Helm prints `# Source: CHART/templates/x.yaml`
//! before each document, so each template's documents become one virtual file named after
//! the template (`DIR/templates/x.yaml (rendered)`) whose line numbers are those of
//! `helm template`'s output; Kustomize's output has no such comments and is one virtual file
//! `kubectl kustomize DIR`. The renderers are run without a shell, with a timeout and with
//! their output bounded by the per-file limit.

use crate::Limits;
use crate::kustomize::KUSTOMIZATION_NAMES;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The programs that render, found on `PATH` (or given, for tests), and how long one may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renderer {
    pub helm: Option<PathBuf>,
    pub kubectl: Option<PathBuf>,
    /// Longest a single `helm template` / `kubectl kustomize` may run before it is killed.
    pub timeout: Duration,
}

impl Renderer {
    /// `helm` and `kubectl` looked up on `PATH`.
    pub fn from_path(timeout: Duration) -> Renderer {
        Renderer {
            helm: which("helm"),
            kubectl: which("kubectl"),
            timeout,
        }
    }
}

/// What one rendering produced: virtual files (name, text) in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The command as a user would type it, for notes and errors.
    pub command: String,
    pub files: Vec<(String, String)>,
}

/// Why a chart or kustomization could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{tool} is not on PATH; install it or drop --render (`{command}` renders this input)")]
    Missing { tool: &'static str, command: String },
    #[error("`{command}` could not be started: {source}")]
    Start {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    Timeout { command: String, seconds: u64 },
    #[error("`{command}` printed more than {limit} bytes (--max-file-size); not scanned")]
    TooLarge { command: String, limit: u64 },
    #[error("`{command}` printed text that is not UTF-8")]
    NotUtf8 { command: String },
}

/// A directory to render and how.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A chart: a directory with `Chart.yaml`.
    Helm(PathBuf),
    /// A kustomization directory that no other kustomization among the inputs builds on.
    Kustomize(PathBuf),
}

impl Target {
    pub fn dir(&self) -> &Path {
        match self {
            Target::Helm(d) | Target::Kustomize(d) => d,
        }
    }

    /// The command line as shown to users.
    pub fn command(&self) -> String {
        match self {
            Target::Helm(d) => format!("helm template {} --include-crds", shown(d)),
            Target::Kustomize(d) => format!("kubectl kustomize {}", shown(d)),
        }
    }
}

/// A directory as shown to users: `.` for the current one.
pub(crate) fn shown(d: &Path) -> String {
    if d.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        d.display().to_string()
    }
}

/// The targets among `files` (in order of their first file) and, for every file one of them
/// renders, the target's index. A file belongs to the outermost chart above it (a chart
/// renders its subcharts and, with `--include-crds`, its `crds/`), else to the root of the
/// nearest kustomization above it: the kustomization itself when no other kustomization
/// among the inputs builds on it (through `resources`, `bases` or `components`), else the
/// root of the one that does.
pub(crate) fn targets(files: &[PathBuf], limits: &Limits) -> (Vec<Target>, HashMap<usize, usize>) {
    let mut found: Vec<Target> = Vec::new();
    let mut of_file = HashMap::new();
    let base = |d: &Path| -> PathBuf {
        if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d.to_path_buf()
        }
    };
    // Kustomization directories above any file, keyed by canonical path, with what each
    // builds on.
    let mut kdirs: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut built_by: HashMap<PathBuf, PathBuf> = HashMap::new();
    let dirs: BTreeSet<&Path> = files
        .iter()
        .filter_map(|f| f.parent())
        .flat_map(Path::ancestors)
        .collect();
    for dir in &dirs {
        let Some(kfile) = KUSTOMIZATION_NAMES
            .iter()
            .map(|n| base(dir).join(n))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let Ok(canon) = std::fs::canonicalize(base(dir)) else {
            continue;
        };
        let loaded = crate::load_mapping_file(&kfile, limits);
        if let Some(doc) = loaded.documents.first() {
            for key in ["resources", "bases", "components"] {
                for item in doc
                    .value
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(rel) = item.as_str()
                        && let Ok(target) = std::fs::canonicalize(canon.join(rel.trim()))
                        && target.is_dir()
                    {
                        built_by.entry(target).or_insert_with(|| canon.clone());
                    }
                }
            }
        }
        kdirs.insert(canon, dir.to_path_buf());
    }
    let root_of = |mut k: PathBuf| -> PathBuf {
        // Bounded walk: a cycle of kustomizations (kustomize refuses one) stops here too.
        for _ in 0..64 {
            match built_by.get(&k) {
                Some(by) if kdirs.contains_key(by) => k = by.clone(),
                _ => break,
            }
        }
        k
    };
    for (i, f) in files.iter().enumerate() {
        let Some(parent) = f.parent() else { continue };
        let chart = parent
            .ancestors()
            .filter(|d| base(d).join("Chart.yaml").is_file())
            .last();
        let target = match chart {
            Some(d) => Target::Helm(d.to_path_buf()),
            None => {
                let Some(k) = parent.ancestors().find_map(|d| {
                    std::fs::canonicalize(base(d))
                        .ok()
                        .filter(|c| kdirs.contains_key(c))
                }) else {
                    continue;
                };
                match kdirs.get(&root_of(k)) {
                    Some(shown) => Target::Kustomize(shown.clone()),
                    None => continue,
                }
            }
        };
        let n = match found.iter().position(|t| *t == target) {
            Some(n) => n,
            None => {
                found.push(target);
                found.len() - 1
            }
        };
        of_file.insert(i, n);
    }
    (found, of_file)
}

/// Runs the target's renderer and splits its output into virtual files.
pub fn render(
    target: &Target,
    renderer: &Renderer,
    max_bytes: u64,
) -> Result<Rendered, RenderError> {
    let command = target.command();
    let dir = shown(target.dir());
    let (tool, program, args): (&'static str, _, Vec<String>) = match target {
        // A fixed release name keeps names stable between runs; helm's default namespace
        // handling (`.Release.Namespace` = default) matches `helm template` typed by hand.
        Target::Helm(_) => (
            "helm",
            &renderer.helm,
            vec!["template".into(), dir.clone(), "--include-crds".into()],
        ),
        Target::Kustomize(_) => (
            "kubectl",
            &renderer.kubectl,
            vec!["kustomize".into(), dir.clone()],
        ),
    };
    let Some(program) = program else {
        return Err(RenderError::Missing { tool, command });
    };
    let text = run(program, &args, renderer.timeout, max_bytes, &command)?;
    let files = match target {
        Target::Helm(d) => split_helm(d, &text),
        Target::Kustomize(_) => vec![(command.clone(), text)],
    };
    Ok(Rendered { command, files })
}

/// Splits `helm template` output at its `# Source: CHART/PATH` comments. Each template's
/// documents become one file named `DIR/PATH (rendered)`, padded with empty lines so that
/// line numbers are those of the whole output. Text before the first comment (or output with
/// none) keeps the command's name.
pub fn split_helm(chart_dir: &Path, text: &str) -> Vec<(String, String)> {
    let command = format!("helm template {}", shown(chart_dir));
    let mut files: Vec<(String, String)> = Vec::new();
    let mut current = command.clone();
    let mut body = String::new();
    // Index of the file each name went to, so a template rendered in pieces stays one file.
    let mut start_of_body = 0usize;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        if let Some(source) = line.trim_end().strip_prefix("# Source: ") {
            // The document separator just before the comment belongs to the new piece.
            let (keep, moved) = match body.strip_suffix("---\n") {
                Some(rest) if body.ends_with("\n---\n") || body == "---\n" => {
                    (rest.to_owned(), true)
                }
                _ => (std::mem::take(&mut body), false),
            };
            push(&mut files, &current, keep, start_of_body);
            current = rendered_name(chart_dir, source);
            body = String::new();
            start_of_body = if moved { line_no - 1 } else { line_no };
            if moved {
                body.push_str("---\n");
            }
        }
        body.push_str(line);
    }
    push(&mut files, &current, body, start_of_body);
    files
}

/// Appends `body` (which starts at 0-based line `first` of the output) to the file `name`.
fn push(files: &mut Vec<(String, String)>, name: &str, body: String, first: usize) {
    if body.trim().is_empty() || body.trim() == "---" {
        return;
    }
    let i = match files.iter().position(|(n, _)| n == name) {
        Some(i) => i,
        None => {
            files.push((name.to_owned(), String::new()));
            files.len() - 1
        }
    };
    if let Some((_, text)) = files.get_mut(i) {
        let have = text.matches('\n').count();
        if first > have {
            // Padding keeps line numbers those of the whole output; a document separator
            // ends any earlier document of the same file before the gap.
            if have > 0 && !body.starts_with("---") {
                text.push_str("---\n");
            }
            let have = text.matches('\n').count();
            text.extend(std::iter::repeat_n('\n', first.saturating_sub(have)));
        }
        text.push_str(&body);
    }
}

/// `CHART/templates/x.yaml` (helm prints the chart's name, not its directory) as a path under
/// the chart's directory.
fn rendered_name(chart_dir: &Path, source: &str) -> String {
    let rel = source.split_once('/').map_or(source, |(_, rest)| rest);
    format!("{} (rendered)", chart_dir.join(rel).display())
}

/// Runs `program args` with no stdin, capturing stdout up to `max_bytes` and a bounded part
/// of stderr, killed after `timeout`. Written by hand: std has no wait with a timeout, and the
/// two pipes must be drained concurrently or a chatty renderer blocks.
fn run(
    program: &Path,
    args: &[String],
    timeout: Duration,
    max_bytes: u64,
    command: &str,
) -> Result<String, RenderError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| RenderError::Start {
            command: command.to_owned(),
            source,
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let over = match stdout {
            Some(s) => {
                let mut limited = s.take(max_bytes.saturating_add(1));
                let _ = limited.read_to_end(&mut buf);
                // Drain the rest so the child is not blocked on a full pipe before it is killed.
                let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
                buf.len() as u64 > max_bytes
            }
            None => false,
        };
        (buf, over)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr {
            let mut limited = s.take(16 * 1024);
            let _ = limited.read_to_end(&mut buf);
            let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(RenderError::Start {
                    command: command.to_owned(),
                    source,
                });
            }
        }
    };
    let Some(status) = status else {
        // The readers are not joined: a process the renderer started may still hold the
        // pipes open; they end with it.
        return Err(RenderError::Timeout {
            command: command.to_owned(),
            seconds: timeout.as_secs(),
        });
    };
    let (bytes, over) = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(RenderError::Failed {
            command: command.to_owned(),
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
        });
    }
    if over {
        return Err(RenderError::TooLarge {
            command: command.to_owned(),
            limit: max_bytes,
        });
    }
    String::from_utf8(bytes).map_err(|_| RenderError::NotUtf8 {
        command: command.to_owned(),
    })
}

/// The first executable `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_output_is_split_by_source_with_stream_lines() {
        let out = "---\n# Source: demo/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\n\
                   ---\n# Source: demo/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\n";
        let files = split_helm(Path::new("charts/demo"), out);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "charts/demo/templates/sa.yaml (rendered)",
                "charts/demo/templates/deploy.yaml (rendered)"
            ]
        );
        // `kind: Deployment` is line 8 of the output and of its virtual file.
        let deploy = &files[1].1;
        assert_eq!(deploy.lines().nth(7), Some("kind: Deployment"));
        let sa = &files[0].1;
        assert_eq!(sa.lines().nth(3), Some("kind: ServiceAccount"));
    }

    #[test]
    fn one_template_rendered_twice_stays_one_file() {
        let out = "---\n# Source: d/templates/a.yaml\nkind: A\n---\n# Source: d/templates/b.yaml\nkind: B\n\
                   ---\n# Source: d/templates/a.yaml\nkind: A2\n";
        let files = split_helm(Path::new("d"), out);
        assert_eq!(files.len(), 2);
        let a = &files[0].1;
        assert_eq!(a.lines().nth(2), Some("kind: A"));
        assert_eq!(a.lines().nth(8), Some("kind: A2"));
        // The two documents stay two documents.
        assert_eq!(a.matches("---\n").count(), 2);
    }
}
