//! A namespace's Pod Security policy from its labels, exactly as PSA resolves it
//! (`api.PolicyToEvaluate`): unset labels take the configured defaults; an invalid enforce
//! level fails closed (restricted), invalid audit/warn levels fail open (privileged), an
//! invalid version becomes `latest`; every parse error is kept for the caller to report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use palisade_rules::pss::{Level, Policy, Version};

pub const ENFORCE_LEVEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION: &str = "pod-security.kubernetes.io/warn-version";

const LEVEL_ERROR: &str = "must be one of privileged, baseline, restricted";
const VERSION_ERROR: &str = "must be \"latest\" or \"v1.x\"";

/// The three modes' policies for one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: Policy,
    pub audit: Policy,
    pub warn: Policy,
}

impl NamespacePolicy {
    /// PSA's built-in defaults: every mode `privileged:latest`.
    pub const PRIVILEGED: NamespacePolicy = NamespacePolicy {
        enforce: PRIVILEGED_LATEST,
        audit: PRIVILEGED_LATEST,
        warn: PRIVILEGED_LATEST,
    };

    pub fn fully_privileged(&self) -> bool {
        [self.enforce, self.audit, self.warn]
            .iter()
            .all(|p| p.level == Level::Privileged)
    }

    /// PSA's `Policy.Equivalent`: same levels, and same versions where the level is not
    /// privileged (a privileged policy is the same at every version).
    pub fn equivalent(&self, other: &NamespacePolicy) -> bool {
        let eq = |a: &Policy, b: &Policy| {
            a.level == b.level && (a.level == Level::Privileged || a.version == b.version)
        };
        eq(&self.enforce, &other.enforce)
            && eq(&self.audit, &other.audit)
            && eq(&self.warn, &other.warn)
    }
}

pub const PRIVILEGED_LATEST: Policy = Policy {
    level: Level::Privileged,
    version: Version::Latest,
};

/// One invalid label, as apimachinery's `field.Invalid` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    pub label: &'static str,
    pub value: String,
    pub detail: &'static str,
}

impl LabelError {
    /// `metadata.labels[<label>]`
    pub fn field(&self) -> String {
        format!("metadata.labels[{}]", self.label)
    }

    /// `Invalid value: "<value>": <detail>` (Go `%q` quoting).
    pub fn body(&self) -> String {
        format!("Invalid value: {}: {}", go_quote(&self.value), self.detail)
    }
}

impl std::fmt::Display for LabelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.body())
    }
}

/// apimachinery's `ErrorList.ToAggregate().Error()`: one message alone, several as
/// `[a, b]`, duplicates removed.
pub fn aggregate_errors(errors: &[LabelError]) -> String {
    let mut msgs: Vec<String> = Vec::with_capacity(errors.len());
    for e in errors {
        let m = e.to_string();
        if !msgs.contains(&m) {
            msgs.push(m);
        }
    }
    match msgs.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Go's `%q` for a string: double-quoted with Go escapes (labels are short ASCII in
/// practice; non-printable characters are escaped so messages stay one line).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Resolves the labels to a policy (always valid) and the label errors.
pub fn policy_to_evaluate(
    labels: &BTreeMap<String, String>,
    defaults: &NamespacePolicy,
) -> (NamespacePolicy, Vec<LabelError>) {
    let mut p = *defaults;
    let mut errs = Vec::new();
    if labels.is_empty() {
        return (p, errs);
    }
    let level = |key: &'static str, fallback: Level, slot: &mut Level, errs: &mut Vec<_>| {
        if let Some(v) = labels.get(key) {
            match v.parse::<Level>() {
                Ok(l) => *slot = l,
                Err(_) => {
                    *slot = fallback;
                    errs.push(LabelError {
                        label: key,
                        value: v.clone(),
                        detail: LEVEL_ERROR,
                    });
                }
            }
        }
    };
    let version = |key: &'static str, slot: &mut Version, errs: &mut Vec<_>| {
        if let Some(v) = labels.get(key) {
            match v.parse::<Version>() {
                Ok(x) => *slot = x,
                Err(_) => {
                    *slot = Version::Latest;
                    errs.push(LabelError {
                        label: key,
                        value: v.clone(),
                        detail: VERSION_ERROR,
                    });
                }
            }
        }
    };
    // Same order as PSA, so errors come out in the same order.
    level(
        ENFORCE_LEVEL,
        Level::Restricted,
        &mut p.enforce.level,
        &mut errs,
    );
    version(ENFORCE_VERSION, &mut p.enforce.version, &mut errs);
    level(
        AUDIT_LEVEL,
        Level::Privileged,
        &mut p.audit.level,
        &mut errs,
    );
    version(AUDIT_VERSION, &mut p.audit.version, &mut errs);
    level(WARN_LEVEL, Level::Privileged, &mut p.warn.level, &mut errs);
    version(WARN_VERSION, &mut p.warn.version, &mut errs);
    // Warn follows a validly set, stricter enforce level when warn itself is not set
    // (and the enforce version too, unless warn-version is set).
    let enforce_set_validly =
        labels.contains_key(ENFORCE_LEVEL) && !errs.iter().any(|e| e.label == ENFORCE_LEVEL);
    if !labels.contains_key(WARN_LEVEL) && enforce_set_validly && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if !labels.contains_key(WARN_VERSION) {
            p.warn.version = p.enforce.version;
        }
    }
    (p, errs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fallbacks_and_errors() {
        let d = NamespacePolicy::PRIVILEGED;
        let (p, e) = policy_to_evaluate(&labels(&[]), &d);
        assert_eq!((p, e.len()), (d, 0));

        let (p, e) = policy_to_evaluate(
            &labels(&[
                (ENFORCE_LEVEL, "foo"),
                (AUDIT_LEVEL, "bar"),
                (WARN_VERSION, "1.25"),
            ]),
            &d,
        );
        assert_eq!(p.enforce.to_string(), "restricted:latest", "fail closed");
        assert_eq!(p.audit.level, Level::Privileged, "fail open");
        assert_eq!(p.warn.to_string(), "privileged:latest");
        assert_eq!(e.len(), 3);
        assert_eq!(
            aggregate_errors(&e[..1]),
            "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"foo\": must be one of privileged, baseline, restricted"
        );
        assert!(aggregate_errors(&e).starts_with("[metadata.labels["));
        assert!(aggregate_errors(&e).ends_with("must be \"latest\" or \"v1.x\"]"));
    }

    #[test]
    fn warn_follows_enforce() {
        let d = NamespacePolicy::PRIVILEGED;
        let (p, _) = policy_to_evaluate(
            &labels(&[(ENFORCE_LEVEL, "baseline"), (ENFORCE_VERSION, "v1.30")]),
            &d,
        );
        assert_eq!(p.warn.to_string(), "baseline:v1.30");
        let (p, _) = policy_to_evaluate(
            &labels(&[(ENFORCE_LEVEL, "restricted"), (WARN_VERSION, "v1.2")]),
            &d,
        );
        assert_eq!(p.warn.to_string(), "restricted:v1.2");
        let (p, _) = policy_to_evaluate(
            &labels(&[(ENFORCE_LEVEL, "restricted"), (WARN_LEVEL, "baseline")]),
            &d,
        );
        assert_eq!(p.warn.to_string(), "baseline:latest");
        // An invalid enforce label does not drag warn along.
        let (p, _) = policy_to_evaluate(&labels(&[(ENFORCE_LEVEL, "x")]), &d);
        assert_eq!(p.warn.level, Level::Privileged);
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
