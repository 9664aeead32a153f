//! `palisade audit [PATH|-]...` (also spelled `palisade audit scan ...`): run Falco-compatible
//! k8s_audit rules over Kubernetes API audit logs and print alerts.
//!
//! `AuditCommand` implements clap's `Subcommand` by hand so that the issue's interface,
//! `palisade audit FILE...` with no subcommand word, works under main.rs's
//! `#[command(subcommand)]` slot: the top-level `audit` command takes the scan arguments
//! itself and also offers named subcommands (`scan`, `rules`).

use anyhow::Context;
use clap::{ArgMatches, Args, FromArgMatches, Subcommand};
use palisade_audit::forward::Forwarder;
use palisade_audit::{Alert, Engine, Priority, RuleSetBuilder, Summary};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

/// Rule-set selection shared by the subcommands.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// A Falco rules file to load after the built-in rules (repeatable, loaded in order;
    /// later files can append to or override earlier lists, macros and rules).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rules (Falco's k8s_audit_rules.yaml and Palisade's extra rules).
    #[arg(long)]
    pub no_default_rules: bool,
    /// Load Falco's built-in rules but not Palisade's extra rules.
    #[arg(long)]
    pub no_extra_rules: bool,
}

/// Optional HTTP forward output.
#[derive(Debug, Clone, Args)]
pub struct ForwardArgs {
    /// Also POST each alert as JSON to this URL (Falco http_output format, e.g.
    /// falcosidekick). https://, or http:// to a loopback address only.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,
    /// Extra CA certificate (PEM) to trust for --forward.
    #[arg(long, value_name = "FILE", requires = "forward")]
    pub forward_ca: Option<PathBuf>,
    /// Alerts held while the --forward receiver is slow; beyond that they are dropped
    /// from the forward output (and counted) but still written to the primary output.
    #[arg(long, value_name = "N", default_value_t = palisade_audit::forward::DEFAULT_QUEUE)]
    pub forward_queue: usize,
}

impl ForwardArgs {
    fn start(&self) -> anyhow::Result<Option<Forwarder>> {
        let Some(url) = &self.forward else {
            return Ok(None);
        };
        Ok(Some(Forwarder::start(
            url,
            self.forward_ca.as_deref(),
            self.forward_queue,
            Duration::from_secs(5),
        )?))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Audit log files (JSON Lines, optionally gzip-compressed); `-` or nothing reads stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format: one JSON object per alert per line, or human text.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Only report rules at or above this priority (emergency, alert, critical, error,
    /// warning, notice, informational, debug).
    #[arg(long, value_name = "PRIORITY", value_parser = parse_priority)]
    pub min_priority: Option<Priority>,
    /// Keep reading the files as they grow, surviving rotation and truncation (like `tail -F`).
    #[arg(long)]
    pub follow: bool,
    /// Write alerts to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Longest accepted input line in bytes; longer lines are reported and skipped.
    #[arg(long, value_name = "BYTES", default_value_t = palisade_audit::input::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Do not print the summary or progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub forward: ForwardArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RulesListArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format: table or json (one JSON object a line), as `--format` on every command.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: RulesFormat,
    /// The same as `--format json` (kept for scripts written against it).
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
    /// Write the list to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT (e.g. 0.0.0.0:8443, localhost:8443) or :PORT.
    #[arg(long, value_name = "ADDR", value_parser = crate::output::parse_listen)]
    pub listen: std::net::SocketAddr,
    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Require client certificates signed by this CA (PEM) on the webhook port: the API
    /// server presents one from its audit-webhook kubeconfig. Without it anyone who can
    /// reach the port can post events.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format for alerts: one JSON object per line, or human text.
    #[arg(long, short = 'f', value_enum, default_value = "json")]
    pub format: Format,
    /// Only report rules at or above this priority.
    #[arg(long, value_name = "PRIORITY", value_parser = parse_priority)]
    pub min_priority: Option<Priority>,
    /// Write alerts to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest accepted POST body in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = palisade_audit::serve::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Request body bytes held by all requests being received at once, charged as bytes
    /// arrive; beyond it a request gets 503 (retried) [default: 4 x --body-limit, at least 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub body_budget: Option<usize>,
    /// Batches held while the output is slow.
    #[arg(long, value_name = "N", default_value_t = palisade_audit::serve::DEFAULT_QUEUE_BATCHES)]
    pub queue_batches: usize,
    /// How long a request waits for queue room before it is answered 503 (the API server retries).
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub queue_wait_ms: u64,
    /// Plain-HTTP address for /metrics (Prometheus/OpenMetrics text), /healthz and /readyz;
    /// never served on the webhook port. Loopback by default: to let Prometheus scrape it,
    /// listen on the pod address and restrict the port with a NetworkPolicy.
    #[arg(long, value_name = "ADDR", default_value = palisade_audit::serve::DEFAULT_METRICS_LISTEN)]
    pub metrics_listen: std::net::SocketAddr,
    /// On SIGTERM/SIGINT: time to finish requests, drain the queue and flush the output
    /// (e.g. 25s, 500ms; a bare number is seconds). Events still undelivered then are
    /// logged with their count and the exit status is 1.
    #[arg(long, value_name = "DURATION", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// Webhook connections open at once; at the cap the oldest connection that has not sent
    /// a request is closed to make room, else the new one is refused (both counted).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    #[command(flatten)]
    pub forward: ForwardArgs,
}

/// `25s`, `500ms`, `2m`, or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 25s, 500ms, 2m)"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("'{s}': unknown unit '{unit}' (use ms, s or m)")),
    }
}

#[derive(Debug, Subcommand)]
enum Named {
    /// Scan audit logs (same as `palisade audit PATH...`).
    Scan(ScanArgs),
    /// Load rules files and list the enabled rules (checks that the files compile).
    Rules(RulesListArgs),
    /// HTTPS webhook backend for the API server's audit webhook (EventList batches).
    Serve(ServeArgs),
}

/// `palisade audit` arguments: either the scan arguments directly or a named subcommand.
#[derive(Debug)]
pub enum AuditCommand {
    Scan(ScanArgs),
    Rules(RulesListArgs),
    Serve(ServeArgs),
}

impl FromArgMatches for AuditCommand {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }

    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, clap::Error> {
        if m.subcommand_name().is_some() {
            return Ok(match Named::from_arg_matches_mut(m)? {
                Named::Scan(a) => AuditCommand::Scan(a),
                Named::Rules(a) => AuditCommand::Rules(a),
                Named::Serve(a) => AuditCommand::Serve(a),
            });
        }
        Ok(AuditCommand::Scan(ScanArgs::from_arg_matches_mut(m)?))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Subcommand for AuditCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        let cmd = Named::augment_subcommands(cmd);
        ScanArgs::augment_args(cmd)
            .subcommand_required(false)
            .arg_required_else_help(false)
            .args_conflicts_with_subcommands(true)
            .subcommand_negates_reqs(true)
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        Named::has_subcommand(name)
    }
}

fn parse_priority(s: &str) -> Result<Priority, String> {
    Priority::parse(s).ok_or_else(|| {
        format!("unknown priority '{s}' (emergency, alert, critical, error, warning, notice, informational, debug)")
    })
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Scan(a) => scan(a),
        AuditCommand::Rules(a) => list_rules(a),
        AuditCommand::Serve(a) => serve(a),
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    // Colour only on a terminal, never with NO_COLOR (https://no-color.org).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::stderr().is_terminal())
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let rs = build_rules(&a.rules)?;
    let mut engine = Engine::new(rs);
    if let Some(p) = a.min_priority {
        engine = engine.with_min_priority(p);
    }
    // Unbuffered: the worker writes each batch's alerts in one call and must see a failing
    // output (e.g. a full disk) at once, not at a later flush.
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let format = a.format;
    let fwd = a.forward.start()?;
    let mut cfg = palisade_audit::serve::ServeConfig::new(a.listen, a.cert, a.key);
    cfg.client_ca = a.client_ca;
    cfg.body_limit = a.body_limit;
    cfg.queue_batches = a.queue_batches;
    cfg.queue_wait = Duration::from_millis(a.queue_wait_ms);
    cfg.metrics_listen = Some(a.metrics_listen);
    cfg.shutdown_timeout = a.shutdown_timeout;
    cfg.body_budget = a
        .body_budget
        .unwrap_or_else(|| palisade_audit::serve::default_body_budget(a.body_limit));
    cfg.limits = palisade_audit::serve::default_limits();
    cfg.limits.max_connections = a.max_connections as usize;
    let rules = engine.rules.rules.len();
    let report = palisade_audit::serve::run(
        cfg,
        engine,
        palisade_audit::serve::Shared::new(),
        out,
        move |alert, buf| {
            if let Some(f) = &fwd {
                f.send(alert);
            }
            match format {
                Format::Json => alert.write_json_line(buf),
                Format::Text => {
                    buf.extend_from_slice(text_line(alert).as_bytes());
                    buf.push(b'\n');
                }
            }
        },
        palisade_audit::serve::shutdown_signal,
        |l| {
            tracing::info!(
                "serving the audit webhook on https://{} (POST / or /k8s-audit, {rules} rules); metrics on http://{}/metrics",
                l.webhook,
                l.metrics.map_or_else(|| "-".to_string(), |m| m.to_string())
            );
        },
    )?;
    Ok(if report.drained.undelivered_events > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn build_rules(a: &RuleArgs) -> anyhow::Result<palisade_audit::RuleSet> {
    let mut b = if a.no_default_rules {
        RuleSetBuilder::new()
    } else {
        RuleSetBuilder::with_defaults(!a.no_extra_rules)?
    };
    for p in &a.rules {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read rules file {}", p.display()))?;
        b.add_str(&p.display().to_string(), &text)?;
    }
    let rs = b.build()?;
    for w in &rs.warnings {
        eprintln!("warning: {w}");
    }
    if rs.rules.is_empty() {
        anyhow::bail!(
            "no enabled k8s_audit rules were loaded; pass --rules FILE or drop --no-default-rules"
        );
    }
    Ok(rs)
}

fn list_rules(a: RulesListArgs) -> anyhow::Result<ExitCode> {
    let rs = build_rules(&a.rules)?;
    // The rules files are read before the output is created: a bad rules file leaves no
    // empty output file behind.
    let mut out =
        crate::output::Output::open(a.output.as_deref(), crate::output::ColorChoice::Never)?;
    let json = a.json || a.format == RulesFormat::Json;
    for r in &rs.rules {
        let w = out.writer();
        if json {
            let v = serde_json::json!({"rule": &*r.name, "priority": r.priority.as_str(), "tags": r.tags, "desc": r.desc});
            writeln!(w, "{v}")
        } else {
            writeln!(w, "{:<13} {}", r.priority.as_str(), r.name)
        }
        .with_context(|| match &a.output {
            Some(p) => format!("writing {}", p.display()),
            None => "writing to standard output".to_owned(),
        })?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Counts bytes read and prints progress to stderr every 2 s on long runs.
struct Progress<R> {
    inner: R,
    bytes: u64,
    start: Instant,
    last: Instant,
    enabled: bool,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        if self.enabled && self.last.elapsed() >= Duration::from_secs(2) {
            self.last = Instant::now();
            let secs = self.start.elapsed().as_secs_f64();
            eprint!(
                "\r{:.1} MB read ({:.1} MB/s)   ",
                self.bytes as f64 / 1e6,
                self.bytes as f64 / 1e6 / secs
            );
        }
        Ok(n)
    }
}

fn text_line(a: &Alert) -> String {
    format!(
        "{} {} [{}] {} ({}:{})",
        a.time, a.priority, a.rule, a.message, a.file, a.line
    )
}

fn scan(a: ScanArgs) -> anyhow::Result<ExitCode> {
    let rs = build_rules(&a.rules)?;
    let mut engine = Engine::new(rs);
    if let Some(p) = a.min_priority {
        engine = engine.with_min_priority(p);
    }
    // Large buffer: one write(2) per 256 KiB of alerts on whole-log runs.
    const OUT_BUF: usize = 256 * 1024;
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            OUT_BUF,
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            OUT_BUF,
            std::io::stdout().lock(),
        )),
    };
    let paths = if a.paths.is_empty() {
        // Nothing given: standard input. Say so when it is a terminal, or the command seems
        // to hang (a pipe or a file is read without a word).
        if std::io::stdin().is_terminal() {
            eprintln!(
                "palisade audit: reading audit events (JSON Lines) from standard input; end with Ctrl-D, or give files (or `-`) as arguments"
            );
        }
        vec!["-".to_string()]
    } else {
        a.paths.clone()
    };
    let fwd = a.forward.start()?;
    let show_progress = !a.quiet && !a.follow && std::io::stderr().is_terminal();
    let mut summary = Summary::default();
    let mut input_errors = 0u64;
    let mut shown_bad = 0u64;
    let mut write_err: Option<std::io::Error> = None;
    let mut line = Vec::new();
    const MAX_SHOWN_BAD: u64 = 20;

    // Following several files at once would need one thread per file; they share the engine.
    if a.follow && paths.len() > 1 {
        anyhow::bail!("--follow takes one file (run one `palisade audit --follow` per log)");
    }
    for path in &paths {
        let name = if path == "-" {
            "<stdin>".to_string()
        } else {
            path.clone()
        };
        let reader: Box<dyn BufRead> = if path == "-" {
            palisade_audit::maybe_gunzip(std::io::stdin().lock())?
        } else if a.follow {
            let stop = Arc::new(AtomicBool::new(false));
            let f = palisade_audit::follow::Follower::new(path, Duration::from_millis(250), stop)
                .with_context(|| format!("cannot open {path}"))?;
            Box::new(std::io::BufReader::new(f))
        } else {
            match std::fs::File::open(path) {
                Ok(f) => palisade_audit::maybe_gunzip(Progress {
                    inner: f,
                    bytes: 0,
                    start: Instant::now(),
                    last: Instant::now(),
                    enabled: show_progress,
                })?,
                Err(e) => {
                    eprintln!("error: {path}: cannot open: {e}");
                    input_errors += 1;
                    continue;
                }
            }
        };
        let follow = a.follow;
        let stats = engine.scan(
            reader,
            &name,
            a.max_line_bytes,
            |alert| {
                summary.add_alert(alert);
                if let Some(f) = &fwd {
                    f.send(alert);
                }
                if write_err.is_some() {
                    return;
                }
                let r = match a.format {
                    Format::Json => {
                        line.clear();
                        alert.write_json_line(&mut line);
                        out.write_all(&line)
                    }
                    Format::Text => writeln!(out, "{}", text_line(alert)),
                };
                let r = if follow {
                    r.and_then(|()| out.flush())
                } else {
                    r
                };
                if let Err(e) = r {
                    write_err = Some(e);
                }
            },
            |bad| {
                shown_bad += 1;
                if shown_bad <= MAX_SHOWN_BAD {
                    eprintln!("warning: {bad}");
                }
            },
        );
        summary.add_read(&stats);
        if let Some(e) = write_err.take() {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::from(if summary.alerts > 0 { 1 } else { 0 }));
            }
            return Err(e).context("cannot write alerts");
        }
    }
    out.flush().context("cannot write alerts")?;
    if show_progress {
        eprint!("\r{:60}\r", "");
    }
    if shown_bad > MAX_SHOWN_BAD {
        eprintln!(
            "warning: {} more bad lines not shown",
            shown_bad - MAX_SHOWN_BAD
        );
    }
    if !a.quiet {
        eprintln!(
            "audit: {} events from {} lines ({:.1} MB), {} bad lines, {} alerts",
            summary.events,
            summary.lines,
            summary.bytes as f64 / 1e6,
            summary.bad_lines,
            summary.alerts
        );
        for (rule, n) in &summary.alerts_by_rule {
            eprintln!("  {n:>8}  {rule}");
        }
    }
    if let Some(f) = fwd {
        let st = f.finish();
        if !a.quiet || st.dropped + st.failed > 0 {
            eprintln!(
                "audit: forwarded {} alerts, {} dropped (queue full), {} failed",
                st.sent, st.dropped, st.failed
            );
        }
    }
    Ok(if input_errors > 0 || summary.bad_lines > 0 {
        ExitCode::from(2)
    } else if summary.alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn shutdown_timeout_durations() {
        assert_eq!(parse_duration("25s"), Ok(Duration::from_secs(25)));
        assert_eq!(parse_duration("25"), Ok(Duration::from_secs(25)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(
            parse_duration("5x")
                .unwrap_err()
                .contains("unknown unit 'x'")
        );
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }
}
