//! `palisade feed build | affected | fetch`: the Kubernetes CVE feed.

use crate::cmd_cvss::TableOrJson;
use anyhow::{Context, Result, bail};
use palisade_feed::fetch::{EtagCache, FetchOptions};
use palisade_feed::matcher::{self, Target};
use palisade_feed::{BuildOptions, Feed, Limits};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum FeedCommand {
    /// Build official-cve-feed.json, feed.xml, atom.xml and osv/<CVE>.json from GitHub API pages.
    Build(BuildArgs),
    /// List the CVEs that affect a version or a cluster.
    Affected(AffectedArgs),
    /// Download the issue pages from the GitHub search API (conditional requests, pagination).
    Fetch(FetchArgs),
    /// Serve the feed live: GitHub webhooks, persistent store, resync, web page.
    Serve(crate::cmd_feed_serve::ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// GitHub search-API pages or REST issue arrays: files, or directories of *.json.
    #[arg(long = "input", value_name = "PATH", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Largest input page, in bytes.
    #[arg(long, default_value_t = Limits::default().max_page_bytes)]
    pub max_page_bytes: usize,

    /// Check time to record instead of the current time (RFC 3339, `Z`), for reproducible output.
    #[arg(long, hide = true, env = "PALISADE_FEED_NOW")]
    pub now: Option<String>,
}

/// `--cluster` given without FILE (no path holds a NUL byte, so no file is taken for it).
const LIVE_CLUSTER: &str = "\0live-cluster";

#[derive(Debug, clap::Args)]
pub struct AffectedArgs {
    /// A feed written by `palisade feed build` (official-cve-feed.json).
    #[arg(long, value_name = "FILE")]
    pub feed: PathBuf,

    /// Version to check (`v1.28.3`); without --component, every core component at that version.
    #[arg(long, required_unless_present = "cluster")]
    pub version: Option<String>,

    /// Component (`kube-apiserver`, `kubelet`, `ingress-nginx`, …) or Go module (`k8s.io/apiserver`).
    #[arg(long)]
    pub component: Option<String>,

    /// `kubectl version -o json` or `kubectl get nodes -o json` output (repeatable); given
    /// without FILE, the live cluster: the control plane's version and every node's kubelet
    /// and kube-proxy versions, read through --kubeconfig/--context.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = LIVE_CLUSTER)]
    pub cluster: Vec<PathBuf>,

    /// kubeconfig for --cluster without FILE [default: $KUBECONFIG, the in-cluster service
    /// account, then ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Context of the kubeconfig [default: its current-context].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Bound on connecting, on an exec credential plugin and on each request (`10s`, `500ms`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::output::parse_duration)]
    pub request_timeout: std::time::Duration,

    /// Keep only matches whose affected line, or the issue's labels, title or text, name the
    /// component (scope `component` or `issue`); drop whole-release ranges nothing narrows.
    #[arg(long, alias = "strict")]
    pub component_specific: bool,

    /// Output format.
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: TableOrJson,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// Directory for the pages (page-N.json) and the ETag cache (etags.json).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// GitHub API base URL.
    #[arg(long, default_value = palisade_feed::fetch::DEFAULT_API)]
    pub api_url: String,

    /// Search query.
    #[arg(long, default_value = palisade_feed::fetch::DEFAULT_QUERY)]
    pub query: String,

    /// API token (raises the rate limit); read from the environment, never printed.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Most pages to follow.
    #[arg(long, default_value_t = 20)]
    pub max_pages: usize,
}

pub fn run(cmd: FeedCommand) -> Result<ExitCode> {
    match cmd {
        FeedCommand::Build(args) => build(args),
        FeedCommand::Affected(args) => affected(args),
        FeedCommand::Fetch(args) => fetch(args),
        FeedCommand::Serve(args) => crate::cmd_feed_serve::run(args),
    }
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    palisade_feed::syndication::format_utc(secs)
}

fn build(args: BuildArgs) -> Result<ExitCode> {
    let limits = Limits {
        max_page_bytes: args.max_page_bytes,
        ..Limits::default()
    };
    let (issues, warnings) = palisade_feed::io::read_inputs(&args.inputs, &limits)?;
    let previous_path = args.out.join(palisade_feed::io::JSON_FEED);
    // The previous output keeps `updated_at` still when nothing changed.
    let previous = std::fs::read(&previous_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let now = match args.now {
        Some(n) => palisade_feed::timestamp::parse(&n)
            .with_context(|| "--now (PALISADE_FEED_NOW)")?
            .to_string(),
        None => now_utc(),
    };
    let options = BuildOptions {
        now,
        limits,
        previous,
        ..BuildOptions::default()
    };
    let feed = Feed::from_issues(&issues, &options);
    let written = palisade_feed::io::write_outputs(&args.out, &feed)?;
    let mut err = std::io::stderr().lock();
    for w in warnings.iter().chain(&feed.warnings) {
        writeln!(err, "warning: {w}")?;
    }
    for (item, w) in feed.item_warnings() {
        writeln!(
            err,
            "warning: {} (issue #{}): {w}",
            item.id, item.issue_number
        )?;
    }
    let with_ranges = feed
        .items
        .iter()
        .filter(|i| !i.versions.affected.is_empty())
        .count();
    writeln!(
        err,
        "{} CVEs from {} issues ({with_ranges} with affected ranges) -> {}, {}, {}, {} OSV records{}",
        feed.items.len(),
        issues.len(),
        written.json_feed.display(),
        written.rss.display(),
        written.atom.display(),
        written.osv.len(),
        if feed.updated_at == feed.last_checked_at {
            ""
        } else {
            " (content unchanged)"
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

fn affected(args: AffectedArgs) -> Result<ExitCode> {
    let name = args.feed.display().to_string();
    let bytes = palisade_feed::io::read_limited(&args.feed, Limits::default().max_page_bytes)?;
    let feed = matcher::load_feed(&bytes, &name)?;
    let mut targets = Vec::new();
    if let Some(v) = &args.version {
        let version = matcher::cluster_version(v).with_context(|| "--version")?;
        targets.push(Target {
            label: match &args.component {
                Some(c) => format!("{c} {v}"),
                None => v.clone(),
            },
            component: args.component.clone(),
            version,
        });
    }
    let mut target_os = Vec::new();
    let mut docs = Vec::new();
    for file in &args.cluster {
        if file.as_os_str() == LIVE_CLUSTER {
            docs.extend(live_versions(&args)?);
        } else {
            docs.push((
                palisade_feed::io::read_limited(file, Limits::default().max_page_bytes)?,
                file.display().to_string(),
            ));
        }
    }
    for (bytes, source) in &docs {
        let bytes = bytes.as_slice();
        let mut found = matcher::cluster_targets(bytes, source)?;
        // Nodes say their OS: Windows-only CVEs are not reported for Linux nodes.
        target_os.extend(matcher::node_os(bytes));
        if let Some(c) = &args.component {
            found.retain(|t| t.component.as_deref() == Some(c.as_str()));
        }
        targets.extend(found);
    }
    if targets.is_empty() {
        bail!("nothing to check: the cluster files name no version for --component");
    }
    let options = matcher::MatchOptions {
        component_specific: args.component_specific,
        target_os,
    };
    let matches = matcher::affected_all_with(&feed, &targets, &options);
    let mut output =
        crate::output::Output::open(args.output.as_deref(), crate::output::ColorChoice::Never)?;
    let out = output.writer();
    match args.format {
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut *out, &matches)?;
            writeln!(out)?;
        }
        TableOrJson::Table => {
            if matches.is_empty() {
                writeln!(
                    out,
                    "no known CVE affects {}",
                    targets
                        .iter()
                        .map(|t| t.label.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
            } else {
                affected_table(out, &matches, palisade_report::terminal_width())?;
            }
        }
    }
    output.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// The live cluster's versions as the two documents `--cluster FILE` reads (`kubectl version
/// -o json` and `kubectl get nodes -o json` shapes), so both paths match alike. Notes (no
/// permission to list nodes) go to stderr.
fn live_versions(args: &AffectedArgs) -> Result<Vec<(Vec<u8>, String)>> {
    let opts = palisade_kube::KubeOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        request_timeout: args.request_timeout,
    };
    let (versions, context) = palisade_kube::block_on(async {
        let cluster = palisade_kube::connect(&opts).await?;
        let versions = cluster.versions().await?;
        Ok::<_, palisade_kube::KubeError>((versions, cluster.context().to_owned()))
    })??;
    for note in &versions.notes {
        eprintln!("note: context {context:?}: {note}");
    }
    let nodes: Vec<serde_json::Value> = versions
        .nodes
        .iter()
        .map(|n| {
            let mut info = serde_json::Map::new();
            for (key, value) in [
                ("kubeletVersion", &n.kubelet),
                ("kubeProxyVersion", &n.kube_proxy),
                ("operatingSystem", &n.os),
            ] {
                if let Some(v) = value {
                    info.insert(key.to_owned(), serde_json::Value::String(v.clone()));
                }
            }
            serde_json::json!({"metadata": {"name": n.name}, "status": {"nodeInfo": info}})
        })
        .collect();
    let source = format!("cluster (context {context:?})");
    let mut docs = vec![(
        serde_json::to_vec(&serde_json::json!({"serverVersion": {"gitVersion": versions.server}}))?,
        source.clone(),
    )];
    if !nodes.is_empty() {
        docs.push((
            serde_json::to_vec(&serde_json::json!({"items": nodes}))?,
            source,
        ));
    }
    Ok(docs)
}

/// The affected table laid out for `width` columns: the short columns at their natural
/// widths, `TARGETS / SUMMARY` wrapped in what is left (on lines of its own under the row
/// when less than 30 columns are left), and the reason wrapped under each row.
fn affected_table(out: &mut dyn Write, matches: &[matcher::Match], width: usize) -> Result<()> {
    const HEADER: [&str; 6] = [
        "CVE",
        "COMPONENT",
        "VERSION",
        "FIXED IN",
        "SEVERITY",
        "SCOPE",
    ];
    const LAST: &str = "TARGETS / SUMMARY";
    const INDENT: usize = 4;
    let len = |s: &str| s.chars().count();
    let rows: Vec<([String; 6], String, String)> = matches
        .iter()
        .map(|m| {
            let severity = match (&m.severity, m.base_score) {
                (Some(s), Some(n)) => format!("{s} {n:.1}"),
                _ => "-".to_owned(),
            };
            (
                [
                    m.id.clone(),
                    m.component.clone(),
                    m.version.clone(),
                    m.fixed.clone().unwrap_or_else(|| "none".to_owned()),
                    severity,
                    m.scope.as_str().to_owned(),
                ],
                format!("{}: {}", m.targets.join(", "), m.summary),
                format!("why: {}", m.reason),
            )
        })
        .collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| len(h)).collect();
    for (cells, _, _) in &rows {
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(len(c));
        }
    }
    let fixed: usize = widths.iter().map(|w| w + 2).sum();
    let room = width.saturating_sub(fixed);
    let inline = room >= 30;
    // Narrower than the short columns themselves: each row's cells run on, wrapped.
    let aligned = fixed <= width + 2;
    let pad = |cells: &[&str]| -> Vec<String> {
        if aligned {
            vec![
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}  "))
                    .collect::<String>(),
            ]
        } else {
            crate::cmd_rbac::wrap(&cells.join("  "), width)
        }
    };
    let header = pad(&HEADER);
    if inline {
        writeln!(out, "{}{LAST}", header.concat())?;
    } else {
        for l in &header {
            writeln!(out, "{}", l.trim_end())?;
        }
        writeln!(out, "{}{LAST}", " ".repeat(INDENT))?;
    }
    let under = |text: &str| crate::cmd_rbac::wrap(&format!("{}{text}", " ".repeat(INDENT)), width);
    for (cells, summary, why) in &rows {
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        let lead = pad(&refs);
        if inline {
            let lead = lead.concat();
            let mut lines = crate::cmd_rbac::wrap(summary, room).into_iter();
            writeln!(out, "{lead}{}", lines.next().unwrap_or_default())?;
            for l in lines {
                writeln!(out, "{}{l}", " ".repeat(fixed))?;
            }
        } else {
            for l in &lead {
                writeln!(out, "{}", l.trim_end())?;
            }
            for l in under(summary) {
                writeln!(out, "{l}")?;
            }
        }
        // Why, under the row: the line quoted and what narrowed it.
        for l in under(why) {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

fn fetch(args: FetchArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let cache_path = args.out.join("etags.json");
    let cache: EtagCache = match std::fs::read(&cache_path) {
        Ok(b) => serde_json::from_slice(&b)
            .with_context(|| format!("{}: not an ETag cache; delete it", cache_path.display()))?,
        Err(_) => EtagCache::default(),
    };
    let options = FetchOptions {
        api_url: args.api_url,
        query: args.query,
        token: args.token.filter(|t| !t.is_empty()),
        max_pages: args.max_pages,
        ..FetchOptions::default()
    };
    let fetched = palisade_feed::fetch::fetch_blocking(&options, &cache)?;
    // Replace the previous pages: a shorter result must not leave stale pages behind.
    for entry in std::fs::read_dir(&args.out)?.filter_map(Result::ok) {
        let p = entry.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("page-") && name.ends_with(".json") {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    for (i, page) in fetched.pages.iter().enumerate() {
        let p = args.out.join(format!("page-{}.json", i + 1));
        std::fs::write(&p, &page.body).with_context(|| format!("writing {}", p.display()))?;
    }
    std::fs::write(&cache_path, serde_json::to_vec_pretty(&fetched.cache)?)
        .with_context(|| format!("writing {}", cache_path.display()))?;
    let mut err = std::io::stderr().lock();
    for w in &fetched.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let unchanged = fetched.pages.iter().filter(|p| p.not_modified).count();
    let rl = &fetched.rate_limit;
    writeln!(
        err,
        "{} pages ({unchanged} unchanged), {} issues -> {}; rate limit {}/{}",
        fetched.pages.len(),
        fetched.issues.len(),
        args.out.display(),
        rl.remaining.map_or("?".to_owned(), |r| r.to_string()),
        rl.limit.map_or("?".to_owned(), |r| r.to_string())
    )?;
    Ok(ExitCode::SUCCESS)
}
