//! The `--config` file. Three shapes are accepted, so an existing PSA setup can be reused:
//!
//! - `pod-security.admission.config.k8s.io/{v1,v1beta1,v1alpha1}` `PodSecurityConfiguration`
//!   (what the upstream PSA webhook's ConfigMap holds);
//! - `apiserver.config.k8s.io/v1` `AdmissionConfiguration` with a `PodSecurity` plugin entry
//!   whose `configuration` is the above;
//! - `palisade.dev/v1alpha1` `AdmitConfiguration`: `podSecurity` (the above, apiVersion/kind
//!   optional), `rules` (per family and rule `enforce | warn | audit | off` for the families
//!   beyond PSS), `limits` and `maxPolicyVersion`.
//!
//! Unknown fields are errors (a typo must not silently weaken a policy). Validation follows
//! PSA's `ValidatePodSecurityConfiguration`: defaults must parse, namespaces must be valid
//! namespace names, runtime classes valid DNS subdomains, usernames non-empty, no
//! duplicates. Every problem is reported, each with its field path.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use palisade_rules::pss::{Level, NEWEST_VERSION, Policy, Version};
use serde::Deserialize;
use serde_json::Value;

use crate::policy::{LabelError, NamespacePolicy, go_quote};

/// What a rule family or rule does when it finds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Not evaluated.
    Off,
    /// Recorded in the `palisade-violations` audit annotation.
    Audit,
    /// Returned as an admission warning (and audited).
    Warn,
    /// The request is denied.
    Enforce,
}

impl<'de> Deserialize<'de> for Mode {
    /// `enforce | warn | audit | off`; also YAML 1.1's `off`/`no`/`false`, which the
    /// Kubernetes-style loader reads as the boolean false.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(false) => Ok(Mode::Off),
            Value::String(s) => match s.as_str() {
                "enforce" => Ok(Mode::Enforce),
                "warn" => Ok(Mode::Warn),
                "audit" => Ok(Mode::Audit),
                "off" => Ok(Mode::Off),
                _ => Err(serde::de::Error::custom(format!(
                    "invalid mode {s:?}: expected enforce, warn, audit or off"
                ))),
            },
            other => Err(serde::de::Error::custom(format!(
                "invalid mode {other}: expected enforce, warn, audit or off"
            ))),
        }
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
            Mode::Enforce => "enforce",
        }
    }
}

/// Exemptions, as in PodSecurityConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub usernames: HashSet<String>,
    pub namespaces: HashSet<String>,
    pub runtime_classes: HashSet<String>,
}

/// Server limits. Each has a default chosen against the API server's own behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body. The API server accepts objects up to 3 MiB and an UPDATE
    /// review carries two of them, so the default leaves room for 2x plus the envelope.
    pub max_request_bytes: usize,
    /// Whole-request deadline (reading the body, deciding, answering). The API server's
    /// own per-call timeout (`?timeout=`) shortens it further.
    pub request_timeout: Duration,
    /// Time allowed for a later request's headers on a keep-alive HTTP/1 connection, from
    /// their first byte (slow-loris guard).
    pub header_read_timeout: Duration,
    /// Time allowed for the TLS handshake (and for a first byte to arrive).
    pub handshake_timeout: Duration,
    /// From the end of the handshake to the first request's headers: a client that
    /// connects and sends nothing is closed after this.
    pub first_request_timeout: Duration,
    /// A keep-alive connection (HTTP/1 or HTTP/2) with no request in flight is closed after
    /// this (the API server's own serving uses 90 s); also a connection whose request makes
    /// no I/O progress for this long.
    pub idle_timeout: Duration,
    /// Connections open at once. At the cap a new connection evicts the oldest one that has
    /// not sent a request yet, or is refused when all are serving.
    pub max_connections: usize,
    /// Request body bytes held by all requests at once; beyond it, 503 with Retry-After.
    /// Real AdmissionReviews are a few KiB; the default fits two of `maxRequestBytes`.
    pub max_body_bytes_in_flight: usize,
    /// HTTP/2 streams (requests) open at once per connection.
    pub http2_max_concurrent_streams: u32,
    /// PSA's namespace-relabel check: most existing pods evaluated.
    pub namespace_max_pods: usize,
    /// PSA's namespace-relabel check: time budget (also capped at half the deadline).
    pub namespace_pod_check_timeout: Duration,
    /// How often the certificate and key files are checked for changes.
    pub cert_reload_interval: Duration,
    /// How long in-flight requests may finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_request_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            first_request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            max_connections: 1024,
            max_body_bytes_in_flight: 16 * 1024 * 1024,
            http2_max_concurrent_streams: 100,
            namespace_max_pods: 3000,
            namespace_pod_check_timeout: Duration::from_secs(1),
            cert_reload_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub defaults: NamespacePolicy,
    pub exemptions: Exemptions,
    /// Mode per catalog rule outside the `pss` family (PSS follows namespace labels).
    pub rule_modes: BTreeMap<&'static str, Mode>,
    pub limits: Limits,
    /// Newest policy minor evaluated for `latest` (PSA's emulation clamp).
    pub max_minor: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            defaults: NamespacePolicy::PRIVILEGED,
            exemptions: Exemptions::default(),
            rule_modes: BTreeMap::new(),
            limits: Limits::default(),
            max_minor: NEWEST_VERSION,
        }
    }
}

/// A problem with the config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("config {file}: {reason}")]
    Parse { file: String, reason: String },
    #[error("config {file} is invalid:\n  {}", errors.join("\n  "))]
    Invalid { file: String, errors: Vec<String> },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PodSecurityFile {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default, rename = "kind")]
    _kind: Option<String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    #[serde(default)]
    exemptions: ExemptionsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExemptionsFile {
    #[serde(default)]
    usernames: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    runtime_classes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdmitFile {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    #[serde(default, rename = "podSecurity")]
    pod_security: Option<PodSecurityFile>,
    #[serde(default)]
    rules: RulesFile,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default, rename = "maxPolicyVersion")]
    max_policy_version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    families: BTreeMap<String, Mode>,
    #[serde(default)]
    rules: BTreeMap<String, Mode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LimitsFile {
    max_request_bytes: Option<usize>,
    request_timeout_seconds: Option<f64>,
    header_read_timeout_seconds: Option<f64>,
    handshake_timeout_seconds: Option<f64>,
    first_request_timeout_seconds: Option<f64>,
    idle_timeout_seconds: Option<f64>,
    max_connections: Option<usize>,
    max_body_bytes_in_flight: Option<usize>,
    http2_max_concurrent_streams: Option<u32>,
    namespace_max_pods: Option<usize>,
    namespace_pod_check_timeout_seconds: Option<f64>,
    cert_reload_interval_seconds: Option<f64>,
    shutdown_grace_seconds: Option<f64>,
}

const PSA_GROUP: &str = "pod-security.admission.config.k8s.io/";
const PSA_VERSIONS: [&str; 3] = ["v1", "v1beta1", "v1alpha1"];

impl Config {
    /// Reads and validates a config file (YAML or JSON, one document).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Config::from_bytes(&file, &bytes)
    }

    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Config, ConfigError> {
        let parse = |reason: String| ConfigError::Parse {
            file: file.to_owned(),
            reason,
        };
        let loaded = palisade_yaml::load_bytes(file, bytes, &palisade_yaml::Limits::default());
        if let Some(e) = loaded.errors.first() {
            return Err(parse(e.to_string()));
        }
        let [doc] = loaded.documents.as_slice() else {
            return Err(parse(format!(
                "expected exactly one document with apiVersion and kind, found {}",
                loaded.documents.len()
            )));
        };
        let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
        let kind = doc.value.get("kind").and_then(Value::as_str);
        let mut errors = Vec::new();
        let mut config = Config::default();
        fn de<T: serde::de::DeserializeOwned>(
            file: &str,
            v: &Value,
            what: &str,
        ) -> Result<T, ConfigError> {
            serde_json::from_value(v.clone()).map_err(|e| ConfigError::Parse {
                file: file.to_owned(),
                reason: format!("{what}: {e}"),
            })
        }
        match (api_version, kind) {
            (Some(av), Some("PodSecurityConfiguration")) => {
                let ps: PodSecurityFile = de(file, &doc.value, "PodSecurityConfiguration")?;
                check_psa_version(av, "", &mut errors);
                apply_pod_security(&ps, "", &mut config, &mut errors);
            }
            (Some("apiserver.config.k8s.io/v1"), Some("AdmissionConfiguration")) => {
                let plugin = doc
                    .value
                    .get("plugins")
                    .and_then(Value::as_array)
                    .and_then(|ps| {
                        ps.iter()
                            .find(|p| p.get("name").and_then(Value::as_str) == Some("PodSecurity"))
                    })
                    .ok_or_else(|| {
                        parse("AdmissionConfiguration has no plugin named PodSecurity".into())
                    })?;
                let conf = plugin.get("configuration").ok_or_else(|| {
                    parse("the PodSecurity plugin has no inline configuration (path is not supported: inline it)".into())
                })?;
                let ps: PodSecurityFile = de(file, conf, "plugins[PodSecurity].configuration")?;
                check_psa_version(
                    ps.api_version.as_deref().unwrap_or(""),
                    "configuration.",
                    &mut errors,
                );
                apply_pod_security(&ps, "configuration.", &mut config, &mut errors);
            }
            (Some("palisade.dev/v1alpha1"), Some("AdmitConfiguration")) => {
                let f: AdmitFile = de(file, &doc.value, "AdmitConfiguration")?;
                if let Some(ps) = &f.pod_security {
                    if let Some(av) = &ps.api_version {
                        check_psa_version(av, "podSecurity.", &mut errors);
                    }
                    apply_pod_security(ps, "podSecurity.", &mut config, &mut errors);
                }
                apply_rules(&f.rules, &mut config, &mut errors);
                apply_limits(&f.limits, &mut config.limits, &mut errors);
                if let Some(v) = &f.max_policy_version {
                    match v.parse::<Version>() {
                        Ok(Version::V1(n)) if n <= NEWEST_VERSION => config.max_minor = n,
                        _ => errors.push(format!(
                            "maxPolicyVersion: Invalid value: {}: must be v1.0 .. v1.{NEWEST_VERSION}",
                            go_quote(v)
                        )),
                    }
                }
            }
            _ => {
                return Err(parse(format!(
                    "unrecognised apiVersion {api_version:?} / kind {kind:?}: expected {PSA_GROUP}v1 PodSecurityConfiguration, apiserver.config.k8s.io/v1 AdmissionConfiguration or palisade.dev/v1alpha1 AdmitConfiguration"
                )));
            }
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                file: file.to_owned(),
                errors,
            })
        }
    }

    /// The mode of a catalog rule outside the PSS family.
    pub fn mode(&self, rule_id: &str) -> Mode {
        self.rule_modes.get(rule_id).copied().unwrap_or(Mode::Off)
    }

    /// Whether any rule beyond PSS is switched on.
    pub fn any_rule_enabled(&self) -> bool {
        self.rule_modes.values().any(|m| *m != Mode::Off)
    }
}

fn check_psa_version(api_version: &str, prefix: &str, errors: &mut Vec<String>) {
    let ok = api_version
        .strip_prefix(PSA_GROUP)
        .is_some_and(|v| PSA_VERSIONS.contains(&v));
    if !ok {
        errors.push(format!(
            "{prefix}apiVersion: Unsupported value: {}: supported values: \"{PSA_GROUP}v1\", \"{PSA_GROUP}v1beta1\", \"{PSA_GROUP}v1alpha1\"",
            go_quote(api_version)
        ));
    }
}

fn apply_pod_security(
    ps: &PodSecurityFile,
    prefix: &str,
    config: &mut Config,
    errors: &mut Vec<String>,
) {
    let keys = [
        "enforce",
        "enforce-version",
        "audit",
        "audit-version",
        "warn",
        "warn-version",
    ];
    for k in ps.defaults.keys() {
        if !keys.contains(&k.as_str()) {
            errors.push(format!(
                "{prefix}defaults.{k}: unknown field (expected one of {})",
                keys.join(", ")
            ));
        }
    }
    let mut policy = |level_key: &str, version_key: &str| -> Policy {
        let mut p = Policy {
            level: Level::Privileged,
            version: Version::Latest,
        };
        // Empty strings are "unset" (PSA's defaulting), like absent keys.
        if let Some(v) = ps.defaults.get(level_key).filter(|v| !v.is_empty()) {
            match v.parse::<Level>() {
                Ok(l) => p.level = l,
                Err(_) => errors.push(format!(
                    "{prefix}defaults.{level_key}: {}",
                    invalid(v, "must be one of privileged, baseline, restricted")
                )),
            }
        }
        if let Some(v) = ps.defaults.get(version_key).filter(|v| !v.is_empty()) {
            match v.parse::<Version>() {
                Ok(x) => p.version = x,
                Err(_) => errors.push(format!(
                    "{prefix}defaults.{version_key}: {}",
                    invalid(v, "must be \"latest\" or \"v1.x\"")
                )),
            }
        }
        p
    };
    config.defaults = NamespacePolicy {
        enforce: policy("enforce", "enforce-version"),
        audit: policy("audit", "audit-version"),
        warn: policy("warn", "warn-version"),
    };
    let ex = &ps.exemptions;
    config.exemptions = Exemptions {
        usernames: collect(&ex.usernames, prefix, "usernames", errors, |u| {
            (!u.is_empty()).then_some(()).ok_or("must be non-empty")
        }),
        namespaces: collect(&ex.namespaces, prefix, "namespaces", errors, |n| {
            is_dns_label(n).then_some(()).ok_or(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            )
        }),
        runtime_classes: collect(&ex.runtime_classes, prefix, "runtimeClasses", errors, |n| {
            is_dns_subdomain(n).then_some(()).ok_or(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        }),
    };
}

fn invalid(value: &str, detail: &'static str) -> String {
    LabelError {
        label: "",
        value: value.to_owned(),
        detail,
    }
    .body()
}

fn collect(
    items: &[String],
    prefix: &str,
    field: &str,
    errors: &mut Vec<String>,
    valid: impl Fn(&str) -> Result<(), &'static str>,
) -> HashSet<String> {
    let mut out = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Err(why) = valid(item) {
            errors.push(format!(
                "{prefix}exemptions.{field}[{i}]: {}",
                invalid(item, why)
            ));
        } else if !out.insert(item.clone()) {
            errors.push(format!(
                "{prefix}exemptions.{field}[{i}]: Duplicate value: {}",
                go_quote(item)
            ));
        }
    }
    out
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn apply_rules(rules: &RulesFile, config: &mut Config, errors: &mut Vec<String>) {
    let catalog = palisade_rules::catalog();
    let mut families: Vec<&str> = catalog
        .iter()
        .map(|r| r.family)
        .filter(|f| *f != "pss")
        .collect();
    families.sort_unstable();
    families.dedup();
    for (family, mode) in &rules.families {
        if family == "pss" {
            errors.push(
                "rules.families.pss: the pss family follows the namespace labels (pod-security.kubernetes.io/*) and podSecurity.defaults; it cannot be set here".to_owned(),
            );
        } else if !families.contains(&family.as_str()) {
            errors.push(format!(
                "rules.families.{family}: unknown family (known: {})",
                families.join(", ")
            ));
        } else {
            for r in catalog.iter().filter(|r| r.family == family) {
                config.rule_modes.insert(r.id, *mode);
            }
        }
    }
    // Rules override their family, whatever order the keys were written in.
    for (key, mode) in &rules.rules {
        let found = catalog
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key));
        match found {
            Some(r) if r.family == "pss" => errors.push(format!(
                "rules.rules.{key}: {} is a Pod Security rule; PSS follows the namespace labels",
                r.id
            )),
            Some(r) => {
                config.rule_modes.insert(r.id, *mode);
            }
            None => errors.push(format!(
                "rules.rules.{key}: unknown rule (`palisade rules` lists IDs and names)"
            )),
        }
    }
}

fn apply_limits(f: &LimitsFile, l: &mut Limits, errors: &mut Vec<String>) {
    let mut secs = |name: &str, v: Option<f64>, slot: &mut Duration, max: f64| {
        if let Some(s) = v {
            if s.is_finite() && s > 0.0 && s <= max {
                *slot = Duration::from_secs_f64(s);
            } else {
                errors.push(format!(
                    "limits.{name}: Invalid value: {s}: must be > 0 and <= {max}"
                ));
            }
        }
    };
    secs(
        "requestTimeoutSeconds",
        f.request_timeout_seconds,
        &mut l.request_timeout,
        30.0,
    );
    secs(
        "headerReadTimeoutSeconds",
        f.header_read_timeout_seconds,
        &mut l.header_read_timeout,
        60.0,
    );
    secs(
        "handshakeTimeoutSeconds",
        f.handshake_timeout_seconds,
        &mut l.handshake_timeout,
        60.0,
    );
    secs(
        "firstRequestTimeoutSeconds",
        f.first_request_timeout_seconds,
        &mut l.first_request_timeout,
        60.0,
    );
    secs(
        "idleTimeoutSeconds",
        f.idle_timeout_seconds,
        &mut l.idle_timeout,
        3600.0,
    );
    secs(
        "namespacePodCheckTimeoutSeconds",
        f.namespace_pod_check_timeout_seconds,
        &mut l.namespace_pod_check_timeout,
        30.0,
    );
    secs(
        "certReloadIntervalSeconds",
        f.cert_reload_interval_seconds,
        &mut l.cert_reload_interval,
        3600.0,
    );
    secs(
        "shutdownGraceSeconds",
        f.shutdown_grace_seconds,
        &mut l.shutdown_grace,
        600.0,
    );
    if let Some(n) = f.max_request_bytes {
        if (64 * 1024..=256 * 1024 * 1024).contains(&n) {
            l.max_request_bytes = n;
        } else {
            errors.push(format!(
                "limits.maxRequestBytes: Invalid value: {n}: must be between 65536 and 268435456"
            ));
        }
    }
    if let Some(n) = f.max_body_bytes_in_flight {
        l.max_body_bytes_in_flight = n;
    }
    // A body of the largest allowed size must fit, or it could never be served.
    if l.max_body_bytes_in_flight < l.max_request_bytes {
        errors.push(format!(
            "limits.maxBodyBytesInFlight: Invalid value: {}: must be at least limits.maxRequestBytes ({})",
            l.max_body_bytes_in_flight, l.max_request_bytes
        ));
    }
    if let Some(n) = f.max_connections {
        if (1..=1_000_000).contains(&n) {
            l.max_connections = n;
        } else {
            errors.push(format!(
                "limits.maxConnections: Invalid value: {n}: must be between 1 and 1000000"
            ));
        }
    }
    if let Some(n) = f.http2_max_concurrent_streams {
        if (1..=10_000).contains(&n) {
            l.http2_max_concurrent_streams = n;
        } else {
            errors.push(format!(
                "limits.http2MaxConcurrentStreams: Invalid value: {n}: must be between 1 and 10000"
            ));
        }
    }
    if let Some(n) = f.namespace_max_pods {
        if n > 0 {
            l.namespace_max_pods = n;
        } else {
            errors.push("limits.namespaceMaxPods: Invalid value: 0: must be > 0".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn load(s: &str) -> Result<Config, ConfigError> {
        Config::from_bytes("test.yaml", s.as_bytes())
    }

    #[test]
    fn pod_security_configuration() {
        let c = load(
            "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: baseline\n  enforce-version: v1.30\n  warn: restricted\nexemptions:\n  usernames: [admin]\n  namespaces: [kube-system]\n  runtimeClasses: [kata.io]\n",
        )
        .unwrap();
        assert_eq!(c.defaults.enforce.to_string(), "baseline:v1.30");
        assert_eq!(c.defaults.audit.to_string(), "privileged:latest");
        assert_eq!(c.defaults.warn.to_string(), "restricted:latest");
        assert!(c.exemptions.namespaces.contains("kube-system"));
        assert!(c.exemptions.runtime_classes.contains("kata.io"));
    }

    #[test]
    fn admission_configuration_wrapper() {
        let c = load(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: Other\n- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1beta1\n    kind: PodSecurityConfiguration\n    defaults: {enforce: restricted}\n",
        )
        .unwrap();
        assert_eq!(c.defaults.enforce.level, Level::Restricted);
    }

    #[test]
    fn every_problem_reported_with_its_field() {
        let Err(ConfigError::Invalid { errors, .. }) = load(
            "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: strict, audit-version: '1.25'}\nexemptions:\n  usernames: ['', a, a]\n  namespaces: [Kube_System]\n",
        ) else {
            panic!("expected Invalid")
        };
        let all = errors.join("\n");
        assert!(
            all.contains("defaults.enforce: Invalid value: \"strict\""),
            "{all}"
        );
        assert!(
            all.contains("defaults.audit-version: Invalid value: \"1.25\""),
            "{all}"
        );
        assert!(all.contains("exemptions.usernames[0]"), "{all}");
        assert!(
            all.contains("exemptions.usernames[2]: Duplicate value: \"a\""),
            "{all}"
        );
        assert!(
            all.contains("exemptions.namespaces[0]: Invalid value: \"Kube_System\""),
            "{all}"
        );
        assert_eq!(errors.len(), 5, "{all}");
    }

    #[test]
    fn unknown_fields_and_kinds_rejected() {
        let e = load("apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\nexemption: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `exemption`"), "{e}");
        let e = load("apiVersion: v1\nkind: ConfigMap\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unrecognised apiVersion"), "{e}");
        let e = load("a: [").unwrap_err().to_string();
        assert!(e.contains("test.yaml"), "{e}");
    }

    #[test]
    fn palisade_rules_and_limits() {
        let family = palisade_rules::catalog()
            .iter()
            .find(|r| r.family != "pss")
            .map(|r| (r.family, r.id));
        let mut text = String::from(
            "apiVersion: palisade.dev/v1alpha1\nkind: AdmitConfiguration\nmaxPolicyVersion: v1.36\nlimits: {requestTimeoutSeconds: 2.5, maxRequestBytes: 1048576}\n",
        );
        if let Some((fam, id)) = family {
            text.push_str(&format!(
                "rules:\n  families: {{{fam}: warn}}\n  rules: {{{id}: enforce}}\n"
            ));
        }
        let c = load(&text).unwrap();
        assert_eq!(c.max_minor, 36);
        assert_eq!(c.limits.request_timeout, Duration::from_millis(2500));
        assert_eq!(c.limits.max_request_bytes, 1 << 20);
        if let Some((fam, id)) = family {
            assert_eq!(c.mode(id), Mode::Enforce, "rule overrides family");
            let others = palisade_rules::catalog()
                .iter()
                .filter(|r| r.family == fam && r.id != id);
            for r in others {
                assert_eq!(c.mode(r.id), Mode::Warn);
            }
        }
        let Err(ConfigError::Invalid { errors, .. }) = load(
            "apiVersion: palisade.dev/v1alpha1\nkind: AdmitConfiguration\nrules:\n  families: {pss: enforce, nope: warn}\n  rules: {PSS001: off, NOPE999: off}\nlimits: {requestTimeoutSeconds: 0, maxRequestBytes: 10}\nmaxPolicyVersion: v1.99\n",
        ) else {
            panic!("expected Invalid")
        };
        assert_eq!(errors.len(), 7, "{errors:#?}");
    }
}
