//! The worker behind `audit serve`: evaluates queued batches and writes their alerts to the
//! output, one write and flush per batch. A failed write is retried (bounded), then the
//! output is marked failing: `/readyz` and `/healthz` answer 503, new batches get 503 (so
//! nothing more is acknowledged that cannot be delivered), and the worker keeps the batch it
//! holds, probing the output until it works again or the shutdown deadline passes. Retries
//! resume at the first byte not yet written, so an alert is never written twice.

use super::Shared;
use crate::{Alert, Engine, Event};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How a failing output is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Waits between the attempts of the bounded retry; when they are used up the output is
    /// marked failing.
    pub delays: Vec<Duration>,
    /// While failing: how often the held batch is tried again.
    pub probe_every: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            delays: vec![Duration::from_millis(100), Duration::from_millis(400)],
            probe_every: Duration::from_secs(1),
        }
    }
}

/// What the worker did by the time it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Events evaluated with their alerts written.
    pub delivered_events: u64,
    /// Accepted events left when the shutdown deadline passed (not evaluated, or their
    /// alerts not written).
    pub undelivered_events: u64,
}

/// Runs the rules over queued batches until the queue is closed and empty, or the shutdown
/// deadline in `shared` passes (blocking; run it on its own thread). `render` appends one
/// alert's output line(s) to the buffer; `out` receives each batch's lines in one write.
pub fn worker<W: Write>(
    engine: &Engine,
    mut rx: mpsc::Receiver<Vec<Event>>,
    shared: &Shared,
    retry: &RetryPolicy,
    out: &mut W,
    mut render: impl FnMut(&Alert, &mut Vec<u8>),
) -> Drained {
    let file: Arc<str> = Arc::from("<webhook>");
    let m = &shared.metrics;
    let mut alerts = Vec::new();
    let mut lines = Vec::new();
    let mut memo = crate::cond::Memo::new(engine.rules.memo_slots);
    let mut seq = 0u64;
    let mut drained = Drained::default();
    while let Some(batch) = rx.blocking_recv() {
        seq += 1;
        let n = batch.len() as u64;
        lines.clear();
        let mut raised = 0u64;
        for event in batch {
            let ev = crate::AuditEvent {
                event,
                file: file.clone(),
                line: seq,
            };
            alerts.clear();
            engine.process_memo(&ev, &mut alerts, &mut memo);
            for a in &alerts {
                raised += 1;
                render(a, &mut lines);
            }
        }
        m.alerts.inc_by(raised);
        if deliver(out, &lines, shared, retry).is_err() {
            drained.undelivered_events += n;
            break;
        }
        m.alerts_written.inc_by(raised);
        m.processed_events.inc_by(n);
        m.queue_batches.dec();
        m.queue_events.dec_by(n as i64);
        drained.delivered_events += n;
        if shared.past_deadline() {
            break;
        }
    }
    // Stopped early (deadline): what is still queued was acknowledged and is not delivered.
    rx.close();
    while let Ok(batch) = rx.try_recv() {
        drained.undelivered_events += batch.len() as u64;
    }
    drained
}

/// The shutdown deadline passed while the output was still failing.
#[derive(Debug)]
struct GaveUp;

/// Writes `buf` and flushes, retrying as `retry` says; `Err` only once the shutdown deadline
/// has passed.
fn deliver<W: Write>(
    out: &mut W,
    buf: &[u8],
    shared: &Shared,
    retry: &RetryPolicy,
) -> Result<(), GaveUp> {
    if buf.is_empty() {
        return Ok(());
    }
    let m = &shared.metrics;
    let mut written = 0usize;
    let mut attempt = 0usize;
    loop {
        match write_from(out, buf, &mut written).and_then(|()| out.flush()) {
            Ok(()) => {
                if shared.sink_failing.swap(false, Ordering::SeqCst) {
                    m.sink_up.set(1);
                    tracing::info!(
                        "alert output works again; accepting batches (after {attempt} failed attempts)"
                    );
                }
                return Ok(());
            }
            Err(e) => {
                m.sink_errors.inc();
                let wait = match retry.delays.get(attempt) {
                    Some(d) => {
                        tracing::warn!(error = %e, attempt = attempt + 1, "cannot write alerts; retrying in {d:?}");
                        *d
                    }
                    None => {
                        if !shared.sink_failing.swap(true, Ordering::SeqCst) {
                            m.sink_up.set(0);
                            tracing::error!(
                                error = %e,
                                "alert output failing after {} attempts: /readyz and /healthz now 503, new batches refused with 503; the held batch is retried every {:?}",
                                attempt + 1,
                                retry.probe_every
                            );
                        }
                        retry.probe_every
                    }
                };
                attempt += 1;
                if !shared.sleep_unless_deadline(wait) {
                    tracing::error!(error = %e, "shutdown deadline passed with the alert output still failing");
                    return Err(GaveUp);
                }
            }
        }
    }
}

/// Writes `buf[*written..]`, advancing `written` by what the writer took, so a retry after
/// a short write or an error continues where the output stopped.
fn write_from<W: Write>(out: &mut W, buf: &[u8], written: &mut usize) -> io::Result<()> {
    while let Some(rest) = buf.get(*written..).filter(|r| !r.is_empty()) {
        match out.write(rest) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the output accepted no bytes",
                ));
            }
            Ok(k) => *written += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Shared {
    fn past_deadline(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// Sleeps `wait` in short steps; `false` as soon as the shutdown deadline has passed
    /// (a signal can arrive while the worker waits).
    fn sleep_unless_deadline(&self, wait: Duration) -> bool {
        const STEP: Duration = Duration::from_millis(50);
        let until = Instant::now() + wait;
        loop {
            if self.past_deadline() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep(STEP.min(until - now));
        }
    }
}
