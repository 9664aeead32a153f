//! PolicyReport (`wgpolicyk8s.io/v1alpha2`) and OpenReports (`openreports.io/v1alpha1`)
//! output: a multi-document YAML stream that `kubectl apply -f -` accepts and Policy Reporter
//! reads.
//!
//! One namespaced report (`PolicyReport` / `Report`) per namespace holding every result of
//! the objects in it, and one cluster report (`ClusterPolicyReport` / `ClusterReport`) for
//! objects without a namespace: cluster-scoped kinds, and namespaced objects read from files
//! that name no namespace (the scan cannot know where `kubectl apply` would put them). One
//! result per finding: `fail` for findings (`warn` for a user's policy that only warns or
//! audits: `Finding::action`), `skip` for waived findings, and `pass` for each
//! rule that checked an object without finding anything, when the caller says which rules
//! checked which object ([`CheckedObject`]). Input errors are `error` results (`policy:
//! input`) in the cluster report.
//!
//! Size: the API server refuses objects over ~1.5 MB and client-side `kubectl apply` copies
//! the whole object into a 256 KiB annotation, so a namespace with many results is split into
//! several reports (`palisade-<ns>`, `palisade-<ns>-2`, ...) of at most [`MAX_RESULTS`]
//! results and about [`MAX_RESULT_BYTES`] bytes of results each.

use crate::yaml::{Node, write_document};
use crate::{Format, Report, ReportError};
use palisade_core::{DOCS_BASE_URL, Finding, InputError, ObjectRef, RuleMeta, SuppressedFinding};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Most results in one report (also written as OpenReports' `configuration.limits.maxResults`).
pub const MAX_RESULTS: usize = 200;
/// Most bytes of results (compact JSON) in one report, so the object and `kubectl apply`'s
/// copy of it in the last-applied annotation stay under the 256 KiB annotation limit.
pub const MAX_RESULT_BYTES: usize = 200 * 1024;
/// The `app.kubernetes.io/managed-by` label value, and every result's `source`.
pub const SOURCE: &str = "palisade";

/// Which report API to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportApi {
    /// `wgpolicyk8s.io/v1alpha2` `PolicyReport` / `ClusterPolicyReport` (Kyverno's default).
    WgPolicy,
    /// `openreports.io/v1alpha1` `Report` / `ClusterReport`, with top-level `source` and
    /// `configuration`.
    OpenReports,
}

impl ReportApi {
    fn api_version(self) -> &'static str {
        match self {
            ReportApi::WgPolicy => "wgpolicyk8s.io/v1alpha2",
            ReportApi::OpenReports => "openreports.io/v1alpha1",
        }
    }

    fn kind(self, cluster: bool) -> &'static str {
        match (self, cluster) {
            (ReportApi::WgPolicy, false) => "PolicyReport",
            (ReportApi::WgPolicy, true) => "ClusterPolicyReport",
            (ReportApi::OpenReports, false) => "Report",
            (ReportApi::OpenReports, true) => "ClusterReport",
        }
    }

    fn format(self) -> Format {
        match self {
            ReportApi::WgPolicy => Format::PolicyReport,
            ReportApi::OpenReports => Format::OpenReports,
        }
    }
}

/// An object the scan checked and the rules that ran on it; a rule in `rules` with no
/// finding (waived or not) on the object becomes a `pass` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedObject {
    pub object: ObjectRef,
    /// The object's UID when it came from a cluster.
    pub uid: Option<String>,
    /// IDs of the rules that evaluated the object (not merely selected: a Pod Security rule
    /// does not check a ConfigMap).
    pub rules: Vec<String>,
}

/// What the report formats need besides the [`Report`].
#[derive(Debug, Clone, Copy)]
pub struct PolicyReportOptions<'a> {
    /// Every result's `timestamp` (the caller's clock; tests fix it).
    pub now: SystemTime,
    /// Objects and the rules that checked them, for `pass` results; empty: no `pass` results.
    pub checked: &'a [CheckedObject],
}

impl Default for PolicyReportOptions<'_> {
    fn default() -> Self {
        PolicyReportOptions {
            now: SystemTime::now(),
            checked: &[],
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Warn,
    Error,
    Skip,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Error => "error",
            Outcome::Skip => "skip",
        }
    }
}

/// Writes `report` as a YAML stream of reports in `api`: the cluster report first (when any
/// object has no namespace), then one report per namespace in name order. A scan without
/// results writes the cluster report with no results (never an empty stream, which
/// `kubectl apply -f -` refuses).
///
/// Memory: results are built one report (at most [`MAX_RESULTS`] results) at a time and
/// dropped once written; what is held for the whole scan is a reference per result.
pub fn render_policy_reports(
    report: &Report<'_>,
    api: ReportApi,
    options: &PolicyReportOptions<'_>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let format = api.format();
    // Many small writes: buffer them whatever `out` is.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let out: &mut dyn Write = &mut out;
    for doc in Documents::new(report, api, options) {
        write_document(&doc, out).map_err(ReportError::io(format))?;
    }
    out.flush().map_err(ReportError::io(format))
}

/// One result to be, borrowed from the input: what a report holds before its turn comes.
#[derive(Clone, Copy)]
enum Item<'a> {
    Fail(&'a Finding),
    Skip(&'a SuppressedFinding),
    Pass(&'a CheckedObject, &'a str),
    Error(&'a InputError),
}

/// The report documents of a scan, in output order, each built when asked for: the input is
/// grouped by report as references, and a document's result nodes exist only from its
/// `next` until the caller drops it (the one result that did not fit is kept for the next).
struct Documents<'a> {
    api: ReportApi,
    with_pass: bool,
    /// Whether any finding is a `warn` result (OpenReports' `statusFilter` then lists it).
    with_warn: bool,
    rules: HashMap<&'a str, &'a RuleMeta>,
    timestamp: Node,
    /// Namespace (None: cluster report) -> results in input order.
    groups: std::collections::btree_map::IntoIter<Option<&'a str>, Vec<Item<'a>>>,
    current: Option<Group<'a>>,
    /// Result nodes built so far (tests compare it with those handed out).
    built: usize,
}

/// The namespace whose reports are being written.
struct Group<'a> {
    namespace: Option<&'a str>,
    items: std::vec::IntoIter<Item<'a>>,
    /// Number of the next report (`palisade-<ns>-<number>`).
    number: usize,
    /// The result that overflowed the previous report, with its JSON length.
    carry: Option<(Outcome, Node, usize)>,
}

impl<'a> Documents<'a> {
    fn new(report: &Report<'a>, api: ReportApi, options: &PolicyReportOptions<'a>) -> Self {
        let rules: HashMap<&str, &RuleMeta> = report.rules.iter().map(|r| (r.id, r)).collect();
        let mut groups: BTreeMap<Option<&str>, Vec<Item<'a>>> = BTreeMap::new();
        let mut seen: HashSet<(&ObjectRef, &str)> = HashSet::new();
        for f in report.findings {
            seen.insert((&f.object, f.rule.as_str()));
            groups
                .entry(group_of(&f.object))
                .or_default()
                .push(Item::Fail(f));
        }
        for s in report.suppressed {
            let f = &s.finding;
            seen.insert((&f.object, f.rule.as_str()));
            groups
                .entry(group_of(&f.object))
                .or_default()
                .push(Item::Skip(s));
        }
        let checked: &'a [CheckedObject] = options.checked;
        for c in checked {
            for rule in &c.rules {
                if seen.contains(&(&c.object, rule.as_str())) {
                    continue;
                }
                groups
                    .entry(group_of(&c.object))
                    .or_default()
                    .push(Item::Pass(c, rule));
            }
        }
        drop(seen);
        // Input that could not be read is an `error` result in the cluster report, so a scan
        // with unreadable input never reads as clean there either.
        for e in report.errors {
            groups.entry(None).or_default().push(Item::Error(e));
        }
        // `kubectl apply -f -` refuses an empty stream, and a clean scan should still say so.
        if groups.is_empty() {
            groups.insert(None, Vec::new());
        }
        Documents {
            api,
            with_pass: !checked.is_empty(),
            with_warn: report.findings.iter().any(Finding::warn_only),
            rules,
            timestamp: timestamp(options.now),
            groups: groups.into_iter(),
            current: None,
            built: 0,
        }
    }

    fn build(&mut self, item: Item<'_>) -> (Outcome, Node) {
        self.built += 1;
        let (rules, ts) = (&self.rules, &self.timestamp);
        match item {
            Item::Fail(f) => {
                // A policy that only warns or audits (Gatekeeper warn/dryrun, VAP Warn/Audit)
                // did not fail the object: `warn`, as Gatekeeper's and Kyverno's reporters say.
                let outcome = if f.warn_only() {
                    Outcome::Warn
                } else {
                    Outcome::Fail
                };
                (outcome, result(f, None, outcome, rules, ts))
            }
            Item::Skip(s) => (
                Outcome::Skip,
                result(&s.finding, Some(s), Outcome::Skip, rules, ts),
            ),
            Item::Pass(c, rule) => (Outcome::Pass, pass_result(c, rule, rules, ts)),
            Item::Error(e) => (Outcome::Error, error_result(e, ts)),
        }
    }
}

impl Iterator for Documents<'_> {
    type Item = Node;

    fn next(&mut self) -> Option<Node> {
        loop {
            let mut group = match self.current.take() {
                Some(g) => g,
                None => {
                    let (namespace, items) = self.groups.next()?;
                    Group {
                        namespace,
                        items: items.into_iter(),
                        number: 1,
                        carry: None,
                    }
                }
            };
            let mut chunk: Vec<(Outcome, Node)> = Vec::new();
            let mut bytes = 0;
            if let Some((outcome, node, len)) = group.carry.take() {
                bytes += len;
                chunk.push((outcome, node));
            }
            for item in group.items.by_ref() {
                let (outcome, node) = self.build(item);
                let len = node.json_len();
                if !chunk.is_empty()
                    && (chunk.len() >= MAX_RESULTS || bytes + len > MAX_RESULT_BYTES)
                {
                    group.carry = Some((outcome, node, len));
                    break;
                }
                bytes += len;
                chunk.push((outcome, node));
            }
            // A namespace's first report is written even when empty (the clean scan's
            // cluster report); after that, an empty chunk means the namespace is done.
            if chunk.is_empty() && group.number > 1 {
                continue;
            }
            let number = group.number;
            group.number += 1;
            let namespace = group.namespace;
            self.current = Some(group);
            let with = (self.with_pass, self.with_warn);
            return Some(document(self.api, namespace, number, chunk, with));
        }
    }
}

/// The report an object's results go to: its namespace when that is a valid namespace name
/// (a report can only live in a real namespace), else the cluster report.
fn group_of(object: &ObjectRef) -> Option<&str> {
    object
        .namespace
        .as_deref()
        .filter(|ns| is_dns1123_label(ns))
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: what a namespace name must be.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    !b.is_empty()
        && b.len() <= 63
        && edge(b.first())
        && edge(b.last())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// The report name: `palisade-<namespace>` (`palisade-cluster` for the cluster report), with
/// `-<n>` from the second report of one namespace on. Namespace names are DNS-1123 labels,
/// so the result is a valid object name.
pub fn report_name(namespace: Option<&str>, number: usize) -> String {
    let base = format!("{SOURCE}-{}", namespace.unwrap_or("cluster"));
    if number > 1 {
        format!("{base}-{number}")
    } else {
        base
    }
}

fn document(
    api: ReportApi,
    namespace: Option<&str>,
    number: usize,
    results: Vec<(Outcome, Node)>,
    (with_pass, with_warn): (bool, bool),
) -> Node {
    let count = |o: Outcome| Node::Int(count_of(&results, o));
    let summary = Node::Map(vec![
        ("pass", count(Outcome::Pass)),
        ("fail", count(Outcome::Fail)),
        ("warn", count(Outcome::Warn)),
        ("error", count(Outcome::Error)),
        ("skip", count(Outcome::Skip)),
    ]);
    let mut metadata = vec![("name", Node::str(report_name(namespace, number)))];
    if let Some(ns) = namespace {
        metadata.push(("namespace", Node::str(ns)));
    }
    metadata.push((
        "labels",
        Node::Map(vec![("app.kubernetes.io/managed-by", Node::str(SOURCE))]),
    ));
    let mut doc = vec![
        ("apiVersion", Node::str(api.api_version())),
        ("kind", Node::str(api.kind(namespace.is_none()))),
        ("metadata", Node::Map(metadata)),
    ];
    if api == ReportApi::OpenReports {
        let mut statuses = Vec::new();
        if with_pass {
            statuses.push(Node::str("pass"));
        }
        statuses.push(Node::str("fail"));
        if with_warn {
            statuses.push(Node::str("warn"));
        }
        statuses.extend([Node::str("error"), Node::str("skip")]);
        doc.push(("source", Node::str(SOURCE)));
        doc.push((
            "configuration",
            Node::Map(vec![(
                "limits",
                Node::Map(vec![
                    ("maxResults", Node::Int(MAX_RESULTS as i64)),
                    ("statusFilter", Node::Seq(statuses)),
                ]),
            )]),
        ));
    }
    doc.push(("summary", summary));
    doc.push((
        "results",
        Node::Seq(results.into_iter().map(|(_, n)| n).collect()),
    ));
    Node::Map(doc)
}

fn count_of(results: &[(Outcome, Node)], outcome: Outcome) -> i64 {
    let n = results.iter().filter(|(o, _)| *o == outcome).count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `metav1.Timestamp` of `now` (0 before the epoch, which no real clock reads).
fn timestamp(now: SystemTime) -> Node {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    Node::Map(vec![
        (
            "seconds",
            Node::Int(i64::try_from(since.as_secs()).unwrap_or(i64::MAX)),
        ),
        ("nanos", Node::Int(i64::from(since.subsec_nanos()))),
    ])
}

/// `ObjectReference` of the object: kind, name and namespace as written, and the UID when the
/// object came from a cluster. Empty values are left out.
fn resource(object: &ObjectRef, uid: Option<&str>) -> Node {
    let mut map = Vec::new();
    let mut put = |key: &'static str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            map.push((key, Node::str(v)));
        }
    };
    put("apiVersion", Some(&object.api_version));
    put("kind", Some(&object.kind));
    put("namespace", object.namespace.as_deref());
    put("name", object.name.as_deref());
    put("uid", uid);
    Node::Map(map)
}

fn head(
    policy: &str,
    meta: Option<&&RuleMeta>,
    family: &str,
    severity: &str,
    outcome: Outcome,
    timestamp: &Node,
) -> Vec<(&'static str, Node)> {
    let mut r = vec![("source", Node::str(SOURCE)), ("policy", Node::str(policy))];
    if let Some(meta) = meta {
        r.push(("rule", Node::str(meta.name)));
    }
    r.push(("category", Node::str(family)));
    r.push(("severity", Node::str(severity)));
    r.push(("result", Node::str(outcome.as_str())));
    // `warn` is "not met and not scored" in the PolicyReport API.
    r.push(("scored", Node::Bool(outcome != Outcome::Warn)));
    r.push(("timestamp", timestamp.clone()));
    r
}

/// A rule's link (the catalog's page for an ID without metadata); None for a user's policy,
/// which has no page. HTML links rules with it too.
pub(crate) fn docs_url(meta: Option<&&RuleMeta>, id: &str) -> Option<String> {
    match meta {
        Some(m) => m.link(),
        None => Some(format!("{DOCS_BASE_URL}{id}.md")),
    }
}

fn result(
    f: &Finding,
    waiver: Option<&SuppressedFinding>,
    outcome: Outcome,
    rules: &HashMap<&str, &RuleMeta>,
    timestamp: &Node,
) -> Node {
    let meta = rules.get(f.rule.as_str());
    let mut r = head(
        &f.rule,
        meta,
        &f.family,
        f.severity.as_str(),
        outcome,
        timestamp,
    );
    let uid = f.origin.as_ref().and_then(|o| o.uid.as_deref());
    r.push(("resources", Node::Seq(vec![resource(&f.object, uid)])));
    r.push(("message", Node::str(&f.message)));
    // Properties are strings only (the CRD says so); keys are camelCase like the CRD's own.
    let mut props: Vec<(&'static str, Node)> = Vec::new();
    let mut prop = |k: &'static str, v: String| props.push((k, Node::Str(v)));
    if !f.field.is_empty() {
        prop("field", f.field.clone());
    }
    if f.fields.len() > 1 {
        prop("fields", f.fields.join(", "));
    }
    if !f.paths.is_empty() {
        prop("paths", f.paths.join(", "));
    }
    prop("file", f.file.clone());
    if f.line > 0 {
        prop("line", f.line.to_string());
        prop("column", f.column.to_string());
    }
    if f.origin.is_none() {
        prop("document", (f.document + 1).to_string());
    }
    if let Some(o) = &f.origin {
        prop("context", o.context.clone());
    }
    if let Some(a) = &f.action {
        // Under the policy's own field name: Gatekeeper's lower-case enforcementAction,
        // a ValidatingAdmissionPolicy binding's capitalised validationActions.
        let key = if a.starts_with(|c: char| c.is_ascii_uppercase()) {
            "validationActions"
        } else {
            "enforcementAction"
        };
        prop(key, a.clone());
    }
    if let Some(url) = docs_url(meta, &f.rule) {
        prop("docs", url);
    }
    if let Some(s) = waiver {
        prop("waiver", s.suppression.kind.clone());
        prop("waiverReason", s.suppression.reason.clone());
        prop("waiverSource", s.suppression.source.clone());
        if let Some(e) = &s.suppression.expires {
            prop("waiverExpires", e.clone());
        }
    }
    r.push(("properties", Node::Map(props)));
    Node::Map(r)
}

/// An input error: `policy: input`, `rule` = its kind (`syntax`, `limit`, ...), no resource
/// (it is about a file, not an object), where it is in `properties`.
fn error_result(e: &InputError, timestamp: &Node) -> Node {
    let mut props = vec![("file", Node::str(&e.file))];
    if let Some(d) = e.document {
        props.push(("document", Node::Str((d + 1).to_string())));
    }
    if let Some(l) = e.line {
        props.push(("line", Node::Str(l.to_string())));
    }
    if let Some(c) = e.column {
        props.push(("column", Node::Str(c.to_string())));
    }
    Node::Map(vec![
        ("source", Node::str(SOURCE)),
        ("policy", Node::str("input")),
        ("rule", Node::str(&e.kind)),
        ("category", Node::str("input")),
        ("result", Node::str(Outcome::Error.as_str())),
        ("scored", Node::Bool(true)),
        ("timestamp", timestamp.clone()),
        ("message", Node::str(&e.message)),
        ("properties", Node::Map(props)),
    ])
}

fn pass_result(
    c: &CheckedObject,
    rule: &str,
    rules: &HashMap<&str, &RuleMeta>,
    timestamp: &Node,
) -> Node {
    let meta = rules.get(rule);
    let (family, severity) = meta.map_or(("", "info"), |m| (m.family, m.severity.as_str()));
    let mut r = head(rule, meta, family, severity, Outcome::Pass, timestamp);
    r.push((
        "resources",
        Node::Seq(vec![resource(&c.object, c.uid.as_deref())]),
    ));
    let title = meta.map_or(rule, |m| m.title);
    r.push(("message", Node::str(title)));
    let props = docs_url(meta, rule)
        .map(|url| ("docs", Node::Str(url)))
        .into_iter()
        .collect();
    r.push(("properties", Node::Map(props)));
    Node::Map(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_labels() {
        for ok in ["a", "default", "kube-system", "a1", &"x".repeat(63)] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            &"x".repeat(64),
            "ns with space",
        ] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(report_name(None, 1), "palisade-cluster");
        assert_eq!(report_name(Some("shop"), 1), "palisade-shop");
        assert_eq!(report_name(Some("shop"), 3), "palisade-shop-3");
    }

    #[test]
    fn invalid_namespaces_go_to_the_cluster_report() {
        let o = |ns: Option<&str>| ObjectRef {
            namespace: ns.map(str::to_owned),
            ..ObjectRef::default()
        };
        assert_eq!(group_of(&o(Some("shop"))), Some("shop"));
        assert_eq!(group_of(&o(Some("Shop"))), None);
        assert_eq!(group_of(&o(None)), None);
    }

    fn results_of(doc: &Node) -> usize {
        let Node::Map(fields) = doc else { return 0 };
        match fields.iter().find(|(k, _)| *k == "results") {
            Some((_, Node::Seq(results))) => results.len(),
            _ => 0,
        }
    }

    /// The streaming bound `render_policy_reports` documents: while documents are handed
    /// out, at most one result node beyond the current document's exists (the one that did
    /// not fit), however many results the scan has. Building every result up front (as
    /// this renderer once did, ~190 MB on a large cluster) makes `built` run ahead.
    #[test]
    fn documents_are_built_one_at_a_time() {
        let finding = |ns: Option<&str>, i: u32| Finding {
            rule: "PSS006".into(),
            family: "pss".into(),
            severity: palisade_core::Severity::High,
            message: format!("finding {i}"),
            file: "a.yaml".into(),
            line: i + 1,
            column: 3,
            document: 0,
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: ns.map(str::to_owned),
                name: Some(format!("p{i}")),
            },
            field: "spec".into(),
            fields: Vec::new(),
            paths: Vec::new(),
            origin: None,
            action: None,
        };
        let mut findings = vec![finding(None, 0)];
        for ns in ["a", "b", "c"] {
            findings.extend((0..700).map(|i| finding(Some(ns), i)));
        }
        // Long messages: the byte budget splits these, so a result is carried over.
        findings.extend((0..30).map(|i| {
            let mut f = finding(Some("big"), i);
            f.message = "m".repeat(20_000);
            f
        }));
        let checked: Vec<CheckedObject> = (0..300)
            .map(|i| CheckedObject {
                object: finding(Some("d"), i).object,
                uid: Some(format!("uid-{i}")),
                rules: vec!["PSS001".into(), "PSS002".into(), "PSS003".into()],
            })
            .collect();
        let report = Report {
            findings: &findings,
            suppressed: &[],
            compliance: None,
            errors: &[],
            notes: &[],
            rules: &[],
            summary: crate::Summary {
                files: 1,
                documents: 1,
                objects: 1,
                findings: findings.len(),
                suppressed: 0,
                expired_waivers: 0,
                by_severity: crate::Summary::count_by_severity(&findings),
                errors: 0,
                notes: 0,
                pss_level: "restricted".into(),
                pss_version: "latest".into(),
                framework: None,
                fail_on: crate::FailOn::Never,
                failed: false,
            },
            tool_name: "palisade",
            tool_version: "test",
        };
        let options = PolicyReportOptions {
            now: UNIX_EPOCH,
            checked: &checked,
        };
        let total = findings.len() + 900;
        let mut docs = Documents::new(&report, ReportApi::WgPolicy, &options);
        assert_eq!(docs.built, 0, "nothing is built before the first document");
        let (mut handed_out, mut count, mut streamed) = (0, 0, Vec::new());
        while let Some(doc) = docs.next() {
            let n = results_of(&doc);
            assert!(n <= MAX_RESULTS);
            handed_out += n;
            count += 1;
            assert!(
                docs.built <= handed_out + 1,
                "document {count}: {} results built, {handed_out} handed out",
                docs.built
            );
            write_document(&doc, &mut streamed).unwrap();
        }
        assert_eq!((handed_out, docs.built), (total, total));
        // 1 cluster, 4 for each of a-c (200 results each), 3 for big (10 of ~20 KB per
        // 200 KiB), 5 for d (900 passes).
        assert_eq!(count, 1 + 3 * 4 + 3 + 5);
        // The writer is this iterator, byte for byte.
        let mut rendered = Vec::new();
        render_policy_reports(&report, ReportApi::WgPolicy, &options, &mut rendered).unwrap();
        assert_eq!(rendered, streamed);
    }
}
