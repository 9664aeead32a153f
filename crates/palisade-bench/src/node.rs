//! The node under test: a filesystem root (`/` or a snapshot), its process table (from a
//! `/proc` tree, or derived from static pod manifests and the kubelet's systemd unit when
//! there is none), file metadata as `stat` reports it, and owner names from the node's own
//! `etc/passwd` and `etc/group`.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Where a process entry came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum ProcSource {
    /// Observed: `/proc/<pid>`.
    Proc(PathBuf),
    /// Derived from a static pod manifest (not observed running).
    StaticPod(PathBuf),
    /// Derived from the kubelet's systemd unit and drop-ins (not observed running).
    SystemdUnit(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub pid: u32,
    /// `comm` as `ps -C` compares it (at most 15 bytes).
    pub comm: String,
    pub args: Vec<String>,
    pub user: String,
    /// `NAME=value` lines, as `tr '\0' '\n'` prints `/proc/<pid>/environ`.
    pub environ: Option<String>,
    pub source: ProcSource,
}

impl Process {
    pub fn cmdline(&self) -> String {
        self.args.join(" ")
    }

    /// The line `ps -ef` prints (`UID PID PPID C STIME TTY TIME CMD`).
    pub fn ps_ef_line(&self) -> String {
        format!(
            "{:<8} {:>7} {:>7}  0 00:00 ?        00:00:00 {}",
            self.user,
            self.pid,
            1,
            self.cmdline()
        )
    }
}

/// `stat` results for one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// Permission bits as `%a` prints them (octal, no leading zeros, special bits included).
    pub mode: String,
    pub owner: String,
    pub group: String,
    pub is_dir: bool,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub root: PathBuf,
    pub processes: Vec<Process>,
    /// True when the process table was observed (a `/proc` tree), false when derived.
    pub observed: bool,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

const MAX_LINK_HOPS: usize = 40;

impl Node {
    /// Reads the node at `root`; processes from `proc_dir` when given and readable, else
    /// derived from the static pod manifests and kubelet unit under `root`.
    pub fn load(root: &Path, proc_dir: Option<&Path>) -> Node {
        let mut node = Node {
            root: root.to_path_buf(),
            processes: Vec::new(),
            observed: false,
            users: HashMap::new(),
            groups: HashMap::new(),
        };
        node.users = read_id_names(&node.resolve("/etc/passwd"));
        node.groups = read_id_names(&node.resolve("/etc/group"));
        if let Some(dir) = proc_dir
            && let Some(procs) = read_proc(dir, &node.users)
        {
            node.processes = procs;
            node.observed = true;
        } else {
            node.processes = derive_processes(&node);
        }
        node
    }

    /// A node with the given processes and no files (tests of the semantics).
    pub fn with_processes(root: &Path, processes: Vec<Process>) -> Node {
        let mut node = Node::load(root, None);
        node.processes = processes;
        node.observed = true;
        node
    }

    /// `path` (as the node sees it) inside the root, symbolic links followed inside the root.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.resolve_inner(path, true)
    }

    /// Like [`Node::resolve`] but the last component is not followed (`lstat`).
    pub fn resolve_nofollow(&self, path: &str) -> PathBuf {
        self.resolve_inner(path, false)
    }

    fn resolve_inner(&self, path: &str, follow_last: bool) -> PathBuf {
        let mut out = self.root.clone();
        let mut queue: VecDeque<String> = components(Path::new(path));
        let mut hops = 0;
        while let Some(c) = queue.pop_front() {
            if c == ".." {
                if out != self.root {
                    out.pop();
                }
                continue;
            }
            let cand = out.join(&c);
            let last = queue.is_empty();
            let is_link = fs::symlink_metadata(&cand)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if is_link && (follow_last || !last) && hops < MAX_LINK_HOPS {
                hops += 1;
                if let Ok(target) = fs::read_link(&cand) {
                    if target.is_absolute() {
                        out = self.root.clone();
                    }
                    let mut parts = components(&target);
                    parts.extend(queue);
                    queue = parts;
                    continue;
                }
            }
            out = cand;
        }
        out
    }

    /// `test -e` (follows links).
    pub fn exists(&self, path: &str) -> bool {
        fs::metadata(self.resolve(path)).is_ok()
    }

    /// `test -d`.
    pub fn is_dir(&self, path: &str) -> bool {
        fs::metadata(self.resolve(path))
            .map(|m| m.is_dir())
            .unwrap_or(false)
    }

    /// `stat PATH` (without `-L`: a link reports itself).
    pub fn stat(&self, path: &str) -> std::io::Result<FileInfo> {
        let md = fs::symlink_metadata(self.resolve_nofollow(path))?;
        Ok(FileInfo {
            mode: format!("{:o}", md.mode() & 0o7777),
            owner: self.user_name(md.uid()),
            group: self.group_name(md.gid()),
            is_dir: md.is_dir(),
        })
    }

    /// `cat PATH`.
    pub fn read(&self, path: &str) -> std::io::Result<String> {
        let bytes = fs::read(self.resolve(path))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Entries of a directory (names), sorted, for `find` and globs.
    pub fn list_dir(&self, path: &str) -> std::io::Result<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(self.resolve(path))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// `%U`: the node's user name, `UNKNOWN` as stat prints it without an entry.
    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| "UNKNOWN".into())
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.groups
            .get(&gid)
            .cloned()
            .unwrap_or_else(|| "UNKNOWN".into())
    }

    /// The Kubernetes minor version (`1.33`): from the image tags of the control-plane static
    /// pods (`registry.k8s.io/kube-apiserver:v1.33.2`), else from the kubelet binary.
    pub fn detect_version(&self) -> Option<String> {
        self.version_from_static_pods()
            .or_else(|| self.version_from_kubelet_binary())
    }

    /// The version stamped into the kubelet binary the node runs (argv[0] of its process, or
    /// `/usr/bin/kubelet`): Go >= 1.24 builds record `k8s.io/kubernetes vX.Y.Z` as the main
    /// module of their build info; older ones hold the `-X` stamped `gitVersion` twice in a
    /// row in `.rodata` (`v1.32.5\0v1.32.5\0`, client-go's and component-base's copies).
    pub fn version_from_kubelet_binary(&self) -> Option<String> {
        let mut candidates: Vec<String> = self
            .processes
            .iter()
            .filter(|p| p.comm == "kubelet")
            .filter_map(|p| p.args.first().cloned())
            .filter(|a| a.starts_with('/'))
            .collect();
        candidates.extend([
            "/usr/bin/kubelet".to_string(),
            "/usr/local/bin/kubelet".to_string(),
        ]);
        candidates.iter().find_map(|c| {
            fs::read(self.resolve(c))
                .ok()
                .and_then(|b| kube_version_in_binary(&b))
        })
    }

    fn version_from_static_pods(&self) -> Option<String> {
        let re =
            regex::Regex::new(r"kube-(?:apiserver|controller-manager|scheduler|proxy):v(\d+\.\d+)")
                .ok()?;
        let dir = "/etc/kubernetes/manifests";
        for name in self.list_dir(dir).unwrap_or_default() {
            if let Ok(text) = self.read(&format!("{dir}/{name}"))
                && let Some(c) = re.captures(&text)
            {
                return c.get(1).map(|m| m.as_str().to_string());
            }
        }
        None
    }

    /// `ps -ef` output (header first).
    pub fn ps_ef(&self) -> Vec<String> {
        let mut lines = vec!["UID          PID    PPID  C STIME TTY          TIME CMD".to_string()];
        lines.extend(self.processes.iter().map(Process::ps_ef_line));
        lines
    }

    /// The name the node is registered under, as `oc get pod $HOSTNAME -o
    /// jsonpath={.spec.nodeName}` answers it for a pod on this node: the kubelet's
    /// `--hostname-override`, else the host name (`etc/hostname`, lower-cased as the kubelet
    /// registers it). With the file it was read from and its size in bytes, `None` when
    /// neither is known.
    pub fn node_name(&self) -> Option<(String, Option<(String, usize)>)> {
        let over = self
            .processes
            .iter()
            .filter(|p| p.comm == "kubelet")
            .find_map(|p| flag_value(&p.args, "--hostname-override"));
        if let Some(name) = over.filter(|n| !n.trim().is_empty()) {
            return Some((name.trim().to_lowercase(), None));
        }
        let text = self.read("/etc/hostname").ok()?;
        let name = text.lines().next()?.trim().to_lowercase();
        (!name.is_empty()).then(|| (name, Some(("/etc/hostname".to_string(), text.len()))))
    }

    /// Processes `ps -C NAME` selects (comm equal to the first 15 bytes of NAME).
    pub fn by_comm(&self, name: &str) -> Vec<&Process> {
        let want = truncate_comm(name);
        self.processes.iter().filter(|p| p.comm == want).collect()
    }
}

/// The Kubernetes minor version stamped into a Kubernetes binary (see
/// [`Node::version_from_kubelet_binary`]).
pub fn kube_version_in_binary(bytes: &[u8]) -> Option<String> {
    let minor_of = |v: &[u8]| -> Option<String> {
        let text = std::str::from_utf8(v).ok()?;
        let re = regex::Regex::new(r"^v(\d+)\.(\d+)\.\d+").ok()?;
        let c = re.captures(text)?;
        Some(format!("{}.{}", c.get(1)?.as_str(), c.get(2)?.as_str()))
    };
    // Build info (Go >= 1.24): "mod\tk8s.io/kubernetes\tv1.33.1\t".
    let re =
        regex::bytes::Regex::new(r"mod\tk8s\.io/kubernetes\t(v\d+\.\d+\.\d+[-+.0-9A-Za-z]*)\t")
            .ok()?;
    if let Some(m) = re.captures(bytes).and_then(|c| c.get(1)) {
        return minor_of(m.as_bytes());
    }
    let re = regex::bytes::Regex::new(r"v1\.\d{1,2}\.\d{1,3}[-+.0-9A-Za-z]{0,40}\x00").ok()?;
    for m in re.find_iter(bytes) {
        let v = m.as_bytes();
        if bytes.get(m.end()..m.end() + v.len()) == Some(v) {
            return minor_of(v);
        }
    }
    None
}

fn components(path: &Path) -> VecDeque<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// The kernel keeps 15 bytes of a process name (TASK_COMM_LEN - 1).
pub fn truncate_comm(name: &str) -> String {
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or(name).to_string()
}

fn read_id_names(path: &Path) -> HashMap<u32, String> {
    let Ok(text) = fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut map = HashMap::new();
    for line in text.lines() {
        let mut f = line.split(':');
        if let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next())
            && let Ok(id) = id.parse::<u32>()
        {
            // The first entry for an id wins, as getpwuid returns it.
            map.entry(id).or_insert_with(|| name.to_string());
        }
    }
    map
}

fn read_proc(dir: &Path, users: &HashMap<u32, String>) -> Option<Vec<Process>> {
    let entries = fs::read_dir(dir).ok()?;
    let mut procs = Vec::new();
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<u32>() else {
            continue;
        };
        let base = e.path();
        let Ok(cmdline) = fs::read(base.join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // Kernel threads have no command line; ps shows them bracketed, no check reads them.
        if args.is_empty() {
            continue;
        }
        let comm = fs::read_to_string(base.join("comm"))
            .map(|s| s.trim_end_matches('\n').to_string())
            .unwrap_or_else(|_| {
                truncate_comm(&basename(args.first().map(String::as_str).unwrap_or("")))
            });
        let uid = fs::read_to_string(base.join("status")).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| {
                    v.split_whitespace()
                        .next()
                        .and_then(|x| x.parse::<u32>().ok())
                })
        });
        let user = match uid {
            Some(u) => users.get(&u).cloned().unwrap_or_else(|| u.to_string()),
            None => "root".into(),
        };
        let environ = fs::read(base.join("environ")).ok().map(|b| {
            String::from_utf8_lossy(&b)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        });
        procs.push(Process {
            pid,
            comm,
            args,
            user,
            environ,
            source: ProcSource::Proc(base),
        });
    }
    if procs.is_empty() {
        return None;
    }
    procs.sort_by_key(|p| p.pid);
    Some(procs)
}

fn basename(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_string()
}

/// Processes a snapshot would run: static pod containers and the kubelet from its unit.
fn derive_processes(node: &Node) -> Vec<Process> {
    let mut procs = Vec::new();
    let kubelet = kubelet_from_units(node);
    let manifests = kubelet
        .as_ref()
        .and_then(|k| static_pod_path(node, k))
        .unwrap_or_else(|| "/etc/kubernetes/manifests".to_string());
    let mut pid = 1000;
    for name in node.list_dir(&manifests).unwrap_or_default() {
        if !(name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name.ends_with(".json")
            || name.ends_with(".manifest"))
        {
            continue;
        }
        let display = format!("{}/{name}", manifests.trim_end_matches('/'));
        let Ok(bytes) = fs::read(node.resolve(&display)) else {
            continue;
        };
        let loaded = palisade_yaml::load_bytes(&display, &bytes, &palisade_yaml::Limits::default());
        for doc in loaded.documents {
            let containers = doc
                .value
                .pointer("/spec/containers")
                .and_then(|c| c.as_array())
                .cloned()
                .unwrap_or_default();
            for c in containers {
                let strings = |key: &str| -> Vec<String> {
                    c.get(key)
                        .and_then(|v| v.as_array())
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let mut args = strings("command");
                args.extend(strings("args"));
                if args.is_empty() {
                    continue;
                }
                let env: Vec<String> = c
                    .get("env")
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| {
                                let n = e.get("name")?.as_str()?;
                                let v = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
                                Some(format!("{n}={v}"))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                pid += 1;
                procs.push(Process {
                    pid,
                    comm: truncate_comm(&basename(args.first().map(String::as_str).unwrap_or(""))),
                    args,
                    user: "root".into(),
                    environ: Some(env.join("\n")),
                    source: ProcSource::StaticPod(PathBuf::from(&display)),
                });
            }
        }
    }
    if let Some(k) = kubelet {
        procs.push(k);
    }
    procs
}

/// `staticPodPath` of the kubelet's `--config` file.
fn static_pod_path(node: &Node, kubelet: &Process) -> Option<String> {
    let config = flag_value(&kubelet.args, "--config")?;
    let text = node.read(&config).ok()?;
    let (value, _) = crate::semantics::unmarshal(&text).ok()?;
    value
        .get("staticPodPath")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// The value of `--name=value` or `--name value` (the last occurrence, as pflag keeps it).
pub fn flag_value(args: &[String], name: &str) -> Option<String> {
    let mut found = None;
    let mut iter = args.iter().peekable();
    while let Some(a) = iter.next() {
        if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_string());
        } else if a == name
            && let Some(next) = iter.peek()
            && !next.starts_with('-')
        {
            found = Some((*next).clone());
        }
    }
    found
}

const UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// The kubelet command line systemd would start: `ExecStart` of `kubelet.service` and its
/// drop-ins (later files win, an empty `ExecStart=` resets), `Environment=` and
/// `EnvironmentFile=` variables expanded (kubeadm's `10-kubeadm.conf` shape).
fn kubelet_from_units(node: &Node) -> Option<Process> {
    let mut files: Vec<String> = Vec::new();
    for dir in UNIT_DIRS.iter().rev() {
        let unit = format!("{dir}/kubelet.service");
        if node.exists(&unit) && !files.contains(&unit) {
            files.push(unit);
        }
    }
    let mut dropins: Vec<(String, String)> = Vec::new();
    for dir in UNIT_DIRS.iter().rev() {
        let d = format!("{dir}/kubelet.service.d");
        for name in node.list_dir(&d).unwrap_or_default() {
            if name.ends_with(".conf") {
                dropins.retain(|(n, _)| *n != name);
                dropins.push((name.clone(), format!("{d}/{name}")));
            }
        }
    }
    dropins.sort();
    files.extend(dropins.into_iter().map(|(_, p)| p));
    let first = files.first()?.clone();
    let mut exec: Option<String> = None;
    let mut env: HashMap<String, String> = HashMap::new();
    for f in &files {
        let Ok(text) = node.read(f) else { continue };
        for line in join_continuations(&text) {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("ExecStart=") {
                exec = if v.trim().is_empty() {
                    None
                } else {
                    Some(v.trim().to_string())
                };
            } else if let Some(v) = line.strip_prefix("Environment=") {
                for assign in split_words(v) {
                    if let Some((k, val)) = assign.split_once('=') {
                        env.insert(k.to_string(), val.to_string());
                    }
                }
            } else if let Some(v) = line.strip_prefix("EnvironmentFile=") {
                let path = v.trim().trim_start_matches('-');
                if let Ok(t) = node.read(path) {
                    for l in t.lines() {
                        let l = l.trim();
                        if l.starts_with('#') {
                            continue;
                        }
                        if let Some((k, val)) = l.split_once('=') {
                            env.insert(
                                k.trim().to_string(),
                                val.trim().trim_matches('"').to_string(),
                            );
                        }
                    }
                }
            }
        }
    }
    let exec = exec?;
    let mut args = Vec::new();
    for word in split_words(exec.trim_start_matches(['-', '@', '+', '!', ':'])) {
        if let Some(name) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
            if let Some(v) = env.get(name).filter(|v| !v.is_empty()) {
                args.push(v.clone());
            }
        } else if let Some(name) = word.strip_prefix('$') {
            args.extend(
                env.get(name)
                    .map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
        } else {
            args.push(word);
        }
    }
    if args.is_empty() {
        return None;
    }
    Some(Process {
        pid: 900,
        comm: truncate_comm(&basename(args.first().map(String::as_str).unwrap_or(""))),
        args,
        user: "root".into(),
        environ: None,
        source: ProcSource::SystemdUnit(PathBuf::from(first)),
    })
}

fn join_continuations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(stripped) = line.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push(' ');
        } else {
            cur.push_str(line);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words with double-quoted spans kept together (quotes removed), as systemd splits them.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_last_wins_and_space_form() {
        let a: Vec<String> = ["kubelet", "--config=/a", "--x", "v", "--config", "/b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flag_value(&a, "--config"), Some("/b".into()));
        assert_eq!(flag_value(&a, "--x"), Some("v".into()));
        assert_eq!(flag_value(&a, "--y"), None);
    }

    #[test]
    fn version_from_binary_bytes() {
        let mut b = b"\x7fELF junk v1.2.3\x00 more".to_vec();
        assert_eq!(kube_version_in_binary(&b), None, "one copy is not enough");
        b.extend_from_slice(b"xxv1.32.5\x00v1.32.5\x00yy");
        assert_eq!(kube_version_in_binary(&b), Some("1.32".into()));
        let info = b"path\tk8s.io/kubernetes/cmd/kubelet\nmod\tk8s.io/kubernetes\tv1.33.1\t\n";
        assert_eq!(kube_version_in_binary(info), Some("1.33".into()));
        assert_eq!(
            kube_version_in_binary(b"v1.30.1-eks-1\x00v1.30.1-eks-1\x00"),
            Some("1.30".into())
        );
    }

    #[test]
    fn comm_is_15_bytes() {
        assert_eq!(truncate_comm("kube-controller-manager"), "kube-controller");
    }

    #[test]
    fn systemd_words() {
        assert_eq!(
            split_words(r#""KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml" X=1"#),
            vec![
                "KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml",
                "X=1"
            ]
        );
    }
}
