//! Which records apply to which installed packages.

use crate::db::{Loader, OsvDb, ecosystem_base, name_key};
use crate::osv::{Affected, Record, affects};
use crate::version::{Scheme, semver};
use crate::{UNRATED, VulnFinding};
use palisade_core::Severity;
use palisade_core::inventory::{Distro, Inventory, Package, PackageKind};
use palisade_feed::feed::JsonFeed;
use palisade_feed::matcher::{Target, affected, cluster_version};

/// Findings and the packages or records that could not be evaluated (said, not dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchReport {
    pub findings: Vec<VulnFinding>,
    pub notes: Vec<String>,
}

/// The vulnerabilities of `db` and `feed` that apply to the packages of `inv`.
pub fn match_inventory(
    inv: &Inventory,
    db: Option<&OsvDb>,
    feed: Option<&JsonFeed>,
) -> Vec<VulnFinding> {
    match_report(inv, db, feed).findings
}

/// How one package is looked up in OSV.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Query {
    base: &'static str,
    /// Which ecosystem strings (with release suffix) of `base` apply.
    releases: Releases,
    names: Vec<String>,
    version: String,
    scheme: Scheme,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Releases {
    /// The ecosystem has no release suffix.
    None,
    /// One of these exact ecosystem strings.
    Exact(Vec<String>),
    /// One of these, or the bare ecosystem (`Debian`, `Rocky Linux`: the release suffix is
    /// optional in the schema, and a record without one applies to every release).
    ExactOrBare(Vec<String>),
    /// Any suffix (Maven's `:<repository URL>`).
    Any,
    /// Red Hat: `Red Hat:enterprise_linux:<major>[:...]`.
    RedHat(String),
}

impl Releases {
    fn admits(&self, base: &str, ecosystem: &str) -> bool {
        match self {
            Releases::None => ecosystem == base,
            Releases::Exact(list) => list.iter().any(|e| e == ecosystem),
            Releases::ExactOrBare(list) => ecosystem == base || list.iter().any(|e| e == ecosystem),
            Releases::Any => ecosystem == base || ecosystem.starts_with(&format!("{base}:")),
            Releases::RedHat(major) => ecosystem
                .strip_prefix("Red Hat:enterprise_linux:")
                .is_some_and(|rest| rest == major || rest.starts_with(&format!("{major}:"))),
        }
    }
}

/// Debian's numeric release for a codename (distro-info-data), `sid` as itself.
fn debian_release(d: &Distro) -> Option<String> {
    let codename = d
        .version_codename
        .as_deref()
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            // PRETTY_NAME="Debian GNU/Linux trixie/sid"
            d.pretty_name
                .as_deref()
                .and_then(|p| p.split_whitespace().last())
                .and_then(|w| w.split('/').next())
                .map(str::to_ascii_lowercase)
        })?;
    let n = match codename.as_str() {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        "sid" => "sid",
        _ => return None,
    };
    Some(n.to_owned())
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// `3.19.1` -> `3.19`; `3.21_alpha20240807` (edge) -> `3.21`.
fn major_minor(v: &str) -> String {
    let digits = |s: &str| -> String { s.chars().take_while(char::is_ascii_digit).collect() };
    let mut it = v.split('.');
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => format!("{}.{}", digits(a), digits(b)),
        (Some(a), None) => digits(a),
        _ => String::new(),
    }
}

/// The OSV ecosystem (with release) an OS package of `distro` belongs to, or why there is
/// none. Debian `12`, Ubuntu `22.04` (`:LTS` for even-year `.04` releases), Alpine `v3.19`
/// from `3.19.1`, RPM distributions by major version.
fn os_releases(
    kind: PackageKind,
    distro: Option<&Distro>,
) -> Result<(&'static str, Releases), String> {
    let Some(d) = distro else {
        return Err("no distribution known (no os-release): OS packages are not matched".into());
    };
    let id = d.id.to_ascii_lowercase();
    let v = d.version_id.trim();
    let need_version = || {
        if v.is_empty() {
            Err(format!(
                "{} has no VERSION_ID: its OS packages are not matched",
                d.id
            ))
        } else {
            Ok(())
        }
    };
    let suffixed = |base: &'static str, suffixes: Vec<String>| -> Vec<String> {
        suffixes
            .into_iter()
            .map(|s| format!("{base}:{s}"))
            .collect()
    };
    let exact = |base: &'static str, suffixes: Vec<String>| {
        Ok((base, Releases::Exact(suffixed(base, suffixes))))
    };
    let or_bare = |base: &'static str, suffixes: Vec<String>| {
        Ok((base, Releases::ExactOrBare(suffixed(base, suffixes))))
    };
    match (kind, id.as_str()) {
        (PackageKind::Deb, "debian") => {
            // Testing and unstable have no VERSION_ID: the codename names the release.
            let release = if v.is_empty() {
                debian_release(d).ok_or_else(|| {
                    format!(
                        "{} has no VERSION_ID or known codename: its OS packages are not matched",
                        d.id
                    )
                })?
            } else {
                major(v).to_owned()
            };
            or_bare("Debian", vec![release])
        }
        (PackageKind::Deb, "ubuntu") => {
            need_version()?;
            let lts = v.ends_with(".04")
                && v.split('.')
                    .next()
                    .and_then(|y| y.parse::<u32>().ok())
                    .is_some_and(|y| y % 2 == 0);
            let mut s = Vec::new();
            if lts {
                s.push(format!("{v}:LTS"));
            }
            s.push(v.to_owned());
            exact("Ubuntu", s)
        }
        (PackageKind::Apk, "alpine") => {
            need_version()?;
            exact("Alpine", vec![format!("v{}", major_minor(v))])
        }
        (PackageKind::Apk, "alpaquita") => {
            need_version()?;
            exact("Alpaquita", vec![v.to_owned()])
        }
        (PackageKind::Apk, "wolfi") => Ok(("Wolfi", Releases::None)),
        (PackageKind::Apk, "chainguard") => Ok(("Chainguard", Releases::None)),
        (PackageKind::Rpm, "rocky") => {
            need_version()?;
            or_bare("Rocky Linux", vec![major(v).to_owned()])
        }
        (PackageKind::Rpm, "almalinux") => {
            need_version()?;
            or_bare("AlmaLinux", vec![major(v).to_owned()])
        }
        (PackageKind::Rpm, "azurelinux") => {
            need_version()?;
            exact("Azure Linux", vec![major(v).to_owned()])
        }
        (PackageKind::Rpm, "mariner") => {
            need_version()?;
            exact("Mariner", vec![v.to_owned()])
        }
        (PackageKind::Rpm, "photon") => {
            need_version()?;
            exact("Photon OS", vec![v.to_owned()])
        }
        (PackageKind::Rpm, "mageia") => {
            need_version()?;
            exact("Mageia", vec![v.to_owned()])
        }
        (PackageKind::Rpm, "openeuler") => {
            need_version()?;
            exact("openEuler", vec![v.to_owned(), format!("{v}-LTS")])
        }
        (PackageKind::Rpm, "rhel") => {
            need_version()?;
            Ok(("Red Hat", Releases::RedHat(major(v).to_owned())))
        }
        (PackageKind::Rpm, "sles" | "sled" | "sle-micro") => match &d.pretty_name {
            Some(p) => exact("SUSE", vec![p.clone()]),
            None => Err(format!(
                "{} has no PRETTY_NAME: its OS packages are not matched",
                d.id
            )),
        },
        (PackageKind::Rpm, i) if i.starts_with("opensuse") => match &d.pretty_name {
            Some(p) => exact("openSUSE", vec![p.clone()]),
            None => Err(format!(
                "{} has no PRETTY_NAME: its OS packages are not matched",
                d.id
            )),
        },
        _ => Err(format!(
            "no OSV ecosystem for {:?} packages of distribution {:?}",
            kind, d.id
        )),
    }
}

/// The OSV ecosystem a package is matched in (`Debian:12`, `Go`, `PyPI`, ...): the first
/// ecosystem string it admits, for display. `None` for kinds OSV is not used for.
pub fn osv_ecosystem(pkg: &Package, distro: Option<&Distro>) -> Option<String> {
    let q = query(pkg, distro).ok()??;
    Some(match q.releases {
        Releases::None => q.base.to_owned(),
        Releases::Exact(list) | Releases::ExactOrBare(list) => list.into_iter().next()?,
        Releases::Any => q.base.to_owned(),
        Releases::RedHat(m) => format!("Red Hat:enterprise_linux:{m}"),
    })
}

/// `Ok(None)`: not an OSV package (Kubernetes components, other); `Err`: should be matched
/// but cannot be (said in the report).
fn query(pkg: &Package, distro: Option<&Distro>) -> Result<Option<Query>, String> {
    let lang_in = |base: &'static str, releases: Releases, scheme: Scheme| {
        Ok(Some(Query {
            base,
            releases,
            names: vec![pkg.name.clone()],
            version: pkg.version.clone(),
            scheme,
        }))
    };
    let lang = |base: &'static str, scheme: Scheme| lang_in(base, Releases::None, scheme);
    match pkg.kind {
        PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm => {
            let (base, releases) = os_releases(pkg.kind, distro)?;
            // OSV's Debian/Ubuntu/Alpine records are keyed by source package, RPM ones by
            // either: try the source name first, then the binary name.
            let mut names = Vec::new();
            if let Some(s) = pkg.source_name.as_deref().filter(|s| !s.is_empty()) {
                names.push(s.to_owned());
            }
            if pkg.kind == PackageKind::Rpm || names.is_empty() {
                names.push(pkg.name.clone());
            }
            names.dedup();
            let version = match pkg.kind {
                PackageKind::Deb => pkg
                    .source_version
                    .clone()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| pkg.version.clone()),
                _ => pkg.version.clone(),
            };
            let scheme = Scheme::for_ecosystem(base)
                .ok_or_else(|| format!("no version ordering for {base}"))?;
            Ok(Some(Query {
                base,
                releases,
                names,
                version,
                scheme,
            }))
        }
        PackageKind::Go if pkg.name != "stdlib" => {
            if pkg.version.is_empty() || pkg.version == "(devel)" {
                return Err(NO_GO_VERSION.into());
            }
            lang("Go", Scheme::SemVer)
        }
        PackageKind::Go | PackageKind::GoStdlib => {
            // Readers give the toolchain as SemVer already (`1.22.3`, `1.21.0-rc.2`, SBOMs
            // `v1.22.3`); a raw `go1.22.3` is converted.
            let v = pkg.version.trim();
            let v = if !v.starts_with("go") && semver::parse(v).is_some() {
                Some(v.trim_start_matches('v').to_owned())
            } else {
                semver::go_toolchain(v)
            };
            let Some(v) = v else {
                return Err(format!(
                    "Go toolchain version {:?} is not a release: standard library not matched",
                    pkg.version
                ));
            };
            Ok(Some(Query {
                base: "Go",
                releases: Releases::None,
                names: vec!["stdlib".into()],
                version: v,
                scheme: Scheme::SemVer,
            }))
        }
        PackageKind::Cargo => lang("crates.io", Scheme::SemVer),
        PackageKind::Npm => lang("npm", Scheme::SemVer),
        PackageKind::Pypi => lang("PyPI", Scheme::Pep440),
        PackageKind::Maven => lang_in("Maven", Releases::Any, Scheme::Maven),
        PackageKind::Kubernetes | PackageKind::Other => Ok(None),
    }
}

/// Said once per inventory with a count: modules built from a local tree or a workspace
/// carry no version to compare.
const NO_GO_VERSION: &str = "Go module without a release version";

fn severity_from_text(s: &str) -> Option<Severity> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" | "important" => Severity::High,
        "moderate" | "medium" => Severity::Medium,
        "low" | "negligible" | "unimportant" => Severity::Low,
        "none" => Severity::Info,
        _ => return None,
    })
}

/// Severity, vector and score: the affected entry's vectors before the record's, CVSS v3
/// before v4 before v2 (the version most scanners and advisories rate by); then stated text
/// severities; then [`UNRATED`].
fn rate(rec: &Record, entry: &Affected) -> (Severity, Option<String>, Option<f64>) {
    let all: Vec<&(String, String)> = entry.severity.iter().chain(rec.severity.iter()).collect();
    for kind in ["CVSS_V3", "CVSS_V4", "CVSS_V2"] {
        for (_, vector) in all.iter().filter(|(k, _)| k == kind) {
            if let Ok(s) = palisade_feed::cvss::score(vector) {
                let sev = severity_from_text(&s.severity).unwrap_or(UNRATED);
                return (sev, Some(s.vector), Some(s.base_score));
            }
        }
    }
    let stated = entry
        .stated_severity
        .as_deref()
        .or(rec.stated_severity.as_deref())
        .or_else(|| {
            all.iter()
                .find(|(k, _)| k == "Ubuntu")
                .map(|(_, s)| s.as_str())
        })
        .and_then(severity_from_text);
    (stated.unwrap_or(UNRATED), None, None)
}

fn osv_findings(
    loader: &mut Loader<'_>,
    pkg: &Package,
    q: &Query,
    notes: &mut Vec<String>,
) -> Vec<VulnFinding> {
    let mut locs = Vec::new();
    for n in &q.names {
        for l in loader.lookup(q.base, n) {
            if !locs.contains(l) {
                locs.push(*l);
            }
        }
    }
    if locs.is_empty() {
        return Vec::new();
    }
    if !q.scheme.is_valid(&q.version) {
        notes.push(format!(
            "{} {:?} is not a {:?} version: not matched against its {} record(s)",
            pkg.name,
            q.version,
            q.scheme,
            locs.len()
        ));
        return Vec::new();
    }
    let mut records = Vec::with_capacity(locs.len());
    for l in locs {
        match loader.get(l) {
            Ok(r) => records.push(r),
            Err(e) => notes.push(e),
        }
    }
    let keys: Vec<String> = q.names.iter().map(|n| name_key(q.base, n)).collect();
    let mut out: Vec<VulnFinding> = Vec::new();
    for rec in records.iter().filter(|r| !r.withdrawn) {
        let mut hit: Option<(&Affected, Vec<String>)> = None;
        for entry in &rec.affected {
            if ecosystem_base(&entry.ecosystem) != q.base
                || !q.releases.admits(q.base, &entry.ecosystem)
                || !keys.contains(&name_key(q.base, &entry.name))
            {
                continue;
            }
            match affects(entry, Some(q.scheme), &q.version) {
                Ok(Some(fixed)) => match &mut hit {
                    Some((_, all)) => {
                        for f in fixed {
                            if !all.contains(&f) {
                                all.push(f);
                            }
                        }
                    }
                    None => hit = Some((entry, fixed)),
                },
                Ok(None) => {}
                Err(e) => notes.push(format!(
                    "{} {} against {} ({}): {}",
                    pkg.name, q.version, rec.id, entry.ecosystem, e.0
                )),
            }
        }
        if let Some((entry, fixed)) = hit {
            let (severity, cvss, score) = rate(rec, entry);
            out.push(VulnFinding {
                id: rec.id.clone(),
                aliases: rec.aliases.clone(),
                package: pkg.clone(),
                installed: q.version.clone(),
                fixed,
                severity,
                cvss,
                score,
                summary: rec.summary.clone(),
                url: Some(
                    rec.url
                        .clone()
                        .unwrap_or_else(|| format!("https://osv.dev/vulnerability/{}", rec.id)),
                ),
                source: "osv".into(),
            });
        }
    }
    merge_aliases(out)
}

/// One finding per vulnerability and package: records that alias each other (`GO-…` and
/// `GHSA-…` for the same CVE) are merged into the first by id, keeping the first score found.
fn merge_aliases(mut found: Vec<VulnFinding>) -> Vec<VulnFinding> {
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<VulnFinding> = Vec::new();
    for f in found {
        let same = out
            .iter_mut()
            .find(|o| o.aliases.contains(&f.id) || f.aliases.contains(&o.id));
        match same {
            Some(o) => {
                for a in f.aliases.iter().chain(std::iter::once(&f.id)) {
                    if *a != o.id && !o.aliases.contains(a) {
                        o.aliases.push(a.clone());
                    }
                }
                for x in f.fixed {
                    if !o.fixed.contains(&x) {
                        o.fixed.push(x);
                    }
                }
                if o.score.is_none() && f.score.is_some() {
                    o.severity = f.severity;
                    o.cvss = f.cvss;
                    o.score = f.score;
                }
            }
            None => out.push(f),
        }
    }
    out
}

/// OSV queries for a Kubernetes component: the `Kubernetes` ecosystem (schema 1.7) and
/// kubernetes-sigs/cve-feed-osv's `kubernetes`, by the component's Go module
/// (`kube-apiserver` -> `k8s.io/apiserver`) and `k8s.io/kubernetes`, at the release version.
/// Empty when the version is not a Kubernetes release version (the feed path notes it).
fn kubernetes_queries(pkg: &Package) -> Vec<Query> {
    let Ok(version) = cluster_version(&pkg.version) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if let Some(c) = palisade_feed::component::lookup(&pkg.name) {
        names.push(c.package);
    }
    names.push("k8s.io/kubernetes".to_owned());
    names.dedup();
    ["Kubernetes", "kubernetes"]
        .into_iter()
        .map(|base| Query {
            base,
            releases: Releases::None,
            names: names.clone(),
            version: version.0.to_string(),
            scheme: Scheme::SemVer,
        })
        .collect()
}

fn feed_findings(feed: &JsonFeed, pkg: &Package, notes: &mut Vec<String>) -> Vec<VulnFinding> {
    let version = match cluster_version(&pkg.version) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!(
                "Kubernetes component {} version {:?}: {e}; not matched",
                pkg.name, pkg.version
            ));
            return Vec::new();
        }
    };
    let target = Target {
        label: pkg.path.clone().unwrap_or_else(|| pkg.name.clone()),
        component: Some(pkg.name.clone()),
        version,
    };
    affected(feed, &target)
        .into_iter()
        .map(|m| {
            let vector = feed
                .items
                .iter()
                .find(|i| i.id == m.id)
                .and_then(|i| i.kubernetes_io.cvss.as_ref())
                .map(|c| c.score.vector.clone());
            VulnFinding {
                id: m.id,
                aliases: Vec::new(),
                package: pkg.clone(),
                installed: m.version,
                fixed: m.fixed.into_iter().collect(),
                severity: m
                    .severity
                    .as_deref()
                    .and_then(severity_from_text)
                    .unwrap_or(UNRATED),
                cvss: vector,
                score: m.base_score,
                summary: m.summary,
                url: Some(m.url),
                source: "kubernetes-feed".into(),
            }
        })
        .collect()
}

/// Findings for every package of `inv`, in inventory order (by id within a package), plus
/// notes on what could not be evaluated.
pub fn match_report(inv: &Inventory, db: Option<&OsvDb>, feed: Option<&JsonFeed>) -> MatchReport {
    let mut report = MatchReport::default();
    let mut os_note_done = false;
    let mut no_go_version = 0usize;
    let mut loader = db.map(OsvDb::loader);
    for pkg in &inv.packages {
        if pkg.kind == PackageKind::Kubernetes {
            let mut found = match feed {
                Some(feed) => feed_findings(feed, pkg, &mut report.notes),
                None => Vec::new(),
            };
            if let Some(loader) = loader.as_mut() {
                for q in kubernetes_queries(pkg) {
                    for f in osv_findings(loader, pkg, &q, &mut report.notes) {
                        // The feed and its OSV form name the same CVEs: report each once,
                        // the feed's first.
                        let dup = found.iter().any(|o| {
                            o.id == f.id || o.aliases.contains(&f.id) || f.aliases.contains(&o.id)
                        });
                        if !dup {
                            found.push(f);
                        }
                    }
                }
            }
            report.findings.extend(found);
            continue;
        }
        let Some(loader) = loader.as_mut() else {
            continue;
        };
        match query(pkg, inv.distro.as_ref()) {
            Ok(Some(q)) => {
                let found = osv_findings(loader, pkg, &q, &mut report.notes);
                report.findings.extend(found);
            }
            Ok(None) => {}
            Err(e) if e == NO_GO_VERSION => no_go_version += 1,
            Err(e) => {
                // The distro problem is the same for every OS package: say it once.
                let os = matches!(
                    pkg.kind,
                    PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm
                );
                if !os || !os_note_done {
                    report.notes.push(e);
                }
                os_note_done |= os;
            }
        }
    }
    if no_go_version > 0 {
        report.notes.push(format!(
            "{no_go_version} Go module(s) without a release version (built from a local tree): not matched"
        ));
    }
    report.notes.dedup();
    report
}
