//! Palisade's shared data model. Every other crate speaks in these types: a loaded
//! [`Document`] (a JSON value plus a [`SpanTree`] giving the source line of every node),
//! [`FieldPath`]s that rules return, [`Finding`]s and [`InputError`]s that printers render,
//! and [`RuleMeta`], the metadata every rule in the catalog carries. It has almost no
//! dependencies so that every crate can depend on it cheaply.

pub mod inventory;
mod path;
mod span;

pub use path::{FieldPath, PathSeg};
pub use span::{Span, SpanChildren, SpanTree};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lower-case names used on the command line and in JSON.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Kubernetes object read from a source file, ready for rules.
///
/// A `kind: List` (or any `*List`) document is expanded by the loader: each item becomes its
/// own `Document` with the same `index` and `item = Some(i)`.
#[derive(Debug, Clone)]
pub struct Document {
    /// Display name of the source: the path as given on the command line, or `<stdin>`.
    pub file: Arc<str>,
    /// 0-based index of the YAML document (or JSON value) within the file.
    pub index: usize,
    /// Position inside a `*List`'s `items`, when the object came from one.
    pub item: Option<usize>,
    /// The object, with scalars resolved as Kubernetes resolves them (YAML 1.1 booleans, octal).
    pub value: serde_json::Value,
    /// Source position of every node of `value`, same shape.
    pub spans: SpanTree,
}

impl Document {
    /// `apiVersion`/`kind`/`metadata.namespace`/`metadata.name` of the object.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::of(&self.value)
    }

    /// Source position of `path`, or of its deepest ancestor present in the source when the
    /// field itself is missing (e.g. a finding about an unset field points at its parent).
    pub fn locate(&self, path: &FieldPath) -> Span {
        self.spans.locate(path)
    }
}

/// Identity of a Kubernetes object as shown in findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ObjectRef {
    pub fn of(value: &serde_json::Value) -> ObjectRef {
        let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let meta = value.get("metadata");
        ObjectRef {
            api_version: s(value.get("apiVersion")).unwrap_or_default(),
            kind: s(value.get("kind")).unwrap_or_default(),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
            name: s(meta.and_then(|m| m.get("name")))
                .or_else(|| s(meta.and_then(|m| m.get("generateName")))),
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `Kind/namespace/name`, or `Kind/name` without a namespace.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.kind.is_empty() {
            "<no kind>"
        } else {
            &self.kind
        };
        let name = self.name.as_deref().unwrap_or("<no name>");
        match &self.namespace {
            Some(ns) => write!(f, "{kind}/{ns}/{name}"),
            None => write!(f, "{kind}/{name}"),
        }
    }
}

/// A rule's verdict on one object. The JSON shape is a documented, stable contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule ID from the catalog, e.g. `PSS006`.
    pub rule: String,
    /// Rule family, e.g. `pss`.
    pub family: String,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    /// 1-based line of `field` (or of its nearest present ancestor).
    pub line: u32,
    /// 1-based column of the same node.
    pub column: u32,
    /// 0-based document index within `file` in memory; written as 1-based (see [`one_based`]).
    #[serde(with = "one_based")]
    pub document: usize,
    pub object: ObjectRef,
    /// Path of the offending field, e.g. `spec.containers[0].securityContext.privileged`.
    pub field: String,
    /// Every offending field when the rule found several (first one = `field`). Written only
    /// when there are several, as documented: one would only repeat `field`.
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub fields: Vec<String>,
    /// For an RBAC finding that groups several escalation paths granted by one role rule to
    /// one subject through one binding: every path's rule ID (`rule` is the most severe).
    /// Written only when not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Where the object came from when it was not read from a file (a live cluster): written
    /// only then; `file` holds its `cluster://CONTEXT/NAMESPACE/KIND/NAME` form.
    /// Boxed: files' findings (nearly all) pay one pointer, not six strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<Origin>>,
    /// For a finding of a user's policy (`--policy`): its enforcement action as the policy
    /// spells it, a Gatekeeper constraint's `enforcementAction` (`deny`, `dryrun`, `warn`) or
    /// a ValidatingAdmissionPolicy binding's `validationActions` joined by `,` (`Deny`,
    /// `Warn`, `Audit`, e.g. `Warn,Audit`). Written only when set: catalog rules have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl Finding {
    /// Whether the finding's policy only warns or audits (`action` set and naming no deny):
    /// PolicyReport's `warn` result rather than `fail`, as Gatekeeper's and Kyverno's
    /// reporters write them.
    pub fn warn_only(&self) -> bool {
        self.action
            .as_deref()
            .is_some_and(|a| !a.split(',').any(|x| x.trim().eq_ignore_ascii_case("deny")))
    }
}

/// The identity of an object read from a Kubernetes API server (`scan --cluster`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    /// The kubeconfig context the object was read through (`in-cluster` inside a pod).
    pub context: String,
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Document numbers are 0-based indices in memory and 1-based wherever a person or a script
/// reads them (table, errors, JSON, SARIF, JUnit), like line and column numbers: "document 1"
/// is the first document of a file in every output.
pub mod one_based {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(index: &usize, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*index as u64 + 1)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        let n = u64::deserialize(d)?;
        n.checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| D::Error::custom("document numbers start at 1"))
    }

    /// The same for an optional document number.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(index: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
            match index {
                Some(i) => super::serialize(i, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] usize);
            Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(i)| i))
        }
    }
}

fn at_most_one(v: &[String]) -> bool {
    v.len() <= 1
}

/// A problem with the input itself (unreadable file, malformed YAML, limit exceeded, ...).
/// Reported in every output format and makes the scan exit with status 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub file: String,
    /// 0-based document index in memory, when the error is inside one document; written as
    /// 1-based (see [`one_based`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "one_based::option"
    )]
    pub document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Short machine-readable category: `io`, `syntax`, `limit`, `encoding`, `not-object`, ...
    pub kind: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(doc) = self.document {
            write!(f, " (document {})", doc + 1)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A reference from a rule to a standard or a peer tool's equivalent check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Who defines it: one of [`REFERENCE_SOURCES`] (lower-case), e.g. `pss`, `cis`, `trivy`.
    pub source: &'static str,
    /// Their identifier, e.g. `KSV-0017`, `C-0057`, `CKV_K8S_16`, `Privileged Containers`.
    pub id: &'static str,
    /// Link, when one exists.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub url: &'static str,
}

impl Reference {
    /// A reference without a link; `source` is one of [`REFERENCE_SOURCES`]. `const` so the
    /// static rule catalogs can build their reference lists at compile time.
    pub const fn new(source: &'static str, id: &'static str) -> Reference {
        Reference {
            source,
            id,
            url: "",
        }
    }

    /// The same reference with a link.
    pub const fn with_url(self, url: &'static str) -> Reference {
        Reference { url, ..self }
    }
}

/// The allowed values of [`Reference::source`], the stable names `palisade rules --format json`
/// prints: the Pod Security Standards, the CIS Kubernetes Benchmark (v1.12 numbering), the
/// NSA/CISA Kubernetes Hardening Guidance (v1.2), the kubernetes.io security checklist, and
/// the peer scanners whose equivalent check IDs the catalog cross-references.
pub const REFERENCE_SOURCES: &[&str] = &[
    "pss",
    "cis",
    "nsa",
    "k8s-checklist",
    "trivy",
    "kubescape",
    "checkov",
    "polaris",
    "kube-linter",
    "kube-score",
    "kubesec",
    "kubeaudit",
];

/// How a finding was waived: by an annotation on the object (`annotation`) or by an exception
/// in the scan configuration file (`config`). Waived findings are reported, marked suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `annotation` or `config`.
    pub kind: String,
    /// The reason the waiver gives (always non-empty: a waiver without one is rejected).
    pub reason: String,
    /// Where the waiver is: `metadata.annotations["palisade.dev/ignore"]`, or
    /// `.palisade.yaml:12` for a config exception.
    pub source: String,
    /// `YYYY-MM-DD` after which the waiver stops applying, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding that a waiver suppressed: the finding's fields plus `suppression`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub suppression: Suppression,
}

/// Metadata every rule in the catalog carries; printers (SARIF rule descriptors, docs) use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    /// Stable ID, never reused: e.g. `PSS006`.
    pub id: &'static str,
    /// Short kebab-case name, also selectable: e.g. `privileged`.
    pub name: &'static str,
    /// Family, selectable as a group: `pss`, `hardening`, `rbac`, `netpol`.
    pub family: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Why it matters.
    pub rationale: &'static str,
    /// What to do about it.
    pub remediation: &'static str,
    pub references: &'static [Reference],
    /// Documentation link for the rule.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub help_uri: &'static str,
    /// Whether the rule has its own page `docs/rules/<ID>.md` ([`RuleMeta::docs_url`]): every
    /// catalog rule; not a user's policy (`scan --policy`), whose link is `help_uri` if any.
    #[serde(skip)]
    pub own_page: bool,
}

impl RuleMeta {
    /// The same rule with another documentation link.
    pub const fn with_help_uri(self, help_uri: &'static str) -> RuleMeta {
        RuleMeta { help_uri, ..self }
    }
}

/// What the rules of one family share, so a catalog names the family and its help page once
/// and builds each [`RuleMeta`] in a `const` context with [`RuleFamily::rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleFamily {
    name: &'static str,
    help: FamilyHelp,
}

/// Base URL of the rule pages (`docs/rules/<ID>.md` in the repository), fixed at build time:
/// set `PALISADE_DOCS_URL` when building a fork or a mirror so every link points at it.
pub const DOCS_BASE_URL: &str = match option_env!("PALISADE_DOCS_URL") {
    Some(url) => url,
    None => "https://github.com/palisade-dev/palisade/blob/main/docs/rules/",
};

impl RuleMeta {
    /// The rule's own documentation page (`DOCS_BASE_URL` + `<ID>.md`): what SARIF `helpUri`,
    /// JUnit `help` and `palisade rules explain` point at. [`RuleMeta::help_uri`] is the
    /// upstream page (the standard or guide the rule comes from), which that page links.
    pub fn docs_url(&self) -> String {
        format!("{DOCS_BASE_URL}{}.md", self.id)
    }

    /// The link printers give a finding of this rule (SARIF `helpUri`, HTML, JUnit `help`,
    /// PolicyReport `docs`): the rule's own page, or for a rule without one (a user's policy)
    /// its `help_uri` when it has one; None when there is nothing to link.
    pub fn link(&self) -> Option<String> {
        if self.own_page {
            Some(self.docs_url())
        } else {
            Some(self.help_uri)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
        }
    }
}

/// Where a family's rules link ([`RuleMeta::help_uri`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FamilyHelp {
    /// One page for the whole family (empty: none).
    Page(&'static str),
    /// Each rule's first reference's link.
    FirstReference,
}

impl RuleFamily {
    /// A family whose rules all link to `help_uri` (empty: no link).
    pub const fn new(name: &'static str, help_uri: &'static str) -> RuleFamily {
        RuleFamily {
            name,
            help: FamilyHelp::Page(help_uri),
        }
    }

    /// A family whose rules each link to their first reference's page, e.g. PSS rules to
    /// the section of the standard that defines their control.
    pub const fn linking_first_reference(name: &'static str) -> RuleFamily {
        RuleFamily {
            name,
            help: FamilyHelp::FirstReference,
        }
    }

    /// A rule of this family, linking as the family says. Positional arguments, in
    /// [`RuleMeta`]'s field order, keep the catalogs' long tables of these calls compact.
    #[allow(clippy::too_many_arguments)]
    pub const fn rule(
        self,
        id: &'static str,
        name: &'static str,
        title: &'static str,
        severity: Severity,
        rationale: &'static str,
        remediation: &'static str,
        references: &'static [Reference],
    ) -> RuleMeta {
        RuleMeta {
            id,
            name,
            family: self.name,
            title,
            severity,
            rationale,
            remediation,
            references,
            help_uri: match (self.help, references) {
                (FamilyHelp::Page(uri), _) => uri,
                (FamilyHelp::FirstReference, [first, ..]) => first.url,
                (FamilyHelp::FirstReference, []) => "",
            },
            own_page: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_actions() {
        let catalog = RuleFamily::new("x", "https://example.invalid/x").rule(
            "X001",
            "x",
            "X",
            Severity::Low,
            "",
            "",
            &[],
        );
        assert_eq!(catalog.link(), Some(format!("{DOCS_BASE_URL}X001.md")));
        let policy = RuleMeta {
            own_page: false,
            help_uri: "",
            ..catalog
        };
        assert_eq!(policy.link(), None);
        let linked = policy.with_help_uri("https://example.invalid/policy");
        assert_eq!(
            linked.link().as_deref(),
            Some("https://example.invalid/policy")
        );

        let f = |action: Option<&str>| Finding {
            rule: "K8sRequiredLabels/owner".to_owned(),
            family: "policy".to_owned(),
            severity: Severity::Medium,
            message: String::new(),
            file: String::new(),
            line: 1,
            column: 1,
            document: 0,
            object: ObjectRef::default(),
            field: String::new(),
            fields: Vec::new(),
            paths: Vec::new(),
            origin: None,
            action: action.map(str::to_owned),
        };
        assert!(!f(None).warn_only());
        assert!(!f(Some("deny")).warn_only());
        assert!(!f(Some("Deny,Audit")).warn_only());
        assert!(f(Some("dryrun")).warn_only());
        assert!(f(Some("Warn,Audit")).warn_only());
        let json = serde_json::to_value(f(None)).unwrap();
        assert!(json.get("action").is_none());
        let json = serde_json::to_value(f(Some("warn"))).unwrap();
        assert_eq!(json["action"], "warn");
        let back: Finding = serde_json::from_value(json).unwrap();
        assert_eq!(back.action.as_deref(), Some("warn"));
    }
}
