//! `palisade feed serve`: the Kubernetes CVE feed served live.
//!
//! GitHub tells the server about issue changes through a signed webhook; the server stores the
//! issue (an embedded [`redb`] database, one file in the data directory), rebuilds the outputs of
//! `palisade feed build` with the [`palisade_feed`] builder, writes them atomically to disk and
//! swaps them into memory before it acknowledges the delivery. So the time from GitHub's POST to
//! the new CVE being served is one request, not hours. A periodic resync with conditional
//! requests catches deliveries that never arrived. A server-rendered page lists the CVEs with
//! search, severity, version and component filters and sorting, all working without JavaScript
//! (a small inline script, allowed by hash, applies them as the reader types).
//!
//! Layout: [`store`] (issues as last seen, delivery IDs, sync state), [`outputs`] (building,
//! atomic writes, the served snapshot), [`webhook`] (signature, events), [`http`] (routes,
//! conditional GET), [`page`] (the HTML page), [`metrics`], [`duration`] (`--resync-interval`), [`public_url`] (`--public-url`).

pub mod duration;
pub mod http;
pub mod metrics;
pub mod outputs;
pub mod page;
pub mod public_url;
pub mod server;
pub mod store;
pub mod time;
pub mod webhook;

pub use server::{
    Config, RunningServer, Tls, install_crypto_provider, read_secret, run_blocking, start,
};

use std::path::PathBuf;

/// Errors of the server. Each names the file, the setting, or the limit involved.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store {}: {message}", path.display())]
    Store { path: PathBuf, message: String },
    #[error("store {}: record `{key}` is not readable: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error(transparent)]
    Feed(#[from] palisade_feed::FeedError),
    #[error(
        "webhook secret file {}: {message}",
        path.display()
    )]
    Secret { path: PathBuf, message: String },
    #[error("TLS: {message}")]
    Tls { message: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("building outputs: {message}")]
    Build { message: String },
    #[error("invalid {setting}: {message}")]
    Config {
        setting: &'static str,
        message: String,
    },
}
