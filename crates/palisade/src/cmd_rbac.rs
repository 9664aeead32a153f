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

/// Columns never narrower than this when the table must shrink (unless the cell is).
const MIN_COLUMN: usize = 4;
const GAP: usize = 2;

/// Left-aligned columns, two spaces apart, fitted to `width` characters: when the cells'
/// natural widths do not fit, the widest columns are narrowed (never below their header, or
/// [`MIN_COLUMN`] when even the headers do not fit) and their cells wrap onto more lines.
pub(crate) fn table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
    width: usize,
) -> Result<()> {
    let len = |s: &str| s.chars().count();
    let mut natural: Vec<usize> = header.iter().map(|h| len(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = natural.get_mut(i) {
                *w = (*w).max(len(c));
            }
        }
    }
    let widths = fit(&natural, header, width);
    let line = |cells: &[&str]| -> Vec<String> {
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| wrap(c, widths.get(i).copied().unwrap_or(usize::MAX)))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        (0..height)
            .map(|l| {
                let mut s = String::new();
                for (i, lines) in wrapped.iter().enumerate() {
                    let part = lines.get(l).map_or("", String::as_str);
                    if i + 1 == wrapped.len() {
                        s.push_str(part);
                    } else {
                        let w = widths.get(i).copied().unwrap_or(0);
                        s.push_str(part);
                        s.push_str(&" ".repeat(w.saturating_sub(len(part)) + GAP));
                    }
                }
                s.trim_end().to_owned()
            })
            .collect()
    };
    for l in line(header) {
        writeln!(out, "{l}")?;
    }
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        for l in line(&cells) {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

/// Column widths for a table `width` wide: the natural widths when they fit, else every
/// column capped at the largest cap that fits (narrow columns keep their width).
fn fit(natural: &[usize], header: &[&str], width: usize) -> Vec<usize> {
    let gaps = GAP * natural.len().saturating_sub(1);
    let total = |ws: &[usize]| ws.iter().sum::<usize>() + gaps;
    if total(natural) <= width {
        return natural.to_vec();
    }
    // Headers stay on one line when they can; else every column may go down to MIN_COLUMN.
    let header_floor: Vec<usize> = natural
        .iter()
        .zip(header)
        .map(|(&n, h)| n.min(h.chars().count().max(MIN_COLUMN)))
        .collect();
    let floor = if total(&header_floor) <= width {
        header_floor
    } else {
        natural.iter().map(|&n| n.min(MIN_COLUMN)).collect()
    };
    let capped = |cap: usize| -> Vec<usize> {
        natural
            .iter()
            .zip(&floor)
            .map(|(&n, &f)| n.min(cap.max(f)))
            .collect()
    };
    // The largest cap that fits (the total only grows with the cap).
    let (mut lo, mut hi) = (0, natural.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if total(&capped(mid)) <= width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut widths = capped(lo);
    // Hand what the cap left over to the columns it cut, widest first.
    let mut spare = width.saturating_sub(total(&widths));
    let mut order: Vec<usize> = (0..widths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(natural.get(i).copied().unwrap_or(0)));
    for i in order {
        if let (Some(w), Some(&n)) = (widths.get_mut(i), natural.get(i)) {
            let more = n.saturating_sub(*w).min(spare);
            *w += more;
            spare -= more;
        }
    }
    widths
}

/// `text` in lines of at most `width` characters: at spaces, else after a `,`, `/`, `:` or
/// `-` (RBAC names and rules have few spaces), else anywhere.
/// Leading spaces (an indented row) start every line.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let body = text.trim_start_matches(' ');
    let indent = &text[..text.len() - body.len()];
    if indent.is_empty() {
        return wrap_words(text, width);
    }
    wrap_words(body, width.saturating_sub(indent.len()))
        .into_iter()
        .map(|l| format!("{indent}{l}"))
        .collect()
}

fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line: Vec<char> = Vec::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let sep = usize::from(!line.is_empty());
            if line.len() + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.append(&mut word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line).into_iter().collect());
                continue;
            }
            // The word alone is too long: cut after the last separator that fits.
            let cut = word
                .iter()
                .take(width)
                .rposition(|c| matches!(c, ',' | '/' | ':' | '-'))
                .map_or(width, |p| p + 1);
            let rest = word.split_off(cut.min(word.len()));
            lines.push(word.into_iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line.into_iter().collect());
    }
    lines
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
                for l in wrap(title, palisade_report::terminal_width()) {
                    writeln!(out.writer(), "{l}")?;
                }
            }
            table(
                out.writer(),
                header,
                &rows(),
                palisade_report::terminal_width(),
            )?;
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

#[cfg(test)]
mod tests {
    use super::{fit, table, wrap};

    #[test]
    fn wrap_keeps_every_character_within_the_width() {
        for (text, width) in [
            ("get,list,watch secrets, configmaps and pods", 10),
            (
                "ClusterRoleBinding/system:controller:generic-garbage-collector",
                12,
            ),
            ("  shop/Deployment/frontend-with-a-long-name", 16),
            ("short", 80),
            ("", 5),
        ] {
            let lines = wrap(text, width);
            assert!(
                lines.iter().all(|l| l.chars().count() <= width),
                "{text:?} at {width}: {lines:?}"
            );
            let indent = text.len() - text.trim_start().len();
            assert!(lines.iter().all(|l| l.starts_with(&text[..indent])));
            let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let want: String = text.chars().filter(|c| *c != ' ').collect();
            assert_eq!(joined, want, "{text:?}");
        }
        // Long names are cut after a separator, not in the middle of a word.
        assert_eq!(
            wrap("ClusterRole/system:aggregate-to-edit", 20),
            ["ClusterRole/system:", "aggregate-to-edit"]
        );
    }

    #[test]
    fn narrow_tables_wrap_cells_and_wide_ones_do_not() {
        let header = ["KIND", "NAME", "RULE"];
        let rows = vec![vec![
            "ServiceAccount".to_owned(),
            "kube-system/generic-garbage-collector".to_owned(),
            "get,list,watch,patch,update,delete */* (every resource of every group)".to_owned(),
        ]];
        let render = |width: usize| {
            let mut out = Vec::new();
            table(&mut out, &header, &rows, width).unwrap();
            String::from_utf8(out).unwrap()
        };
        let wide = render(200);
        assert_eq!(wide.lines().count(), 2, "{wide}");
        for width in [40, 60, 80] {
            let text = render(width);
            assert!(
                text.lines().all(|l| l.chars().count() <= width),
                "{width}:\n{text}"
            );
            assert!(text.lines().count() > 2, "{width}:\n{text}");
            // Columns stay aligned: every cell starts at its header's column.
            let rule_col = text.lines().next().unwrap().find("RULE").unwrap();
            assert!(text.lines().nth(1).unwrap()[rule_col..].starts_with("get,"));
        }
        // Fitting never widens a column beyond its content, and fills the width it may.
        let w = fit(&[4, 40, 70], &header, 80);
        assert_eq!(w.iter().sum::<usize>() + 4, 80);
        assert_eq!(w[0], 4);
        assert_eq!(fit(&[4, 10, 10], &header, 80), [4, 10, 10]);
    }
}
