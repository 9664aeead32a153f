//! SARIF 2.1.0, shaped for GitHub code scanning.
//!
//! One run; `tool.driver.rules` holds a descriptor for every rule in [`Report::rules`] (the
//! rules that ran), so a rule without results reads as "checked and passed", and each
//! descriptor carries the `security-severity` and `security` tag GitHub needs to rank alerts.
//! Results point at `file:line:column` relative to `%SRCROOT%` and carry a line-independent
//! `partialFingerprints` entry, so an alert survives edits that move it. Input errors become
//! `toolExecutionNotifications` and turn `executionSuccessful` false. Waived findings are
//! results too, with a `suppressions` entry (`inSource` for an annotation, `external` for a
//! configuration exception) carrying the reason as `justification`, so code scanning shows
//! them as dismissed rather than losing them.

use crate::{Format, Report, ReportError};
use palisade_core::{Finding, InputError, RuleMeta, Severity, SuppressedFinding};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Suppression, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// The schema URI GitHub's own SARIF examples use.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Key of our entry in `partialFingerprints`; bump the suffix if the hash inputs change.
const FINGERPRINT_KEY: &str = "palisade/v1";
/// `uriBaseId` for relative paths: GitHub resolves it to the repository checkout.
const SRCROOT: &str = "%SRCROOT%";

pub(crate) fn render(report: &Report<'_>, out: &mut dyn Write) -> Result<(), ReportError> {
    crate::json::write_pretty(&log(report), Format::Sarif, out)
}

// The log is written through these mirrors of serde_sarif's `Sarif`, `Run` and `Invocation`
// so that results and notifications are built one at a time while they are serialised: the
// whole `Vec<Result>` of a large scan would cost several times the findings themselves. The
// mirrors hold exactly the members we set, in serde_sarif's (alphabetical) field order, so the
// bytes are what serializing the full serde_sarif `Sarif` gives (tests/it/sarif.rs checks it).

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [RunOut<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct RunOut<'a> {
    /// Columns count characters (the loader's positions), not UTF-16 units.
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    invocations: [InvocationOut<'a>; 1],
    properties: PropertyBag,
    results: Results<'a>,
    tool: Tool,
}

#[derive(Serialize)]
struct InvocationOut<'a> {
    #[serde(rename = "executionSuccessful")]
    execution_successful: bool,
    #[serde(
        rename = "toolExecutionNotifications",
        skip_serializing_if = "Notifications::is_empty"
    )]
    tool_execution_notifications: Notifications<'a>,
}

/// `runs[0].results`: findings, then waived findings, each built just before it is written.
struct Results<'a> {
    report: &'a Report<'a>,
    /// Rule ID -> position in `tool.driver.rules`.
    index: HashMap<&'a str, usize>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (findings, suppressed) = (self.report.findings, self.report.suppressed);
        let mut seq = serializer.serialize_seq(Some(findings.len() + suppressed.len()))?;
        for f in findings {
            seq.serialize_element(&result(f, self.rule_index(f)))?;
        }
        for s in suppressed {
            seq.serialize_element(&suppressed_result(s, self.rule_index(&s.finding)))?;
        }
        seq.end()
    }
}

impl Results<'_> {
    fn rule_index(&self, f: &Finding) -> Option<usize> {
        self.index.get(&*f.rule).copied()
    }
}

/// `toolExecutionNotifications`: input errors, then notes, built one at a time.
struct Notifications<'a> {
    errors: &'a [InputError],
    notes: &'a [InputError],
}

impl Notifications<'_> {
    fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.notes.is_empty()
    }
}

impl Serialize for Notifications<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.errors.len() + self.notes.len()))?;
        for e in self.errors {
            seq.serialize_element(&notification(e, "error"))?;
        }
        for e in self.notes {
            seq.serialize_element(&notification(e, "note"))?;
        }
        seq.end()
    }
}

fn log<'a>(report: &'a Report<'a>) -> Log<'a> {
    // Descriptors for every rule that ran, then any rule a finding names that the caller did
    // not pass (so `ruleIndex` is always valid). Costs O(rules), not O(findings).
    let mut rules: Vec<ReportingDescriptor> = report.rules.iter().map(descriptor).collect();
    let mut index: HashMap<&'a str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    for f in report
        .findings
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.finding))
    {
        if !index.contains_key(&*f.rule) {
            index.insert(&*f.rule, rules.len());
            rules.push(fallback_descriptor(f));
        }
    }

    let mut driver = ToolComponent::builder()
        .name(report.tool_name)
        .version(report.tool_version)
        .semantic_version(report.tool_version)
        .rules(rules)
        .build();
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !repository.is_empty() {
        driver.information_uri = Some(repository.to_owned());
    }

    let mut run_props = BTreeMap::new();
    run_props.insert("pssLevel".to_owned(), json!(report.summary.pss_level));
    run_props.insert("pssVersion".to_owned(), json!(report.summary.pss_version));
    if let Some(c) = report.compliance {
        run_props.insert(
            "compliance".to_owned(),
            serde_json::to_value(c).unwrap_or(Value::Null),
        );
    }

    Log {
        schema: SCHEMA_URI,
        runs: [RunOut {
            column_kind: "unicodeCodePoints",
            invocations: [InvocationOut {
                execution_successful: report.errors.is_empty(),
                tool_execution_notifications: Notifications {
                    errors: report.errors,
                    notes: report.notes,
                },
            }],
            properties: PropertyBag::builder()
                .additional_properties(run_props)
                .build(),
            results: Results { report, index },
            tool: Tool::builder().driver(driver).build(),
        }],
        version: "2.1.0",
    }
}

/// SARIF level: GitHub shows `error` as "Error", `warning`, `note`. (`palisade image`'s SARIF
/// uses it too.)
pub fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn result_level(sev: Severity) -> ResultLevel {
    match sev {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub code scanning's numeric `security-severity` (a string holding a number in 0.0–10.0;
/// over 9.0 is shown as critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low).
pub fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
}

fn rule_properties(family: &str, sev: Severity) -> PropertyBag {
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_owned(),
        json!(security_severity(sev)),
    );
    extra.insert("severity".to_owned(), json!(sev.as_str()));
    extra.insert("family".to_owned(), json!(family));
    PropertyBag::builder()
        // GitHub only reads `security-severity` for rules tagged `security`.
        .tags(vec![
            "security".to_owned(),
            "kubernetes".to_owned(),
            family.to_owned(),
        ])
        .additional_properties(extra)
        .build()
}

fn descriptor(rule: &RuleMeta) -> ReportingDescriptor {
    let mut markdown = format!(
        "**{}**\n\n{}\n\n**Remediation:** {}\n",
        rule.title, rule.rationale, rule.remediation
    );
    if !rule.references.is_empty() {
        markdown.push_str("\n**References:**\n");
        for r in rule.references {
            if r.url.is_empty() {
                markdown.push_str(&format!("- {} `{}`\n", r.source, r.id));
            } else {
                markdown.push_str(&format!("- [{} {}]({})\n", r.source, r.id, r.url));
            }
        }
    }
    let help = MultiformatMessageString::builder()
        .text(rule.remediation)
        .markdown(markdown)
        .build();
    let config = ReportingConfiguration::builder()
        .level(json!(level(rule.severity)))
        .build();
    let builder = ReportingDescriptor::builder()
        .id(rule.id)
        .name(rule.name)
        .short_description(text(rule.title))
        .full_description(text(rule.rationale))
        .help(help)
        .default_configuration(config)
        .properties(rule_properties(rule.family, rule.severity));
    // GitHub's "Learn more" link: the rule's page in the repository's docs (none for a
    // user's policy, which has no page there).
    let mut d = builder.build();
    d.help_uri = rule.link();
    d
}

/// A descriptor for a rule the catalog passed in does not know (defensive: keeps indices valid).
fn fallback_descriptor(f: &Finding) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(&*f.rule)
        .short_description(text(&f.rule))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(f.severity)))
                .build(),
        )
        .properties(rule_properties(&f.family, f.severity))
        .build()
}

/// Converts a path as given on the command line into a SARIF `uri` and its `uriBaseId`:
/// relative paths get forward slashes, lose a leading `./` and are based on `%SRCROOT%`;
/// absolute paths become `file://` URIs. Characters not allowed in a URI are percent-encoded.
pub fn to_sarif_uri(file: &str) -> (String, Option<&'static str>) {
    let slashed = file.replace('\\', "/");
    let drive = slashed.as_bytes();
    let is_windows_abs = matches!(drive, [l, b':', b'/', ..] if l.is_ascii_alphabetic());
    if slashed.starts_with('/') || is_windows_abs {
        let path = if is_windows_abs {
            format!("/{slashed}")
        } else {
            slashed
        };
        return (format!("file://{}", percent_encode(&path)), None);
    }
    let mut rel = slashed.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    (percent_encode(rel), Some(SRCROOT))
}

fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact(file: &str) -> ArtifactLocation {
    let (uri, base) = to_sarif_uri(file);
    let mut loc = ArtifactLocation::builder().uri(uri).build();
    loc.uri_base_id = base.map(str::to_owned);
    loc
}

/// `None` when the position is unknown (SARIF lines and columns start at 1).
fn region(line: Option<u32>, column: Option<u32>) -> Option<Region> {
    let line = line.filter(|&l| l > 0)?;
    let mut region = Region::builder().start_line(i64::from(line)).build();
    region.start_column = column.filter(|&c| c > 0).map(i64::from);
    Some(region)
}

fn physical(file: &str, line: Option<u32>, column: Option<u32>) -> PhysicalLocation {
    let mut loc = PhysicalLocation::builder()
        .artifact_location(artifact(file))
        .build();
    loc.region = region(line, column);
    loc
}

/// A stable identity for a finding across runs: rule, file, object and field, but not the
/// line, so moving a block does not turn an old alert into a new one. Two 64-bit FNV-1a hashes
/// (fixed, documented algorithm; `std`'s hasher may change between Rust releases).
pub fn fingerprint(f: &Finding) -> String {
    let (uri, _) = to_sarif_uri(&f.file);
    let parts = [
        &*f.rule,
        uri.as_str(),
        &*f.object.kind,
        f.object.namespace.as_deref().unwrap_or(""),
        f.object.name.as_deref().unwrap_or(""),
        &*f.field,
    ];
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for part in parts {
        // A separator byte that cannot occur in UTF-8 text keeps ("ab","c") != ("a","bc").
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = b.rotate_left(5);
        }
    }
    format!("{a:016x}{b:016x}")
}

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult {
    let object = f.object.to_string();
    let logical = vec![
        LogicalLocation::builder()
            .name(f.object.name.as_deref().unwrap_or(""))
            .fully_qualified_name(object.as_str())
            .kind("resource")
            .build(),
        LogicalLocation::builder()
            .name(&*f.field)
            .fully_qualified_name(format!("{object}:{}", f.field))
            .kind("property")
            .build(),
    ];
    let location = Location::builder()
        .physical_location(physical(&f.file, Some(f.line), Some(f.column)))
        .logical_locations(logical)
        .build();

    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_owned(), fingerprint(f));

    let mut props = BTreeMap::new();
    props.insert("severity".to_owned(), json!(f.severity.as_str()));
    props.insert("document".to_owned(), json!(f.document + 1));
    props.insert("field".to_owned(), json!(f.field));
    if !f.paths.is_empty() {
        props.insert("paths".to_owned(), json!(f.paths));
    }
    if f.fields.len() > 1 {
        props.insert("fields".to_owned(), json!(f.fields));
    }
    if let Some(a) = &f.action {
        props.insert("action".to_owned(), json!(a));
    }
    props.insert(
        "object".to_owned(),
        serde_json::to_value(&f.object).unwrap_or(Value::Null),
    );

    let mut r = SarifResult::builder()
        .rule_id(&*f.rule)
        .level(result_level(f.severity))
        .message(Message::builder().text(&*f.message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    r.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    r
}

/// A waived finding: a result with a `suppressions` entry (`inSource` for an annotation,
/// `external` for a configuration exception).
fn suppressed_result(s: &SuppressedFinding, rule_index: Option<usize>) -> SarifResult {
    let mut r = result(&s.finding, rule_index);
    let kind = if s.suppression.kind == "annotation" {
        "inSource"
    } else {
        "external"
    };
    let mut props = BTreeMap::new();
    props.insert("source".to_owned(), json!(s.suppression.source));
    if let Some(e) = &s.suppression.expires {
        props.insert("expires".to_owned(), json!(e));
    }
    r.suppressions = Some(vec![
        Suppression::builder()
            .kind(json!(kind))
            .status(json!("accepted"))
            .justification(&s.suppression.reason[..])
            .properties(PropertyBag::builder().additional_properties(props).build())
            .build(),
    ]);
    r
}

fn notification(e: &InputError, lvl: &str) -> Notification {
    let mut props = BTreeMap::new();
    props.insert("kind".to_owned(), json!(e.kind));
    if let Some(doc) = e.document {
        props.insert("document".to_owned(), json!(doc + 1));
    }
    let location = Location::builder()
        .physical_location(physical(&e.file, e.line, e.column))
        .build();
    Notification::builder()
        .level(json!(lvl))
        .message(Message::builder().text(&*e.message).build())
        .locations(vec![location])
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes_or_file_urls() {
        assert_eq!(
            to_sarif_uri("./deploy\\app one.yaml"),
            ("deploy/app%20one.yaml".to_owned(), Some(SRCROOT))
        );
        assert_eq!(
            to_sarif_uri("/abs/x#y.yaml"),
            ("file:///abs/x%23y.yaml".to_owned(), None)
        );
        assert_eq!(
            to_sarif_uri("C:\\k8s\\pod.yaml"),
            ("file:///C:/k8s/pod.yaml".to_owned(), None)
        );
        assert_eq!(to_sarif_uri("ü.yaml").0, "%C3%BC.yaml");
        assert_eq!(to_sarif_uri("<stdin>").0, "%3Cstdin%3E");
    }

    #[test]
    fn security_severity_matches_github_bands() {
        let band = |s: Severity| security_severity(s).parse::<f64>().unwrap();
        assert!(band(Severity::Critical) >= 9.0);
        assert!((7.0..9.0).contains(&band(Severity::High)));
        assert!((4.0..7.0).contains(&band(Severity::Medium)));
        assert!((0.1..4.0).contains(&band(Severity::Low)));
        assert!(band(Severity::Info) < band(Severity::Low));
    }

    #[test]
    fn regions_need_positive_lines() {
        assert!(region(Some(0), Some(3)).is_none());
        let r = region(Some(4), Some(0)).unwrap();
        assert_eq!((r.start_line, r.start_column), (Some(4), None));
    }
}
