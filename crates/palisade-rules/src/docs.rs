//! Markdown reference of the whole catalog, generated, never hand-edited: `docs/rules.md` (the
//! index, with the PSS evaluation notes) and one page per rule, `docs/rules/<ID>.md`
//! (`palisade rules --format markdown --out-dir docs/rules`). A test fails when the committed
//! files are stale. Every rule in [`crate::catalog`] gets a page, whatever its family.

use std::fmt::Write;

use palisade_core::RuleMeta;

use crate::catalog::{CATALOG, PSS_DETAILS};
use crate::frameworks::{self, Framework};
use crate::pss::{self, Level, NEWEST_VERSION};

const FAMILIES: &[(&str, &str)] = &[
    (
        "pss",
        "Pod Security Standards, exactly as Pod Security Admission decides them (on by default)",
    ),
    (
        "hardening",
        "workload hardening beyond PSS: NSA/CISA, CIS section 5, kubernetes.io checklist, peer scanners (on by default, opt-in rules excepted)",
    ),
    (
        "reliability",
        "probes (off by default: `--select reliability`)",
    ),
    ("rbac", "cross-object RBAC analysis (palisade-graph)"),
    (
        "netpol",
        "cross-object NetworkPolicy analysis (palisade-graph)",
    ),
];

/// Whether a scan without `--select` runs the rule: `on`, `opt-in` (only when selected by ID,
/// name, framework or `all`) or `off` (its family is off by default).
pub fn default_state(r: &RuleMeta) -> &'static str {
    if crate::default_enabled(r) {
        "on"
    } else if crate::is_opt_in(r.id) {
        "opt-in"
    } else {
        "off"
    }
}

/// The page of one rule: what `palisade rules explain <ID>` prints and `docs/rules/<ID>.md` holds.
pub fn explain(id: &str) -> Option<String> {
    let r = crate::catalog()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name.eq_ignore_ascii_case(id))?;
    Some(rule_page(r))
}

/// `(file name, Markdown)` for every rule: `<ID>.md`.
pub fn rule_pages() -> Vec<(String, String)> {
    crate::catalog()
        .iter()
        .map(|r| (format!("{}.md", r.id), rule_page(r)))
        .collect()
}

fn reference_title(source: &str, id: &str) -> Option<&'static str> {
    match source {
        "cis" => frameworks::control_title(Framework::Cis, id),
        "nsa" => frameworks::control_title(Framework::Nsa, id),
        "k8s-checklist" => frameworks::checklist_title(id),
        _ => None,
    }
}

fn rule_page(r: &RuleMeta) -> String {
    let mut md = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(md, "# {}: {}\n", r.id, r.title);
    let _ = writeln!(
        md,
        "<!-- Generated from the rule catalog (`palisade rules --format markdown --out-dir docs/rules`). Do not edit. -->\n"
    );
    let _ = writeln!(
        md,
        "| ID | Name | Family | Severity | Default |\n|---|---|---|---|---|\n| `{}` | `{}` | `{}` | {} | {} |\n",
        r.id,
        r.name,
        r.family,
        r.severity,
        default_state(r)
    );
    if let Some(i) = CATALOG.iter().position(|c| c.id == r.id)
        && let (Some(c), Some((fields, history))) = (pss::CHECKS.get(i), PSS_DETAILS.get(i))
    {
        let _ = writeln!(
            md,
            "- PSA check: `{}` ({} level)\n- Versions: {}\n- Fields: {}",
            c.id, c.level, history, fields
        );
        if c.level == Level::Restricted
            && let Some(o) = c.overrides.and_then(|o| CATALOG.get(o))
        {
            let _ = writeln!(
                md,
                "- Overrides at restricted: [{}]({}.md) (`{}`)",
                o.id, o.id, o.name
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## Why\n\n{}\n", r.rationale);
    let _ = writeln!(md, "## Fix\n\n{}\n", r.remediation);
    if let Some(fix) = crate::fix_snippet(r.id) {
        let _ = writeln!(md, "```yaml\n{}```\n", fix);
    }
    let fws: Vec<String> = [
        Framework::PssBaseline,
        Framework::PssRestricted,
        Framework::Nsa,
        Framework::Cis,
        Framework::K8sChecklist,
    ]
    .into_iter()
    .filter(|f| f.includes(r))
    .map(|f| format!("`{}` ({})", f, f.control_ids(r).join(", ")))
    .collect();
    if !fws.is_empty() {
        let _ = writeln!(md, "## Frameworks\n\n{}\n", fws.join("; "));
    }
    if !r.references.is_empty() {
        let _ = writeln!(md, "## References\n\n| Source | ID | |\n|---|---|---|");
        for x in r.references {
            let id = if x.url.is_empty() {
                format!("`{}`", x.id)
            } else {
                format!("[{}]({})", x.id, x.url)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                x.source,
                id,
                reference_title(x.source, x.id).unwrap_or("")
            );
        }
        let _ = writeln!(md);
    }
    let groups: Vec<&crate::overlaps::Overlap> = crate::overlaps::overlaps(r.id).collect();
    if !groups.is_empty() {
        let _ = writeln!(md, "## Overlapping rules\n");
        for o in &groups {
            let others: Vec<String> = o
                .rules
                .iter()
                .filter(|id| **id != r.id)
                .map(|id| format!("[{id}]({id}.md)"))
                .collect();
            let _ = writeln!(
                md,
                "- {}: {}. {} To waive this condition, name them all: `palisade.dev/ignore: \"{}: <reason>\"`.",
                o.topic,
                others.join(", "),
                o.note,
                o.rules.join(",")
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "## Selecting and waiving\n\n- Run only this rule: `palisade scan --select {}` (or `--select {}`); skip it: `--ignore {}`.\n- Waive it on one object, with a reason: annotation `palisade.dev/ignore: \"{}: <reason>\"` (one container: `palisade.dev/ignore.<container>`), or an exception in `.palisade.yaml` (see [config](../config.md)).",
        r.id, r.name, r.id, r.id
    );
    md
}

/// The rule reference as Markdown.
pub fn render_docs() -> String {
    let mut md = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(md, "# Palisade rules\n");
    let _ = writeln!(
        md,
        "<!-- Generated by `palisade_rules::render_docs()` (`palisade rules --format markdown`). Do not edit: run `UPDATE_DOCS=1 cargo test -p palisade-rules` after changing the catalog. -->\n"
    );
    let _ = writeln!(
        md,
        "Every rule has a page under [`rules/`](rules/) (also `palisade rules explain <ID>`). IDs are stable and never reused.\n"
    );
    let _ = writeln!(md, "## Selecting rules\n");
    for line in [
        "- With no `--select`, `palisade scan` runs the default set: families `pss` and `hardening` (and the cross-object `rbac`/`netpol` families), without the opt-in rules.",
        "- `--select` takes a family (`hardening`: its rules except the opt-in ones), a rule ID (`HRD007`) or name (`image-digest`), or `all` (every rule, opt-in and `reliability` included); repeat it or separate items with commas. `--ignore` removes rules the same way.",
        "- `--framework pss-baseline|pss-restricted|nsa|cis|k8s-checklist|all` runs the rules that cite the framework (opt-in ones included) and prints a per-control compliance summary; `pss-baseline` evaluates PSS at the baseline level.",
        "- `.palisade.yaml` can enable, disable and re-grade rules and waive findings with a reason: see [config.md](config.md).",
    ] {
        let _ = writeln!(md, "{line}");
    }
    let _ = writeln!(md, "\n| Family | What |\n|---|---|");
    for (fam, what) in FAMILIES {
        let _ = writeln!(md, "| `{fam}` | {what} |");
    }
    let _ = writeln!(md, "\n## All rules\n");
    let _ = writeln!(md, "| ID | Name | Family | Severity | Default | Title |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for r in crate::catalog() {
        let _ = writeln!(
            md,
            "| [{}](rules/{}.md) | `{}` | {} | {} | {} | {} |",
            r.id,
            r.id,
            r.name,
            r.family,
            r.severity,
            default_state(r),
            r.title
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "## Family `pss`: Pod Security Standards\n");
    let _ = writeln!(
        md,
        "One rule per check of Kubernetes Pod Security Admission (PSA), with PSA's semantics: a finding at `--pss-level`/`--pss-version` exactly when PSA would reject (Pods) or warn about (workload templates) the object, with PSA's message. `baseline` runs the baseline rules; `restricted` runs the baseline rules it does not override plus the restricted rules; `privileged` runs nothing. Versions are `v1.0`..`v1.{NEWEST_VERSION}` and `latest` (= v1.{NEWEST_VERSION}, the newest policy, from Kubernetes master; a newer `v1.N` evaluates as v1.{NEWEST_VERSION}). v1.37 differs from v1.35/v1.36 only by allowing two more sysctls: use `--pss-version v1.36` to match a released 1.36 API server exactly. Evaluated kinds: Pod, PodTemplate, ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (their pod template), at every version of their group: the removed `apps/v1beta1`, `apps/v1beta2`, `extensions/v1beta1` (Deployment, DaemonSet, ReplicaSet), `batch/v1beta1` and `batch/v2alpha1` are evaluated like `apps/v1` and `batch/v1`, and `removed-api-version` (HRD028) notes the removal. Any other kind with a pod template at `spec.template` or `spec.jobTemplate.spec.template` (a `containers` list in its `spec`: Argo Rollout, OpenKruise CloneSet, Knative Service...) is evaluated too, PSS and hardening alike, and each of its findings ends with `[pod template at <path> of <apiVersion> <kind>, a kind Palisade recognises by its shape; Pod Security Admission does not evaluate it]`: PSA would not check it, but its pods run all the same. Containers means init containers, containers and ephemeral containers.\n"
    );
    let _ = writeln!(
        md,
        "What Palisade assumes the API server did before PSA ran:\n"
    );
    for line in [
        "- A volume that sets none of the known volume sources is defaulted to `emptyDir` (so it passes `restricted-volumes`).",
        "- Pods only (not workload templates, as since Kubernetes 1.28): with `hostNetwork: true`, a container port without `hostPort` gets `hostPort = containerPort`, so `host-ports` reports it too.",
        "- Pods only: a `container.apparmor.security.beta.kubernetes.io/<container>: unconfined` annotation is copied into that container's unset `appArmorProfile` (Kubernetes 1.30+ pod create, not Windows pods), so PSA names the container as well as the annotation.",
        "- A field with the wrong JSON type (for example `privileged: \"true\"`) is treated as unset: the API server would reject such an object before PSA. YAML 1.1 scalars (`on`, `yes`) are booleans, as Kubernetes reads them.",
        "- `--ignore` of a restricted rule does not bring back the baseline rule it overrides (PSA semantics: `restricted` never runs an overridden baseline check).",
    ] {
        let _ = writeln!(md, "{line}");
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "| ID | Name | Level | Since | Severity | Title |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (r, c) in CATALOG.iter().zip(pss::CHECKS.iter()) {
        let _ = writeln!(
            md,
            "| [{}](rules/{}.md) | `{}` | {} | v1.{} | {} | {} |",
            r.id, r.id, r.name, c.level, c.since, r.severity, r.title
        );
    }
    let _ = writeln!(md);
    while md.ends_with("\n\n") {
        md.pop();
    }
    md
}
