//! A benchmark run as kube-bench's `cmd` package does it: benchmark selection, node types to
//! run, component detection (`getBinaries`, `getFiles`), `$var` substitution over the whole
//! controls text, the default env audit, filters, and each check's PASS/FAIL/WARN/INFO by
//! `check.run`'s rules, with per-check evidence.

use crate::BenchError;
use crate::audit::{self, Evidence, Support};
use crate::config::{self, CfgTree, Config, FileKind};
use crate::model::{self, Check, Controls};
use crate::node::{self, Node};
use crate::semantics::{self, ItemOutput, Outputs};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub cfg: CfgTree,
    pub benchmark: Option<String>,
    /// Kubernetes version (`1.33`), kube-bench's `--version`.
    pub k8s_version: Option<String>,
    pub targets: Option<Vec<String>>,
    pub checks: Vec<String>,
    pub groups: Vec<String>,
    pub skip: Vec<String>,
    pub scored: bool,
    pub unscored: bool,
    /// Run audits that are not evaluated natively through `/bin/sh` (as kube-bench does).
    pub allow_shell: bool,
}

impl Options {
    pub fn new(cfg: CfgTree) -> Options {
        Options {
            cfg,
            benchmark: None,
            k8s_version: None,
            targets: None,
            checks: Vec::new(),
            groups: Vec::new(),
            skip: Vec::new(),
            scored: true,
            unscored: true,
            allow_shell: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum State {
    PASS,
    FAIL,
    WARN,
    INFO,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::PASS => "PASS",
            State::FAIL => "FAIL",
            State::WARN => "WARN",
            State::INFO => "INFO",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total_pass: usize,
    pub total_fail: usize,
    pub total_warn: usize,
    pub total_info: usize,
}

impl Summary {
    fn add(&mut self, s: State) {
        match s {
            State::PASS => self.total_pass += 1,
            State::FAIL => self.total_fail += 1,
            State::WARN => self.total_warn += 1,
            State::INFO => self.total_info += 1,
        }
    }
}

/// How an audit was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// No audit ran (manual, skip, no tests).
    None,
    Native,
    /// Through `/bin/sh` (`--allow-shell`).
    Shell,
    /// Not evaluated natively and no shell allowed: WARN.
    NotEvaluated,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub text: String,
    pub audit: String,
    pub audit_env: String,
    pub audit_config: String,
    pub kind: String,
    pub remediation: String,
    pub test_info: Vec<String>,
    pub status: State,
    pub actual_value: String,
    pub scored: bool,
    pub is_multiple: bool,
    pub expected_result: String,
    pub reason: String,
    pub evaluation: Evaluation,
    pub items: Vec<ItemOutput>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResult {
    pub id: String,
    pub text: String,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
}

/// What was detected for one component (`$<name>bin`, `$<name>conf`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentInfo {
    pub name: String,
    /// The running binary, or None when not found (the component name is substituted).
    pub bin: Option<String>,
    /// The processes the binary matched.
    pub pids: Vec<u32>,
    /// (variable, value, how it was chosen).
    pub files: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlsResult {
    pub id: String,
    pub version: String,
    pub detected_version: String,
    pub text: String,
    pub node_type: String,
    pub file: String,
    pub groups: Vec<GroupResult>,
    pub summary: Summary,
    pub components: Vec<ComponentInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub benchmark: String,
    pub detected_version: String,
    /// True when processes were observed (a `/proc` tree), false when derived from manifests.
    pub processes_observed: bool,
    pub controls: Vec<ControlsResult>,
    pub totals: Summary,
}

/// kube-bench's `verifyBin`: a process selected by `ps -C <first word>` whose command line
/// starts with the candidate (after an optional directory).
fn verify_bin(node: &Node, bin: &str) -> Vec<u32> {
    let bin = bin.trim_matches(|c| c == '\'' || c == '"');
    let Some(first) = bin.split_whitespace().next() else {
        return Vec::new();
    };
    let Ok(re) = regex::Regex::new(&format!(r"^(\S*/)*{bin}")) else {
        return Vec::new();
    };
    node.by_comm(first)
        .into_iter()
        .filter(|p| re.is_match(&p.cmdline()))
        .map(|p| p.pid)
        .collect()
}

/// Which benchmark to run and the version reported as detected.
pub fn select_benchmark(opts: &Options, node: &Node) -> Result<(String, String), BenchError> {
    if opts.benchmark.is_some() && opts.k8s_version.is_some() {
        return Err(BenchError::Usage(
            "it is an error to specify both --k8s-version and --benchmark".into(),
        ));
    }
    if let Some(b) = &opts.benchmark {
        return Ok((b.clone(), "none".into()));
    }
    // kube-bench reports a version as detected only when it found it itself.
    let given = opts.k8s_version.is_some();
    let version = match &opts.k8s_version {
        Some(v) => v.clone(),
        None => node.detect_version().ok_or_else(|| {
            BenchError::Usage(
                "cannot tell the Kubernetes version of this node (no control-plane static pod \
                 image tag, no version stamped in the kubelet binary); \
                 pass --benchmark (e.g. cis-1.12) or --k8s-version (e.g. 1.33)"
                    .into(),
            )
        })?,
    };
    let version = version.trim_start_matches('v').to_string();
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let global = Config::load(&opts.cfg, None)?;
    let bench = global.benchmark_for(&minor).ok_or_else(|| {
        BenchError::Usage(format!(
            "unable to find a matching benchmark version for Kubernetes version {minor} in {}",
            opts.cfg.display("config.yaml")
        ))
    })?;
    Ok((bench, if given { "none".into() } else { minor }))
}

pub fn run(opts: &Options, node: &Node) -> Result<Report, BenchError> {
    let (bench, detected) = select_benchmark(opts, node)?;
    if !opts.cfg.has_benchmark(&bench) {
        return Err(BenchError::Usage(format!(
            "no benchmark {bench:?} in {}",
            opts.cfg.display("")
        )));
    }
    let cfg = Config::load(&opts.cfg, Some(&bench))?;
    let allowed = cfg.targets(&bench).unwrap_or_default();
    let valid = |t: &str| allowed.iter().any(|a| a == t);
    let targets: Vec<String> = match &opts.targets {
        Some(ts) => {
            let mut out = Vec::new();
            for t in ts {
                let t = if t == "worker" { "node" } else { t.as_str() };
                if !valid(t) {
                    return Err(BenchError::Usage(format!(
                        "target {t:?} is not valid for benchmark {bench} (valid: {})",
                        allowed.join(", ")
                    )));
                }
                out.push(t.to_string());
            }
            out
        }
        None => {
            let mut out = Vec::new();
            if detect_bins(&cfg, "master", node).is_some() {
                out.push("master".to_string());
                if valid("controlplane") {
                    out.push("controlplane".into());
                }
            }
            if valid("etcd") && detect_bins(&cfg, "etcd", node).is_some() {
                out.push("etcd".into());
            }
            out.push("node".into());
            for t in ["policies", "managedservices"] {
                if valid(t) {
                    out.push(t.into());
                }
            }
            out.retain(|t| {
                config::controls_file(t)
                    .is_some_and(|f| matches!(opts.cfg.read(&format!("{bench}/{f}")), Ok(Some(_))))
            });
            out
        }
    };
    let mut controls = Vec::new();
    for t in &targets {
        controls.push(run_target(opts, &cfg, &bench, t, &detected, node)?);
    }
    // kube-bench sorts the controls by numeric id.
    controls.sort_by_key(|c| c.id.parse::<i64>().unwrap_or(0));
    let mut totals = Summary::default();
    for c in &controls {
        totals.total_pass += c.summary.total_pass;
        totals.total_fail += c.summary.total_fail;
        totals.total_warn += c.summary.total_warn;
        totals.total_info += c.summary.total_info;
    }
    Ok(Report {
        benchmark: bench,
        detected_version: detected,
        processes_observed: node.observed,
        controls,
        totals,
    })
}

/// `getBinaries`: None when a mandatory component is not running.
fn detect_bins(
    cfg: &Config,
    node_type: &str,
    node: &Node,
) -> Option<Vec<(String, String, Vec<u32>)>> {
    let comps = cfg.components(node_type)?;
    let mut out = Vec::new();
    for c in comps {
        if c.bins.is_empty() {
            continue;
        }
        let found = c.bins.iter().find_map(|b| {
            let pids = verify_bin(node, b);
            (!pids.is_empty()).then(|| (b.clone(), pids))
        });
        match found {
            Some((b, pids)) => out.push((c.name.clone(), b, pids)),
            None if c.optional => out.push((c.name.clone(), c.name.clone(), Vec::new())),
            None => return None,
        }
    }
    if out.is_empty() { None } else { Some(out) }
}

/// kube-bench's `multiWordReplace`.
fn multi_word_replace(s: &str, name: &str, value: &str) -> String {
    let v = if value.split_whitespace().count() > 1 {
        format!("'{value}'")
    } else {
        value.to_string()
    };
    s.replace(name, &v)
}

fn run_target(
    opts: &Options,
    cfg: &Config,
    bench: &str,
    target: &str,
    detected: &str,
    node: &Node,
) -> Result<ControlsResult, BenchError> {
    let file_name = config::controls_file(target)
        .ok_or_else(|| BenchError::Usage(format!("unknown target {target:?}")))?;
    let rel = format!("{bench}/{file_name}");
    let display = opts.cfg.display(&rel);
    let text = opts.cfg.read(&rel)?.ok_or_else(|| {
        BenchError::Usage(format!(
            "{display}: no {target} controls file in benchmark {bench}"
        ))
    })?;
    let comps = cfg.components(target).unwrap_or_default();
    let bins = detect_bins(cfg, target, node);
    let mut infos: Vec<ComponentInfo> = comps
        .iter()
        .map(|c| ComponentInfo {
            name: c.name.clone(),
            bin: None,
            pids: Vec::new(),
            files: Vec::new(),
        })
        .collect();
    // Substitution, in kube-bench's order: bins, then each file kind.
    let mut s = text;
    let mut bin_subs = Vec::new();
    if let Some(bins) = &bins {
        for (name, bin, pids) in bins {
            let var = format!("${name}bin");
            let before = s.clone();
            s = multi_word_replace(&s, &var, bin);
            if s != before {
                bin_subs.push(bin.clone());
            }
            if let Some(info) = infos.iter_mut().find(|i| i.name == *name) {
                info.bin = (!pids.is_empty()).then(|| bin.clone());
                info.pids.clone_from(pids);
            }
        }
    }
    for kind in FileKind::ALL {
        for c in &comps {
            let Some((_, cands, default)) = c.files.iter().find(|(k, _, _)| *k == kind) else {
                continue;
            };
            let (value, how) = choose_file(
                node,
                &c.name,
                kind,
                cands,
                default.as_deref(),
                bins.as_deref(),
            );
            if value.is_empty() {
                continue;
            }
            let var = format!("${}{}", c.name, kind.suffix());
            s = multi_word_replace(&s, &var, &value);
            if let Some(info) = infos.iter_mut().find(|i| i.name == c.name) {
                info.files.push((var, value, how));
            }
        }
    }
    let mut controls = model::parse_controls(&display, &s)?;
    if controls.node_type != target {
        return Err(BenchError::Cfg {
            file: display,
            line: 1,
            field: "type".into(),
            message: format!(
                "non-{target} controls file specified (type is {:?})",
                controls.node_type
            ),
        });
    }
    default_env_audit(&mut controls, &bin_subs);
    let mut summary = Summary::default();
    let mut groups: Vec<GroupResult> = Vec::new();
    for g in &controls.groups {
        for c in &g.checks {
            if !opts.groups.is_empty() && !opts.groups.contains(&g.id) {
                continue;
            }
            if !opts.checks.is_empty() && !opts.checks.contains(&c.id) {
                continue;
            }
            if !(opts.scored && c.scored || opts.unscored && !c.scored) {
                continue;
            }
            let mut check = c.clone();
            if g.kind == "skip" || opts.skip.contains(&g.id) || opts.skip.contains(&c.id) {
                check.kind = "skip".into();
            }
            let result = run_check(&check, node, opts.allow_shell);
            summary.add(result.status);
            match groups.iter_mut().find(|x| x.id == g.id) {
                Some(gr) => {
                    gr.summary.add(result.status);
                    gr.checks.push(result);
                }
                None => {
                    let mut gs = Summary::default();
                    gs.add(result.status);
                    groups.push(GroupResult {
                        id: g.id.clone(),
                        text: g.text.clone(),
                        summary: gs,
                        checks: vec![result],
                    });
                }
            }
        }
    }
    Ok(ControlsResult {
        id: controls.id,
        version: controls.version,
        detected_version: detected.to_string(),
        text: controls.text,
        node_type: controls.node_type,
        file: display,
        groups,
        summary,
        components: infos,
    })
}

/// `getFiles` for one component and kind; the kubelet's `conf` is the `--config` file the
/// running kubelet was started with when there is one (the file it actually reads).
fn choose_file(
    node: &Node,
    component: &str,
    kind: FileKind,
    cands: &[String],
    default: Option<&str>,
    bins: Option<&[(String, String, Vec<u32>)]>,
) -> (String, String) {
    if component == "kubelet" && kind == FileKind::Conf {
        let pids = bins
            .and_then(|b| b.iter().find(|(n, _, _)| n == "kubelet"))
            .map(|(_, _, p)| p.clone())
            .unwrap_or_default();
        for pid in pids {
            if let Some(p) = node.processes.iter().find(|p| p.pid == pid)
                && let Some(conf) = node::flag_value(&p.args, "--config")
                && node.exists(&conf)
            {
                return (conf, format!("--config of kubelet (pid {pid})"));
            }
        }
    }
    for c in cands {
        if std::fs::metadata(node.resolve(c)).is_ok() {
            return (c.clone(), "first candidate that exists".into());
        }
    }
    match default {
        Some(d) => (d.to_string(), "default (no candidate exists)".into()),
        None => (
            component.to_string(),
            "component name (no candidate, no default)".into(),
        ),
    }
}

fn default_env_audit(controls: &mut Controls, bin_subs: &[String]) {
    let bin = if bin_subs.len() == 1 {
        bin_subs.first().cloned().unwrap_or_default()
    } else {
        String::new()
    };
    for g in &mut controls.groups {
        for c in &mut g.checks {
            let has_env = c
                .tests
                .as_ref()
                .is_some_and(|t| t.test_items.iter().any(|i| !i.env.is_empty()));
            if has_env && !c.disable_env_testing && c.audit_env.is_empty() {
                c.audit_env = env_audit_for(&bin);
            }
        }
    }
}

fn env_audit_for(bin: &str) -> String {
    format!("cat \"/proc/$(/bin/ps -C {bin} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'")
}

/// Go's `%q` for the reason texts kube-bench writes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

enum AuditOutcome {
    Ok(String),
    Failed(String),
    NotEvaluated(String),
}

struct Runner<'a> {
    node: &'a Node,
    allow_shell: bool,
    evidence: Vec<Evidence>,
    shell_used: bool,
    native_used: bool,
}

impl Runner<'_> {
    fn run(&mut self, cmd: &str) -> AuditOutcome {
        let cmd = cmd.trim();
        if cmd.is_empty() {
            return AuditOutcome::Ok(String::new());
        }
        // The generated env audit reads the process environment: from the node's table.
        if let Some(bin) = cmd
            .strip_prefix("cat \"/proc/$(/bin/ps -C ")
            .and_then(|r| r.strip_suffix(" -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"))
            .or_else(|| (cmd == env_audit_for("")).then_some(""))
        {
            self.native_used = true;
            let procs = self.node.by_comm(bin);
            return match procs
                .first()
                .and_then(|p| p.environ.clone().map(|e| (p, e)))
            {
                Some((p, env)) if procs.len() == 1 => {
                    self.evidence.push(Evidence::Process {
                        pid: p.pid,
                        cmdline: p.cmdline(),
                        source: p.source.clone(),
                    });
                    AuditOutcome::Ok(if env.is_empty() {
                        env
                    } else {
                        format!("{env}\n")
                    })
                }
                _ => AuditOutcome::Failed(format!(
                    "failed to run: {}, output: {}, error: exit status 1",
                    go_quote(cmd),
                    go_quote("cat: /proc//environ: No such file or directory\n")
                )),
            };
        }
        match audit::support(cmd) {
            Support::Native => {
                let r = audit::run(cmd, self.node);
                if let Some(reason) = r.unsupported {
                    return self.not_native(cmd, reason);
                }
                self.native_used = true;
                for e in r.evidence {
                    if !self.evidence.contains(&e) {
                        self.evidence.push(e);
                    }
                }
                if r.status == 0 {
                    AuditOutcome::Ok(r.output)
                } else {
                    AuditOutcome::Failed(format!(
                        "failed to run: {}, output: {}, error: exit status {}",
                        go_quote(cmd),
                        go_quote(&r.output),
                        r.status
                    ))
                }
            }
            Support::NotNative(reason) => self.not_native(cmd, reason),
        }
    }

    fn not_native(&mut self, cmd: &str, reason: String) -> AuditOutcome {
        if self.allow_shell {
            self.shell_used = true;
            return shell(cmd);
        }
        AuditOutcome::NotEvaluated(format!(
            "not evaluated natively ({reason}); --allow-shell runs it through sh as kube-bench does: {cmd}"
        ))
    }
}

/// One audit as a check runs it: its output, or kube-bench's `failed to run: ...` text (or
/// the not-evaluated reason).
pub fn run_audit(cmd: &str, node: &Node, allow_shell: bool) -> Result<String, String> {
    let mut runner = Runner {
        node,
        allow_shell,
        evidence: Vec::new(),
        shell_used: false,
        native_used: false,
    };
    match runner.run(cmd) {
        AuditOutcome::Ok(o) => Ok(o),
        AuditOutcome::Failed(e) | AuditOutcome::NotEvaluated(e) => Err(e),
    }
}

/// kube-bench's `runAudit`: the script on `/bin/sh`'s stdin, stdout and stderr together.
fn shell(cmd: &str) -> AuditOutcome {
    use std::io::Write;
    let child = std::process::Command::new("/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return AuditOutcome::Failed(format!(
                "failed to run: {}, output: \"\", error: {e}",
                go_quote(cmd)
            ));
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(cmd.as_bytes());
    }
    match child.wait_with_output() {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            if out.status.success() {
                AuditOutcome::Ok(text)
            } else {
                AuditOutcome::Failed(format!(
                    "failed to run: {}, output: {}, error: exit status {}",
                    go_quote(cmd),
                    go_quote(&text),
                    out.status.code().unwrap_or(-1)
                ))
            }
        }
        Err(e) => AuditOutcome::Failed(format!(
            "failed to run: {}, output: \"\", error: {e}",
            go_quote(cmd)
        )),
    }
}

/// `check.run`, in its order.
pub fn run_check(c: &Check, node: &Node, allow_shell: bool) -> CheckResult {
    let mut r = CheckResult {
        id: c.id.clone(),
        text: c.text.clone(),
        audit: c.audit.clone(),
        audit_env: c.audit_env.clone(),
        audit_config: c.audit_config.clone(),
        kind: c.kind.clone(),
        remediation: c.remediation.clone(),
        test_info: vec![c.remediation.clone()],
        status: State::WARN,
        actual_value: String::new(),
        scored: c.scored,
        is_multiple: c.is_multiple,
        expected_result: String::new(),
        reason: String::new(),
        evaluation: Evaluation::None,
        items: Vec::new(),
        evidence: Vec::new(),
    };
    let fail_or_warn = if c.scored { State::FAIL } else { State::WARN };
    if c.scored && c.kind.trim().is_empty() && c.tests.is_none() {
        r.reason = "There are no tests".into();
        return r;
    }
    if c.kind == "skip" {
        r.reason = "Test marked as skip".into();
        r.status = State::INFO;
        return r;
    }
    if c.kind == "manual" {
        r.reason = "Test marked as a manual test".into();
        return r;
    }
    let Some(tests) = c.tests.as_ref().filter(|t| !t.test_items.is_empty()) else {
        r.reason = "No tests defined".into();
        r.status = fail_or_warn;
        return r;
    };
    let mut runner = Runner {
        node,
        allow_shell,
        evidence: Vec::new(),
        shell_used: false,
        native_used: false,
    };
    let mut outputs = Outputs::default();
    let mut error: Option<String> = None;
    let mut not_evaluated: Option<String> = None;
    'audits: {
        if !c.audit_env.is_empty() {
            match runner.run(&c.audit_env) {
                AuditOutcome::Ok(o) => outputs.audit_env = o,
                AuditOutcome::Failed(e) => {
                    error = Some(e);
                    break 'audits;
                }
                AuditOutcome::NotEvaluated(e) => {
                    not_evaluated = Some(e);
                    break 'audits;
                }
            }
        }
        match runner.run(&c.audit) {
            AuditOutcome::Ok(o) => outputs.audit = o,
            AuditOutcome::Failed(e) => {
                error = Some(e);
                break 'audits;
            }
            AuditOutcome::NotEvaluated(e) => {
                not_evaluated = Some(e);
                break 'audits;
            }
        }
        match runner.run(&c.audit_config) {
            AuditOutcome::Ok(o) => outputs.audit_config = o,
            AuditOutcome::Failed(e) => {
                // kube-bench forgives a missing config file when the other audits said something.
                let missing =
                    e.contains("exit status 127") || e.contains("No such file or directory");
                if !(missing && (!outputs.audit_env.is_empty() || !outputs.audit.is_empty())) {
                    error = Some(e);
                }
            }
            AuditOutcome::NotEvaluated(e) => not_evaluated = Some(e),
        }
    }
    r.evaluation = if not_evaluated.is_some() {
        Evaluation::NotEvaluated
    } else if runner.shell_used {
        Evaluation::Shell
    } else if runner.native_used {
        Evaluation::Native
    } else {
        Evaluation::None
    };
    r.evidence = runner.evidence;
    if let Some(reason) = not_evaluated {
        r.reason = reason;
        r.status = State::WARN;
        return r;
    }
    if let Some(e) = error {
        r.reason = e;
        r.status = fail_or_warn;
        return r;
    }
    let fin = semantics::execute_check(tests, !c.audit_config.is_empty(), c.is_multiple, &outputs);
    r.status = if fin.test_result {
        State::PASS
    } else {
        fail_or_warn
    };
    r.actual_value = fin.actual_result;
    r.expected_result = fin.expected_result;
    r.items = fin.items;
    if let Some(e) = fin.error {
        r.reason = e;
        r.status = fail_or_warn;
    }
    r
}
