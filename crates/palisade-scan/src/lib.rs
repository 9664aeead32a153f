//! The scan pipeline as a library: sources (files, directories, stdin, objects read from a
//! cluster) -> documents -> `-n` placement -> per-object rules -> waivers -> the objects the
//! cross-object rules and the policies read, kept packed -> cross-object rules -> policies
//! ([`policies`]: Gatekeeper constraints and ValidatingAdmissionPolicies, `--policy`) ->
//! waivers -> owner deduplication -> frameworks -> [`Outcome`] (the report's data), and with
//! [`Options::images`] the images in use ([`images`]). The `palisade scan`
//! command, and any other consumer, parse their own flags into [`Options`] and print the
//! outcome with `palisade_report`.
//!
//! Memory follows the input in flight, not the whole input: each piece of a file and each page
//! of cluster objects is checked as it arrives and dropped, keeping only findings and, when a
//! cross-object rule is selected, the objects it reads, cut down and packed
//! (`palisade_graph::slim`, `palisade_graph::Packed`).
//!
//! ```no_run
//! use palisade_scan::{ClusterObject, Options, Scan, Source};
//! let mut scan = Scan::new(Options::default())?;
//! scan.add(Source::Paths(vec!["manifests/".into()]));
//! // A cluster lister hands over each page as it arrives:
//! let page: Vec<serde_json::Value> = Vec::new();
//! scan.add_objects(page.into_iter().map(|value| ClusterObject { context: "prod".into(), value }));
//! let outcome = scan.finish();
//! # Ok::<(), palisade_scan::ScanError>(())
//! ```

mod checked;
mod cluster;
mod config;
pub mod images;
pub mod namespaces;
mod owners;
pub mod policies;

pub use cluster::{ClusterObject, cluster_uri};
pub use config::{discover_config, load_config};

use namespaces::{NamespacePolicy, Table};
use owners::Owners;
use palisade_core::{
    Document, FieldPath, Finding, InputError, ObjectRef, Origin, RuleMeta, Severity,
    SuppressedFinding,
};
use palisade_report::{Compliance, ControlInput, FailOn, Report, Summary};
use palisade_rules::config::{Config, Date, Waived};
use palisade_rules::pss::{Level, Policy, Version};
use palisade_rules::{Framework, Selection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// What can stop a scan before it starts (problems with the input itself are
/// [`Outcome::errors`], never an `Err`).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Rules(#[from] palisade_rules::RulesError),
    #[error("configuration {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("invalid configuration:\n{list}")]
    InvalidConfig { list: String },
}

/// The Pod Security level pods and workloads are judged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssLevel {
    /// One level for every object (`--pss-level baseline`).
    Fixed(Level),
    /// Each object at its namespace's `pod-security.kubernetes.io/enforce` level and
    /// `enforce-version` (absent: privileged, as PSA), read from the Namespace objects in the
    /// scanned set; objects whose Namespace is not in the set are judged at `fallback` (at
    /// [`Options::pss_version`]) and a note names their namespace.
    Namespace { fallback: Level },
}

impl std::fmt::Display for PssLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PssLevel::Fixed(l) => l.fmt(f),
            PssLevel::Namespace { .. } => f.write_str("namespace"),
        }
    }
}

/// Everything a scan is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--select`: families, rule IDs or names (empty: the default set, or the configuration's
    /// `enable` list).
    pub select: Vec<String>,
    /// `--ignore` (the configuration's `disable` list is added).
    pub ignore: Vec<String>,
    /// A framework's rules, level and compliance summary.
    pub framework: Option<Framework>,
    pub pss_level: PssLevel,
    pub pss_version: Version,
    pub config: Option<Config>,
    /// `-n NS`: files read as `kubectl apply -n NS` applies them. Not applied to cluster objects.
    pub namespace: Option<String>,
    /// Add the roles and bindings every cluster is created with.
    pub rbac_defaults: bool,
    /// Report only findings of these severities (empty: all).
    pub severity: Vec<Severity>,
    pub fail_on: FailOn,
    /// Owner deduplication ([`Scan`] docs); `None`: on for cluster objects, off for files.
    pub dedup_owned: Option<bool>,
    pub limits: palisade_yaml::Limits,
    /// The day waiver expiry is judged at; `None`: today (UTC).
    pub today: Option<Date>,
    /// Take the inputs as the whole cluster: NetworkPolicy isolation (NETPOL001-004) is
    /// judged in every namespace. Off, a namespace with neither a NetworkPolicy nor a
    /// Namespace object in the set is not judged (a note counts them): a per-file scan has
    /// not seen its policies. A cluster scan sets it.
    pub assume_complete: bool,
    /// Keep, for each object checked, its identity and the rules that checked it
    /// ([`Outcome::checked`]), for the `pass` results of the report formats. Off by
    /// default: it costs memory per object.
    pub collect_checked: bool,
    /// `--policy`: files and directories of Gatekeeper ConstraintTemplates and Constraints,
    /// ValidatingAdmissionPolicies, their bindings and params ([`policies`]). Every scanned
    /// object is reviewed by them once all objects are read.
    pub policies: Vec<PathBuf>,
    /// Wall-clock budget of one Rego evaluation (`--policy-timeout`).
    pub policy_timeout: std::time::Duration,
    /// Collect the images every scanned pod and workload uses ([`Outcome::images`]).
    pub images: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            select: Vec::new(),
            ignore: Vec::new(),
            framework: None,
            pss_level: PssLevel::Fixed(Level::Restricted),
            pss_version: Version::Latest,
            config: None,
            namespace: None,
            rbac_defaults: false,
            severity: Vec::new(),
            fail_on: FailOn::At(Severity::Low),
            dedup_owned: None,
            limits: palisade_yaml::Limits::default(),
            today: None,
            assume_complete: false,
            collect_checked: false,
            policies: Vec::new(),
            policy_timeout: palisade_policy::Limits::default().rego_time,
            images: false,
        }
    }
}

/// Where objects come from.
pub enum Source {
    /// Files, directories (recursively) and `-` for standard input, streamed in pieces and
    /// parsed on all cores.
    Paths(Vec<PathBuf>),
    /// Objects already parsed (a cluster's list pages), checked as the iterator yields them.
    Objects(Box<dyn Iterator<Item = ClusterObject> + Send>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Paths(p) => f.debug_tuple("Paths").field(p).finish(),
            Source::Objects(_) => f.write_str("Objects(..)"),
        }
    }
}

/// Counts so far, handed to the progress callback after each piece of input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub findings: usize,
}

/// A finished scan: what the report shows.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Sorted by file, document, line, column, rule.
    pub findings: Vec<Finding>,
    pub suppressed: Vec<SuppressedFinding>,
    pub errors: Vec<InputError>,
    pub notes: Vec<InputError>,
    pub compliance: Option<Compliance>,
    /// The rules that ran.
    pub rules: Vec<RuleMeta>,
    pub summary: Summary,
    /// With [`Options::collect_checked`]: each object checked (after owner deduplication)
    /// and the IDs of the rules that checked it, in input order (workloads held for their
    /// Namespace last); else empty.
    pub checked: Vec<palisade_report::CheckedObject>,
    /// With [`Options::images`]: the images in use.
    pub images: Option<images::ImageList>,
}

impl Outcome {
    /// The outcome as `palisade_report` prints it.
    pub fn report(&self) -> Report<'_> {
        Report {
            findings: &self.findings,
            suppressed: &self.suppressed,
            compliance: self.compliance.as_ref(),
            errors: &self.errors,
            notes: &self.notes,
            rules: &self.rules,
            summary: self.summary.clone(),
            tool_name: "palisade",
            tool_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The command's exit status: 2 with input errors, 1 with a finding at or above
    /// `fail_on`, else 0.
    pub fn exit_status(&self) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.summary.failed {
            1
        } else {
            0
        }
    }
}

/// How pods and workloads get their Pod Security policy.
enum Mode {
    Fixed,
    Namespace { fallback: Policy, table: Table },
}

/// What the worker threads read.
struct Shared {
    rules: palisade_rules::ScanOptions,
    /// The selected PSS rules alone: deferred objects get their PSS findings at the end.
    pss_only: Selection,
    mode: Mode,
    cross: bool,
    config: Option<Config>,
    today: Date,
    namespace: Option<String>,
    /// With [`Options::collect_checked`]: the rule sets objects are checked by.
    checked: Option<checked::RuleSets>,
    /// With [`Options::policies`]: the loaded policies.
    policies: Option<policies::Policies>,
    /// [`Options::images`].
    images: bool,
}

/// What the per-object pass keeps of one piece of input.
#[derive(Default)]
struct Checked {
    files: usize,
    documents: usize,
    objects: usize,
    waived: Waived,
    notes: Vec<InputError>,
    errors: Vec<InputError>,
    kept: palisade_graph::Packed,
    /// (kind, apiVersion) of each object in `kept`, in the same order: cluster objects are
    /// handed to the cross-object rules grouped by them (see [`Sorted`]).
    kept_keys: Vec<(String, String)>,
    /// `--pss-level namespace`: workloads whose Namespace was not seen yet, packed whole.
    deferred: palisade_graph::Packed,
    /// Objects placed in the `-n` namespace, per file.
    placed: Vec<(String, usize)>,
    owners: Owners,
    /// Origins of cluster objects kept or deferred (their later findings need them).
    origins: Vec<(String, Origin)>,
    /// With [`Options::collect_checked`]: the objects checked and their rule sets.
    checked: Vec<checked::Entry>,
    /// With policies: every object they review, packed whole (they are reviewed at the end,
    /// when the inventory is complete).
    reviewed: palisade_graph::Packed,
    /// With policies: the Namespace objects (for namespaceSelector).
    namespaces: Vec<serde_json::Value>,
    /// With [`Options::images`]: each object's containers.
    images: images::Collector,
}

/// A scan in progress: add sources, then [`Scan::finish`].
///
/// Owner deduplication (on for cluster objects, off for files unless
/// [`Options::dedup_owned`]): an object with an ownerReference marked `controller: true` to a
/// built-in workload kind (apps ReplicaSet, Deployment, StatefulSet, DaemonSet; batch Job,
/// CronJob; v1 ReplicationController) is not reported when that owner is in the scanned set
/// (matched by namespace, kind and name, and by uid when both carry one): its owner's findings,
/// and in a chain the top owner's, stand for it. Bare pods and pods of other kinds stay.
pub struct Scan {
    shared: Shared,
    options: Options,
    state: State,
}

/// The progress callback ([`Scan::on_progress`]).
type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// What the main thread accumulates.
#[derive(Default)]
struct State {
    acc: Checked,
    findings: Vec<Finding>,
    suppressed: Vec<SuppressedFinding>,
    origins: HashMap<String, Origin>,
    progress: Option<ProgressFn>,
    /// Cluster context of the first cluster object (notes about the cluster name it).
    context: Option<String>,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Date::from_unix_seconds(secs)
}

impl Scan {
    /// Resolves the rule selection (configuration `enable`/`disable` act like
    /// `--select`/`--ignore`; `--select` replaces the configured `enable`).
    pub fn new(options: Options) -> Result<Scan, ScanError> {
        let mut ignore = options.ignore.clone();
        let mut select = options.select.clone();
        if let Some(c) = &options.config {
            ignore.extend(c.disable.iter().cloned());
            if select.is_empty() && !c.enable.is_empty() && options.framework.is_none() {
                select = std::iter::once("default".to_owned())
                    .chain(c.enable.iter().cloned())
                    .collect();
            }
        }
        let selection = match options.framework {
            Some(f) => Selection::for_framework(f, &select, &ignore)?,
            None => Selection::new(&select, &ignore)?,
        };
        let pss_ids: Vec<String> = selection
            .rules()
            .iter()
            .filter(|r| r.family == "pss")
            .map(|r| r.id.to_owned())
            .collect();
        let pss_only = if pss_ids.is_empty() {
            Selection::new(&[], &["all".to_owned()])?
        } else {
            Selection::new(&pss_ids, &[])?
        };
        // A framework judges at its own level.
        let level = match (options.framework, options.pss_level) {
            (Some(f), _) => PssLevel::Fixed(f.pss_level()),
            (None, l) => l,
        };
        let (policy, mode) = match level {
            PssLevel::Fixed(level) => (
                Policy {
                    level,
                    version: options.pss_version,
                },
                Mode::Fixed,
            ),
            PssLevel::Namespace { fallback } => (
                Policy {
                    level: fallback,
                    version: options.pss_version,
                },
                Mode::Namespace {
                    fallback: Policy {
                        level: fallback,
                        version: options.pss_version,
                    },
                    table: Table::default(),
                },
            ),
        };
        let rules_selection = selection.clone();
        let rules = palisade_rules::ScanOptions { policy, selection };
        let cross = palisade_rules::needs_cross_object(&rules);
        let shared = Shared {
            rules,
            pss_only,
            mode,
            cross,
            config: options.config.clone(),
            today: options.today.unwrap_or_else(today),
            namespace: options.namespace.clone(),
            checked: options.collect_checked.then(|| {
                checked::RuleSets::new(&rules_selection, &options.severity, options.assume_complete)
            }),
            policies: (!options.policies.is_empty()).then(|| {
                policies::Policies::load(&options.policies, &options.limits, options.policy_timeout)
                    .with_rbac_defaults(options.rbac_defaults)
            }),
            images: options.images,
        };
        Ok(Scan {
            shared,
            options,
            state: State::default(),
        })
    }

    /// Calls `f` with the counts so far after each piece of input (on the thread that adds
    /// sources). Libraries never print: a command draws its progress bar from this.
    pub fn on_progress(&mut self, f: impl FnMut(&Progress) + Send + 'static) {
        self.state.progress = Some(Box::new(f));
    }

    /// Runs every source, then [`Scan::finish`].
    pub fn run(mut self, sources: impl IntoIterator<Item = Source>) -> Outcome {
        for s in sources {
            self.add(s);
        }
        self.finish()
    }

    /// Scans one source.
    pub fn add(&mut self, source: Source) {
        match source {
            Source::Paths(paths) => self.add_paths(&paths),
            Source::Objects(objects) => self.add_objects(objects),
        }
    }

    /// Files, directories and `-` (stdin): streamed in pieces, checked on worker threads.
    pub fn add_paths(&mut self, paths: &[PathBuf]) {
        let dedup = self.options.dedup_owned.unwrap_or(false);
        let shared = &self.shared;
        let check = |mut loaded: palisade_yaml::Loaded| {
            // Placement comes first: per-object rules and waivers read the namespace.
            let placed = match &shared.namespace {
                Some(ns) => {
                    let (placed, mismatched) = place_all(&mut loaded.documents, ns);
                    loaded.errors.extend(mismatched);
                    placed
                }
                None => Vec::new(),
            };
            let mut c = check_batch(shared, loaded.documents, Vec::new(), dedup);
            c.files = loaded.files;
            c.notes.splice(0..0, loaded.notes);
            c.errors.splice(0..0, loaded.errors);
            c.placed = placed;
            c
        };
        let state = &mut self.state;
        palisade_yaml::load_paths_map(paths, &self.options.limits, &check, |c| state.merge(c));
    }

    /// Objects already parsed, e.g. a cluster's list pages as they arrive: checked in batches
    /// (on all cores for large pages) and dropped. Objects without apiVersion, kind or
    /// metadata.name are input errors.
    pub fn add_objects(&mut self, objects: impl IntoIterator<Item = ClusterObject>) {
        const BATCH: usize = 256;
        let dedup = self.options.dedup_owned.unwrap_or(true);
        let mut batch = Vec::with_capacity(BATCH);
        for obj in objects {
            batch.push(obj);
            if batch.len() == BATCH {
                self.check_objects(std::mem::take(&mut batch), dedup);
            }
        }
        if !batch.is_empty() {
            self.check_objects(batch, dedup);
        }
    }

    /// One page of a cluster list, as `palisade_kube::Cluster::list` hands it over (items
    /// with `apiVersion` and `kind` set), read through kubeconfig context `context`.
    pub fn add_page(&mut self, context: &str, items: Vec<serde_json::Value>) {
        self.add_objects(items.into_iter().map(|value| ClusterObject {
            context: context.to_owned(),
            value,
        }));
    }

    /// A note from the source itself (a kind the lister may not read), shown with the
    /// scan's own notes.
    pub fn add_note(&mut self, note: InputError) {
        self.state.acc.notes.push(note);
    }

    /// An input error from the source itself: the scan then exits with status 2.
    pub fn add_error(&mut self, error: InputError) {
        self.state.acc.errors.push(error);
    }

    fn check_objects(&mut self, batch: Vec<ClusterObject>, dedup: bool) {
        let mut docs = Vec::with_capacity(batch.len());
        let mut origins = Vec::with_capacity(batch.len());
        let mut errors = Vec::new();
        for obj in batch {
            if self.state.context.is_none() {
                self.state.context = Some(obj.context.clone());
            }
            match cluster::document(obj) {
                Ok((d, o)) => {
                    docs.push(d);
                    origins.push(o);
                }
                Err(e) => errors.push(e),
            }
        }
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let per = docs.len().div_ceil(threads).max(64);
        let shared = &self.shared;
        let results: Vec<Checked> = if docs.len() <= per {
            vec![check_batch(shared, docs, origins, dedup)]
        } else {
            let mut chunks = Vec::new();
            let mut docs = docs.into_iter();
            let mut origins = origins.into_iter();
            loop {
                let d: Vec<Document> = docs.by_ref().take(per).collect();
                if d.is_empty() {
                    break;
                }
                let o: Vec<Origin> = origins.by_ref().take(d.len()).collect();
                chunks.push((d, o));
            }
            std::thread::scope(|s| {
                let handles: Vec<_> = chunks
                    .into_iter()
                    .map(|(d, o)| s.spawn(move || check_batch(shared, d, o, dedup)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        // A rule that panicked must not pass for a clean batch.
                        h.join().unwrap_or_else(|_| Checked {
                            errors: vec![InputError {
                                file: "cluster://".to_owned(),
                                document: None,
                                line: None,
                                column: None,
                                kind: "internal".to_owned(),
                                message: "checking a batch of objects failed (a bug: please report it); its findings are missing".to_owned(),
                            }],
                            ..Checked::default()
                        })
                    })
                    .collect()
            })
        };
        self.state.acc.errors.extend(errors);
        for c in results {
            self.state.merge(c);
        }
    }

    /// The cross-object rules over everything kept, the deferred namespace checks, waivers,
    /// owner deduplication, sorting, frameworks and the summary.
    pub fn finish(self) -> Outcome {
        let Scan {
            shared,
            options,
            state,
        } = self;
        let State {
            acc,
            mut findings,
            mut suppressed,
            origins,
            progress: _,
            context,
        } = state;
        let Checked {
            files,
            documents,
            objects,
            mut notes,
            mut errors,
            kept,
            kept_keys,
            deferred,
            placed,
            owners,
            checked: mut checked_objects,
            reviewed,
            namespaces,
            images: collected,
            ..
        } = acc;
        if let Some(ns) = &shared.namespace {
            notes.extend(placement_notes(placed, ns));
        }
        let expired = palisade_rules::config::expired(shared.config.as_ref(), shared.today);
        notes.extend(expired.notes);
        if let Mode::Namespace { fallback, table } = &shared.mode {
            let d = check_deferred(&shared, &deferred, table, *fallback, &origins);
            checked_objects.extend(d.checked);
            findings.extend(d.waived.findings);
            suppressed.extend(d.waived.suppressed);
            notes.extend(d.notes);
        }
        drop(deferred);
        if shared.cross {
            let graph_options = palisade_graph::Options {
                rbac: palisade_graph::rbac::RbacOptions {
                    defaults: options.rbac_defaults,
                },
            };
            let analysis = palisade_graph::analysis_with_netpol(
                &Sorted::new(&kept, kept_keys, context.is_some()),
                &|r| shared.rules.selection.enabled(r),
                &graph_options,
                palisade_graph::netpol::NetpolOptions {
                    assume_complete: options.assume_complete,
                },
            );
            notes.extend(analysis.notes);
            let mut graph = analysis.findings;
            for f in &mut graph {
                if f.origin.is_none() {
                    f.origin = origins.get(&f.file).cloned().map(Box::new);
                }
            }
            // Only documents with waiver annotations matter to the waiver pass.
            let waived = palisade_rules::config::waive(
                &kept.marked(),
                graph,
                shared.config.as_ref(),
                shared.today,
            );
            findings.extend(waived.findings);
            suppressed.extend(waived.suppressed);
            // waived.notes repeats the annotation notes of `kept`, already reported.
        }
        drop(kept);
        if let Some(p) = &shared.policies {
            errors.extend(p.errors().iter().cloned());
            let r = policies::review_all(
                p,
                &reviewed,
                &namespaces,
                &origins,
                shared.config.as_ref(),
                shared.today,
            );
            findings.extend(r.findings);
            suppressed.extend(r.suppressed);
            errors.extend(r.errors);
            notes.extend(r.notes);
        }
        drop(reviewed);
        drop(namespaces);
        // Owner deduplication.
        let dropped = owners.dropped();
        if !dropped.is_empty() {
            let key = |f: &Finding| (f.file.clone(), f.document, f.object.clone());
            findings.retain(|f| !dropped.contains(&key(f)));
            suppressed.retain(|s| !dropped.contains(&key(&s.finding)));
            checked_objects
                .retain(|e| !dropped.contains(&(e.file.to_string(), e.document, e.object.clone())));
            notes.push(dedup_note(&dropped, context.as_deref()));
        }
        // Cluster pages arrive in whatever order the concurrent lists finish: the same order
        // as the findings (by file, i.e. by cluster:// URI, then document) makes reports
        // repeatable. Stable, so the items of one List keep their order.
        checked_objects.sort_by(|a, b| (&a.file, a.document).cmp(&(&b.file, b.document)));
        let checked = match &shared.checked {
            Some(sets) => checked_objects
                .into_iter()
                .map(|e| palisade_report::CheckedObject {
                    rules: sets.get(e.set).iter().map(|r| (*r).to_owned()).collect(),
                    object: e.object,
                    uid: e.uid,
                })
                .collect(),
            None => Vec::new(),
        };
        // Deterministic order: by file, then position, then rule.
        findings.sort_by(|a, b| {
            (&a.file, a.document, a.line, a.column, &a.rule)
                .cmp(&(&b.file, b.document, b.line, b.column, &b.rule))
        });
        suppressed.sort_by(|a, b| {
            let (a, b) = (&a.finding, &b.finding);
            (&a.file, a.document, a.line, a.column, &a.rule)
                .cmp(&(&b.file, b.document, b.line, b.column, &b.rule))
        });
        let ran_rules: Vec<RuleMeta> = shared
            .rules
            .selection
            .rules()
            .into_iter()
            .copied()
            .chain(
                shared
                    .policies
                    .iter()
                    .flat_map(|p| p.rules().iter().copied()),
            )
            .collect();
        let compliance = options.framework.map(|f| {
            let ran: Vec<&str> = ran_rules.iter().map(|r| r.id).collect();
            let controls = f.controls();
            let inputs: Vec<ControlInput<'_>> = controls
                .iter()
                .map(|c| ControlInput {
                    framework: c.framework.as_str(),
                    framework_title: c.framework.title(),
                    id: c.id,
                    title: c.title,
                    rules: c.rules.clone(),
                    ran: c
                        .rules
                        .iter()
                        .copied()
                        .filter(|r| ran.contains(r))
                        .collect(),
                    field_filters: c.field_filters.clone(),
                })
                .collect();
            palisade_report::compliance(&inputs, &findings)
        });
        // --severity narrows what is reported (and so what can fail the scan).
        if !options.severity.is_empty() {
            findings.retain(|f| options.severity.contains(&f.severity));
            suppressed.retain(|s| options.severity.contains(&s.finding.severity));
        }
        let failed = options.fail_on.failed(&findings);
        let level = match (options.framework, options.pss_level) {
            (Some(f), _) => f.pss_level().to_string(),
            (None, l) => l.to_string(),
        };
        let summary = Summary {
            files,
            documents,
            objects,
            findings: findings.len(),
            suppressed: suppressed.len(),
            expired_waivers: expired.expired,
            by_severity: Summary::count_by_severity(&findings),
            errors: errors.len(),
            notes: notes.len(),
            pss_level: level,
            pss_version: options.pss_version.to_string(),
            framework: options.framework.map(|f| f.to_string()),
            fail_on: options.fail_on,
            failed,
        };
        Outcome {
            findings,
            suppressed,
            errors,
            notes,
            compliance,
            rules: ran_rules,
            summary,
            checked,
            images: shared.images.then(|| collected.finish()),
        }
    }
}

impl State {
    fn merge(&mut self, c: Checked) {
        let a = &mut self.acc;
        a.files += c.files;
        a.documents += c.documents;
        a.objects += c.objects;
        self.findings.extend(c.waived.findings);
        self.suppressed.extend(c.waived.suppressed);
        a.notes.extend(c.notes);
        a.notes.extend(c.waived.notes);
        a.errors.extend(c.errors);
        a.kept.append(c.kept);
        a.kept_keys.extend(c.kept_keys);
        a.deferred.append(c.deferred);
        a.owners.merge(c.owners);
        a.checked.extend(c.checked);
        a.reviewed.append(c.reviewed);
        a.namespaces.extend(c.namespaces);
        a.images.merge(c.images);
        self.origins.extend(c.origins);
        for (file, n) in c.placed {
            match a.placed.last_mut() {
                Some((f, m)) if *f == file => *m += n,
                _ => a.placed.push((file, n)),
            }
        }
        if let Some(p) = &mut self.progress {
            p(&Progress {
                files: a.files,
                documents: a.documents,
                objects: a.objects,
                findings: self.findings.len(),
            });
        }
    }
}

/// The kept objects as the cross-object rules read them. RBAC and NetworkPolicy messages
/// enumerate bindings, subjects and policies in the order they read objects; a cluster's
/// kinds are listed concurrently, so pages of different kinds interleave differently from
/// run to run. Cluster objects are therefore grouped by kind (a stable sort: within a kind
/// they keep the order the server listed them in) to give the same report each time. Files
/// keep their input order (already the same each time).
struct Sorted<'a> {
    packed: &'a palisade_graph::Packed,
    /// Index into `packed` of the i-th object read; empty: input order.
    order: Vec<usize>,
}

impl<'a> Sorted<'a> {
    fn new(
        packed: &'a palisade_graph::Packed,
        keys: Vec<(String, String)>,
        sort: bool,
    ) -> Sorted<'a> {
        use palisade_graph::Docs;
        let mut order = Vec::new();
        if sort && keys.len() == packed.count() {
            order = (0..keys.len()).collect();
            order.sort_by(|a, b| keys.get(*a).cmp(&keys.get(*b)));
        }
        Sorted { packed, order }
    }

    fn index(&self, i: usize) -> Option<usize> {
        if self.order.is_empty() {
            Some(i)
        } else {
            self.order.get(i).copied()
        }
    }
}

impl palisade_graph::Docs for Sorted<'_> {
    fn count(&self) -> usize {
        self.packed.count()
    }
    fn doc(&self, i: usize) -> Option<std::borrow::Cow<'_, Document>> {
        self.packed.doc(self.index(i)?)
    }
    fn doc_value(&self, i: usize) -> Option<std::borrow::Cow<'_, Document>> {
        self.packed.doc_value(self.index(i)?)
    }
}

/// The namespace an object is judged in: its own, or `default` as `kubectl apply` without
/// `-n` places it.
fn namespace_of(value: &serde_json::Value) -> &str {
    value
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

/// The per-object pass over one piece of input (on a worker thread). `origins` is empty for
/// files and parallel to `docs` for cluster objects.
fn check_batch(shared: &Shared, docs: Vec<Document>, origins: Vec<Origin>, dedup: bool) -> Checked {
    let mut c = Checked::default();
    let opts = &shared.rules;
    // Namespaces first, so this piece's own workloads find theirs.
    if let Mode::Namespace { table, .. } = &shared.mode {
        for doc in &docs {
            if let Some((name, labels)) = namespaces::namespace_labels(&doc.value) {
                let (policy, problems) = namespaces::resolve(&labels);
                let span = doc.locate(&FieldPath::root().key("metadata").key("labels"));
                for p in problems {
                    c.notes.push(note(
                        doc,
                        span,
                        "pss-namespace",
                        format!("namespace {name}: {p}"),
                    ));
                }
                let known = namespaces::Known {
                    policy,
                    source: format!("{}:{}", doc.file, span.line),
                };
                if let Some(n) = table.insert(name, known) {
                    c.notes.push(note(doc, span, "pss-namespace", n));
                }
            }
        }
    }
    let privileged = palisade_rules::ScanOptions {
        policy: Policy {
            level: Level::Privileged,
            version: Version::Latest,
        },
        selection: opts.selection.clone(),
    };
    let mut per_object: Vec<Finding> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let start = per_object.len();
        // The level the object's PSS rules ran at; None: later (deferred).
        let mut level = Some(opts.policy.level);
        match &shared.mode {
            Mode::Fixed => per_object.extend(palisade_rules::check_document(doc, opts)),
            Mode::Namespace { table, .. } => {
                if palisade_rules::pss::workload_template(&doc.value).is_none() {
                    per_object.extend(palisade_rules::check_document(doc, opts));
                } else if let Some(p) = table.get(namespace_of(&doc.value)) {
                    let at = palisade_rules::ScanOptions {
                        policy: p.enforce,
                        selection: opts.selection.clone(),
                    };
                    level = Some(p.enforce.level);
                    per_object.extend(palisade_rules::check_document(doc, &at));
                    c.notes.extend(mode_notes(doc, &p));
                } else {
                    level = None;
                    // PSS later, when every Namespace has been read; the other rules now.
                    per_object.extend(palisade_rules::check_document(doc, &privileged));
                    c.deferred.push(doc, false);
                    if let Some(o) = origins.get(i) {
                        c.origins.push((doc.file.to_string(), o.clone()));
                    }
                }
            }
        }
        if let Some(o) = origins.get(i) {
            for f in per_object.get_mut(start..).into_iter().flatten() {
                f.origin = Some(Box::new(o.clone()));
            }
        }
        if let (Some(_), Some(level)) = (&shared.checked, level) {
            let uid = origins.get(i).and_then(|o| o.uid.clone());
            c.checked.push(checked::Entry::new(
                doc,
                checked::Class::of(&doc.value),
                level,
                uid,
            ));
        }
        if shared.images {
            c.images.record(doc, origins.get(i), dedup);
        }
        if dedup {
            c.owners.record(
                || (doc.file.to_string(), doc.index, ObjectRef::of(&doc.value)),
                owners::facts(&doc.value),
            );
        }
    }
    c.waived =
        palisade_rules::config::waive(&docs, per_object, shared.config.as_ref(), shared.today);
    c.documents = docs
        .iter()
        .map(|d| (&*d.file, d.index))
        .collect::<BTreeSet<_>>()
        .len();
    c.objects = docs.len();
    if let Some(p) = &shared.policies {
        for (i, doc) in docs.iter().enumerate() {
            if !p.keeps(&doc.value) {
                continue;
            }
            c.reviewed.push(doc, false);
            if doc.value.get("kind").and_then(serde_json::Value::as_str) == Some("Namespace") {
                c.namespaces.push(doc.value.clone());
            }
            if let Some(o) = origins.get(i) {
                c.origins.push((doc.file.to_string(), o.clone()));
            }
        }
    }
    if shared.cross {
        for (i, doc) in docs.into_iter().enumerate() {
            let origin = origins.get(i).cloned();
            if let Some(doc) = palisade_graph::slim(doc) {
                c.kept
                    .push(&doc, palisade_rules::config::has_waiver_annotations(&doc));
                let o = ObjectRef::of(&doc.value);
                c.kept_keys.push((o.kind, o.api_version));
                if let Some(o) = origin {
                    c.origins.push((doc.file.to_string(), o));
                }
            }
        }
    }
    c
}

/// PSS findings of the workloads whose Namespace had not been read when they were checked.
fn check_deferred(
    shared: &Shared,
    deferred: &palisade_graph::Packed,
    table: &Table,
    fallback: Policy,
    origins: &HashMap<String, Origin>,
) -> Checked {
    use palisade_graph::Docs;
    let mut c = Checked::default();
    let mut unknown: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut docs = Vec::new();
    for i in 0..deferred.count() {
        let Some(doc) = deferred.doc(i) else { continue };
        let doc = doc.into_owned();
        let ns = namespace_of(&doc.value).to_owned();
        let policy = match table.get(&ns) {
            Some(p) => {
                c.notes.extend(mode_notes(&doc, &p));
                p.enforce
            }
            None => {
                let e = unknown.entry(ns).or_insert((0, doc.file.to_string()));
                e.0 += 1;
                fallback
            }
        };
        let at = palisade_rules::ScanOptions {
            policy,
            selection: shared.pss_only.clone(),
        };
        if shared.checked.is_some() {
            let uid = origins.get(&*doc.file).and_then(|o| o.uid.clone());
            c.checked.push(checked::Entry::new(
                &doc,
                checked::Class::of(&doc.value),
                policy.level,
                uid,
            ));
        }
        let mut f = palisade_rules::check_document(&doc, &at);
        if let Some(o) = origins.get(&*doc.file) {
            for x in &mut f {
                x.origin = Some(Box::new(o.clone()));
            }
        }
        findings.extend(f);
        // Waivers need the object; keep only those that carry annotations.
        if palisade_rules::config::has_waiver_annotations(&doc) {
            docs.push(doc);
        }
    }
    c.waived = palisade_rules::config::waive(&docs, findings, shared.config.as_ref(), shared.today);
    // Annotation notes were made in the first pass already.
    c.waived.notes.clear();
    for (ns, (n, file)) in unknown {
        c.notes.push(InputError {
            file,
            document: None,
            line: None,
            column: None,
            kind: "pss-namespace".to_owned(),
            message: format!(
                "namespace {ns} is not among the scanned objects (no Namespace object), so its Pod Security labels are unknown: {n} object{} in it judged at {fallback} (--pss-level namespace without the Namespace)",
                if n == 1 { "" } else { "s" }
            ),
        });
    }
    c
}

fn note(doc: &Document, span: palisade_core::Span, kind: &str, message: String) -> InputError {
    InputError {
        file: doc.file.to_string(),
        document: Some(doc.index),
        line: Some(span.line),
        column: Some(span.column),
        kind: kind.to_owned(),
        message,
    }
}

/// What the namespace's `warn` and `audit` modes would add: PSA warns the client and
/// annotates the audit event but admits, so these are notes (kinds `pss-warn`,
/// `pss-audit`), never findings. A mode no stricter than enforce at the same version adds
/// nothing beyond enforce's findings and is skipped.
fn mode_notes(doc: &Document, p: &NamespacePolicy) -> Vec<InputError> {
    let Some(t) = palisade_rules::pss::workload_template(&doc.value) else {
        return Vec::new();
    };
    let eval = palisade_rules::pss::EvalOptions {
        default_host_network_ports: t.is_pod,
        apparmor_annotation_sync: t.is_pod,
        ..palisade_rules::pss::EvalOptions::default()
    };
    let o = ObjectRef::of(&doc.value);
    let mut out = Vec::new();
    for (mode, policy, label) in [
        ("warn", p.warn, namespaces::WARN_LEVEL),
        ("audit", p.audit, namespaces::AUDIT_LEVEL),
    ] {
        let covered = policy.level <= p.enforce.level
            && (policy.level == Level::Privileged || policy.version == p.enforce.version);
        if covered {
            continue;
        }
        let v = palisade_rules::pss::evaluate_with(&policy, t.metadata, t.spec, &eval);
        if v.is_empty() {
            continue;
        }
        let span = doc.locate(&t.base);
        out.push(note(
            doc,
            span,
            &format!("pss-{mode}"),
            format!(
                "{} {}/{}: namespace label {label}={} would {}: violates PodSecurity \"{policy}\": {}",
                o.kind,
                namespace_of(&doc.value),
                o.name.as_deref().unwrap_or(""),
                policy.level,
                if mode == "warn" {
                    "warn the client"
                } else {
                    "annotate the audit event"
                },
                palisade_rules::pss::aggregate(&v)
            ),
        ));
    }
    out
}

fn dedup_note(
    dropped: &std::collections::HashSet<&owners::ObjectKey>,
    context: Option<&str>,
) -> InputError {
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, o) in dropped {
        *by_kind.entry(o.kind.as_str()).or_default() += 1;
    }
    let counts = by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let cluster = dropped.iter().any(|(f, _, _)| f.starts_with("cluster://"));
    let file = match context {
        Some(c) if cluster => format!("cluster://{c}"),
        _ => dropped
            .iter()
            .map(|(f, _, _)| f.as_str())
            .min()
            .unwrap_or_default()
            .to_owned(),
    };
    InputError {
        file,
        document: None,
        line: None,
        column: None,
        kind: "owned".to_owned(),
        message: format!(
            "{} object{} created by a controller in the scanned set ({counts}) reported on their top owner only (owner deduplication)",
            dropped.len(),
            if dropped.len() == 1 { "" } else { "s" }
        ),
    }
}

/// `kubectl apply -n ns` on a piece's objects, before any rule reads them: (objects placed
/// per file, in order; errors for objects naming another namespace).
pub fn place_all(docs: &mut [Document], ns: &str) -> (Vec<(String, usize)>, Vec<InputError>) {
    use palisade_graph::scope::{Placement, mismatch_message, place};
    let mut placed: Vec<(String, usize)> = Vec::new();
    let mut errors = Vec::new();
    for doc in docs {
        match place(&mut doc.value, ns) {
            Placement::Placed => match placed.last_mut() {
                Some((f, n)) if **f == *doc.file => *n += 1,
                _ => placed.push((doc.file.to_string(), 1)),
            },
            Placement::Mismatch { namespace } => {
                let span = doc.locate(&FieldPath::root().key("metadata").key("namespace"));
                errors.push(InputError {
                    file: doc.file.to_string(),
                    document: Some(doc.index),
                    line: Some(span.line),
                    column: Some(span.column),
                    kind: "namespace-mismatch".to_owned(),
                    message: mismatch_message(&doc.value, &namespace, ns),
                });
            }
            Placement::Kept | Placement::ClusterScoped => {}
        }
    }
    (placed, errors)
}

/// One note per file saying how many objects `-n ns` placed.
pub fn placement_notes(placed: Vec<(String, usize)>, ns: &str) -> Vec<InputError> {
    placed
        .into_iter()
        .map(|(file, n)| InputError {
            file,
            document: None,
            line: None,
            column: None,
            kind: "namespace".to_owned(),
            message: format!(
                "{n} object{} without metadata.namespace placed in namespace {ns} (-n {ns}), as `kubectl apply -n {ns}` does",
                if n == 1 { "" } else { "s" }
            ),
        })
        .collect()
}
