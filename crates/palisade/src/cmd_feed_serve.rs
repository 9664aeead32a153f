//! `palisade feed serve`: flags to [`palisade_feed_server::Config`], then run until SIGTERM.

use anyhow::{Context, Result, bail};
use palisade_feed_server::{Config, Tls};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Directory for the store (feed.redb) and the written outputs (out/). Created if missing.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Address to listen on: HOST:PORT (e.g. 127.0.0.1:8080, localhost:8080) or :PORT.
    #[arg(long, value_name = "ADDR", value_parser = crate::output::parse_listen)]
    pub listen: SocketAddr,

    /// GitHub API pages (files or directories of *.json) to seed the store from, read as
    /// `palisade feed build` reads them.
    #[arg(long = "input", value_name = "PATH", num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// File holding the GitHub webhook secret. Without it, POST /webhooks/github answers 404
    /// and only the resync updates the feed.
    #[arg(long, value_name = "FILE", env = "PALISADE_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,

    /// Repository whose issues make the feed (OWNER/NAME).
    #[arg(long, default_value = "kubernetes/kubernetes")]
    pub repo: String,

    /// Label that puts an issue in the feed.
    #[arg(long, default_value = "official-cve-feed")]
    pub label: String,

    /// How often to resync from the GitHub search API (`30s`, `15m`, `1h`); `0` disables it.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub resync_interval: String,

    /// Boxed: keeps `FeedCommand::Serve` close in size to the other subcommands.
    #[command(flatten)]
    pub tls: Box<TlsArgs>,

    /// Where readers reach this server (https://…, or http:// for a loopback host): the feed's
    /// own links (JSON Feed feed_url/home_page_url, RSS/Atom self links, OSV records, the
    /// page) point there. Without it they keep kubernetes.io's URLs, as `feed build` writes.
    #[arg(long, value_name = "URL", env = "PALISADE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest webhook delivery body, in bytes (larger deliveries get 413).
    #[arg(long, default_value_t = palisade_feed_server::webhook::DEFAULT_MAX_BODY)]
    pub max_body_bytes: usize,

    /// GitHub API base URL for the resync.
    #[arg(long, hide = true, default_value = palisade_feed::fetch::DEFAULT_API)]
    pub api_url: String,

    /// API token for the resync (raises the rate limit); read from the environment.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Boxed, as `tls`.
    #[command(flatten)]
    pub conn: Box<ConnArgs>,
}

/// Connection limits and the metrics listener.
#[derive(Debug, clap::Args)]
pub struct ConnArgs {
    /// Address for GET /metrics (plain HTTP), or `off`. Never served on --listen (which the
    /// Ingress exposes); the default is loopback only.
    #[arg(long, value_name = "ADDR|off", default_value = palisade_feed_server::server::DEFAULT_METRICS_LISTEN)]
    pub metrics_listen: String,

    /// Connections open at once; at the cap a new one evicts the oldest connection that has
    /// not sent a request yet, or is refused.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Time for a request's headers: the first request's from the end of the handshake
    /// (or the connection), a later one's from its first byte (`10s`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub header_timeout: String,

    /// A keep-alive connection with no request in flight (HTTP/1 and HTTP/2) is closed
    /// after this; so is one whose request makes no I/O progress for this long.
    #[arg(long, value_name = "DURATION", default_value = "90s")]
    pub idle_timeout: String,

    /// Whole request, body included (408 after).
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub request_timeout: String,
}

/// A timeout flag: a duration above zero.
fn timeout(flag: &str, text: &str) -> Result<std::time::Duration> {
    match palisade_feed_server::duration::parse(text) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => bail!("{flag}: must be above 0"),
        Err(e) => bail!("{flag}: {e}"),
    }
}

/// `--cert`, `--key` and how often they are re-read.
#[derive(Debug, clap::Args)]
pub struct TlsArgs {
    /// TLS certificate chain (PEM). With --key, serve HTTPS; without, plain HTTP for use
    /// behind an ingress that terminates TLS.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// How often the --cert/--key files are checked for a rotation (`5s`, `1m`); `0` disables
    /// it. A new pair is used for new connections; a bad one keeps the old pair serving.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub cert_reload_interval: String,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    // Colour only on a terminal, never in redirected logs (and not with NO_COLOR).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .init();
    let resync = palisade_feed_server::duration::parse(&args.resync_interval)
        .map_err(|e| anyhow::anyhow!("--resync-interval: {e}"))?;
    let cert_reload = palisade_feed_server::duration::parse(&args.tls.cert_reload_interval)
        .map_err(|e| anyhow::anyhow!("--cert-reload-interval: {e}"))?;
    let secret = match &args.webhook_secret_file {
        Some(p) => Some(palisade_feed_server::read_secret(p)?),
        None => None,
    };
    if secret.is_none() && resync.is_none() && args.inputs.is_empty() {
        bail!(
            "nothing would ever fill the feed: give --input, --webhook-secret-file or a non-zero --resync-interval"
        );
    }
    let mut config = Config::new(args.data_dir, args.listen);
    config.inputs = args.inputs;
    config.webhook_secret = secret;
    config.repo = args.repo;
    config.label = args.label;
    config.resync_interval = resync;
    config.api_url = args.api_url;
    config.token = args.token.filter(|t| !t.is_empty());
    config.max_body_bytes = args.max_body_bytes;
    config.cert_reload_interval = cert_reload;
    config.public_url = args.public_url.filter(|u| !u.is_empty());
    let conn = *args.conn;
    config.metrics_listen = if conn.metrics_listen.eq_ignore_ascii_case("off") {
        None
    } else {
        Some(conn.metrics_listen.parse().map_err(|e| {
            anyhow::anyhow!(
                "--metrics-listen: `{}` is not an address such as 127.0.0.1:9091, or `off`: {e}",
                conn.metrics_listen
            )
        })?)
    };
    let header = timeout("--header-timeout", &conn.header_timeout)?;
    let l = &mut config.serve_limits;
    l.max_connections = usize::try_from(conn.max_connections).unwrap_or(usize::MAX);
    l.handshake_timeout = header;
    l.first_request_timeout = header;
    l.header_read_timeout = header;
    l.idle_timeout = timeout("--idle-timeout", &conn.idle_timeout)?;
    l.request_timeout = Some(timeout("--request-timeout", &conn.request_timeout)?);
    // The webhook's own limit (--max-body-bytes) must fit in the bytes in flight.
    l.max_body_bytes_in_flight = l.max_body_bytes_in_flight.max(args.max_body_bytes);
    let TlsArgs { cert, key, .. } = *args.tls;
    config.tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        _ => None,
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    palisade_feed_server::run_blocking(config, |addr| {
        // Printed on stdout so scripts started with port 0 can find the address.
        println!("listening on {scheme}://{addr}");
    })
    .context("palisade feed serve")?;
    Ok(ExitCode::SUCCESS)
}
