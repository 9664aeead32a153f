//! `palisade admit`: parse arguments, load the config and `--objects`, run the webhook.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use palisade_admit::{Admitter, Config, Metrics, ObjectsState, ServeOptions};

#[derive(Debug, Args)]
pub struct AdmitArgs {
    /// Address to listen on, e.g. 0.0.0.0:8443.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// PEM serving certificate (leaf first, then intermediates); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// PEM private key of the certificate; reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// PodSecurityConfiguration, AdmissionConfiguration or palisade AdmitConfiguration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Files or directories of Namespace (and Pod) objects to decide against, instead of
    /// watching a cluster.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    objects: Vec<PathBuf>,
}

pub fn run(args: AdmitArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if args.objects.is_empty() {
        bail!(
            "this build cannot watch a cluster: pass --objects with the Namespace (and Pod) manifests to decide against"
        );
    }
    let (state, summary) = ObjectsState::load(&args.objects)?;
    tracing::info!(
        namespaces = summary.namespaces,
        pods = summary.pods,
        ignored = summary.other,
        "loaded --objects"
    );
    let admitter = Arc::new(Admitter::new(
        config,
        Arc::new(state),
        Arc::new(Metrics::new()),
    ));
    let opts = ServeOptions {
        listen: args.listen,
        cert: args.cert,
        key: args.key,
    };
    palisade_admit::run_blocking(opts, admitter, |addr| {
        tracing::info!("listening on https://{addr} (POST /validate, /healthz, /readyz, /metrics)");
    })
    .context("palisade admit")?;
    Ok(ExitCode::SUCCESS)
}
