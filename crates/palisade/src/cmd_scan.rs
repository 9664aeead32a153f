//! `palisade scan`: load manifests, run the selected rules, print findings.

use anyhow::{Context, Result};
use palisade_core::Severity;
use palisade_report::{FailOn, Format, Style};
use palisade_rules::Framework;
use palisade_rules::config::Config;
use palisade_rules::pss::{Level, Version};
use palisade_scan::{Options, PssLevel, Scan, Source};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{ColorChoice, Output, parse_fail_on};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (`.yaml`, `.yml`, `.json`; directories recursively); `-` reads stdin.
    #[arg(value_name = "PATH", required_unless_present = "cluster")]
    pub paths: Vec<PathBuf>,

    /// Scan the live cluster: list, read-only, every kind the rules read (all namespaces, or
    /// the one of -n), page by page; Secrets by metadata only. Findings name objects as
    /// cluster://CONTEXT/NAMESPACE/KIND/NAME and carry their origin; objects created by a
    /// controller are reported on their top owner.
    #[arg(long)]
    pub cluster: bool,

    /// kubeconfig for --cluster [default: $KUBECONFIG, the in-cluster service account, then
    /// ~/.kube/config].
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,

    /// Context of the kubeconfig for --cluster [default: its current-context].
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// With --cluster: every namespace (the default without -n).
    #[arg(long, short = 'A', requires = "cluster", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// With --cluster: bound on connecting, on an exec credential plugin and on each list
    /// request (`10s`, `500ms`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::output::parse_duration)]
    pub request_timeout: std::time::Duration,

    /// Pod Security Standards level to enforce: privileged, baseline or restricted; or
    /// `namespace`: each pod and workload at its namespace's
    /// `pod-security.kubernetes.io/enforce` level and `enforce-version` (no label: privileged,
    /// as Pod Security Admission), read from the Namespace objects scanned; objects whose
    /// Namespace is not scanned are judged at restricted with a note; warn and audit labels
    /// give notes.
    #[arg(long, default_value = "restricted", value_parser = parse_level, env = "PALISADE_PSS_LEVEL")]
    pub pss_level: PssLevel,

    /// Pod Security Standards version: `latest` or `v1.N`, with Pod Security Admission's semantics.
    #[arg(long, default_value = "latest", value_parser = parse_version, env = "PALISADE_PSS_VERSION")]
    pub pss_version: Version,

    /// Output format: table, json, sarif, junit, policyreport (wgpolicyk8s.io/v1alpha2
    /// PolicyReport per namespace and ClusterPolicyReport, for `kubectl apply -f -`),
    /// openreports (openreports.io/v1alpha1 Report/ClusterReport) or html (one
    /// self-contained page with source excerpts).
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

    /// Total bytes read over all inputs (suffixes K, M, G); inputs after it are reported, not
    /// read. Default 1G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_total_size: Option<u64>,

    /// Deepest nesting of mappings and sequences in a document. Default 256.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,

    /// Nodes per document after alias expansion. Default 2000000.
    #[arg(long, value_name = "N")]
    pub max_nodes: Option<usize>,

    /// Nodes produced by expanding aliases, per document (the billion-laughs guard).
    /// Default 100000.
    #[arg(long, value_name = "N")]
    pub max_alias_expansions: Option<usize>,

    /// YAML documents (or JSON values) per file. Default 10000.
    #[arg(long, value_name = "N")]
    pub max_documents: Option<usize>,

    /// Bytes of built documents allowed per byte of input (plus 256 KiB); inputs whose trees
    /// would need more are refused (docs/loader.md). Default 64.
    #[arg(long, value_name = "N")]
    pub max_tree_ratio: Option<usize>,

    /// Add the roles and bindings every cluster is created with (system:masters ->
    /// cluster-admin, discovery and info roles bound to all users).
    #[arg(long)]
    pub rbac_defaults: bool,

    /// Read the manifests as `kubectl apply -n NS` applies them: objects of namespaced kinds
    /// without metadata.namespace are placed in NS (cluster-scoped kinds keep none); an object
    /// naming another namespace is an input error, as kubectl refuses it. Without -n they are
    /// read as namespace `default`. With --cluster: only that namespace is listed (and
    /// cluster-scoped kinds).
    #[arg(long, short = 'n', value_name = "NS", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    /// Report an object created by a controller (a Pod of a ReplicaSet, a ReplicaSet of a
    /// Deployment, a Job of a CronJob) only through its top owner when the owner is scanned
    /// too, as for a cluster: for `kubectl get -o yaml` dumps.
    #[arg(long)]
    pub dedup_owned: bool,

    /// Render Helm charts (`helm template DIR --include-crds`) and root kustomizations
    /// (`kubectl kustomize DIR`) found among the inputs with the `helm`/`kubectl` on PATH, and
    /// scan their output instead of their files; findings are located in the rendered stream
    /// (`DIR/templates/x.yaml (rendered)`). A renderer that is missing or fails is an input
    /// error (exit 2).
    #[arg(long)]
    pub render: bool,

    /// With --render: longest a single `helm template` or `kubectl kustomize` may run.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::output::parse_duration, requires = "render")]
    pub render_timeout: std::time::Duration,

    /// Take the inputs as the whole cluster: judge NetworkPolicy isolation in every
    /// namespace. Without it, a namespace with neither a NetworkPolicy nor a Namespace object
    /// among the inputs is not judged (a note counts them). --cluster sets it.
    #[arg(long)]
    pub assume_complete: bool,

    /// Gatekeeper ConstraintTemplates and Constraints, ValidatingAdmissionPolicies with their
    /// bindings and params: files or directories (repeatable). Every scanned object is
    /// reviewed by them (referential templates see the whole scanned set as data.inventory);
    /// findings are family `policy`, rule KIND/NAME or the policy's name. A policy that does
    /// not load is an input error (exit 2); the others still run. See docs/policy.md.
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// With --policy: longest one Rego or CEL evaluation may run (`1s`, `500ms`); a policy that
    /// overruns is an input error naming it and the object, and is not run on further objects.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::output::parse_duration)]
    pub policy_timeout: std::time::Duration,

    /// Colour in table output: auto (honours NO_COLOR and terminals), always, never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,

    /// List the images the scanned pods and workloads use (containers, init and ephemeral
    /// containers; with --cluster, the digests the nodes resolved) instead of findings: no
    /// rules run; -f table or json. See docs/images.md ("Images in use").
    #[arg(long, conflicts_with_all = ["framework", "policies"])]
    pub images: bool,
}

pub(crate) use palisade_scan::{place_all, placement_notes};

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

/// The configuration file: the one named, or `.palisade.yaml` found by
/// [`palisade_scan::discover_config`].
fn load_config(args: &ScanArgs, limits: &palisade_yaml::Limits) -> Result<Option<Config>> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(p) => p.clone(),
        None => {
            match palisade_scan::discover_config(&std::env::current_dir().unwrap_or_default()) {
                Some(found) => found,
                None => return Ok(None),
            }
        }
    };
    Ok(Some(palisade_scan::load_config(&path, limits)?))
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    // Every limit error names the flag that raises it; unset flags keep the loader's default.
    let default = palisade_yaml::Limits::default();
    let limits = palisade_yaml::Limits {
        max_file_bytes: args.max_file_size,
        max_total_bytes: args.max_total_size.unwrap_or(default.max_total_bytes),
        max_depth: args.max_depth.unwrap_or(default.max_depth),
        max_nodes: args.max_nodes.unwrap_or(default.max_nodes),
        max_alias_expansions: args
            .max_alias_expansions
            .unwrap_or(default.max_alias_expansions),
        max_documents_per_file: args.max_documents.unwrap_or(default.max_documents_per_file),
        max_tree_ratio: args.max_tree_ratio.unwrap_or(default.max_tree_ratio),
        render: args
            .render
            .then(|| palisade_yaml::render::Renderer::from_path(args.render_timeout)),
    };
    let config = load_config(&args, &limits)?;
    let options = Options {
        select: args.select.clone(),
        // An image list runs no rules.
        ignore: if args.images {
            vec!["all".to_owned()]
        } else {
            args.ignore.clone()
        },
        framework: args.framework,
        pss_level: args.pss_level,
        pss_version: args.pss_version,
        config,
        namespace: args.namespace.clone(),
        rbac_defaults: args.rbac_defaults,
        severity: args.severity.clone(),
        fail_on: if args.exit_zero {
            FailOn::Never
        } else {
            args.fail_on
        },
        dedup_owned: args.dedup_owned.then_some(true),
        limits,
        today: None,
        // A cluster scan sees every namespace's policies: the set is the cluster.
        assume_complete: args.assume_complete || args.cluster,
        // `pass` results need to know which rules checked which object.
        collect_checked: matches!(args.format, Format::PolicyReport | Format::OpenReports),
        policies: args.policies.clone(),
        policy_timeout: args.policy_timeout,
        images: args.images,
    };
    if args.images && !matches!(args.format, Format::Table | Format::Json) {
        anyhow::bail!("--images prints -f table or -f json");
    }
    let mut scan = Scan::new(options)?;
    let progress = crate::progress::Spinner::for_stderr(args.quiet);
    if let Some(p) = &progress {
        let p = p.clone();
        scan.on_progress(move |c| p.update(c));
    }
    if !args.paths.is_empty() {
        scan.add(Source::Paths(args.paths.clone()));
    }
    if args.cluster {
        scan_cluster(&args, &mut scan)?;
    }
    let outcome = scan.finish();
    if let Some(p) = progress {
        p.finish();
    }

    let mut out = Output::open(args.output.as_deref(), args.color)?;
    if let Some(images) = &outcome.images {
        write_images(args.format, &outcome, images, out.writer())
            .context("writing the image list")?;
        out.finish()?;
        return Ok(ExitCode::from(if outcome.errors.is_empty() {
            0
        } else {
            2
        }));
    }
    let style = Style {
        color: out.color(),
        quiet: args.quiet,
    };
    write_report(args.format, &outcome, style, out.writer()).context("writing the report")?;
    out.finish()?;

    // Input errors are listed in the report itself; say so on stderr too, so a
    // redirected JSON report does not hide them from the person at the terminal.
    if !outcome.errors.is_empty() && args.format != Format::Table {
        let mut stderr = std::io::stderr().lock();
        for e in &outcome.errors {
            let _ = writeln!(stderr, "error: {e}");
        }
    }
    Ok(ExitCode::from(outcome.exit_status()))
}

/// `--images`: the image list with the scan's input errors (the table also its notes).
fn write_images(
    format: Format,
    outcome: &palisade_scan::Outcome,
    images: &palisade_scan::images::ImageList,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if format == Format::Json {
        let mut v = images.to_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("errors".into(), serde_json::to_value(&outcome.errors)?);
            o.insert("notes".into(), serde_json::to_value(&outcome.notes)?);
        }
        serde_json::to_writer_pretty(&mut *out, &v)?;
        return writeln!(out);
    }
    out.write_all(images.table().as_bytes())?;
    for e in &outcome.errors {
        writeln!(out, "error: {e}")?;
    }
    for n in &outcome.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// The report in `format`; the report formats get `pass` results from the objects the scan
/// checked, HTML gets source excerpts read from the files.
fn write_report(
    format: Format,
    outcome: &palisade_scan::Outcome,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), palisade_report::ReportError> {
    let report = outcome.report();
    match format {
        Format::PolicyReport | Format::OpenReports => {
            let api = if format == Format::PolicyReport {
                palisade_report::ReportApi::WgPolicy
            } else {
                palisade_report::ReportApi::OpenReports
            };
            let options = palisade_report::PolicyReportOptions {
                now: std::time::SystemTime::now(),
                checked: &outcome.checked,
            };
            palisade_report::render_policy_reports(&report, api, &options, out)
        }
        Format::Html => {
            let sources = Sources::default();
            let lookup = |file: &str, line: u32| sources.excerpt(file, line);
            let generated = generated_at();
            let options = palisade_report::HtmlOptions {
                source: Some(&lookup),
                generated: Some(&generated),
            };
            palisade_report::render_html(&report, &options, out)
        }
        _ => palisade_report::render(format, &report, style, out),
    }
}

/// Source lines for the HTML page, read lazily. Findings come sorted by file, so one file
/// is held at a time: memory is the largest file with findings, not the input.
#[derive(Default)]
struct Sources {
    current: std::cell::RefCell<Option<(String, Option<palisade_report::SourceText>)>>,
}

impl Sources {
    /// Lines around `line` of `file`, or None when it is no file on disk: standard input,
    /// a cluster object, a chart or kustomization rendered in memory, or unreadable.
    fn excerpt(&self, file: &str, line: u32) -> Option<Vec<(u32, String)>> {
        const RADIUS: u32 = 4;
        let virtual_file = file == "<stdin>"
            || file.starts_with("cluster://")
            || file.ends_with(" (rendered)")
            || file.starts_with("kubectl kustomize ");
        if virtual_file || line == 0 {
            return None;
        }
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_none_or(|(f, _)| f != file) {
            let text = std::fs::read(file).ok().map(|b| {
                palisade_report::SourceText::new(String::from_utf8_lossy(&b).into_owned())
            });
            *current = Some((file.to_owned(), text));
        }
        let text = current.as_ref()?.1.as_ref()?;
        let lines = text.excerpt(line, RADIUS);
        (!lines.is_empty()).then_some(lines)
    }
}

/// "Generated 2026-12-07 09:10 UTC" from the system clock.
fn generated_at() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = palisade_rules::config::Date::from_unix_seconds(i64::try_from(secs).unwrap_or(0));
    let rem = secs % 86_400;
    format!(
        "Generated {day} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Lists the cluster's objects into `scan` as the pages arrive; the lister's notes (a kind
/// it may not list) become the scan's notes. An unreachable server, a refused token or a
/// failing exec plugin is an error naming the context.
fn scan_cluster(args: &ScanArgs, scan: &mut Scan) -> Result<()> {
    let opts = palisade_kube::KubeOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        request_timeout: args.request_timeout,
    };
    let scope = match &args.namespace {
        Some(ns) => palisade_kube::Scope::One(ns.clone()),
        None => palisade_kube::Scope::All,
    };
    // An image list reads pod templates only: ConfigMaps, Secrets and RBAC are not listed.
    let kinds: Vec<&palisade_kube::Kind> = palisade_kube::KINDS
        .iter()
        .copied()
        .filter(|k| !args.images || has_pod_template(k))
        .collect();
    let (context, summary) = palisade_kube::block_on(async {
        let cluster = palisade_kube::connect(&opts).await?;
        let context = cluster.context().to_owned();
        let summary = cluster
            .list(
                &kinds,
                &scope,
                &palisade_kube::ListOptions::default(),
                |page| scan.add_page(&context, page.items),
            )
            .await?;
        Ok::<_, palisade_kube::KubeError>((context, summary))
    })??;
    for note in summary.notes {
        scan.add_note(palisade_core::InputError {
            file: format!("cluster://{context}"),
            document: None,
            line: None,
            column: None,
            kind: "cluster".to_owned(),
            message: note.message,
        });
    }
    Ok(())
}

/// The kind holds a pod template where Pod Security Admission looks for one (asked of the
/// rules' own table through an object that has every template position).
fn has_pod_template(k: &palisade_kube::Kind) -> bool {
    let probe = serde_json::json!({"apiVersion": k.api_version(), "kind": k.kind, "template": {},
        "spec": {"template": {}, "jobTemplate": {"spec": {"template": {}}}}});
    palisade_rules::pss::pod_template(&probe).is_some()
}

fn parse_level(s: &str) -> Result<PssLevel, String> {
    if s == "namespace" {
        // Objects whose Namespace is not scanned: the flag's default level.
        return Ok(PssLevel::Namespace {
            fallback: Level::Restricted,
        });
    }
    s.parse::<Level>()
        .map(PssLevel::Fixed)
        .map_err(|e| format!("{e}, or namespace (each object at its namespace's enforce label)"))
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
