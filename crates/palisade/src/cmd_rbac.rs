//! `palisade rbac who-can ...` and `palisade rbac can SUBJECT --list`: RBAC queries over
//! manifests or a `kubectl get ... -o json` dump. The logic is in `palisade_graph::rbac`.

use anyhow::{Context, Result};
use palisade_core::{Document, InputError};
use palisade_graph::rbac::{Rbac, RbacOptions, Request, Subject};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Subcommand)]
pub enum RbacCommand {
    /// Subjects allowed VERB on RESOURCE[/SUB], with the binding -> role -> rule granting it.
    WhoCan(WhoCanArgs),
    /// Effective permissions of a subject (User:NAME, Group:NAME, ServiceAccount:NS:NAME).
    Can(CanArgs),
}

#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: QueryFormat,

    /// Add the roles and bindings every cluster is created with (system:masters ->
    /// cluster-admin, discovery and info roles bound to all users).
    #[arg(long)]
    pub rbac_defaults: bool,

    /// Colour: auto, always, never (tables only; currently uncoloured).
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,

    /// Write the answer to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct WhoCanArgs {
    /// Verb, e.g. get, create, impersonate, bind.
    pub verb: String,
    /// RESOURCE[/SUBRESOURCE] (RESOURCE.GROUP for other groups, e.g. widgets.example.com),
    /// or a non-resource URL such as /metrics.
    pub resource: String,
    /// Files or directories with the RBAC objects (`-` reads stdin).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Only grants effective in this namespace (default: any namespace or cluster-wide).
    /// Manifests without metadata.namespace are placed in it, as `kubectl apply -n NS` would
    /// (objects naming other namespaces are kept as written: a dump spans namespaces).
    #[arg(long, short = 'n', value_parser = crate::cmd_scan::parse_namespace)]
    pub namespace: Option<String>,
    /// The object's name (rules with resourceNames grant only named requests).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `rbac can SUBJECT VERB RESOURCE PATH...` (yes or no, exit 0 or 1, as `kubectl auth
/// can-i`) or `rbac can SUBJECT --list PATH...` (every permission).
#[derive(Debug, clap::Args)]
pub struct CanArgs {
    /// User:NAME, Group:NAME, ServiceAccount:NAMESPACE:NAME or system:serviceaccount:NS:NAME.
    pub subject: String,
    /// VERB RESOURCE[/SUB] then the files or directories with the RBAC objects (`-` reads
    /// stdin); with --list only the files.
    #[arg(value_name = "VERB RESOURCE PATH", required = true, num_args = 1..)]
    pub args: Vec<String>,
    /// List every permission of the subject instead of answering one question.
    #[arg(long)]
    pub list: bool,
    /// The object's name, for a question (rules with resourceNames grant only named requests).
    #[arg(long)]
    pub name: Option<String>,
    /// Read the manifests as `kubectl apply -n NS` applies them: objects of namespaced kinds
    /// without metadata.namespace are placed in NS; one naming another namespace is an error.
    #[arg(long, short = 'n', value_name = "NS", value_parser = crate::cmd_scan::parse_namespace)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// How `-n` treats the manifests.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placing<'a> {
    /// No `-n`: objects without a namespace are read as `default`.
    None,
    /// `kubectl apply -n NS`: place namespace-less objects, refuse those naming another.
    Apply(&'a str),
    /// Place namespace-less objects, keep the others as written (who-can over a dump).
    Fill(&'a str),
}

/// Loads the inputs and places them (`-n`); input errors go to stderr and make the command
/// exit 2 afterwards; notes go to stderr.
pub(crate) fn load(paths: &[PathBuf], placing: Placing<'_>) -> (Vec<Document>, Vec<InputError>) {
    let mut loaded = palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default());
    let mut notes = Vec::new();
    if let Placing::Apply(ns) | Placing::Fill(ns) = placing {
        let (placed, mismatched) = crate::cmd_scan::place_all(&mut loaded.documents, ns);
        if let Placing::Apply(_) = placing {
            loaded.errors.extend(mismatched);
        }
        notes.extend(crate::cmd_scan::placement_notes(placed, ns));
    }
    let mut stderr = std::io::stderr().lock();
    for e in &loaded.errors {
        let _ = writeln!(stderr, "error: {e}");
    }
    for n in &notes {
        let _ = writeln!(stderr, "note: {n}");
    }
    (loaded.documents, loaded.errors)
}

/// Prints the hint to scan with `-n` (see `palisade_graph::rbac::namespace_notes`).
pub(crate) fn hint(docs: &[Document], model: &Rbac) {
    let mut stderr = std::io::stderr().lock();
    for n in palisade_graph::rbac::namespace_notes(docs, model) {
        let _ = writeln!(stderr, "note: {n}");
    }
}

pub(crate) fn exit(errors: &[InputError]) -> ExitCode {
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Left-aligned columns, two spaces apart.
pub(crate) fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Prints `value` as JSON, or as a table (`title`, `header`, rows from `rows`).
pub(crate) fn print<T: serde::Serialize>(
    common: &Common,
    value: &T,
    title: &str,
    header: &[&str],
    rows: impl FnOnce() -> Vec<Vec<String>>,
) -> Result<()> {
    let mut out = Output::open(common.output.as_deref(), common.color)?;
    match common.format {
        QueryFormat::Json => {
            serde_json::to_writer_pretty(out.writer(), value).context("writing JSON")?;
            writeln!(out.writer())?;
        }
        QueryFormat::Table => {
            if !title.is_empty() {
                writeln!(out.writer(), "{title}")?;
            }
            table(out.writer(), header, &rows())?;
        }
    }
    out.finish()
}

pub fn run(cmd: RbacCommand) -> Result<ExitCode> {
    match cmd {
        RbacCommand::WhoCan(a) => who_can(a),
        RbacCommand::Can(a) => can(a),
    }
}

fn who_can(a: WhoCanArgs) -> Result<ExitCode> {
    let mut req = Request::parse(&a.verb, &a.resource)?.in_namespace(a.namespace.as_deref());
    if let Some(n) = &a.name {
        req = req.named(n);
    }
    notes(&req);
    let placing = a.namespace.as_deref().map_or(Placing::None, Placing::Fill);
    let (docs, errors) = load(&a.paths, placing);
    let model = Rbac::build(
        &docs,
        RbacOptions {
            defaults: a.common.rbac_defaults,
        },
    );
    hint(&docs, &model);
    let grants = model.who_can(&req);
    print(
        &a.common,
        &grants,
        &format!("who can {}:", req.display()),
        &[
            "KIND",
            "NAME",
            "NAMESPACE",
            "SCOPE",
            "BINDING",
            "ROLE",
            "RULE",
        ],
        || {
            grants
                .iter()
                .map(|g| {
                    vec![
                        g.subject.kind.to_string(),
                        g.subject.name.clone(),
                        g.subject.namespace.clone().unwrap_or_default(),
                        g.via.scope.to_string(),
                        g.via.binding.clone(),
                        g.via.role.clone(),
                        g.via.rule.clone(),
                    ]
                })
                .collect()
        },
    )?;
    Ok(exit(&errors))
}

fn can(a: CanArgs) -> Result<ExitCode> {
    let subject = Subject::parse(&a.subject)?;
    if !a.list {
        return can_i(&a, subject);
    }
    if a.name.is_some() {
        anyhow::bail!("--name asks about one object: use it with VERB RESOURCE, not --list");
    }
    let paths: Vec<PathBuf> = a.args.iter().map(PathBuf::from).collect();
    let placing = a.namespace.as_deref().map_or(Placing::None, Placing::Apply);
    let (docs, errors) = load(&paths, placing);
    let model = Rbac::build(
        &docs,
        RbacOptions {
            defaults: a.common.rbac_defaults,
        },
    );
    hint(&docs, &model);
    let perms = model.can_list(&subject);
    print(
        &a.common,
        &perms,
        &format!("permissions of {subject}:"),
        &["SCOPE", "RULE", "AS", "BINDING", "FROM"],
        || {
            perms
                .iter()
                .map(|p| {
                    vec![
                        p.scope.to_string(),
                        p.rule.clone(),
                        p.through.to_string(),
                        p.via.binding.clone(),
                        p.via.rule.clone(),
                    ]
                })
                .collect()
        },
    )?;
    Ok(exit(&errors))
}

/// The answer of `rbac can SUBJECT VERB RESOURCE`, as JSON.
#[derive(serde::Serialize)]
struct Answer<'a> {
    allowed: bool,
    subject: String,
    request: String,
    /// Where it is granted (every binding, role and rule), empty when not allowed.
    grants: Vec<&'a palisade_graph::rbac::Grant>,
}

/// One question, answered as `kubectl auth can-i`: `yes`/`no`, exit 0 when allowed, 1 when
/// not, 2 on input errors. Without -n, any namespace or the cluster counts (the table says where).
fn can_i(a: &CanArgs, subject: Subject) -> Result<ExitCode> {
    let [verb, resource, paths @ ..] = a.args.as_slice() else {
        anyhow::bail!(
            "rbac can SUBJECT VERB RESOURCE PATH... answers one question; rbac can SUBJECT --list PATH... lists every permission"
        );
    };
    if paths.is_empty() {
        anyhow::bail!("no files given: rbac can SUBJECT VERB RESOURCE PATH...");
    }
    let mut req = Request::parse(verb, resource)?.in_namespace(a.namespace.as_deref());
    if let Some(n) = &a.name {
        req = req.named(n);
    }
    notes(&req);
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    // -n is the question's namespace, as in `kubectl auth can-i -n`: a dump spans
    // namespaces, so only namespace-less objects are placed (as who-can does).
    let placing = a.namespace.as_deref().map_or(Placing::None, Placing::Fill);
    let (docs, errors) = load(&paths, placing);
    let model = Rbac::build(
        &docs,
        RbacOptions {
            defaults: a.common.rbac_defaults,
        },
    );
    hint(&docs, &model);
    let identities = subject.identities();
    let all = model.who_can(&req);
    let grants: Vec<&palisade_graph::rbac::Grant> = all
        .iter()
        .filter(|g| identities.contains(&g.subject))
        .collect();
    let answer = Answer {
        allowed: !grants.is_empty(),
        subject: subject.to_string(),
        request: req.display(),
        grants,
    };
    let title = if answer.allowed { "yes" } else { "no" };
    if !answer.allowed && matches!(a.common.format, QueryFormat::Table) {
        let mut out = Output::open(a.common.output.as_deref(), a.common.color)?;
        writeln!(out.writer(), "no")?;
        out.finish()?;
        return Ok(if errors.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::from(2)
        });
    }
    print(
        &a.common,
        &answer,
        title,
        &["AS", "SCOPE", "BINDING", "ROLE", "RULE"],
        || {
            answer
                .grants
                .iter()
                .map(|g| {
                    vec![
                        g.subject.to_string(),
                        g.via.scope.to_string(),
                        g.via.binding.clone(),
                        g.via.role.clone(),
                        g.via.rule.clone(),
                    ]
                })
                .collect()
        },
    )?;
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if answer.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Typos in a question (unknown verb or resource) on stderr, with the closest known name.
fn notes(req: &Request) {
    let mut stderr = std::io::stderr().lock();
    for n in req.notes() {
        let _ = writeln!(stderr, "note: {n}");
    }
}
