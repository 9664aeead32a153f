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

    /// Address to listen on, e.g. 127.0.0.1:8080 or 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
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
