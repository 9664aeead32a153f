//! The programs audit scripts call, in process, with the behaviour and messages of their GNU
//! versions where a check can see them (exit status, `No such file or directory`, `stat`
//! without operands, `find` printing its start path, `xargs` running once on empty input).

use super::{Evidence, Res, Shell};
use crate::node::Node;
use regex::Regex;

fn fail(stderr: String, status: i32) -> Res {
    Res {
        stdout: String::new(),
        stderr,
        status,
    }
}

fn lines_of(s: &str) -> Vec<&str> {
    let t = s.strip_suffix('\n').unwrap_or(s);
    if t.is_empty() && s.is_empty() {
        Vec::new()
    } else {
        t.split('\n').collect()
    }
}

fn join_lines(lines: &[String]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

pub(crate) fn run(sh: &mut Shell<'_>, name: &str, args: &[String], stdin: &str) -> Res {
    let res = run_tool(sh, name, args, stdin);
    // An option or form the tool does not implement: the whole audit is not native.
    if res.status != 0 && res.stderr.contains("not evaluated natively") && sh.unsupported.is_none()
    {
        sh.unsupported = Some(res.stderr.trim_end().to_string());
    }
    res
}

fn run_tool(sh: &mut Shell<'_>, name: &str, args: &[String], stdin: &str) -> Res {
    match name {
        "ps" => ps(sh.node, args),
        "grep" => grep(sh, args, stdin),
        "stat" => stat(sh, args),
        "cat" => cat(sh, args, stdin),
        "find" => find(sh, args),
        "xargs" => xargs(sh, args, stdin),
        "echo" => echo(args),
        "printf" => printf(args),
        "test" => test(sh.node, args, false),
        "[" => test(sh.node, args, true),
        "sed" => sed(args, stdin),
        "awk" => awk(args, stdin),
        "tail" | "head" => head_tail(name == "tail", args, stdin),
        "uniq" => {
            let mut out: Vec<String> = Vec::new();
            for l in lines_of(stdin) {
                if out.last().map(String::as_str) != Some(l) {
                    out.push(l.to_string());
                }
            }
            Res::ok(join_lines(&out))
        }
        "sort" => {
            let mut v: Vec<String> = lines_of(stdin).iter().map(|s| s.to_string()).collect();
            v.sort();
            Res::ok(join_lines(&v))
        }
        "wc" if args.first().map(String::as_str) == Some("-l") => {
            Res::ok(format!("{}\n", stdin.matches('\n').count()))
        }
        "tr" => tr(args, stdin),
        "more" => more(sh, args),
        "openssl" => openssl(sh, args),
        "systemctl" => systemctl(sh, args),
        "check_cafile_permissions.sh" if args.is_empty() => cafile_stat(sh, "permissions=%a"),
        "check_cafile_ownership.sh" if args.is_empty() => cafile_stat(sh, "%U:%G"),
        "check_files_owner_in_dir.sh" => files_owner_in_dir(sh, args),
        "true" => Res::ok(String::new()),
        "false" => fail(String::new(), 1),
        other => fail(format!("sh: 1: {other}: not evaluated natively\n"), 127),
    }
}

fn ps(node: &Node, args: &[String]) -> Res {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["-ef"] | ["-e", "-f"] | ["aux"] => Res::ok(join_lines(&node.ps_ef())),
        ["-fC", name] | ["-f", "-C", name] | ["-Cf", name] => {
            let procs = node.by_comm(name);
            let mut lines = vec![node.ps_ef().into_iter().next().unwrap_or_default()];
            lines.extend(procs.iter().map(|p| p.ps_ef_line()));
            Res {
                status: i32::from(procs.is_empty()),
                stdout: join_lines(&lines),
                stderr: String::new(),
            }
        }
        ["-C", name, "-o", fmt] | ["-C", name, "-o", fmt, "--no-headers"] => {
            let procs = node.by_comm(name);
            let header = !fmt.ends_with('=') && !a.contains(&"--no-headers");
            let field = fmt.trim_end_matches('=');
            let mut lines = Vec::new();
            if header {
                lines.push(field.to_uppercase());
            }
            for p in &procs {
                lines.push(match field {
                    "pid" => format!("{:>7}", p.pid),
                    _ => p.cmdline(),
                });
            }
            Res {
                status: i32::from(procs.is_empty()),
                stdout: join_lines(&lines),
                stderr: String::new(),
            }
        }
        _ => fail(format!("ps: options {a:?} are not evaluated natively\n"), 1),
    }
}

/// Rancher's `check_cafile_permissions.sh` / `check_cafile_ownership.sh` (security-scan's
/// image, where the rke2 benchmarks run): the kubelet's `--client-ca-file` taken from `ps -ef`
/// (lines with `kubelet`, without `apiserver`; the first word after the first
/// `--client-ca-file=`), then `stat -c FORMAT` on it when it exists. The scripts fall back
/// to a `$kubeletcafile` from their environment, which nothing here knows: that case, and
/// several kubelet lines (the script's unquoted `test` then errors), are not native.
fn cafile_stat(sh: &mut Shell<'_>, format: &str) -> Res {
    let flag = "--client-ca-file=";
    let mut words = Vec::new();
    let mut pids = Vec::new();
    for p in &sh.node.processes {
        let line = p.ps_ef_line();
        if line.contains("kubelet") && !line.contains("apiserver") && line.contains(flag) {
            pids.push(p.pid);
            let after = line.split(flag).nth(1).unwrap_or_default();
            words.extend(after.split_whitespace().next().map(str::to_string));
        }
    }
    for pid in pids {
        sh.note_process(pid);
    }
    let [cafile] = words.as_slice() else {
        return fail(
            format!(
                "check_cafile: {} kubelet --client-ca-file values: the script's fallback and \
                 error paths are not evaluated natively\n",
                words.len()
            ),
            1,
        );
    };
    if !sh.node.exists(cafile) {
        return Res::ok(String::new());
    }
    let argv = ["stat", "-c", format, cafile.as_str()].map(str::to_string);
    sh.exec(&argv, "")
}

/// kube-bench's `helper_scripts/check_files_owner_in_dir.sh DIR`: `true` when DIR and every
/// entry its `DIR/*` glob matches (not recursive, dot files excluded) are owned by
/// `root:root` (`etcd:etcd` also allowed for names starting with `kube-etcd-` after the
/// `.pem` suffix is removed), else `false`; `stat`'s errors on the way reach the output as
/// the script's stderr.
fn files_owner_in_dir(sh: &mut Shell<'_>, args: &[String]) -> Res {
    let dir = args.first().map(String::as_str).unwrap_or_default();
    let verdict = |err: String, ok: bool| Res {
        stdout: if ok { "true\n" } else { "false\n" }.to_string(),
        stderr: err,
        status: 0,
    };
    // The script's unquoted `${INPUT_DIR}` would split or glob such a name.
    if dir.contains(char::is_whitespace) || dir.contains(['*', '?', '[']) {
        return fail(
            format!("check_files_owner_in_dir.sh: directory {dir:?} is not evaluated natively\n"),
            1,
        );
    }
    if dir.is_empty() {
        return verdict(String::new(), false);
    }
    let argv = |fmt: &str, path: &str| ["stat", "-c", fmt, path].map(str::to_string);
    let own = sh.exec(&argv("%U:%G", dir), "");
    if own.stdout.trim_end() != "root:root" {
        return verdict(own.stderr, false);
    }
    let pattern = format!("{dir}/*");
    let mut entries = glob(sh.node, &pattern);
    if entries.is_empty() {
        entries.push(pattern);
    }
    let mut err = String::new();
    let mut lines = Vec::new();
    for e in &entries {
        let r = sh.exec(&argv("%n %U:%G", e), "");
        err.push_str(&r.stderr);
        lines.extend(lines_of(&r.stdout).into_iter().map(str::to_string));
    }
    if lines.is_empty() {
        // `<<< ""` still feeds one empty line: no owner, not root:root.
        lines.push(String::new());
    }
    for line in &lines {
        let mut fields = line.split_whitespace();
        let (f, p) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        let base = f
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let base = match base.strip_suffix(".pem") {
            Some(b) if !b.is_empty() => b,
            _ => base,
        };
        let ok = if base.starts_with("kube-etcd-") {
            p == "root:root" || p == "etcd:etcd"
        } else {
            p == "root:root"
        };
        if !ok {
            return verdict(err, false);
        }
    }
    verdict(err, true)
}

/// `openssl x509 -in FILE -subject -issuer -noout` (the names printed in the order the
/// options are given), OpenSSL 3's output; other forms are not native.
fn openssl(sh: &mut Shell<'_>, args: &[String]) -> Res {
    let unsupported = |why: &str| fail(format!("openssl: {why}: not evaluated natively\n"), 1);
    let Some(("x509", opts)) = args.split_first().map(|(a, r)| (a.as_str(), r)) else {
        return unsupported("only `openssl x509`");
    };
    let (mut file, mut noout, mut order) = (None, false, Vec::new());
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        match o.as_str() {
            "-in" => file = it.next().cloned(),
            "-noout" => noout = true,
            "-subject" | "-issuer" => order.push(o.clone()),
            other => return unsupported(&format!("option {other}")),
        }
    }
    let (Some(file), true) = (file, noout) else {
        return unsupported("only `-in FILE ... -noout`");
    };
    let text = match sh.read_noted(&file) {
        Ok(t) => t,
        Err(_) => {
            // OpenSSL's own lines in between name source files and addresses.
            return fail(
                format!(
                    "Could not open file or uri for loading certificate from {file}\nUnable to load certificate\n"
                ),
                1,
            );
        }
    };
    match super::x509::names(&text) {
        Ok(Some((subject, issuer))) => {
            let mut out = String::new();
            for o in &order {
                let (label, name) = if o == "-subject" {
                    ("subject", &subject)
                } else {
                    ("issuer", &issuer)
                };
                out.push_str(&format!("{label}={name}\n"));
            }
            Res::ok(out)
        }
        Ok(None) => fail(
            format!("Could not read certificate from {file}\nUnable to load certificate\n"),
            1,
        ),
        Err(why) => unsupported(&format!("{file} has {why}")),
    }
}

/// The directories systemd reads unit files from, in its order (`/run` ones are runtime
/// state a snapshot does not have; they are looked at when present).
const UNIT_PATH: [&str; 7] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator",
    "/run/systemd/generator.late",
];

/// The configuration directories of [`UNIT_PATH`], where `enable` and `mask` put their links.
const CONF_DIRS: [&str; 2] = ["/etc/systemd/system", "/run/systemd/system"];

/// `systemctl is-enabled UNIT.service` answered from the unit files under the root, as
/// systemd decides it for a plain unit: `masked` (a `/dev/null` link in `/etc` or `/run`),
/// `enabled` (a link to it in a `.wants`/`.requires`/`.upholds` directory or an alias link
/// under `/etc/systemd/system` or `/run/systemd/system`), `static` (no `[Install]` targets),
/// `indirect` (only `Also=`), else `disabled`. Aliases, templates, generated and linked
/// units, and everything else `systemctl` does (runtime state: `show`, `status`), are not
/// native.
fn systemctl(sh: &mut Shell<'_>, args: &[String]) -> Res {
    let unsupported = |why: String| fail(format!("systemctl: {why}: not evaluated natively\n"), 1);
    let [verb, unit] = args else {
        return unsupported(format!("arguments {args:?}"));
    };
    if verb != "is-enabled" {
        return unsupported(format!("`systemctl {verb}` (the live init system)"));
    }
    let unit = if unit.contains('.') {
        unit.clone()
    } else {
        format!("{unit}.service")
    };
    if !unit.ends_with(".service") || unit.contains(['/', '@']) {
        return unsupported(format!("unit {unit:?}"));
    }
    let present = |path: &str| std::fs::symlink_metadata(sh.node.resolve_nofollow(path)).is_ok();
    let link_target = |path: &str| -> Option<String> {
        std::fs::read_link(sh.node.resolve_nofollow(path))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    };
    for dir in CONF_DIRS {
        if link_target(&format!("{dir}/{unit}")).as_deref() == Some("/dev/null") {
            sh.note(Evidence::Read {
                path: format!("{dir}/{unit}"),
                bytes: 0,
            });
            return Res {
                stdout: "masked\n".into(),
                stderr: String::new(),
                status: 1,
            };
        }
    }
    // The unit file: the first in the search path.
    let mut found = None;
    for dir in UNIT_PATH {
        let path = format!("{dir}/{unit}");
        if present(&path) {
            found = Some((dir, path));
            break;
        }
    }
    let Some((dir, path)) = found else {
        return fail(
            format!("Failed to get unit file state for {unit}: No such file or directory\n"),
            1,
        );
    };
    if dir.contains("generator") {
        return unsupported(format!("{path} is a generated unit"));
    }
    if link_target(&path).is_some() {
        return unsupported(format!("{path} is a link (an alias or a linked unit)"));
    }
    let text = match sh.node.read(&path) {
        Ok(t) => t,
        Err(e) => return unsupported(format!("{path}: {e}")),
    };
    sh.note(Evidence::Read {
        path: path.clone(),
        bytes: text.len(),
    });
    // Links to the unit in the configuration directories enable it.
    for conf in CONF_DIRS {
        for entry in sh.node.list_dir(conf).unwrap_or_default() {
            let sub = format!("{conf}/{entry}");
            if [".wants", ".requires", ".upholds"]
                .iter()
                .any(|s| entry.ends_with(s))
                && sh.node.is_dir(&sub)
                && present(&format!("{sub}/{unit}"))
            {
                sh.note(Evidence::Read {
                    path: format!("{sub}/{unit}"),
                    bytes: 0,
                });
                return Res::ok("enabled\n".into());
            }
        }
    }
    let (mut targets, mut also) = (false, false);
    let mut aliases: Vec<String> = Vec::new();
    let mut in_install = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_install = line == "[Install]";
            continue;
        }
        if !in_install {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let has = !v.trim().is_empty();
            match k.trim() {
                "Alias" => {
                    targets |= has;
                    aliases.extend(v.split_whitespace().map(str::to_string));
                }
                "WantedBy" | "RequiredBy" | "UpheldBy" => targets |= has,
                "Also" => also |= has,
                _ => {}
            }
        }
    }
    // An alias link made by `systemctl enable` enables it too.
    for alias in &aliases {
        for conf in CONF_DIRS {
            let link = format!("{conf}/{alias}");
            if link_target(&link).is_some() {
                sh.note(Evidence::Read {
                    path: link,
                    bytes: 0,
                });
                return Res::ok("enabled\n".into());
            }
        }
    }
    let (state, status) = match (targets, also) {
        (true, _) => ("disabled", 1),
        (false, true) => ("indirect", 0),
        (false, false) => ("static", 0),
    };
    Res {
        stdout: format!("{state}\n"),
        stderr: String::new(),
        status,
    }
}

/// util-linux `more` (2.36 and later) writing to a pipe: each file after a `::::::::::::::`
/// header naming it; a file it cannot open is a message, and the status stays 0.
fn more(sh: &mut Shell<'_>, args: &[String]) -> Res {
    if args.is_empty() || args.iter().any(|a| a.starts_with('-') || sh.node.is_dir(a)) {
        return fail(
            format!("more: arguments {args:?} are not evaluated natively\n"),
            1,
        );
    }
    let mut out = String::new();
    let mut err = String::new();
    for f in args {
        match sh.read_noted(f) {
            Ok(t) => {
                out.push_str(&format!("::::::::::::::\n{f}\n::::::::::::::\n{t}"));
            }
            Err(e) => {
                err.push_str(&format!("more: cannot open {f}: {}\n", io_text(&e)));
            }
        }
    }
    Res {
        stdout: out,
        stderr: err,
        status: 0,
    }
}

/// A POSIX basic regular expression as a `regex` pattern.
pub(crate) fn bre(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('(' | ')' | '{' | '}' | '|' | '+' | '?')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn grep(sh: &mut Shell<'_>, args: &[String], stdin: &str) -> Res {
    let (mut invert, mut ere, mut only, mut count, mut quiet, mut icase, mut fixed) =
        (false, false, false, false, false, false, false);
    let (mut after, mut before) = (0usize, 0usize);
    let mut pattern: Option<String> = None;
    let mut files = Vec::new();
    let mut i = 0;
    let mut opts_done = false;
    while let Some(a) = args.get(i) {
        if !opts_done && a == "--" {
            opts_done = true;
        } else if !opts_done && a == "-e" {
            i += 1;
            pattern = args.get(i).cloned();
        } else if !opts_done && (a == "-A" || a == "-B") {
            i += 1;
            let Some(n) = args.get(i).and_then(|s| s.parse().ok()) else {
                return fail(
                    format!("grep: {a} without a number is not evaluated natively\n"),
                    2,
                );
            };
            if a == "-A" { after = n } else { before = n }
        } else if !opts_done && (a.starts_with("-A") || a.starts_with("-B")) {
            let Some(n) = a.get(2..).and_then(|s| s.parse().ok()) else {
                return fail(format!("grep: option {a} is not evaluated natively\n"), 2);
            };
            if a.starts_with("-A") {
                after = n
            } else {
                before = n
            }
        } else if !opts_done && a.starts_with('-') && a.len() > 1 {
            for f in a.chars().skip(1) {
                match f {
                    'v' => invert = true,
                    'E' => ere = true,
                    'o' => only = true,
                    'c' => count = true,
                    'q' => quiet = true,
                    'i' => icase = true,
                    'F' => fixed = true,
                    _ => return fail(format!("grep: option -{f} is not evaluated natively\n"), 2),
                }
            }
        } else if pattern.is_none() {
            pattern = Some(a.clone());
        } else {
            files.push(a.clone());
        }
        i += 1;
    }
    let Some(pattern) = pattern else {
        return fail("grep: no pattern\n".into(), 2);
    };
    // Lengths come from the audit text: any size, so never added together.
    let context = after > 0 || before > 0;
    if only && context {
        // GNU grep then prints separators but no context lines; no shipped audit does this.
        return fail(
            "grep: -o with context is not evaluated natively\n".into(),
            2,
        );
    }
    let src = if fixed {
        regex::escape(&pattern)
    } else if ere {
        pattern.clone()
    } else {
        bre(&pattern)
    };
    let src = if icase { format!("(?i){src}") } else { src };
    let re = match Regex::new(&src) {
        Ok(r) => r,
        Err(e) => return fail(format!("grep: invalid pattern {pattern:?}: {e}\n"), 2),
    };
    let mut input = String::new();
    let mut stderr = String::new();
    let mut read_err = false;
    if files.is_empty() {
        input.push_str(stdin);
    } else {
        for f in &files {
            match sh.read_noted(f) {
                Ok(t) => {
                    input.push_str(&t);
                }
                Err(_) => {
                    stderr.push_str(&format!("grep: {f}: No such file or directory\n"));
                    read_err = true;
                }
            }
        }
    }
    let lines = lines_of(&input);
    let mut out: Vec<String> = Vec::new();
    let mut selected = 0usize;
    let mut last_printed: Option<usize> = None;
    let mut pending_after = 0usize;
    for (n, l) in lines.iter().enumerate() {
        let m = re.is_match(l) != invert;
        if m {
            selected += 1;
            if only && !invert {
                out.extend(
                    re.find_iter(l)
                        .filter(|x| !x.as_str().is_empty())
                        .map(|x| x.as_str().to_string()),
                );
            } else {
                // Context lines before the match that were not printed yet; groups that do
                // not touch are separated by `--` as GNU grep prints them.
                let first = n
                    .saturating_sub(before)
                    .max(last_printed.map_or(0, |lp| lp + 1));
                if context
                    && let Some(lp) = last_printed
                    && lp + 1 < first
                {
                    out.push("--".into());
                }
                for k in first..n {
                    out.push(lines.get(k).copied().unwrap_or_default().to_string());
                }
                out.push(l.to_string());
                last_printed = Some(n);
            }
            pending_after = after;
        } else if pending_after > 0 {
            out.push(l.to_string());
            last_printed = Some(n);
            pending_after -= 1;
        }
    }
    let status = if read_err {
        2
    } else {
        i32::from(selected == 0)
    };
    let stdout = if quiet {
        String::new()
    } else if count {
        format!("{selected}\n")
    } else {
        join_lines(&out)
    };
    Res {
        stdout,
        stderr,
        status,
    }
}

fn stat(sh: &mut Shell<'_>, args: &[String]) -> Res {
    let mut fmt: Option<String> = None;
    let mut follow = false;
    let mut files = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "-c" || a == "--format" || a == "--printf" {
            i += 1;
            fmt = args.get(i).cloned();
        } else if let Some(f) = a.strip_prefix("--format=") {
            fmt = Some(f.to_string());
        } else if a == "-L" || a == "--dereference" {
            follow = true;
        } else if a.starts_with('-') && a.len() > 1 {
            return fail(format!("stat: option {a} is not evaluated natively\n"), 1);
        } else {
            files.push(a.clone());
        }
        i += 1;
    }
    let Some(fmt) = fmt else {
        return fail(
            "stat: only `stat -c FORMAT` is evaluated natively\n".into(),
            1,
        );
    };
    if files.is_empty() {
        return fail(
            "stat: missing operand\nTry 'stat --help' for more information.\n".into(),
            1,
        );
    }
    let mut out = String::new();
    let mut err = String::new();
    let mut status = 0;
    for f in files {
        // With -L the link is followed inside the node's root.
        let target = if follow {
            let resolved = sh.node.resolve(&f);
            resolved
                .strip_prefix(&sh.node.root)
                .map(|p| format!("/{}", p.display()))
                .unwrap_or_else(|_| f.clone())
        } else {
            f.clone()
        };
        let info = sh.node.stat(&target);
        match info {
            Ok(info) => {
                sh.note(Evidence::File {
                    path: f.clone(),
                    mode: info.mode.clone(),
                    owner: info.owner.clone(),
                    group: info.group.clone(),
                });
                out.push_str(&format_stat(&fmt, &f, &info));
                out.push('\n');
            }
            Err(e) => {
                sh.note(Evidence::Missing {
                    path: f.clone(),
                    error: e.to_string(),
                });
                err.push_str(&format!("stat: cannot statx '{f}': {}\n", io_text(&e)));
                status = 1;
            }
        }
    }
    Res {
        stdout: out,
        stderr: err,
        status,
    }
}

fn io_text(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory",
        std::io::ErrorKind::PermissionDenied => "Permission denied",
        _ => "Input/output error",
    }
}

fn format_stat(fmt: &str, name: &str, info: &crate::node::FileInfo) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('a') => out.push_str(&info.mode),
            Some('U') => out.push_str(&info.owner),
            Some('G') => out.push_str(&info.group),
            Some('n') => out.push_str(name),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

fn cat(sh: &mut Shell<'_>, args: &[String], stdin: &str) -> Res {
    if args.is_empty() {
        return Res::ok(stdin.to_string());
    }
    let mut out = String::new();
    let mut err = String::new();
    let mut status = 0;
    for f in args {
        if f == "-" {
            out.push_str(stdin);
            continue;
        }
        if sh.node.is_dir(f) {
            err.push_str(&format!("cat: {f}: Is a directory\n"));
            status = 1;
            continue;
        }
        match sh.read_noted(f) {
            Ok(t) => {
                out.push_str(&t);
            }
            Err(e) => {
                err.push_str(&format!("cat: {f}: {}\n", io_text(&e)));
                status = 1;
            }
        }
    }
    Res {
        stdout: out,
        stderr: err,
        status,
    }
}

enum Pred {
    Name(String),
    Type(char),
    Not(Box<Pred>),
}

fn find(sh: &mut Shell<'_>, args: &[String]) -> Res {
    let mut starts = Vec::new();
    let mut preds = Vec::new();
    let (mut mindepth, mut maxdepth) = (0usize, usize::MAX);
    let mut i = 0;
    let mut negate = false;
    while let Some(a) = args.get(i) {
        let next = args.get(i + 1);
        let p = match a.as_str() {
            "-L" | "-H" | "-P" if starts.is_empty() => None,
            "!" | "-not" => {
                negate = true;
                i += 1;
                continue;
            }
            "-name" => {
                i += 1;
                Some(Pred::Name(next.cloned().unwrap_or_default()))
            }
            "-type" => {
                i += 1;
                Some(Pred::Type(
                    next.and_then(|s| s.chars().next()).unwrap_or('f'),
                ))
            }
            "-mindepth" => {
                i += 1;
                mindepth = next.and_then(|s| s.parse().ok()).unwrap_or(0);
                None
            }
            "-maxdepth" => {
                i += 1;
                maxdepth = next.and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
                None
            }
            "-print" => None,
            s if s.starts_with('-') => {
                return fail(
                    format!("find: predicate {s} is not evaluated natively\n"),
                    1,
                );
            }
            _ => {
                starts.push(a.clone());
                None
            }
        };
        if let Some(p) = p {
            preds.push(if negate { Pred::Not(Box::new(p)) } else { p });
            negate = false;
        }
        i += 1;
    }
    if starts.is_empty() {
        starts.push(".".into());
    }
    let mut out = Vec::new();
    let mut err = String::new();
    let mut status = 0;
    for s in starts {
        if std::fs::symlink_metadata(sh.node.resolve_nofollow(&s)).is_err() {
            sh.note(Evidence::Missing {
                path: s.clone(),
                error: "No such file or directory".into(),
            });
            err.push_str(&format!("find: '{s}': No such file or directory\n"));
            status = 1;
            continue;
        }
        walk(sh.node, &s, 0, mindepth, maxdepth, &preds, &mut out);
    }
    Res {
        stdout: join_lines(&out),
        stderr: err,
        status,
    }
}

fn walk(
    node: &Node,
    path: &str,
    depth: usize,
    min: usize,
    max: usize,
    preds: &[Pred],
    out: &mut Vec<String>,
) {
    let meta = std::fs::symlink_metadata(node.resolve_nofollow(path));
    let is_dir = meta.as_ref().map(|m| m.is_dir()).unwrap_or(false);
    let is_link = meta
        .as_ref()
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if depth >= min && preds.iter().all(|p| pred(p, path, is_dir, is_link)) {
        out.push(path.to_string());
    }
    if is_dir && depth < max && depth < 64 {
        for name in node.list_dir(path).unwrap_or_default() {
            let child = if path.ends_with('/') {
                format!("{path}{name}")
            } else {
                format!("{path}/{name}")
            };
            walk(node, &child, depth + 1, min, max, preds, out);
        }
    }
}

fn pred(p: &Pred, path: &str, is_dir: bool, is_link: bool) -> bool {
    match p {
        Pred::Name(g) => {
            let base = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(path);
            fnmatch(g, base, false)
        }
        Pred::Type('d') => is_dir,
        Pred::Type('f') => !is_dir && !is_link,
        Pred::Type('l') => is_link,
        Pred::Type(_) => false,
        Pred::Not(inner) => !pred(inner, path, is_dir, is_link),
    }
}

/// Shell pattern matching (`*`, `?`, `[...]`); `hidden` makes a leading `.` need an
/// explicit `.` (shell globs), `find -name` matches it with `*`.
pub(crate) fn fnmatch(pattern: &str, name: &str, hidden: bool) -> bool {
    if hidden && name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn rec(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|k| n.get(k..).is_some_and(|t| rec(rest, t))),
            Some(('?', rest)) => n.split_first().is_some_and(|(_, t)| rec(rest, t)),
            Some(('[', rest)) => {
                let Some(close) = rest.iter().skip(1).position(|&c| c == ']').map(|x| x + 1) else {
                    return n.first() == Some(&'[') && rec(rest, n.get(1..).unwrap_or_default());
                };
                let Some((&c, tail)) = n.split_first() else {
                    return false;
                };
                let class = rest.get(..close).unwrap_or_default();
                let (neg, class) = match class.split_first() {
                    Some(('!' | '^', r)) => (true, r),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut k = 0;
                while let Some(&a) = class.get(k) {
                    if class.get(k + 1) == Some(&'-')
                        && let Some(&b) = class.get(k + 2)
                    {
                        hit |= a <= c && c <= b;
                        k += 3;
                    } else {
                        hit |= a == c;
                        k += 1;
                    }
                }
                hit != neg && rec(rest.get(close + 1..).unwrap_or_default(), tail)
            }
            Some((&c, rest)) => n
                .split_first()
                .is_some_and(|(&d, t)| c == d && rec(rest, t)),
        }
    }
    rec(&p, &n)
}

/// Pathname expansion of one field against the node's files (sorted, as the shell does).
pub(crate) fn glob(node: &Node, pattern: &str) -> Vec<String> {
    let absolute = pattern.starts_with('/');
    let mut current: Vec<String> = vec![if absolute { String::new() } else { ".".into() }];
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts {
        let mut next = Vec::new();
        for base in &current {
            let dir = if base.is_empty() {
                "/".to_string()
            } else {
                base.clone()
            };
            if part.contains(['*', '?', '[']) {
                for name in node.list_dir(&dir).unwrap_or_default() {
                    if fnmatch(part, &name, true) {
                        next.push(format!("{base}/{name}"));
                    }
                }
            } else {
                next.push(format!("{base}/{part}"));
            }
        }
        current = next;
    }
    let mut out: Vec<String> = current
        .into_iter()
        .map(|p| {
            if absolute {
                p
            } else {
                p.trim_start_matches("./").to_string()
            }
        })
        .filter(|p| std::fs::symlink_metadata(node.resolve_nofollow(p)).is_ok())
        .collect();
    out.sort();
    out
}

fn xargs(sh: &mut Shell<'_>, args: &[String], stdin: &str) -> Res {
    let mut no_empty = false;
    let mut replace: Option<String> = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-r" | "--no-run-if-empty" => no_empty = true,
            "-I" => {
                i += 1;
                replace = args.get(i).cloned();
            }
            s if s.starts_with("-I") => replace = Some(s.get(2..).unwrap_or_default().to_string()),
            "-L" | "-n" => i += 1,
            s if s.starts_with("-L") || s.starts_with("-n") => {}
            _ => break,
        }
        i += 1;
    }
    let cmd: Vec<String> = match args.get(i..) {
        Some(c) if !c.is_empty() => c.to_vec(),
        _ => vec!["echo".into()],
    };
    let mut out = String::new();
    let mut err = String::new();
    let mut failed = false;
    let mut run_one = |sh: &mut Shell<'_>, argv: Vec<String>| {
        let res = sh.exec(&argv, "");
        out.push_str(&res.stdout);
        err.push_str(&res.stderr);
        failed |= res.status != 0;
    };
    if let Some(r) = replace {
        for line in lines_of(stdin) {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            run_one(sh, cmd.iter().map(|a| a.replace(&r, line)).collect());
        }
    } else {
        let items: Vec<String> = stdin.split_whitespace().map(str::to_string).collect();
        if !(items.is_empty() && no_empty) {
            let mut argv = cmd.clone();
            argv.extend(items);
            run_one(sh, argv);
        }
    }
    Res {
        stdout: out,
        stderr: err,
        status: if failed { 123 } else { 0 },
    }
}

fn echo(args: &[String]) -> Res {
    let (newline, rest) = match args.first().map(String::as_str) {
        Some("-n") => (false, args.get(1..).unwrap_or_default()),
        _ => (true, args),
    };
    let mut s = rest.join(" ");
    if newline {
        s.push('\n');
    }
    Res::ok(s)
}

/// `printf FORMAT [ARG...]`: backslash escapes, `%s`, `%d`, `%%`; the format is reused
/// while arguments remain, as printf(1) does.
fn printf(args: &[String]) -> Res {
    let Some((fmt, mut rest)) = args.split_first() else {
        return fail("printf: missing operand\n".into(), 1);
    };
    let mut out = String::new();
    loop {
        let mut consumed = false;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('\\') => out.push('\\'),
                    Some('0') => out.push('\0'),
                    Some(o) => {
                        out.push('\\');
                        out.push(o);
                    }
                    None => out.push('\\'),
                },
                '%' => match chars.next() {
                    Some('%') => out.push('%'),
                    Some('s' | 'd') => {
                        if let Some((a, r)) = rest.split_first() {
                            out.push_str(a);
                            rest = r;
                            consumed = true;
                        }
                    }
                    Some(o) => {
                        return fail(format!("printf: %{o}: not evaluated natively\n"), 1);
                    }
                    None => out.push('%'),
                },
                c => out.push(c),
            }
        }
        if rest.is_empty() || !consumed {
            break;
        }
    }
    Res::ok(out)
}

fn test(node: &Node, args: &[String], bracket: bool) -> Res {
    let args: &[String] = if bracket {
        match args.split_last() {
            Some((last, rest)) if last == "]" => rest,
            _ => return fail("[: missing ']'\n".into(), 2),
        }
    } else {
        args
    };
    fn eval(node: &Node, a: &[String]) -> Option<bool> {
        let s: Vec<&str> = a.iter().map(String::as_str).collect();
        Some(match s.as_slice() {
            [] => false,
            ["!", rest @ ..] => {
                !eval(node, a.get(1..).unwrap_or_default()).unwrap_or(rest.is_empty())
            }
            [x] => !x.is_empty(),
            ["-e", p] => node.exists(p),
            ["-f", p] => node.exists(p) && !node.is_dir(p),
            ["-d", p] => node.is_dir(p),
            ["-s", p] => node.read(p).map(|t| !t.is_empty()).unwrap_or(false),
            ["-r", p] => node.read(p).is_ok() || node.is_dir(p),
            ["-z", v] => v.is_empty(),
            ["-n", v] => !v.is_empty(),
            [a, "=", b] | [a, "==", b] => a == b,
            [a, "!=", b] => a != b,
            _ => return None,
        })
    }
    match eval(node, args) {
        Some(true) => Res::ok(String::new()),
        Some(false) => fail(String::new(), 1),
        None => fail(
            format!("test: expression {args:?} is not evaluated natively\n"),
            2,
        ),
    }
}

fn sed(args: &[String], stdin: &str) -> Res {
    let mut scripts = Vec::new();
    let mut quiet = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "-n" {
            quiet = true;
        } else if a == "-e" {
            i += 1;
            if let Some(s) = args.get(i) {
                scripts.push(s.clone());
            }
        } else if a.starts_with('-') {
            return fail(format!("sed: option {a} is not evaluated natively\n"), 1);
        } else if scripts.is_empty() {
            scripts.push(a.clone());
        } else {
            return fail("sed: file operands are not evaluated natively\n".into(), 1);
        }
        i += 1;
    }
    // `sed -n 'Np'` / `'$p'`: print one line.
    if quiet {
        let lines = lines_of(stdin);
        let [script] = scripts.as_slice() else {
            return fail(
                "sed: -n with several scripts is not evaluated natively\n".into(),
                1,
            );
        };
        let pick = match script.strip_suffix('p') {
            Some("$") => lines.last().copied(),
            Some(n) => match n.parse::<usize>() {
                Ok(n) if n >= 1 => lines.get(n - 1).copied(),
                _ => {
                    return fail(
                        format!("sed: script {script:?} is not evaluated natively\n"),
                        1,
                    );
                }
            },
            None => {
                return fail(
                    format!("sed: script {script:?} is not evaluated natively\n"),
                    1,
                );
            }
        };
        return Res::ok(pick.map(|l| format!("{l}\n")).unwrap_or_default());
    }
    let mut subs = Vec::new();
    for s in &scripts {
        match parse_subst(s) {
            Some(x) => subs.push(x),
            None => return fail(format!("sed: script {s:?} is not evaluated natively\n"), 1),
        }
    }
    let mut out = Vec::new();
    for line in lines_of(stdin) {
        let mut l = line.to_string();
        for (re, rep, global) in &subs {
            l = if *global {
                re.replace_all(&l, rep.as_str()).into_owned()
            } else {
                re.replace(&l, rep.as_str()).into_owned()
            };
        }
        out.push(l);
    }
    Res::ok(join_lines(&out))
}

/// `s<d>RE<d>REPL<d>[g]` as (regex, replacement in `regex` syntax, global).
fn parse_subst(s: &str) -> Option<(Regex, String, bool)> {
    let rest = s.strip_prefix('s')?;
    let d = rest.chars().next()?;
    let body = rest.get(d.len_utf8()..)?;
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                if n == d {
                    cur.push(n);
                } else {
                    cur.push('\\');
                    cur.push(n);
                }
            }
        } else if c == d {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    let (re, rep, flags) = match parts.as_slice() {
        [re, rep, flags] => (re, rep, flags),
        _ => return None,
    };
    if !flags.chars().all(|f| f == 'g') {
        return None;
    }
    let re = Regex::new(&bre(re)).ok()?;
    let mut r = String::new();
    let mut chars = rep.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if n.is_ascii_digit() => r.push_str(&format!("${{{n}}}")),
                Some('n') => r.push('\n'),
                Some(n) => r.push(n),
                None => {}
            },
            '&' => r.push_str("${0}"),
            '$' => r.push_str("$$"),
            c => r.push(c),
        }
    }
    Some((re, r, flags.contains('g')))
}

fn awk(args: &[String], stdin: &str) -> Res {
    let mut sep: Option<String> = None;
    let mut program: Option<String> = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "-F" {
            i += 1;
            sep = args.get(i).cloned();
        } else if let Some(s) = a.strip_prefix("-F") {
            sep = Some(s.to_string());
        } else if program.is_none() {
            program = Some(a.clone());
        } else {
            return fail("awk: file operands are not evaluated natively\n".into(), 2);
        }
        i += 1;
    }
    let program = program.unwrap_or_default();
    let prog: String = program.chars().filter(|c| !c.is_whitespace()).collect();
    let lines = lines_of(stdin);
    if prog == "END{printNR}" {
        return Res::ok(format!("{}\n", lines.len()));
    }
    let Some(fields) = prog
        .strip_prefix("{print")
        .and_then(|r| r.strip_suffix('}'))
    else {
        return fail(
            format!("awk: program {program:?} is not evaluated natively\n"),
            2,
        );
    };
    let idx: Option<Vec<usize>> = if fields.is_empty() {
        Some(vec![0])
    } else {
        fields
            .split(',')
            .map(|f| f.strip_prefix('$').and_then(|n| n.parse().ok()))
            .collect()
    };
    let Some(idx) = idx else {
        return fail(
            format!("awk: program {program:?} is not evaluated natively\n"),
            2,
        );
    };
    let splitter = match &sep {
        Some(s) if s.chars().count() == 1 && s != " " => Regex::new(&regex::escape(s)).ok(),
        Some(s) if s != " " => Regex::new(s)
            .or_else(|_| Regex::new(&regex::escape(s)))
            .ok(),
        _ => None,
    };
    let mut out = Vec::new();
    for line in lines {
        let fs: Vec<&str> = match &splitter {
            Some(re) => re.split(line).collect(),
            None => line.split_whitespace().collect(),
        };
        let vals: Vec<String> = idx
            .iter()
            .map(|&k| {
                if k == 0 {
                    line.to_string()
                } else {
                    fs.get(k - 1).map(|s| s.to_string()).unwrap_or_default()
                }
            })
            .collect();
        out.push(vals.join(" "));
    }
    Res::ok(join_lines(&out))
}

fn head_tail(tail: bool, args: &[String], stdin: &str) -> Res {
    let mut n = 10usize;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "-n" {
            i += 1;
            n = args.get(i).and_then(|s| s.parse().ok()).unwrap_or(10);
        } else if let Some(v) = a.strip_prefix("-n").or_else(|| a.strip_prefix('-')) {
            match v.parse() {
                Ok(x) => n = x,
                Err(_) => {
                    return fail(
                        format!("tail/head: option {a} is not evaluated natively\n"),
                        1,
                    );
                }
            }
        } else {
            return fail(
                "tail/head: file operands are not evaluated natively\n".into(),
                1,
            );
        }
        i += 1;
    }
    let lines = lines_of(stdin);
    let pick: Vec<String> = if tail {
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .map(|s| s.to_string())
            .collect()
    } else {
        lines.iter().take(n).map(|s| s.to_string()).collect()
    };
    Res::ok(join_lines(&pick))
}

fn unescape_tr(s: &str) -> Vec<char> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn tr(args: &[String], stdin: &str) -> Res {
    match args {
        [flag, set] if flag == "-d" => {
            let del = unescape_tr(set);
            Res::ok(stdin.chars().filter(|c| !del.contains(c)).collect())
        }
        [from, to] => {
            let f = unescape_tr(from);
            let t = unescape_tr(to);
            Res::ok(
                stdin
                    .chars()
                    .map(|c| match f.iter().position(|&x| x == c) {
                        Some(k) => t.get(k).or(t.last()).copied().unwrap_or(c),
                        None => c,
                    })
                    .collect(),
            )
        }
        _ => fail(
            format!("tr: arguments {args:?} are not evaluated natively\n"),
            1,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("*etcd*", "etcd.yaml", false));
        assert!(fnmatch("*.crt", "ca.crt", false));
        assert!(!fnmatch("*.crt", "ca.key", false));
        assert!(fnmatch("[a-c]?", "b1", false));
        assert!(!fnmatch("*", ".hidden", true));
    }

    #[test]
    fn bre_conversion() {
        assert_eq!(
            bre(r".*data-dir[= ]\([^ ]*\).*"),
            r".*data-dir[= ]([^ ]*).*"
        );
        assert_eq!(bre("a|b"), r"a\|b");
    }
}
