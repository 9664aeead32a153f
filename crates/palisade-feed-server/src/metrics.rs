//! Prometheus metrics at `/metrics` (OpenMetrics text): webhook events received by event and
//! outcome, rebuilds and their latency, resyncs, the last successful sync and the last seed (kept apart: a seed is not a sync), items
//! served, certificate reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    pub events: Family<EventLabels, Counter>,
    pub rebuilds: Family<ResultLabels, Counter>,
    pub rebuild_seconds: Histogram,
    pub syncs: Family<ResultLabels, Counter>,
    pub last_sync: Gauge,
    pub last_seed: Gauge,
    pub items: Gauge,
    pub cert_reloads: Family<ResultLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_feed");
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "webhook_events",
            "Webhook deliveries received, by X-GitHub-Event and outcome",
            events.clone(),
        );
        let rebuilds = Family::<ResultLabels, Counter>::default();
        registry.register("rebuilds", "Output rebuilds, by result", rebuilds.clone());
        // 1 ms .. ~2 s: a rebuild of the whole feed takes milliseconds.
        let rebuild_seconds = Histogram::new([
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
        ]);
        registry.register(
            "rebuild_duration_seconds",
            "Time to rebuild, write and swap in every output",
            rebuild_seconds.clone(),
        );
        let syncs = Family::<ResultLabels, Counter>::default();
        registry.register(
            "resyncs",
            "Periodic resyncs from the GitHub API, by result",
            syncs.clone(),
        );
        let last_sync = Gauge::default();
        registry.register(
            "last_successful_sync_timestamp_seconds",
            "Unix time of the last successful resync from the GitHub API; 0 until the first one (a store only seeded or fed by webhooks has never synced)",
            last_sync.clone(),
        );
        // Separate from the sync: seed pages may be days old, so a seed time must not make
        // the feed look freshly synced.
        let last_seed = Gauge::default();
        registry.register(
            "last_seed_timestamp_seconds",
            "Unix time the store was last seeded from --input pages (the pages' content is as old as they are); 0: never",
            last_seed.clone(),
        );
        let items = Gauge::default();
        registry.register("items", "Items in the served feed", items.clone());
        let cert_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "cert_reloads",
            "TLS certificate reloads after the files changed, by result (ok, error: the previous certificate kept serving)",
            cert_reloads.clone(),
        );
        Metrics {
            registry,
            events,
            rebuilds,
            rebuild_seconds,
            syncs,
            last_sync,
            last_seed,
            items,
            cert_reloads,
        }
    }

    pub fn event(&self, event: &str, outcome: &str) {
        // Bound label values: the event name comes from a request header.
        let event =
            if event.len() <= 40 && event.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                event
            } else {
                "other"
            };
        self.events
            .get_or_create(&EventLabels {
                event: event.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn result(family: &Family<ResultLabels, Counter>, result: &str) {
        family
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
