//! Progress of long work on a terminal: a spinner with counts on standard error, drawn only
//! when standard error is a terminal and not in CI (`CI` set) or with `--quiet`, so pipes,
//! redirected output and CI logs never get control sequences.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Work shorter than this shows nothing: no spinner flashing over a quick scan's report.
/// `PALISADE_PROGRESS_DELAY_MS` changes it (tests set 0).
const DELAY: Duration = Duration::from_millis(500);

/// A spinner with the scan's counts, cloned into the progress callback.
#[derive(Clone)]
pub(crate) struct Spinner {
    bar: ProgressBar,
    shown_after: Instant,
}

/// Whether progress may be drawn on standard error.
pub(crate) fn wanted(quiet: bool) -> bool {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !quiet && !ci && !dumb && std::io::stderr().is_terminal()
}

impl Spinner {
    /// A spinner on standard error, or `None` when [`wanted`] says no.
    pub(crate) fn for_stderr(quiet: bool) -> Option<Spinner> {
        if !wanted(quiet) {
            return None;
        }
        let delay = std::env::var("PALISADE_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        // Hidden until the delay has passed; cleared before the report is printed.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} scanning: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        Some(Spinner {
            bar,
            shown_after: Instant::now() + delay,
        })
    }

    pub(crate) fn update(&self, c: &palisade_scan::Progress) {
        if self.bar.is_hidden() {
            if Instant::now() < self.shown_after {
                return;
            }
            // Redrawn at most 10 times a second.
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        }
        self.bar.set_message(format!(
            "{} files, {} documents, {} objects, {} findings",
            c.files, c.documents, c.objects, c.findings
        ));
        self.bar.tick();
    }

    /// Removes the spinner before the report is printed.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}
