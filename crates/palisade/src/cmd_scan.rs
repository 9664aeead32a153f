//! `palisade scan`: load manifests, run the selected rules, print findings.

use anyhow::{Context, Result};
use palisade_core::{Finding, InputError, Severity};
use palisade_report::{ControlInput, FailOn, Format, Report, Style, Summary};
use palisade_rules::config::{Config, Date};
use palisade_rules::pss::{Level, Policy, Version};
use palisade_rules::{Framework, ScanOptions, Selection};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (`.yaml`, `.yml`, `.json`; directories recursively); `-` reads stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Pod Security Standards level to enforce: privileged, baseline or restricted.
    #[arg(long, default_value = "restricted", value_parser = parse_level, env = "PALISADE_PSS_LEVEL")]
    pub pss_level: Level,

    /// Pod Security Standards version: `latest` or `v1.N`, with Pod Security Admission's semantics.
    #[arg(long, default_value = "latest", value_parser = parse_version, env = "PALISADE_PSS_VERSION")]
    pub pss_version: Version,

    /// Output format: table, json, sarif or junit.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Run only these rule families, rule IDs or rule names, or `all` (repeatable; default:
    /// families pss, hardening, rbac and netpol without opt-in rules, see docs/rules.md).
    #[arg(long, value_name = "FAMILY|RULE")]
    pub select: Vec<String>,

    /// Run a framework's rules and print a per-control compliance summary:
    /// pss-baseline, pss-restricted, nsa, cis, k8s-checklist or all.
    #[arg(long, value_name = "NAME", value_parser = parse_framework)]
    pub framework: Option<Framework>,

    /// Scan configuration (rule enable/disable, severity overrides, waivers); default:
    /// `.palisade.yaml` in the current directory or the nearest one above it, up to the
    /// repository root.
    #[arg(long, value_name = "FILE", env = "PALISADE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Ignore `.palisade.yaml` even if it exists.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Skip these rule families, rule IDs or rule names (repeatable).
    #[arg(long, value_name = "FAMILY|RULE")]
    pub ignore: Vec<String>,

    /// Exit with status 1 when a finding is at or above this severity: info, low, medium, high,
    /// critical, or `never` (findings never fail the scan; input errors still exit 2).
    #[arg(long, default_value = "low", value_parser = parse_fail_on)]
    pub fail_on: FailOn,

    /// Exit 0 even when findings are reported (same as `--fail-on never`), for adopting
    /// Palisade in CI before its findings are fixed. Input errors still exit 2.
    #[arg(long, conflicts_with = "fail_on")]
    pub exit_zero: bool,

    /// Report only findings of these severities (comma-separated or repeated), e.g.
    /// `--severity high,critical`; the others are neither shown nor counted for --fail-on.
    #[arg(long, value_name = "LEVEL", value_delimiter = ',', value_parser = parse_severity)]
    pub severity: Vec<Severity>,

    /// Table output: only findings and input errors (no notes, waived findings or summary;
    /// nothing for a clean scan). The exit status is unchanged.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Largest file read, in bytes (suffixes K, M, G accepted).
    #[arg(long, default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Add the roles and bindings every cluster is created with (system:masters ->
    /// cluster-admin, discovery and info roles bound to all users).
    #[arg(long)]
    pub rbac_defaults: bool,

    /// Read the manifests as `kubectl apply -n NS` applies them: objects of namespaced kinds
    /// without metadata.namespace are placed in NS (cluster-scoped kinds keep none); an object
    /// naming another namespace is an input error, as kubectl refuses it. Without -n they are
    /// read as namespace `default`.
    #[arg(long, short = 'n', value_name = "NS", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    /// Colour in table output: auto (honours NO_COLOR and terminals), always, never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,
}

/// What the per-object pass keeps of one piece of input.
struct Checked {
    files: usize,
    documents: usize,
    objects: usize,
    waived: palisade_rules::config::Waived,
    notes: Vec<InputError>,
    errors: Vec<InputError>,
    kept: palisade_graph::Packed,
    /// Objects placed in the `-n` namespace, per file.
    placed: Vec<(String, usize)>,
}

/// `kubectl apply -n ns` on a piece's objects, before any rule reads them: (objects placed
/// per file, in order; errors for objects naming another namespace).
pub(crate) fn place_all(
    docs: &mut [palisade_core::Document],
    ns: &str,
) -> (Vec<(String, usize)>, Vec<InputError>) {
    use palisade_graph::scope::{Placement, mismatch_message, place};
    let mut placed: Vec<(String, usize)> = Vec::new();
    let mut errors = Vec::new();
    for doc in docs {
        match place(&mut doc.value, ns) {
            Placement::Placed => match placed.last_mut() {
                Some((f, n)) if **f == *doc.file => *n += 1,
                _ => placed.push((doc.file.to_string(), 1)),
            },
            Placement::Mismatch { namespace } => {
                let span = doc.locate(
                    &palisade_core::FieldPath::root()
                        .key("metadata")
                        .key("namespace"),
                );
                errors.push(InputError {
                    file: doc.file.to_string(),
                    document: Some(doc.index),
                    line: Some(span.line),
                    column: Some(span.column),
                    kind: "namespace-mismatch".to_owned(),
                    message: mismatch_message(&doc.value, &namespace, ns),
                });
            }
            Placement::Kept | Placement::ClusterScoped => {}
        }
    }
    (placed, errors)
}

/// One note per file saying how many objects `-n ns` placed.
pub(crate) fn placement_notes(placed: Vec<(String, usize)>, ns: &str) -> Vec<InputError> {
    placed
        .into_iter()
        .map(|(file, n)| InputError {
            file,
            document: None,
            line: None,
            column: None,
            kind: "namespace".to_owned(),
            message: format!(
                "{n} object{} without metadata.namespace placed in namespace {ns} (-n {ns}), as `kubectl apply -n {ns}` does",
                if n == 1 { "" } else { "s" }
            ),
        })
        .collect()
}

/// A namespace name as the API server accepts it (RFC 1123 label).
pub(crate) fn parse_namespace(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "invalid namespace {s:?}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
        ))
    }
}

/// `.palisade.yaml` in `dir` or the nearest directory above it, stopping at the repository's
/// root (the first directory with a `.git`), as ruff and kube-linter look for theirs; its
/// exception paths are then relative to where it was found.
pub(crate) fn discover_config(dir: &std::path::Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let candidate = d.join(".palisade.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if d.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Loads the configuration file: the one named, or `.palisade.yaml` found by
/// [`discover_config`].
fn load_config(args: &ScanArgs, limits: &palisade_yaml::Limits) -> Result<Option<Config>> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(p) => p.clone(),
        None => match discover_config(&std::env::current_dir().unwrap_or_default()) {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    let loaded = palisade_yaml::load_paths(std::slice::from_ref(&path), limits);
    if let Some(e) = loaded.errors.first() {
        anyhow::bail!("configuration {}: {e}", path.display());
    }
    let Some(doc) = loaded.documents.first() else {
        anyhow::bail!(
            "configuration {}: no configuration found; it must start with `apiVersion: {}` and `kind: Config`",
            path.display(),
            palisade_rules::config::API_VERSION
        );
    };
    if loaded.documents.len() > 1 {
        anyhow::bail!("configuration {}: expected one document", path.display());
    }
    match Config::from_document(doc) {
        Ok(c) => Ok(Some(c)),
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            anyhow::bail!("invalid configuration:\n{}", list.join("\n"))
        }
    }
}

fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Date::from_unix_seconds(secs)
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let limits = palisade_yaml::Limits {
        max_file_bytes: args.max_file_size,
        ..palisade_yaml::Limits::default()
    };
    let config = load_config(&args, &limits)?;
    // Config enable/disable act like --select/--ignore; command-line --select replaces the
    // configured `enable`, since it says exactly what to run.
    let mut ignore = args.ignore.clone();
    let mut select = args.select.clone();
    if let Some(c) = &config {
        ignore.extend(c.disable.iter().cloned());
        if select.is_empty() && !c.enable.is_empty() && args.framework.is_none() {
            select = std::iter::once("default".to_owned())
                .chain(c.enable.iter().cloned())
                .collect();
        }
    }
    let selection = match args.framework {
        Some(f) => Selection::for_framework(f, &select, &ignore)?,
        None => Selection::new(&select, &ignore)?,
    };
    let policy = Policy {
        level: args.framework.map_or(args.pss_level, |f| f.pss_level()),
        version: args.pss_version,
    };

    let ran: Vec<&str> = selection.rules().iter().map(|r| r.id).collect();
    let options = ScanOptions { policy, selection };
    // Streaming: each piece of a file (whole documents) is checked and waived on a worker
    // thread as soon as it is parsed, then dropped, so memory follows the pieces in flight,
    // not the tree. Only what the cross-object rules read (RBAC objects, workloads,
    // NetworkPolicies, Namespaces) is kept, cut to the fields they read (`palisade_graph::slim`)
    // and packed (`palisade_graph::Packed`, a fraction of a parsed value's size), and only when
    // one of them is selected.
    let cross = palisade_rules::needs_cross_object(&options);
    let today = today();
    let mut kept = palisade_graph::Packed::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut suppressed = Vec::new();
    let mut notes: Vec<InputError> = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    let (mut files, mut documents, mut objects) = (0, 0, 0);
    let check = |mut loaded: palisade_yaml::Loaded| {
        // Placement comes first: per-object rules and waivers read the namespace.
        let placed = match &args.namespace {
            Some(ns) => {
                let (placed, mismatched) = place_all(&mut loaded.documents, ns);
                loaded.errors.extend(mismatched);
                placed
            }
            None => Vec::new(),
        };
        let per_object: Vec<Finding> = loaded
            .documents
            .iter()
            .flat_map(|doc| palisade_rules::check_document(doc, &options))
            .collect();
        let waived =
            palisade_rules::config::waive(&loaded.documents, per_object, config.as_ref(), today);
        let documents = loaded
            .documents
            .iter()
            .map(|d| (&*d.file, d.index))
            .collect::<BTreeSet<_>>()
            .len();
        let objects = loaded.documents.len();
        let mut kept = palisade_graph::Packed::new();
        if cross {
            for doc in loaded
                .documents
                .into_iter()
                .filter_map(palisade_graph::slim)
            {
                kept.push(&doc, palisade_rules::config::has_waiver_annotations(&doc));
            }
        }
        Checked {
            files: loaded.files,
            documents,
            objects,
            waived,
            notes: loaded.notes,
            errors: loaded.errors,
            kept,
            placed,
        }
    };
    let mut placed: Vec<(String, usize)> = Vec::new();
    palisade_yaml::load_paths_map(&args.paths, &limits, &check, |c| {
        files += c.files;
        documents += c.documents;
        objects += c.objects;
        findings.extend(c.waived.findings);
        suppressed.extend(c.waived.suppressed);
        notes.extend(c.notes);
        notes.extend(c.waived.notes);
        errors.extend(c.errors);
        kept.append(c.kept);
        for (file, n) in c.placed {
            match placed.last_mut() {
                Some((f, m)) if *f == file => *m += n,
                _ => placed.push((file, n)),
            }
        }
    });
    if let Some(ns) = &args.namespace {
        notes.extend(placement_notes(placed, ns));
    }
    let expired = palisade_rules::config::expired(config.as_ref(), today);
    notes.extend(expired.notes);
    if cross {
        let graph_options = palisade_graph::Options {
            rbac: palisade_graph::rbac::RbacOptions {
                defaults: args.rbac_defaults,
            },
        };
        let analysis =
            palisade_graph::analysis(&kept, &|r| options.selection.enabled(r), &graph_options);
        notes.extend(analysis.notes);
        let graph = analysis.findings;
        // Only documents with waiver annotations matter to the waiver pass.
        let waived = palisade_rules::config::waive(&kept.marked(), graph, config.as_ref(), today);
        findings.extend(waived.findings);
        suppressed.extend(waived.suppressed);
        // waived.notes repeats the annotation notes of `kept`, already reported above.
    }
    // Deterministic order: by file, then position, then rule.
    findings.sort_by(|a, b| {
        (&a.file, a.document, a.line, a.column, &a.rule)
            .cmp(&(&b.file, b.document, b.line, b.column, &b.rule))
    });
    suppressed.sort_by(|a, b| {
        let (a, b) = (&a.finding, &b.finding);
        (&a.file, a.document, a.line, a.column, &a.rule)
            .cmp(&(&b.file, b.document, b.line, b.column, &b.rule))
    });
    let controls = args.framework.map(|f| f.controls()).unwrap_or_default();
    let inputs: Vec<ControlInput<'_>> = controls
        .iter()
        .map(|c| ControlInput {
            framework: c.framework.as_str(),
            framework_title: c.framework.title(),
            id: c.id,
            title: c.title,
            rules: c.rules.clone(),
            ran: c
                .rules
                .iter()
                .copied()
                .filter(|r| ran.contains(r))
                .collect(),
            field_filters: c.field_filters.clone(),
        })
        .collect();
    let compliance = args
        .framework
        .map(|_| palisade_report::compliance(&inputs, &findings));
    // --severity narrows what is reported (and so what can fail the scan).
    if !args.severity.is_empty() {
        findings.retain(|f| args.severity.contains(&f.severity));
        suppressed.retain(|s| args.severity.contains(&s.finding.severity));
    }
    let fail_on = if args.exit_zero {
        FailOn::Never
    } else {
        args.fail_on
    };
    let failed = fail_on.failed(&findings);

    let summary = Summary {
        files,
        documents,
        objects,
        findings: findings.len(),
        suppressed: suppressed.len(),
        expired_waivers: expired.expired,
        by_severity: Summary::count_by_severity(&findings),
        errors: errors.len(),
        notes: notes.len(),
        pss_level: policy.level.to_string(),
        pss_version: policy.version.to_string(),
        framework: args.framework.map(|f| f.to_string()),
        fail_on,
        failed,
    };
    let ran_rules: Vec<palisade_core::RuleMeta> =
        options.selection.rules().into_iter().copied().collect();
    let report = Report {
        findings: &findings,
        suppressed: &suppressed,
        compliance: compliance.as_ref(),
        errors: &errors,
        notes: &notes,
        rules: &ran_rules,
        summary,
        tool_name: "palisade",
        tool_version: env!("CARGO_PKG_VERSION"),
    };

    let mut out = Output::open(args.output.as_deref(), args.color)?;
    let style = Style {
        color: out.color(),
        quiet: args.quiet,
    };
    palisade_report::render(args.format, &report, style, out.writer())
        .context("writing the report")?;
    out.finish()?;

    // Input errors are listed in the report itself; say so on stderr too, so a
    // redirected JSON report does not hide them from the person at the terminal.
    if !errors.is_empty() && args.format != Format::Table {
        let mut stderr = std::io::stderr().lock();
        for e in &errors {
            let _ = writeln!(stderr, "error: {e}");
        }
    }
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse::<Level>().map_err(|e| e.to_string())
}

fn parse_version(s: &str) -> Result<Version, String> {
    s.parse::<Version>().map_err(|e| e.to_string())
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

fn parse_framework(s: &str) -> Result<Framework, String> {
    s.parse::<Framework>().map_err(|e| e.to_string())
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(FailOn::Never);
    }
    Severity::parse(s).map(FailOn::At).ok_or_else(|| {
        format!("unknown severity {s:?}: use info, low, medium, high, critical or never")
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}: use info, low, medium, high or critical"))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in {s:?}: use K, M or G")),
            };
            (t.get(..i).unwrap_or_default(), mult)
        }
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size {s:?}: expected e.g. 64M or 1048576"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("5T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
