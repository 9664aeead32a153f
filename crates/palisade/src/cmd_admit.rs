//! `palisade admit`: parse arguments, load the config and `--objects` (or watch the
//! cluster), run the webhook.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use palisade_admit::{
    Admitter, ApiClient, Config, FailurePolicy, Metrics, ObjectsState, PolicyOptions, PolicyStore,
    ServeOptions,
};

#[derive(Debug, Args)]
pub struct AdmitArgs {
    /// Address to listen on: HOST:PORT (e.g. 0.0.0.0:8443, localhost:8443) or :PORT.
    #[arg(long, value_name = "ADDR", value_parser = crate::output::parse_listen)]
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
    /// Files or directories of Namespace (and Pod) objects to decide against; RBAC objects
    /// among them answer the CEL `authorizer` of --policy. Without it
    /// the server lists and watches them in the cluster: credentials from --kubeconfig,
    /// $KUBECONFIG, the in-cluster service account, then ~/.kube/config.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    objects: Vec<PathBuf>,
    /// kubeconfig file for the cluster watch (its current context).
    #[arg(long, value_name = "FILE", conflicts_with = "objects")]
    kubeconfig: Option<PathBuf>,
    /// Server worker threads [default: the CPUs this process may use, which follows the
    /// container's CPU limit and any affinity mask].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    /// Address for GET /metrics (plain HTTP), or `off`. Never served on the webhook port;
    /// the default is loopback only. In a cluster, listen on the pod address and allow only
    /// the scraper in the NetworkPolicy (deploy/admit does so).
    #[arg(long, value_name = "ADDR|off", default_value = palisade_admit::server::DEFAULT_METRICS_LISTEN, value_parser = metrics_listen)]
    metrics_listen: MetricsListen,
    /// Gatekeeper ConstraintTemplates + Constraints and ValidatingAdmissionPolicies +
    /// bindings (files or directories, repeatable) enforced on every review. Any load error
    /// stops the server from starting (exit 2); files are re-read when they change.
    #[arg(long = "policy", value_name = "PATH", num_args = 1..)]
    policies: Vec<PathBuf>,
    /// Time budget for all --policy evaluations of one review (also each Rego evaluation's
    /// limit): `100ms`, `1s`. A policy over budget counts as an error.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration, requires = "policies")]
    policy_timeout: Duration,
    /// What a --policy error or overrun does: Ignore (allow, log, count, annotate; as
    /// Gatekeeper's default failurePolicy) or Fail (deny with the error).
    #[arg(long, value_name = "Ignore|Fail", default_value = "Ignore", value_parser = failure_policy, requires = "policies")]
    policy_failure_policy: FailurePolicy,
    /// How often --policy files are checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, requires = "policies")]
    policy_reload_interval: Duration,
}

fn failure_policy(s: &str) -> Result<FailurePolicy, String> {
    match s {
        "Ignore" | "ignore" => Ok(FailurePolicy::Ignore),
        "Fail" | "fail" => Ok(FailurePolicy::Fail),
        _ => Err(format!("`{s}` is not a failure policy (Ignore or Fail)")),
    }
}

/// `100ms`, `2s`, `1m`, or a bare number of seconds; more than zero.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 100ms, 2s, 1m)"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s or m)")),
    };
    if d.is_zero() {
        return Err(format!("`{s}`: must be more than zero"));
    }
    Ok(d)
}

/// `--metrics-listen`: an address, or `off`.
#[derive(Debug, Clone, Copy)]
struct MetricsListen(Option<SocketAddr>);

fn metrics_listen(s: &str) -> Result<MetricsListen, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(MetricsListen(None));
    }
    s.parse()
        .map(|a| MetricsListen(Some(a)))
        .map_err(|e| format!("`{s}` is not an address such as 127.0.0.1:9090, or `off`: {e}"))
}

pub fn run(args: AdmitArgs) -> anyhow::Result<ExitCode> {
    // Colour only on a terminal (a pod's log or a file gets plain text), and never with
    // NO_COLOR (https://no-color.org).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .init();
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    // Loaded before anything listens: a webhook must not start half-configured.
    let policies = if args.policies.is_empty() {
        None
    } else {
        let store = PolicyStore::load(PolicyOptions {
            paths: args.policies.clone(),
            timeout: args.policy_timeout,
            failure_policy: args.policy_failure_policy,
            reload_interval: args.policy_reload_interval,
        })?;
        // CEL's `authorizer` answers for the request's user from the RBAC objects among
        // --objects (without them its checks are errored and failurePolicy decides).
        let store = if args.objects.is_empty() {
            store
        } else {
            store.with_rbac_objects(&args.objects)?
        };
        tracing::info!(policies = store.policy_count(), "loaded --policy");
        Some(Arc::new(store))
    };
    let opts = ServeOptions {
        listen: args.listen,
        cert: args.cert,
        key: args.key,
        workers: args.workers.map(usize::from),
        metrics_listen: args.metrics_listen.0,
    };
    let on_listening = |addr| {
        tracing::info!("listening on https://{addr} (POST /validate, /healthz, /readyz)");
    };
    if args.objects.is_empty() {
        let (client, source) =
            ApiClient::discover(args.kubeconfig.as_deref()).context("palisade admit")?;
        tracing::info!("watching namespaces and pods through {source}");
        palisade_admit::run_in_cluster(
            opts,
            client,
            config,
            Arc::new(Metrics::new()),
            policies,
            on_listening,
        )
        .context("palisade admit")?;
        return Ok(ExitCode::SUCCESS);
    }
    let (state, summary) = ObjectsState::load(&args.objects)?;
    tracing::info!(
        namespaces = summary.namespaces,
        pods = summary.pods,
        ignored = summary.other,
        "loaded --objects"
    );
    let mut admitter = Admitter::new(config, Arc::new(state), Arc::new(Metrics::new()));
    if let Some(store) = policies {
        admitter = admitter.with_policies(store);
    }
    let admitter = Arc::new(admitter);
    palisade_admit::run_blocking(opts, admitter, on_listening).context("palisade admit")?;
    Ok(ExitCode::SUCCESS)
}
