//! Pod Security Standards, decided exactly as Pod Security Admission (PSA) decides them.
//!
//! The model is PSA's: 19 checks, each with a level, a first policy version and
//! per-version behaviour; restricted runs every baseline check it does not override; checks
//! run in PSA's order (baseline IDs byte-sorted, then restricted IDs byte-sorted), which is
//! also the order of reasons in PSA's messages. Evaluation reads the pod metadata and spec
//! as raw JSON (see `util` for how JSON maps onto what Go decoding would see).
//!
//! Versions: `latest` and every `v1.N` newer than [`NEWEST_VERSION`] evaluate as
//! [`NEWEST_VERSION`] (v1.37, the newest policy in Kubernetes master; it differs from
//! v1.35/v1.36 only by allowing `net.ipv4.tcp_slow_start_after_idle` and
//! `net.ipv4.tcp_notsent_lowat`). To match a released 1.35/1.36 API server exactly, use
//! `v1.36`, or lower [`EvalOptions::max_minor`] (PSA's emulation-version clamp).

mod checks;
pub mod fixtures;
pub(crate) mod util;

use std::fmt;
use std::str::FromStr;

use palisade_core::FieldPath;
use serde_json::Value;

use crate::RulesError;
use checks::{Out, Pod};

/// The newest policy minor implemented (`v1.37`); `latest` evaluates as this.
pub const NEWEST_VERSION: u32 = 37;

/// A Pod Security Standards level, spelled as in PSA namespace labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl FromStr for Level {
    type Err = RulesError;

    /// Exact, case-sensitive, like PSA's label parsing.
    fn from_str(s: &str) -> Result<Level, RulesError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(RulesError::InvalidLevel {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy version as written in a PSA `*-version` label: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    V1(u32),
}

impl Version {
    /// The policy minor this version evaluates as, given the newest known minor.
    pub fn effective_minor(self, max_minor: u32) -> u32 {
        match self {
            Version::Latest => max_minor,
            Version::V1(n) => n.min(max_minor),
        }
    }
}

impl FromStr for Version {
    type Err = RulesError;

    /// `latest`, or `v1.N` matching PSA's `^v1\.([0-9]|[1-9][0-9]*)$` (no leading zeros).
    fn from_str(s: &str) -> Result<Version, RulesError> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let err = || RulesError::InvalidVersion {
            value: s.to_owned(),
        };
        let digits = s.strip_prefix("v1.").ok_or_else(err)?;
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits.len() == 1 || !digits.starts_with('0'));
        if !well_formed {
            return Err(err());
        }
        // Any huge minor is still "newer than newest": saturate instead of failing.
        Ok(Version::V1(digits.parse::<u32>().unwrap_or(u32::MAX)))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::V1(n) => write!(f, "v1.{n}"),
        }
    }
}

/// A level at a version; prints as PSA prints it in messages: `restricted:latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    pub level: Level,
    pub version: Version,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            level: Level::Restricted,
            version: Version::Latest,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// One failed PSA check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// PSA's check ID, e.g. `capabilities_restricted`.
    pub check_id: &'static str,
    /// PSA's `ForbiddenReason`, e.g. `unrestricted capabilities`.
    pub reason: String,
    /// PSA's `ForbiddenDetail` (may be empty).
    pub detail: String,
    /// Offending fields relative to the pod (`spec....`, `metadata.annotations[...]`); the
    /// first is the one to point at. A field may be absent (e.g. a required field not set).
    pub fields: Vec<FieldPath>,
}

impl Violation {
    /// `reason (detail)`, or `reason` alone when the detail is empty, as PSA prints it.
    pub fn message(&self) -> String {
        aggregate(std::slice::from_ref(self))
    }
}

/// Knobs for what the API server would have done before PSA runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Newest policy minor known (PSA's `maxVersion`, lowered by emulation). `latest` and
    /// newer `v1.N` evaluate as this. Default [`NEWEST_VERSION`].
    pub max_minor: u32,
    /// Apply core/v1 `defaultHostNetworkPorts`: with `hostNetwork: true`, a port without a
    /// `hostPort` gets `hostPort = containerPort`, so PSA also reports `hostPort`. The API
    /// server does this for Pods; since Kubernetes 1.28 not for pod templates in workloads
    /// (`DefaultHostNetworkHostPortsInPodTemplates` off). Default `true` (a Pod).
    pub default_host_network_ports: bool,
    /// Apply the pod create strategy's AppArmor sync (Kubernetes 1.30+): a deprecated
    /// `container.apparmor.security.beta.kubernetes.io/<container>` annotation is copied into
    /// that container's unset `appArmorProfile` before PSA runs, so PSA names the container
    /// as well as the annotation. Pods only, not templates. Default `true` (a Pod).
    pub apparmor_annotation_sync: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            max_minor: NEWEST_VERSION,
            default_host_network_ports: true,
            apparmor_annotation_sync: true,
        }
    }
}

type CheckFn = fn(&Pod, u32) -> Option<Out>;

/// A PSA check: ID, level, first version, the baseline check it overrides (index into
/// [`CHECKS`]) and its function (which handles its own later version entries).
pub(crate) struct Check {
    pub id: &'static str,
    pub level: Level,
    pub since: u32,
    pub overrides: Option<usize>,
    run: CheckFn,
}

const fn check(id: &'static str, level: Level, since: u32, run: CheckFn) -> Check {
    Check {
        id,
        level,
        since,
        overrides: None,
        run,
    }
}

const fn overriding(id: &'static str, since: u32, overrides: usize, run: CheckFn) -> Check {
    Check {
        id,
        level: Level::Restricted,
        since,
        overrides: Some(overrides),
        run,
    }
}

use Level::{Baseline, Restricted};

/// All checks in PSA's evaluation order. The index is also the rule's position in the
/// catalog (`PSS001` = index 0): never reorder.
pub(crate) static CHECKS: [Check; 19] = [
    check("appArmorProfile", Baseline, 0, checks::app_armor_profile),
    check(
        "capabilities_baseline",
        Baseline,
        0,
        checks::capabilities_baseline,
    ),
    check("hostNamespaces", Baseline, 0, checks::host_namespaces),
    check("hostPathVolumes", Baseline, 0, checks::host_path_volumes),
    check("hostPorts", Baseline, 0, checks::host_ports),
    check(
        "hostProbesAndHostLifecycle",
        Baseline,
        34,
        checks::host_probes_and_host_lifecycle,
    ),
    check("privileged", Baseline, 0, checks::privileged),
    check("procMount", Baseline, 0, checks::proc_mount),
    check("seLinuxOptions", Baseline, 0, checks::se_linux_options),
    check(
        "seccompProfile_baseline",
        Baseline,
        0,
        checks::seccomp_profile_baseline,
    ),
    check("sysctls", Baseline, 0, checks::sysctls),
    check(
        "windowsHostProcess",
        Baseline,
        0,
        checks::windows_host_process,
    ),
    check(
        "allowPrivilegeEscalation",
        Restricted,
        8,
        checks::allow_privilege_escalation,
    ),
    overriding(
        "capabilities_restricted",
        22,
        1,
        checks::capabilities_restricted,
    ),
    overriding("procMount_restricted", 35, 7, checks::proc_mount_restricted),
    overriding("restrictedVolumes", 0, 3, checks::restricted_volumes),
    check("runAsNonRoot", Restricted, 0, checks::run_as_non_root),
    check("runAsUser", Restricted, 23, checks::run_as_user),
    overriding(
        "seccompProfile_restricted",
        19,
        9,
        checks::seccomp_profile_restricted,
    ),
];

/// Position of a PSA check ID in [`CHECKS`] (and in the catalog).
pub(crate) fn check_index(check_id: &str) -> Option<usize> {
    CHECKS.iter().position(|c| c.id == check_id)
}

/// Evaluates a pod (its metadata and spec) against a policy, as PSA would for a Pod.
/// Returns the failed checks in PSA's order; empty means allowed.
pub fn evaluate(policy: &Policy, pod_metadata: &Value, pod_spec: &Value) -> Vec<Violation> {
    evaluate_with(policy, pod_metadata, pod_spec, &EvalOptions::default())
}

/// [`evaluate`] with explicit defaulting/emulation options.
pub fn evaluate_with(
    policy: &Policy,
    pod_metadata: &Value,
    pod_spec: &Value,
    opts: &EvalOptions,
) -> Vec<Violation> {
    evaluate_filtered(policy, pod_metadata, pod_spec, opts, |_| true)
}

/// The checks that run for `policy`: `(index, check)` in PSA order, overrides applied.
pub(crate) fn active_checks(
    policy: &Policy,
    max_minor: u32,
) -> impl Iterator<Item = (usize, &'static Check)> {
    let minor = policy.version.effective_minor(max_minor);
    let level = policy.level;
    let mut overridden = [false; 19];
    if level == Level::Restricted {
        for c in &CHECKS {
            if c.level == Level::Restricted
                && c.since <= minor
                && let Some(slot) = c.overrides.and_then(|o| overridden.get_mut(o))
            {
                *slot = true;
            }
        }
    }
    CHECKS.iter().enumerate().filter(move |(i, c)| {
        level != Level::Privileged
            && (c.level == Level::Baseline || level == Level::Restricted)
            && c.since <= minor
            && !overridden.get(*i).copied().unwrap_or(false)
    })
}

/// [`evaluate_with`], running only the checks whose index `want` accepts (skipping work for
/// rules the user did not select; overrides still follow PSA).
pub(crate) fn evaluate_filtered(
    policy: &Policy,
    pod_metadata: &Value,
    pod_spec: &Value,
    opts: &EvalOptions,
    want: impl Fn(usize) -> bool,
) -> Vec<Violation> {
    let minor = policy.version.effective_minor(opts.max_minor);
    let pod = Pod {
        meta: pod_metadata,
        spec: pod_spec,
        default_host_network_ports: opts.default_host_network_ports,
        apparmor_annotation_sync: opts.apparmor_annotation_sync,
    };
    let mut violations = Vec::new();
    for (i, c) in active_checks(policy, opts.max_minor) {
        if !want(i) {
            continue;
        }
        if let Some(o) = (c.run)(&pod, minor) {
            violations.push(Violation {
                check_id: c.id,
                reason: o.reason,
                detail: o.detail,
                fields: o.fields,
            });
        }
    }
    violations
}

/// PSA's aggregated message: `reason (detail), reason (detail), ...`; a reason with an empty
/// detail has no parentheses; an empty reason prints as `unknown forbidden reason`.
pub fn aggregate(violations: &[Violation]) -> String {
    let mut out = String::new();
    for (i, v) in violations.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if v.reason.is_empty() {
            out.push_str("unknown forbidden reason");
        } else {
            out.push_str(&v.reason);
        }
        if !v.detail.is_empty() {
            out.push_str(" (");
            out.push_str(&v.detail);
            out.push(')');
        }
    }
    out
}

/// Where the pod (template) of an object is.
#[derive(Debug, Clone)]
pub struct PodTemplate<'a> {
    /// Path of the pod template within the object: empty for a Pod, `spec.template` for
    /// Deployment and friends, `template` for PodTemplate, `spec.jobTemplate.spec.template`
    /// for CronJob.
    pub base: FieldPath,
    pub metadata: &'a Value,
    pub spec: &'a Value,
    /// A Pod itself (PSA enforces) rather than a workload's template (PSA warns/audits).
    pub is_pod: bool,
    /// Found by shape in a kind Palisade does not know (a custom resource such as an Argo
    /// Rollout or an OpenKruise CloneSet; see [`workload_template`]), not by kind. PSA never
    /// evaluates such kinds; findings on them say so.
    pub inferred: bool,
}

static NULL: Value = Value::Null;

/// The pod template of the kinds PSA evaluates: `v1` Pod, PodTemplate, ReplicationController;
/// `apps` Deployment, ReplicaSet, StatefulSet, DaemonSet; `batch` Job, CronJob; at any
/// version of their group, so the removed `apps/v1beta1`, `apps/v1beta2`, `batch/v1beta1` and
/// `batch/v2alpha1` are evaluated like `apps/v1` and `batch/v1`. The removed
/// `extensions/v1beta1` Deployment, DaemonSet and ReplicaSet are evaluated like their `apps/v1`
/// kinds too: the API server no longer serves them, but a manifest that still uses them
/// describes the same pods, and skipping it would hide everything in it (the removal itself is
/// reported by `removed-api-version`). Other kinds yield `None`, as does a workload without a
/// template (PSA would find nothing in it).
pub fn pod_template(object: &Value) -> Option<PodTemplate<'_>> {
    template_at(object, known_template_keys(object)??, false)
}

/// `Some(keys)` for a kind of [`pod_template`], `Some(None)` for any other object with a
/// kind and an apiVersion, `None` without them.
fn known_template_keys(object: &Value) -> Option<Option<&'static [&'static str]>> {
    let kind = util::get_str(object, "kind")?;
    let api_version = util::get_str(object, "apiVersion")?;
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    Some(match (group, kind) {
        ("", "Pod") => Some(&[]),
        ("", "PodTemplate") => Some(&["template"]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("extensions", "Deployment" | "ReplicaSet" | "DaemonSet")
        | ("batch", "Job") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    })
}

/// Where a pod template sits in an object whose kind Palisade does not know, recognised by
/// shape: `spec.template.spec.containers` (Argo Rollout, OpenKruise CloneSet, Knative
/// Service...) or `spec.jobTemplate.spec.template.spec.containers` (CronJob-like kinds).
const INFERRED_TEMPLATES: [&[&str]; 2] = [
    &["spec", "template"],
    &["spec", "jobTemplate", "spec", "template"],
];

/// The pod template the scanner evaluates: [`pod_template`] for the kinds PSA knows; for any
/// other kind, a template found by shape (a `containers` list at `spec.template.spec` or
/// `spec.jobTemplate.spec.template.spec`), marked [`PodTemplate::inferred`]. A user who scans
/// an Argo Rollout expects its containers checked like a Deployment's, so such templates are
/// evaluated rather than skipped, and every finding on them names the kind and the template.
pub fn workload_template(object: &Value) -> Option<PodTemplate<'_>> {
    // A kind PSA knows is never inferred, even when its own template is missing.
    if let Some(keys) = known_template_keys(object)? {
        return template_at(object, keys, false);
    }
    INFERRED_TEMPLATES.iter().find_map(|keys| {
        let t = template_at(object, keys, true)?;
        util::get(t.spec, "containers")?.as_array()?;
        Some(t)
    })
}

fn template_at<'a>(object: &'a Value, keys: &[&str], inferred: bool) -> Option<PodTemplate<'a>> {
    let mut holder = object;
    for k in keys {
        holder = util::get_obj(holder, k)?;
    }
    Some(PodTemplate {
        base: util::path(keys),
        metadata: util::get(holder, "metadata").unwrap_or(&NULL),
        spec: util::get(holder, "spec").unwrap_or(&NULL),
        is_pod: keys.is_empty(),
        inferred,
    })
}

#[cfg(test)]
mod tests;
