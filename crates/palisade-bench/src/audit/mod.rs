//! Audit commands evaluated without a shell. The cfg files' audits are short shell scripts
//! over a handful of tools; [`parse`] reads the shell subset they use and this module runs
//! it against a [`Node`]: `ps` from the node's process table, `stat`/`cat`/`find`/`test`
//! from its files, and the text tools (`grep`, `sed`, `awk`, `xargs`, `tail`, `uniq`, `tr`,
//! `echo`, ...) in process; also `openssl x509 -subject -issuer`, `systemctl is-enabled`
//! from unit files, the RKE/RKE2 helper scripts, and OpenShift's `oc debug node/... --
//! chroot /host CMD` (CMD on the node's root). Every file and process consulted is recorded
//! as [`Evidence`]. An audit that uses anything else (`kubectl` and other `oc` commands,
//! `journalctl`, runtime `systemctl`, process substitution) is [`Support::NotNative`]: the
//! caller runs it through `sh -c` when allowed, else reports it as not evaluated.

pub mod parse;
mod tools;
mod x509;

use crate::node::{Node, ProcSource};
use parse::{Part, Stmt, Word};
use serde::Serialize;
use std::collections::HashMap;

/// What was looked at while evaluating an audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A process whose command line was read (`source` says if observed or derived).
    Process {
        pid: u32,
        cmdline: String,
        source: ProcSource,
    },
    /// `stat` of a file.
    File {
        path: String,
        mode: String,
        owner: String,
        group: String,
    },
    /// A file read (`cat`, `grep FILE`).
    Read { path: String, bytes: usize },
    /// A path that did not exist or could not be read.
    Missing { path: String, error: String },
}

/// Whether an audit can be evaluated natively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "support", content = "reason", rename_all = "snake_case")]
pub enum Support {
    Native,
    NotNative(String),
}

/// Commands the evaluator implements (after stripping `/bin/`, `/usr/bin/`).
pub const NATIVE_COMMANDS: &[&str] = &[
    "ps",
    "grep",
    "stat",
    "cat",
    "find",
    "xargs",
    "echo",
    "printf",
    "test",
    "[",
    "sed",
    "awk",
    "tail",
    "head",
    "uniq",
    "tr",
    "sort",
    "wc",
    "true",
    "false",
    "sh",
    "more",
    "openssl",
    "systemctl",
    "check_cafile_permissions.sh",
    "check_cafile_ownership.sh",
    "check_files_owner_in_dir.sh",
];

/// The result of running one audit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditRun {
    /// stdout and stderr together, as kube-bench captures them.
    pub output: String,
    pub status: i32,
    pub evidence: Vec<Evidence>,
    /// Set when a tool met an option or form it does not implement: the result is not
    /// kube-bench's and the audit counts as not evaluated natively.
    pub unsupported: Option<String>,
}

/// Classifies an audit (after `$var` substitution).
pub fn support(audit: &str) -> Support {
    let reason = match parse::parse(audit.trim()) {
        Err(e) => match external_tool(audit) {
            // Name the tool the script needs rather than the first syntax it trips on.
            Some(tool) => format!("uses `{tool}`{}", hint(&tool)),
            None => format!("shell syntax: {e}"),
        },
        Ok(stmts) => match unsupported_in(&stmts) {
            Some(reason) => reason,
            None => return Support::Native,
        },
    };
    // One line, bounded: reasons are shown next to the command and listed in a TSV.
    let mut one: String = reason.replace('\n', "\\n");
    if one.len() > 160 {
        let mut end = 160;
        while !one.is_char_boundary(end) {
            end -= 1;
        }
        one.truncate(end);
        one.push_str("...");
    }
    Support::NotNative(one)
}

/// A program the node evaluator does not have, named anywhere in the script.
fn external_tool(audit: &str) -> Option<String> {
    let re = regex::Regex::new(
        r"(?:^|[\s|;(`$])(kubectl|oc|journalctl|systemctl|gcloud|jq|openssl|aws|az|diff|bash)\s",
    )
    .ok()?;
    re.captures(audit)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

fn command_name(w: &Word) -> Option<String> {
    let mut s = String::new();
    for p in w {
        match p {
            Part::Lit(t, _) => s.push_str(t),
            _ => return None,
        }
    }
    Some(
        s.strip_prefix("/usr/bin/")
            .or_else(|| s.strip_prefix("/bin/"))
            .unwrap_or(&s)
            .to_string(),
    )
}

fn unsupported_in(stmts: &[Stmt]) -> Option<String> {
    for s in stmts {
        let r = match s {
            Stmt::Pipeline(cmds) => cmds
                .iter()
                .find_map(|c| cmd_unsupported(&c.words, c.stderr_null)),
            Stmt::Assign(_, w) => w.iter().find_map(|p| match p {
                Part::Subst(s, _) => unsupported_in(s),
                _ => None,
            }),
            Stmt::And(a, b) | Stmt::Or(a, b) => unsupported_in(std::slice::from_ref(a))
                .or_else(|| unsupported_in(std::slice::from_ref(b))),
            Stmt::Not(a) => unsupported_in(std::slice::from_ref(a)),
            Stmt::If(arms, else_) => arms
                .iter()
                .find_map(|(c, b)| unsupported_in(c).or_else(|| unsupported_in(b)))
                .or_else(|| else_.as_deref().and_then(unsupported_in)),
            Stmt::For(_, words, body) => words
                .iter()
                .flatten()
                .find_map(|p| match p {
                    Part::Subst(s, _) => unsupported_in(s),
                    _ => None,
                })
                .or_else(|| unsupported_in(body)),
        };
        if r.is_some() {
            return r;
        }
    }
    None
}

/// Why one simple command (its words, and whether its stderr goes to `/dev/null`) is not
/// evaluated natively, `None` when it is.
fn cmd_unsupported(words: &[Word], stderr_null: bool) -> Option<String> {
    let name = words.first().and_then(command_name);
    let inner = words.iter().flatten().find_map(|p| match p {
        Part::Subst(s, _) => unsupported_in(s),
        _ => None,
    });
    match name {
        None => Some("a command named by a variable".to_string()),
        Some(n) if n == "sh" => {
            // `/bin/sh -c SCRIPT`: the script must be native too.
            let script = words.get(2).and_then(script_text);
            match (words.get(1).and_then(command_name).as_deref(), script) {
                (Some("-c"), Some(script)) => match parse::parse(&script) {
                    Ok(st) => unsupported_in(&st),
                    Err(e) => Some(format!("shell syntax: {e}")),
                },
                _ => Some("sh without -c SCRIPT".into()),
            }
        }
        Some(n) if n == "oc" => match oc_form(words) {
            // `chroot /host CMD` in a debug pod on this node is CMD run against the node's
            // root. oc's own progress lines ("Starting pod/...") go to stderr, so the form is
            // only exact when that is dropped.
            Some(OcForm::DebugChroot(cmd)) if stderr_null => cmd_unsupported(cmd, true),
            Some(OcForm::DebugChroot(_)) => Some(
                "uses `oc debug` with its stderr (oc's progress messages) in the output".into(),
            ),
            Some(OcForm::NodeName) => inner,
            None => Some(format!("uses `oc`{}", hint("oc"))),
        },
        // A "program" whose name holds blanks (an upstream quoting slip that made a whole
        // script one word) exists nowhere: the shell reports it not found.
        Some(n) if n.contains(char::is_whitespace) => inner,
        // Unit-file state only: `show`/`status` are the live init system's.
        Some(n) if n == "systemctl" => {
            let verb = words.get(1).and_then(command_name);
            (verb.as_deref() != Some("is-enabled") || words.len() != 3)
                .then(|| format!("uses `systemctl`{}", hint("systemctl")))
                .or(inner)
        }
        Some(n) if NATIVE_COMMANDS.contains(&n.as_str()) => inner,
        Some(n) => Some(format!("uses `{n}`{}", hint(&n))),
    }
}

/// The two `oc` forms answered from the node itself.
enum OcForm<'a> {
    /// `oc debug node/NAME -- chroot /host CMD...`: the words of CMD.
    DebugChroot(&'a [Word]),
    /// `oc get pod $HOSTNAME -o=jsonpath='{.spec.nodeName}'`: the name of this node.
    NodeName,
}

fn oc_form(words: &[Word]) -> Option<OcForm<'_>> {
    let lit = |i: usize| words.get(i).and_then(command_name);
    if lit(1).as_deref() == Some("debug")
        && words
            .get(2)
            .and_then(|w| w.first())
            .is_some_and(|p| matches!(p, Part::Lit(t, _) if t.starts_with("node/")))
        && lit(3).as_deref() == Some("--")
        && lit(4).as_deref() == Some("chroot")
        && lit(5).as_deref() == Some("/host")
        && words.len() > 6
    {
        return words.get(6..).map(OcForm::DebugChroot);
    }
    let hostname = matches!(
        words.get(3).map(Vec::as_slice),
        Some([Part::Var(v, None, _)]) if v == "HOSTNAME"
    );
    (words.len() == 5
        && lit(1).as_deref() == Some("get")
        && lit(2).as_deref() == Some("pod")
        && hostname
        && lit(4).as_deref() == Some("-o=jsonpath={.spec.nodeName}"))
    .then_some(OcForm::NodeName)
}

fn hint(cmd: &str) -> &'static str {
    match cmd {
        "kubectl" | "oc" | "jq" => ", which needs the Kubernetes API",
        "journalctl" => ", which reads the systemd journal (not read natively)",
        "systemctl" => ", which needs the live init system",
        "gcloud" | "aws" | "az" => ", which needs the cloud API",
        c if c.ends_with(".sh") => ", a helper script of the kube-bench image",
        _ => "",
    }
}

/// The text of an `sh -c` script word for classification: variables of the outer shell
/// (unsubstituted `$var`s in a cfg) stay as `$name`, their value is a plain word at run time.
fn script_text(w: &Word) -> Option<String> {
    let mut s = String::new();
    for p in w {
        match p {
            Part::Lit(t, _) => s.push_str(t),
            Part::Var(name, _, _) => {
                s.push('$');
                s.push_str(name);
            }
            Part::Subst(..) => return None,
        }
    }
    Some(s)
}

/// Runs an audit natively. Call [`support`] first: unsupported commands here end with
/// status 127 and a message, like a shell without the program.
pub fn run(audit: &str, node: &Node) -> AuditRun {
    let mut sh = Shell {
        node,
        vars: HashMap::new(),
        evidence: Vec::new(),
        seen_pids: Vec::new(),
        unsupported: None,
    };
    let audit = audit.trim();
    match parse::parse(audit) {
        Err(e) => AuditRun {
            output: format!("sh: syntax not supported: {e}\n"),
            status: 2,
            evidence: Vec::new(),
            unsupported: Some(format!("shell syntax: {e}")),
        },
        Ok(stmts) => {
            let (out, status) = sh.list(&stmts, "");
            // The processes whose command lines reached the output are the evidence.
            let pids: Vec<u32> = node
                .processes
                .iter()
                .filter(|p| out.merged.contains(&p.cmdline()))
                .map(|p| p.pid)
                .collect();
            for pid in pids {
                sh.note_process(pid);
            }
            AuditRun {
                output: out.merged,
                status,
                evidence: sh.evidence,
                unsupported: sh.unsupported,
            }
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Out {
    /// What the pipeline passes on (stdout).
    pub stdout: String,
    /// stdout and stderr in order, what the caller of the whole script sees.
    pub merged: String,
}

pub(crate) struct Shell<'a> {
    pub node: &'a Node,
    pub vars: HashMap<String, String>,
    pub evidence: Vec<Evidence>,
    seen_pids: Vec<u32>,
    pub unsupported: Option<String>,
}

/// One command's result.
pub(crate) struct Res {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Res {
    pub fn ok(stdout: String) -> Res {
        Res {
            stdout,
            stderr: String::new(),
            status: 0,
        }
    }
}

impl Shell<'_> {
    pub(crate) fn note_process(&mut self, pid: u32) {
        if self.seen_pids.contains(&pid) {
            return;
        }
        if let Some(p) = self.node.processes.iter().find(|p| p.pid == pid) {
            self.seen_pids.push(pid);
            self.evidence.push(Evidence::Process {
                pid,
                cmdline: p.cmdline(),
                source: p.source.clone(),
            });
        }
    }

    pub(crate) fn note(&mut self, e: Evidence) {
        if !self.evidence.contains(&e) {
            self.evidence.push(e);
        }
    }

    /// The text of `path` on the node, recorded as evidence: read, or missing with the error.
    pub(crate) fn read_noted(&mut self, path: &str) -> std::io::Result<String> {
        let r = self.node.read(path);
        self.note(match &r {
            Ok(t) => Evidence::Read {
                path: path.to_string(),
                bytes: t.len(),
            },
            Err(e) => Evidence::Missing {
                path: path.to_string(),
                error: e.to_string(),
            },
        });
        r
    }

    fn list(&mut self, stmts: &[Stmt], stdin: &str) -> (Out, i32) {
        let mut out = Out::default();
        let mut status = 0;
        for s in stmts {
            let (o, st) = self.stmt(s, stdin);
            out.stdout.push_str(&o.stdout);
            out.merged.push_str(&o.merged);
            status = st;
        }
        (out, status)
    }

    fn stmt(&mut self, s: &Stmt, stdin: &str) -> (Out, i32) {
        match s {
            Stmt::Pipeline(cmds) => self.pipeline(cmds, stdin),
            Stmt::Assign(name, w) => {
                let (v, out) = self.expand_one(w);
                self.vars.insert(name.clone(), v);
                (out, 0)
            }
            Stmt::And(a, b) => {
                let (mut o, st) = self.stmt(a, stdin);
                if st != 0 {
                    return (o, st);
                }
                let (o2, st2) = self.stmt(b, stdin);
                o.stdout.push_str(&o2.stdout);
                o.merged.push_str(&o2.merged);
                (o, st2)
            }
            Stmt::Or(a, b) => {
                let (mut o, st) = self.stmt(a, stdin);
                if st == 0 {
                    return (o, st);
                }
                let (o2, st2) = self.stmt(b, stdin);
                o.stdout.push_str(&o2.stdout);
                o.merged.push_str(&o2.merged);
                (o, st2)
            }
            Stmt::Not(a) => {
                let (o, st) = self.stmt(a, stdin);
                (o, i32::from(st == 0))
            }
            Stmt::If(arms, else_) => {
                let mut out = Out::default();
                for (cond, body) in arms {
                    let (o, st) = self.list(cond, stdin);
                    out.stdout.push_str(&o.stdout);
                    out.merged.push_str(&o.merged);
                    if st == 0 {
                        let (o, st) = self.list(body, stdin);
                        out.stdout.push_str(&o.stdout);
                        out.merged.push_str(&o.merged);
                        return (out, st);
                    }
                }
                match else_ {
                    Some(body) => {
                        let (o, st) = self.list(body, stdin);
                        out.stdout.push_str(&o.stdout);
                        out.merged.push_str(&o.merged);
                        (out, st)
                    }
                    None => (out, 0),
                }
            }
            Stmt::For(name, words, body) => {
                let mut items = Vec::new();
                let mut out = Out::default();
                for w in words {
                    let (vals, o) = self.expand(w);
                    out.merged.push_str(&o.merged);
                    items.extend(vals);
                }
                let mut status = 0;
                for item in items {
                    self.vars.insert(name.clone(), item);
                    let (o, st) = self.list(body, stdin);
                    out.stdout.push_str(&o.stdout);
                    out.merged.push_str(&o.merged);
                    status = st;
                }
                (out, status)
            }
        }
    }

    fn pipeline(&mut self, cmds: &[parse::Cmd], stdin: &str) -> (Out, i32) {
        let mut input = stdin.to_string();
        let mut merged = String::new();
        let mut status = 0;
        let last = cmds.len().saturating_sub(1);
        for (i, cmd) in cmds.iter().enumerate() {
            let mut argv = Vec::new();
            for w in &cmd.words {
                let (vals, o) = self.expand(w);
                merged.push_str(&o.merged);
                argv.extend(vals);
            }
            let res = self.exec(&argv, &input);
            if !cmd.stderr_null {
                if cmd.stderr_to_stdout {
                    input = format!("{}{}", res.stdout, res.stderr);
                } else {
                    merged.push_str(&res.stderr);
                    input = res.stdout;
                }
            } else {
                input = res.stdout;
            }
            status = res.status;
            if i == last {
                merged.push_str(&input);
            }
        }
        (
            Out {
                stdout: input,
                merged,
            },
            status,
        )
    }

    /// Expands a word into fields: variables and `$(...)` (unquoted ones split on
    /// whitespace), unquoted globs matched against the node's files.
    fn expand(&mut self, w: &Word) -> (Vec<String>, Out) {
        let mut out = Out::default();
        // (text, kept): a field made only of empty unquoted expansions disappears.
        let mut fields: Vec<(String, bool)> = vec![(String::new(), false)];
        let mut has_glob = false;
        for p in w {
            let (text, quoted) = match p {
                Part::Lit(t, q) => {
                    if !q && t.contains(['*', '?', '[']) {
                        has_glob = true;
                    }
                    if let Some(last) = fields.last_mut() {
                        last.0.push_str(t);
                        last.1 |= *q || !t.is_empty();
                    }
                    continue;
                }
                Part::Var(name, default, q) => {
                    let v = self.vars.get(name).cloned().unwrap_or_default();
                    let v = match default {
                        Some(d) if v.is_empty() => d.clone(),
                        _ => v,
                    };
                    (v, *q)
                }
                Part::Subst(stmts, q) => {
                    let (o, _) = self.list(stmts, "");
                    // stderr of a command substitution goes to the caller's output.
                    out.merged.push_str(&o.merged.replacen(&o.stdout, "", 1));
                    (o.stdout.trim_end_matches('\n').to_string(), *q)
                }
            };
            if quoted {
                if let Some(last) = fields.last_mut() {
                    last.0.push_str(&text);
                    last.1 = true;
                }
                continue;
            }
            let starts_ws = text.starts_with(char::is_whitespace);
            let mut any = false;
            for (i, word) in text.split_whitespace().enumerate() {
                any = true;
                match fields.last_mut() {
                    Some(last) if i == 0 && !starts_ws => {
                        last.0.push_str(word);
                        last.1 = true;
                    }
                    _ => fields.push((word.to_string(), true)),
                }
            }
            if any && text.ends_with(char::is_whitespace) {
                fields.push((String::new(), false));
            }
        }
        let fields: Vec<String> = fields
            .into_iter()
            .filter(|(_, kept)| *kept)
            .map(|(f, _)| f)
            .collect();
        if has_glob {
            let mut expanded = Vec::new();
            for f in fields {
                let matches = tools::glob(self.node, &f);
                if matches.is_empty() {
                    expanded.push(f);
                } else {
                    expanded.extend(matches);
                }
            }
            return (expanded, out);
        }
        (fields, out)
    }

    /// A word expanded without field splitting (assignments).
    fn expand_one(&mut self, w: &Word) -> (String, Out) {
        let mut out = Out::default();
        let mut s = String::new();
        for p in w {
            match p {
                Part::Lit(t, _) => s.push_str(t),
                Part::Var(name, default, _) => {
                    let v = self.vars.get(name).cloned().unwrap_or_default();
                    match default {
                        Some(d) if v.is_empty() => s.push_str(d),
                        _ => s.push_str(&v),
                    }
                }
                Part::Subst(stmts, _) => {
                    let (o, _) = self.list(stmts, "");
                    let err: String = o.merged.replacen(&o.stdout, "", 1);
                    out.merged.push_str(&err);
                    s.push_str(o.stdout.trim_end_matches('\n'));
                }
            }
        }
        (s, out)
    }

    fn exec(&mut self, argv: &[String], stdin: &str) -> Res {
        let Some(first) = argv.first() else {
            return Res::ok(String::new());
        };
        let name = first
            .strip_prefix("/usr/bin/")
            .or_else(|| first.strip_prefix("/bin/"))
            .unwrap_or(first);
        let args = argv.get(1..).unwrap_or_default();
        match name {
            // dash names the line the word ends on; both shipped cases start the script.
            n if n.contains(char::is_whitespace) => Res {
                stdout: String::new(),
                stderr: format!(
                    "/bin/sh: {}: {first}: not found\n",
                    1 + first.matches('\n').count()
                ),
                status: 127,
            },
            "sh" => match (args.first().map(String::as_str), args.get(1)) {
                (Some("-c"), Some(script)) => match parse::parse(script) {
                    Ok(stmts) => {
                        let (o, st) = self.list(&stmts, stdin);
                        // The child's stdout and stderr arrive as the parent's.
                        let err = o.merged.replacen(&o.stdout, "", 1);
                        Res {
                            stdout: o.stdout,
                            stderr: err,
                            status: st,
                        }
                    }
                    Err(e) => Res {
                        stdout: String::new(),
                        stderr: format!("sh: {e}\n"),
                        status: 2,
                    },
                },
                _ => Res {
                    stdout: String::new(),
                    stderr: "sh: only `sh -c SCRIPT` is evaluated natively\n".into(),
                    status: 2,
                },
            },
            "oc" => self.oc(args),
            _ => tools::run(self, name, args, stdin),
        }
    }

    /// The `oc` forms [`oc_form`] accepts, answered from the node: a debug pod's `chroot
    /// /host CMD` is CMD on the node, the pod's node name is the node's. Anything else is a
    /// program the evaluator does not have.
    fn oc(&mut self, args: &[String]) -> Res {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        match a.as_slice() {
            // `node/` alone (NODE_NAME never set) is an error of oc's, not this node.
            ["debug", node, "--", "chroot", "/host", _, ..]
                if node.len() > "node/".len() && node.starts_with("node/") =>
            {
                // Without `-i` oc waits for the pod and prints its log: CMD's stdout and
                // stderr both reach oc's stdout, and a failing CMD makes oc exit 1 ("non-zero
                // exit code from debug container" on oc's stderr, with its progress lines).
                let r = self.exec(args.get(5..).unwrap_or_default(), "");
                if !r.stdout.is_empty() && !r.stderr.is_empty() {
                    // The log interleaves the two streams as they were written.
                    let why = "oc debug: a command writing to both stdout and stderr: not \
                               evaluated natively";
                    self.unsupported.get_or_insert_with(|| why.into());
                    return Res {
                        stdout: String::new(),
                        stderr: format!("{why}\n"),
                        status: 127,
                    };
                }
                Res {
                    stdout: format!("{}{}", r.stderr, r.stdout),
                    stderr: String::new(),
                    status: i32::from(r.status != 0),
                }
            }
            // `$HOSTNAME` (the kube-bench pod's name) is empty here and disappears.
            ["get", "pod", "-o=jsonpath={.spec.nodeName}"]
            | ["get", "pod", _, "-o=jsonpath={.spec.nodeName}"] => match self.node.node_name() {
                Some((name, file)) => {
                    if let Some((path, bytes)) = file {
                        self.note(Evidence::Read { bytes, path });
                    }
                    Res::ok(name)
                }
                None => {
                    self.unsupported.get_or_insert_with(|| {
                        "oc: the node name is not known (no kubelet --hostname-override, no \
                         /etc/hostname under the root)"
                            .into()
                    });
                    Res {
                        stdout: String::new(),
                        stderr: "oc: the node name is not evaluated natively here\n".into(),
                        status: 1,
                    }
                }
            },
            _ => tools::run(self, "oc", args, ""),
        }
    }
}
