//! Printers for scan results: a terminal table, the JSON contract, SARIF 2.1.0, JUnit XML,
//! PolicyReport / OpenReports YAML streams and a self-contained HTML page.
//!
//! The binary gathers findings, input errors and a [`Summary`] into a [`Report`] and calls
//! [`render`] with the format the user asked for; `palisade rules` calls [`render_rules`].
//! Printers are pure: they never read files, never decide about colour (the caller passes
//! [`Style`], having looked at `NO_COLOR` and the terminal) and never sort (the caller orders
//! findings). Every format lists input errors: a scan with unreadable input must never look
//! clean. The JSON and SARIF shapes are documented in `docs/output-formats.md`.
//!
//! Memory: SARIF and JUnit are written while they are built, one result or test case at a
//! time (a whole SARIF log of a large scan costs several times the findings it describes);
//! what they hold besides the [`Report`] is O(rules and framework controls), never O(findings).
//! The HTML page is written as it goes too; the report formats build one namespace's results
//! before writing them (summary counts come first), O(findings) at most.

mod compliance;
mod html;
mod json;
mod junit;
mod markdown;
mod policyreport;
mod sarif;
mod table;
mod yaml;

use palisade_core::{Finding, InputError, RuleMeta, Severity, SuppressedFinding};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;

pub use compliance::{
    Compliance, ControlInput, ControlStatus, ControlSummary, FrameworkSummary, compliance,
};
pub use html::{
    EXCERPT_MAX_LINE_CHARS, EXCERPT_MAX_LINES, HtmlOptions, SourceLines, SourceText, render_html,
};
pub use markdown::render_markdown;
pub use policyreport::{
    CheckedObject, MAX_RESULT_BYTES, MAX_RESULTS, PolicyReportOptions, ReportApi, is_dns1123_label,
    render_policy_reports, report_name,
};
pub use sarif::{fingerprint, level as sarif_level, security_severity, to_sarif_uri};

/// Output formats of `palisade scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
    /// `wgpolicyk8s.io/v1alpha2` PolicyReport / ClusterPolicyReport YAML stream.
    PolicyReport,
    /// `openreports.io/v1alpha1` Report / ClusterReport YAML stream.
    OpenReports,
    /// One self-contained HTML page.
    Html,
}

impl Format {
    /// Every format `palisade scan --format` accepts, in the order help text lists them.
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::PolicyReport,
        Format::OpenReports,
        Format::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::PolicyReport => "policyreport",
            Format::OpenReports => "openreports",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `"xml"` is not accepted on purpose: JUnit is one XML dialect among several.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown output format {given:?}: expected one of table, json, sarif, junit, policyreport, openreports, html"
)]
pub struct ParseFormatError {
    pub given: String,
}

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Format, ParseFormatError> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFormatError {
                given: s.to_owned(),
            })
    }
}

/// Totals of one scan. Serialised as the `summary` object of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read (including files that produced only errors).
    pub files: usize,
    /// YAML documents / JSON values that held at least one object.
    pub documents: usize,
    /// Kubernetes objects checked (`*List` items counted one by one).
    pub objects: usize,
    /// Findings not waived (the ones that decide the exit status).
    pub findings: usize,
    /// Findings waived by an annotation or a configuration exception (listed under `suppressed`).
    pub suppressed: usize,
    /// Configuration exceptions that had expired and no longer applied.
    pub expired_waivers: usize,
    /// Findings per severity; all five keys are always present.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Input errors (these make the scan exit with status 2).
    pub errors: usize,
    /// Skipped input that is not an error (e.g. a document that is not a Kubernetes object).
    pub notes: usize,
    pub pss_level: String,
    pub pss_version: String,
    /// `--framework`, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Lowest severity that makes the scan fail (`never`: findings never do).
    pub fail_on: FailOn,
    /// Whether a finding at or above `fail_on` exists.
    pub failed: bool,
}

/// `--fail-on`: a severity, or `never` (report, but exit 0 on findings; input errors still
/// exit 2). Written in JSON as the severity's name or `"never"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Never,
    At(Severity),
}

impl FailOn {
    /// Whether `findings` fail the scan.
    pub fn failed(self, findings: &[Finding]) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::At(sev) => findings.iter().any(|f| f.severity >= sev),
        }
    }
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailOn::Never => f.write_str("never"),
            FailOn::At(sev) => f.write_str(sev.as_str()),
        }
    }
}

impl serde::Serialize for FailOn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Summary {
    /// `by_severity` with all five keys, counted from `findings`.
    pub fn count_by_severity(findings: &[Finding]) -> BTreeMap<Severity, usize> {
        let mut map: BTreeMap<Severity, usize> =
            Severity::ALL.into_iter().map(|s| (s, 0)).collect();
        for f in findings {
            *map.entry(f.severity).or_insert(0) += 1;
        }
        map
    }
}

/// Everything a printer needs about one scan.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// In the order they should be printed (the caller sorts).
    pub findings: &'a [Finding],
    /// Waived findings, reported but not counted against the scan.
    pub suppressed: &'a [SuppressedFinding],
    /// Per-control summary when the scan ran a framework.
    pub compliance: Option<&'a Compliance>,
    pub errors: &'a [InputError],
    pub notes: &'a [InputError],
    /// The rules that were run (SARIF lists them as rule descriptors).
    pub rules: &'a [RuleMeta],
    pub summary: Summary,
    pub tool_name: &'a str,
    pub tool_version: &'a str,
}

/// Presentation choices made by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours in the table output. Machine formats ignore it.
    pub color: bool,
    /// Table output: findings and input errors only (no notes, waived findings, compliance
    /// or summary line; nothing at all for a clean scan). Machine formats ignore it.
    pub quiet: bool,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the {format} report: {source}")]
    Io {
        format: Format,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialise the {format} report: {source}")]
    Json {
        format: Format,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} cannot be printed as {format}; use table or json")]
    Unsupported { format: Format, what: &'static str },
}

impl ReportError {
    fn io(format: Format) -> impl FnOnce(std::io::Error) -> ReportError {
        move |source| ReportError::Io { format, source }
    }
}

/// Width used for the table when `COLUMNS` is unset or unusable.
pub const DEFAULT_WIDTH: usize = 120;

/// Terminal width for table output: `COLUMNS` when it holds a sensible number (a shell does
/// not export it, but a user or a CI runner may set it to choose a width), else the width of
/// the terminal standard output is (when it is one), else 120.
pub fn terminal_width() -> usize {
    width_from(
        std::env::var("COLUMNS").ok().as_deref(),
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0)),
    )
}

/// [`terminal_width`] from its two sources.
pub fn width_from(columns: Option<&str>, terminal: Option<usize>) -> usize {
    let sensible = |w: &usize| (40..=1000).contains(w);
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(sensible)
        .or(terminal.map(|w| w.clamp(40, 1000)))
        .unwrap_or(DEFAULT_WIDTH)
}

/// Writes `report` in `format` to `out`. The table is laid out for [`terminal_width`].
pub fn render(
    format: Format,
    report: &Report<'_>,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Table => render_table(report, style, terminal_width(), out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, out),
        // Timestamps from the system clock and no `pass` results: callers that know which
        // rules checked which object call `render_policy_reports` themselves.
        Format::PolicyReport => render_policy_reports(
            report,
            ReportApi::WgPolicy,
            &PolicyReportOptions::default(),
            out,
        ),
        Format::OpenReports => render_policy_reports(
            report,
            ReportApi::OpenReports,
            &PolicyReportOptions::default(),
            out,
        ),
        // No source excerpts: the library reads no files; see `render_html`.
        Format::Html => render_html(report, &HtmlOptions::default(), out),
    }
}

/// The table output laid out for an explicit `width` (tests and callers that know better).
pub fn render_table(
    report: &Report<'_>,
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    table::render(report, style, width, out).map_err(ReportError::io(Format::Table))
}

/// `palisade rules`: the catalog as a table (id, name, family, severity, title) or as a JSON
/// array of full [`RuleMeta`] objects. SARIF and JUnit are refused.
pub fn render_rules(
    format: Format,
    rules: &[RuleMeta],
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    render_rules_width(format, rules, style, terminal_width(), out)
}

/// `palisade rules` with each rule's default state (`on`, `opt-in`, `off`): the JSON array
/// gets a `default` member per rule; the table is [`render_rules`]'s.
pub fn render_rule_list(
    format: Format,
    rules: &[RuleMeta],
    default_state: &dyn Fn(&RuleMeta) -> &'static str,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    if format != Format::Json {
        return render_rules(format, rules, style, out);
    }
    #[derive(Serialize)]
    struct WithDefault<'a> {
        #[serde(flatten)]
        rule: &'a RuleMeta,
        default: &'static str,
    }
    let list: Vec<WithDefault<'_>> = rules
        .iter()
        .map(|rule| WithDefault {
            rule,
            default: default_state(rule),
        })
        .collect();
    json::write_pretty(&list, format, out)
}

/// [`render_rules`] with an explicit table width.
pub fn render_rules_width(
    format: Format,
    rules: &[RuleMeta],
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Table => {
            table::render_rules(rules, style, width, out).map_err(ReportError::io(format))
        }
        Format::Json => json::write_pretty(&rules, format, out),
        Format::Sarif
        | Format::Junit
        | Format::PolicyReport
        | Format::OpenReports
        | Format::Html => Err(ReportError::Unsupported {
            format,
            what: "the rule list",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips_through_its_name() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("\"xml\""), "{err}");
        assert!(err.to_string().contains("junit"), "{err}");
    }

    #[test]
    fn by_severity_always_has_five_keys() {
        let map = Summary::count_by_severity(&[]);
        assert_eq!(map.len(), 5);
        assert!(map.values().all(|&n| n == 0));
    }

    #[test]
    fn rules_refuse_machine_formats_meant_for_findings() {
        let mut out = Vec::new();
        let err = render_rules(Format::Sarif, &[], Style::default(), &mut out).unwrap_err();
        assert!(matches!(err, ReportError::Unsupported { .. }));
        assert!(out.is_empty());
    }
}
