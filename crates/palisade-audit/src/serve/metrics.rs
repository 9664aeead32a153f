//! `audit serve`'s Prometheus metrics (OpenMetrics text on `--metrics-listen`). Label values
//! come from fixed sets, so no request can grow the number of series.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Why a batch was answered 503 (the API server retries it later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The queue stayed full for `queue_wait`.
    QueueFull,
    /// The alert output is failing: accepting would acknowledge events that cannot be delivered.
    OutputFailing,
    /// SIGTERM/SIGINT received: the server is draining.
    ShuttingDown,
    /// Request bodies being received hold the whole body byte budget.
    BodyBudget,
}

impl Rejection {
    pub const ALL: [Rejection; 4] = [
        Rejection::QueueFull,
        Rejection::OutputFailing,
        Rejection::ShuttingDown,
        Rejection::BodyBudget,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::QueueFull => "queue_full",
            Rejection::OutputFailing => "output_failing",
            Rejection::ShuttingDown => "shutting_down",
            Rejection::BodyBudget => "body_budget",
        }
    }
}

/// Why a request was refused as malformed (4xx, not retried usefully).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadBatch {
    /// 400: not UTF-8, not an audit Event/EventList, or the body could not be read.
    Decode,
    /// 413: body above the limit.
    TooLarge,
    /// 415: not `application/json`.
    MediaType,
}

impl BadBatch {
    pub const ALL: [BadBatch; 3] = [BadBatch::Decode, BadBatch::TooLarge, BadBatch::MediaType];

    pub fn as_str(self) -> &'static str {
        match self {
            BadBatch::Decode => "decode",
            BadBatch::TooLarge => "too_large",
            BadBatch::MediaType => "media_type",
        }
    }
}

/// Every counter and gauge of the server, shared by handlers and the worker.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub accepted_batches: Counter,
    pub accepted_events: Counter,
    rejected: Family<ReasonLabels, Counter>,
    bad: Family<ReasonLabels, Counter>,
    /// Batches accepted and not yet fully delivered (evaluated, alerts written).
    pub queue_batches: Gauge,
    pub queue_events: Gauge,
    /// Events evaluated whose alerts are written.
    pub processed_events: Counter,
    /// Alerts raised by the rules.
    pub alerts: Counter,
    /// Alerts the output accepted (written and flushed).
    pub alerts_written: Counter,
    /// Failed write or flush attempts on the alert output.
    pub sink_errors: Counter,
    /// 1 while the output works, 0 after the bounded retry gave up (until a write succeeds).
    pub sink_up: Gauge,
    /// The webhook listener's connections (palisade-tls serving loop): accepted, refused
    /// at the cap, open, closed by reason (timeouts, eviction), body budget.
    pub conn: palisade_tls::serve::ConnMetrics,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_audit");
        let m = Metrics {
            accepted_batches: Counter::default(),
            accepted_events: Counter::default(),
            rejected: Family::default(),
            bad: Family::default(),
            queue_batches: Gauge::default(),
            queue_events: Gauge::default(),
            processed_events: Counter::default(),
            alerts: Counter::default(),
            alerts_written: Counter::default(),
            sink_errors: Counter::default(),
            sink_up: Gauge::default(),
            conn: palisade_tls::serve::ConnMetrics::default(),
            registry: Registry::default(),
        };
        m.sink_up.set(1);
        // Every label value exists from the start, so a dashboard sees 0 rather than nothing.
        for r in Rejection::ALL {
            let _ = m.rejected.get_or_create(&label(r.as_str()));
        }
        for b in BadBatch::ALL {
            let _ = m.bad.get_or_create(&label(b.as_str()));
        }
        registry.register(
            "accepted_batches",
            "Batches answered 200 (queued for evaluation)",
            m.accepted_batches.clone(),
        );
        registry.register(
            "accepted_events",
            "Events in batches answered 200",
            m.accepted_events.clone(),
        );
        registry.register(
            "rejected_batches",
            "Batches answered 503 (queue_full, output_failing, shutting_down, body_budget); the API server retries them",
            m.rejected.clone(),
        );
        registry.register(
            "bad_batches",
            "Requests refused as malformed: decode (400), too_large (413), media_type (415)",
            m.bad.clone(),
        );
        registry.register(
            "queue_batches",
            "Accepted batches not yet evaluated and written",
            m.queue_batches.clone(),
        );
        registry.register(
            "queue_events",
            "Accepted events not yet evaluated and written",
            m.queue_events.clone(),
        );
        registry.register(
            "processed_events",
            "Events evaluated with their alerts written",
            m.processed_events.clone(),
        );
        registry.register("alerts", "Alerts raised by the rules", m.alerts.clone());
        registry.register(
            "alerts_written",
            "Alerts written and flushed to the output",
            m.alerts_written.clone(),
        );
        registry.register(
            "sink_errors",
            "Failed write or flush attempts on the alert output",
            m.sink_errors.clone(),
        );
        registry.register(
            "sink_up",
            "1 while the alert output works, 0 while it is failing",
            m.sink_up.clone(),
        );
        m.conn.register(&mut registry);
        Metrics { registry, ..m }
    }

    pub fn rejected(&self, why: Rejection) {
        self.rejected.get_or_create(&label(why.as_str())).inc();
    }

    pub fn rejected_count(&self, why: Rejection) -> u64 {
        self.rejected.get_or_create(&label(why.as_str())).get()
    }

    pub fn bad(&self, why: BadBatch) {
        self.bad.get_or_create(&label(why.as_str())).inc();
    }

    pub fn bad_count(&self, why: BadBatch) -> u64 {
        self.bad.get_or_create(&label(why.as_str())).get()
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn label(reason: &'static str) -> ReasonLabels {
    ReasonLabels { reason }
}
