//! Configuration, start-up (open the store, seed, restore or build the outputs, bind), the
//! rebuild that every change goes through, and the periodic resync. Connections are served
//! by [`palisade_tls::serve`] (cap, handshake/first-request/header/idle timeouts, request
//! deadline, body bytes in flight), TLS or plain; `/metrics` on its own listener only.

use crate::metrics::Metrics;
use crate::outputs::{self, Snapshot};
use crate::store::{self, Store, StoredIssue};
use crate::{ServerError, time};
use palisade_feed::Limits;
use palisade_feed::fetch::{EtagCache, FetchOptions};
use palisade_tls::serve::{ConnMetrics, ServeLimits};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Largest webhook secret file read.
pub const MAX_SECRET_BYTES: u64 = 4096;
/// A complete resync only drops issues last updated this long before it started: GitHub's
/// search index lags behind its webhooks, so a just-labelled issue may not be found yet.
pub const RESYNC_GRACE: Duration = Duration::from_secs(15 * 60);

/// How often certificate files are checked by default: cert-manager and kubelet secret
/// updates take about a minute to appear, so 5 s adds little to a rotation.
pub const DEFAULT_CERT_RELOAD: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// GitHub API pages (files or directories) to seed the store from, read as `feed build`
    /// reads them.
    pub inputs: Vec<PathBuf>,
    /// `None`: the webhook endpoint answers 404 and only resync updates the feed.
    pub webhook_secret: Option<Vec<u8>>,
    pub repo: String,
    pub label: String,
    /// `None`: no polling.
    pub resync_interval: Option<Duration>,
    pub api_url: String,
    pub token: Option<String>,
    pub tls: Option<Tls>,
    /// Where readers reach this server (`https://…`); the feed's own links point there.
    /// `None`: upstream's kubernetes.io URLs. Checked and normalised at start.
    pub public_url: Option<String>,
    /// How often the TLS certificate and key files are checked for a rotation; `None`: never.
    pub cert_reload_interval: Option<Duration>,
    pub max_body_bytes: usize,
    pub limits: Limits,
    /// Connection limits of the main listener (TLS or plain).
    pub serve_limits: ServeLimits,
    /// Where `/metrics` is served (plain HTTP); `None`: nowhere. Never the main listener,
    /// which the Ingress exposes.
    pub metrics_listen: Option<SocketAddr>,
}

/// The default `--metrics-listen` of `feed serve`: loopback only (9091: admit's default is
/// 9090, so both can run on one machine).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9091";

/// The connection limits `feed serve` runs with by default: palisade-tls's defaults
/// (1024 connections, 10 s handshake/first request/headers, 90 s idle, 30 s per request,
/// 32 MiB of request bodies in flight).
pub fn default_serve_limits() -> ServeLimits {
    ServeLimits::default()
}

impl Config {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            data_dir,
            listen,
            inputs: Vec::new(),
            webhook_secret: None,
            repo: "kubernetes/kubernetes".to_owned(),
            label: "official-cve-feed".to_owned(),
            resync_interval: None,
            api_url: palisade_feed::fetch::DEFAULT_API.to_owned(),
            token: None,
            tls: None,
            public_url: None,
            cert_reload_interval: Some(DEFAULT_CERT_RELOAD),
            max_body_bytes: crate::webhook::DEFAULT_MAX_BODY,
            limits: Limits::default(),
            serve_limits: default_serve_limits(),
            metrics_listen: None,
        }
    }

    fn validate(&mut self) -> Result<(), ServerError> {
        self.public_url = self
            .public_url
            .as_deref()
            .map(crate::public_url::parse)
            .transpose()?;
        let parts: Vec<&str> = self.repo.split('/').collect();
        let ok_part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if parts.len() != 2 || !parts.iter().all(|p| ok_part(p)) {
            return Err(ServerError::Config {
                setting: "--repo",
                message: format!("`{}` is not OWNER/NAME", self.repo),
            });
        }
        if self.label.trim().is_empty() || self.label.contains('"') {
            return Err(ServerError::Config {
                setting: "--label",
                message: format!("`{}` is not a usable label name", self.label),
            });
        }
        Ok(())
    }

    /// The base the page's links start with: the public URL, or an empty string for root-relative links.
    pub fn link_base(&self) -> &str {
        self.public_url.as_deref().unwrap_or("")
    }

    /// The feed's self description: upstream's, or pointing at `public_url`.
    pub fn site(&self) -> palisade_feed::Site {
        crate::public_url::site(self.public_url.as_deref())
    }

    /// The search the resync runs: upstream's query for this repository and label.
    pub fn fetch_options(&self) -> FetchOptions {
        let label = if self.label.contains(' ') {
            format!("\"{}\"", self.label)
        } else {
            self.label.clone()
        };
        FetchOptions {
            api_url: self.api_url.clone(),
            query: format!("is:issue label:{label} repo:{}", self.repo),
            token: self.token.clone(),
            limits: self.limits,
            ..FetchOptions::default()
        }
    }
}

/// Reads a webhook secret: trailing newlines dropped (Kubernetes Secrets and `echo` add them),
/// must not be empty, at most [`MAX_SECRET_BYTES`].
pub fn read_secret(path: &Path) -> Result<Vec<u8>, ServerError> {
    let bad = |message: String| ServerError::Secret {
        path: path.to_owned(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_SECRET_BYTES {
        return Err(bad(format!(
            "{} bytes is over the {MAX_SECRET_BYTES}-byte limit for a secret",
            meta.len()
        )));
    }
    let mut bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    if bytes.is_empty() {
        return Err(bad("the secret is empty".to_owned()));
    }
    Ok(bytes)
}

/// Shared by every request handler.
#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub store: Store,
    pub metrics: Metrics,
    /// The main listener's connection metrics (registered in `metrics`).
    pub connections: ConnMetrics,
    pub out_dir: PathBuf,
    snapshot: RwLock<Arc<Snapshot>>,
    rebuild_lock: Arc<tokio::sync::Mutex<()>>,
    ready: AtomicBool,
    /// The last rebuild failed: `/readyz` says so until one succeeds.
    degraded: AtomicBool,
}

impl State {
    pub fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn swap(&self, s: Snapshot) {
        let s = Arc::new(s);
        match self.snapshot.write() {
            Ok(mut g) => *g = s,
            Err(poisoned) => *poisoned.into_inner() = s,
        }
    }

    /// Waits until no rebuild is running, so the files on disk match what is served.
    pub async fn settle(&self) {
        drop(self.rebuild_lock.lock().await);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && !self.degraded.load(Ordering::SeqCst)
    }

    /// Rebuilds from the store now (blocking: redb and fsync). `swapped` is told as soon as the
    /// new outputs are served from memory; the files on disk are written after that. The store
    /// already holds the change durably, and a restart rebuilds when the files lag behind it
    /// (`outputs_generation`), so a reader need not wait for the disk.
    fn rebuild_now(
        &self,
        swapped: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), ServerError> {
        let started = Instant::now();
        let result = (|| {
            let (generation, issues) = self.store.read_all()?;
            let prev = self.current();
            let built = outputs::build(
                issues,
                &self.config.label,
                &self.config.site(),
                generation,
                Some(&prev),
                &time::now_rfc3339(),
                &self.config.limits,
            )?;
            let build_time = started.elapsed();
            let items = i64::try_from(built.snapshot.feed.items.len()).unwrap_or(i64::MAX);
            self.swap(built.snapshot);
            self.metrics.items.set(items);
            if let Some(tx) = swapped {
                let _ = tx.send(());
            }
            let current = self.current();
            let written = outputs::write(&self.out_dir, &current)?;
            self.store.set_outputs_generation(generation)?;
            tracing::info!(
                "rebuilt generation {generation}: {items} items in {:.1} ms (build {:.1} ms, {written} files written)",
                started.elapsed().as_secs_f64() * 1000.0,
                build_time.as_secs_f64() * 1000.0
            );
            Ok::<_, ServerError>(())
        })();
        self.metrics
            .rebuild_seconds
            .observe(started.elapsed().as_secs_f64());
        match &result {
            Ok(()) => {
                Metrics::result(&self.metrics.rebuilds, "ok");
                self.degraded.store(false, Ordering::SeqCst);
            }
            Err(e) => {
                Metrics::result(&self.metrics.rebuilds, "error");
                self.degraded.store(true, Ordering::SeqCst);
                tracing::error!("rebuild failed: {e}");
            }
        }
        result
    }
}

/// Makes sure the served snapshot includes store generation `generation`. Concurrent callers
/// share one rebuild: whoever gets the lock first builds from the newest store state, and the
/// others find their generation already served.
pub async fn ensure_built(state: &Arc<State>, generation: u64) -> Result<(), ServerError> {
    if state.current().generation >= generation && !state.degraded.load(Ordering::SeqCst) {
        return Ok(());
    }
    let guard = state.rebuild_lock.clone().lock_owned().await;
    if state.current().generation >= generation && !state.degraded.load(Ordering::SeqCst) {
        return Ok(());
    }
    let st = state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    // The lock is held until the files are on disk, so rebuilds never overlap.
    let task = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        st.rebuild_now(Some(tx))
    });
    if rx.await.is_ok() {
        return Ok(());
    }
    // Not swapped: the build itself failed; report why.
    task.await.map_err(|e| ServerError::Build {
        message: format!("rebuild task failed: {e}"),
    })??;
    Err(ServerError::Build {
        message: "rebuild ended without new outputs".to_owned(),
    })
}

/// Runs a blocking store operation off the async workers.
pub async fn blocking<T: Send + 'static>(
    state: &Arc<State>,
    f: impl FnOnce(&State) -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || f(&st))
        .await
        .map_err(|e| ServerError::Build {
            message: format!("store task failed: {e}"),
        })?
}

/// Opens the store, seeds it, and restores or builds the outputs. Blocking.
pub fn prepare(mut config: Config) -> Result<State, ServerError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::Io {
        path: config.data_dir.clone(),
        source,
    })?;
    let store = Store::open(&config.data_dir.join(store::FILE_NAME))?.with_label(&config.label);
    let mut metrics = Metrics::new();
    // palisade_feed_connections_*, palisade_feed_body_budget_rejections_total, ...
    let connections = ConnMetrics::default();
    connections.register(&mut metrics.registry);
    if !config.inputs.is_empty() {
        let (issues, warnings) = palisade_feed::io::read_inputs(&config.inputs, &config.limits)?;
        for w in &warnings {
            tracing::warn!("seed: {w}");
        }
        let batch: Vec<StoredIssue> = issues.into_iter().map(StoredIssue::from).collect();
        let outside = batch.iter().filter(|i| !i.in_feed(&config.label)).count();
        if outside > 0 {
            tracing::warn!(
                "seed: {outside} issues do not carry the label `{}`: not in the feed",
                config.label
            );
        }
        let count = batch.len();
        let applied = store.apply_batch(batch, None)?;
        store.set_meta(store::LAST_SEED, &time::unix_now().to_le_bytes())?;
        tracing::info!(
            "seeded {count} issues from {} input paths (store generation {})",
            config.inputs.len(),
            applied.generation
        );
    }
    let out_dir = config.data_dir.join("out");
    outputs::clean_temporaries(&out_dir);
    let generation = store.generation()?;
    let on_disk = outputs::load(&out_dir, store.outputs_generation()?);
    let site = config.site();
    // Files built for another --public-url are rebuilt, or they would keep the old links.
    let restored = on_disk.as_ref().is_some_and(|s| {
        s.generation == generation && generation > 0 && s.feed.feed_url == site.feed_url
    });
    let initial = match on_disk {
        Some(s) if restored => s,
        other => {
            let built = outputs::build(
                store.issues()?,
                &config.label,
                &site,
                generation,
                other.as_ref(),
                &time::now_rfc3339(),
                &config.limits,
            )?;
            for w in &built.warnings {
                tracing::warn!("build: {w}");
            }
            outputs::write(&out_dir, &built.snapshot)?;
            store.set_outputs_generation(generation)?;
            built.snapshot
        }
    };
    tracing::info!(
        "{} {} items (store generation {generation})",
        if restored {
            "serving the outputs on disk:"
        } else {
            "built"
        },
        initial.feed.items.len()
    );
    metrics
        .items
        .set(i64::try_from(initial.feed.items.len()).unwrap_or(i64::MAX));
    // Both survive restarts; 0 (never) stays 0, so a seed never passes for a sync.
    for (key, gauge) in [
        (store::LAST_SYNC, &metrics.last_sync),
        (store::LAST_SEED, &metrics.last_seed),
    ] {
        gauge.set(i64::try_from(store.meta_u64(key)?).unwrap_or(0));
    }
    Ok(State {
        config,
        store,
        metrics,
        connections,
        out_dir,
        snapshot: RwLock::new(Arc::new(initial)),
        rebuild_lock: Arc::new(tokio::sync::Mutex::new(())),
        ready: AtomicBool::new(true),
        degraded: AtomicBool::new(false),
    })
}

/// One resync: a conditional search, the result merged into the store, a rebuild if anything
/// changed. Returns whether the feed changed.
pub async fn resync_once(state: &Arc<State>) -> Result<bool, ServerError> {
    let cache: EtagCache = state
        .store
        .meta(store::ETAG_CACHE)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let started = time::unix_now();
    let fetched = match palisade_feed::fetch::fetch(&state.config.fetch_options(), &cache).await {
        Ok(f) => f,
        Err(e) => {
            Metrics::result(&state.metrics.syncs, "error");
            return Err(e.into());
        }
    };
    for w in &fetched.warnings {
        tracing::warn!("resync: {w}");
    }
    // A result cut short must not make issues disappear.
    let complete = fetched.complete;
    let unchanged = fetched.unchanged();
    let cache_json = serde_json::to_vec(&fetched.cache).unwrap_or_default();
    let label = state.config.label.clone();
    let batch: Vec<StoredIssue> = fetched.issues.into_iter().map(StoredIssue::from).collect();
    let cutoff = time::rfc3339(started.saturating_sub(RESYNC_GRACE.as_secs()));
    let applied = blocking(state, move |st| {
        st.store.set_meta(store::ETAG_CACHE, &cache_json)?;
        let applied = if unchanged {
            None
        } else {
            let drop = complete.then_some((label.as_str(), cutoff.as_str()));
            Some(st.store.apply_batch(batch, drop)?)
        };
        st.store
            .set_meta(store::LAST_SYNC, &started.to_le_bytes())?;
        Ok(applied)
    })
    .await?;
    state
        .metrics
        .last_sync
        .set(i64::try_from(started).unwrap_or(0));
    Metrics::result(
        &state.metrics.syncs,
        if unchanged { "not_modified" } else { "ok" },
    );
    match applied {
        Some(a) if a.changed => {
            ensure_built(state, a.generation).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

async fn resync_loop(state: Arc<State>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match resync_once(&state).await {
            Ok(changed) => tracing::info!("resync done (feed changed: {changed})"),
            Err(e) => tracing::warn!("resync failed: {e}"),
        }
    }
}

/// A server running on its own tasks.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub state: Arc<State>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    metrics_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    resync: Option<tokio::task::JoinHandle<()>>,
    reload: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish (up to the serve limits' shutdown
    /// grace, 10 s by default), stops the resync.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        // Awaited, not only aborted: each holds the state (and so the store's file lock)
        // until its future is dropped, and a restart on the same store must find it free.
        for r in [self.resync.take(), self.reload.take()]
            .into_iter()
            .flatten()
        {
            r.abort();
            let _ = r.await;
        }
        let metrics = self.metrics_task.take();
        let state = self.state.clone();
        let result = self.wait().await;
        if let Some(m) = metrics {
            // Stops by itself within its 1 s grace.
            let _ = m.await;
        }
        // Files of a rebuild already acknowledged are finished before the store is closed.
        state.settle().await;
        result
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> Result<(), ServerError> {
        let addr = self.addr.to_string();
        match self.task.await {
            Ok(r) => r.map_err(|source| ServerError::Listen { addr, source }),
            Err(e) => Err(ServerError::Listen {
                addr,
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

fn tls_error(e: palisade_tls::TlsError) -> ServerError {
    ServerError::Tls {
        message: e.to_string(),
    }
}

/// Prepares the state and starts serving on `config.listen`.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let listen = config.listen;
    let tls = match &config.tls {
        Some(t) => {
            let pair = palisade_tls::read_pair(&t.cert, &t.key)
                .await
                .map_err(tls_error)?;
            let cfg = palisade_tls::server_config(&t.cert, &pair.0, &t.key, &pair.1)
                .map_err(tls_error)?;
            Some((cfg, t.clone(), pair))
        }
        None => None,
    };
    let state = tokio::task::spawn_blocking(move || prepare(config))
        .await
        .map_err(|e| ServerError::Build {
            message: format!("start-up task failed: {e}"),
        })??;
    let state = Arc::new(state);
    let bind = |addr: SocketAddr| async move {
        let err = |source| ServerError::Listen {
            addr: addr.to_string(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(err)?;
        let local = listener.local_addr().map_err(err)?;
        Ok::<_, ServerError>((listener, local))
    };
    let (listener, addr) = bind(listen).await?;
    let metrics_listener = match state.config.metrics_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let app = crate::http::router(state.clone());
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let metrics_addr = metrics_listener.as_ref().map(|(_, a)| *a);
    let metrics_task = metrics_listener.map(|(listener, _)| {
        // A scraper, not the public: few connections, no bodies.
        let limits = ServeLimits {
            max_connections: 16,
            max_body_bytes_in_flight: 64 * 1024,
            shutdown_grace: Duration::from_secs(1),
            ..state.config.serve_limits.clone()
        };
        tokio::spawn(palisade_tls::serve::serve(
            listener,
            None,
            crate::http::metrics_router(state.clone()),
            limits,
            ConnMetrics::default(),
            stopped(stop_rx.clone()),
        ))
    });
    let mut reload = None;
    let rustls = match tls {
        Some((cfg, files, pair)) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(cfg);
            if let Some(every) = state.config.cert_reload_interval {
                let st = state.clone();
                reload = Some(tokio::spawn(palisade_tls::watch_certificates(
                    rustls.clone(),
                    palisade_tls::Reloader::new(files.cert, files.key, pair),
                    every,
                    move |result| {
                        let outcome = if result.is_ok() { "ok" } else { "error" };
                        Metrics::result(&st.metrics.cert_reloads, outcome);
                    },
                )));
            }
            Some(rustls)
        }
        None => None,
    };
    let task = tokio::spawn(palisade_tls::serve::serve(
        listener,
        rustls,
        app,
        state.config.serve_limits.clone(),
        state.connections.clone(),
        stopped(stop_rx),
    ));
    let resync = state
        .config
        .resync_interval
        .map(|every| tokio::spawn(resync_loop(state.clone(), every)));
    tracing::info!(
        "serving the CVE feed on {}://{addr}",
        if state.config.tls.is_some() {
            "https"
        } else {
            "http"
        }
    );
    if let Some(m) = metrics_addr {
        tracing::info!("metrics on http://{m}/metrics");
    }
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        stop,
        task,
        metrics_task,
        resync,
        reload,
    })
}

/// Installs ring as the process-wide rustls provider (call once, first thing in `main`).
/// Installing twice is harmless: the second call keeps the first provider.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs the server on its own runtime until SIGTERM or Ctrl-C, then shuts down gracefully.
/// `on_listening` gets the bound address (useful with port 0).
pub fn run_blocking(
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServerError::Listen {
            addr: config.listen.to_string(),
            source,
        })?;
    rt.block_on(async move {
        let server = start(config).await?;
        on_listening(server.addr);
        palisade_tls::serve::shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await
    })
}
