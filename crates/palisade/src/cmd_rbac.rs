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

/// A header is never cut below this many characters.
const MIN_COLUMN: usize = 4;
const GAP: usize = 2;
/// Continuation lines of a record (see [`table`]).
const RECORD_INDENT: usize = 4;

/// Left-aligned columns, two spaces apart, fitted to `width` characters. When the natural
/// widths do not fit, the widest columns are narrowed and their cells wrap onto more lines,
/// never cutting a name between its separators; when even that does not fit, each row is
/// printed as a record instead: `kind: User  name: alice  ...`, continued on indented lines.
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
    let Some(widths) = fit(&natural, header, rows, width) else {
        return records(out, header, rows, width);
    };
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
                    s.push_str(part);
                    if i + 1 < wrapped.len() {
                        let w = widths.get(i).copied().unwrap_or(0);
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

/// Rows as records for a terminal too narrow for the columns: `header: value` fields (empty
/// ones left out) packed onto lines, continuation lines indented by [`RECORD_INDENT`].
fn records(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>], width: usize) -> Result<()> {
    let inner = width.saturating_sub(RECORD_INDENT).max(MIN_COLUMN);
    let indent = " ".repeat(RECORD_INDENT);
    for r in rows {
        // Lines of this record without their indentation; the first is not indented.
        let mut lines: Vec<String> = Vec::new();
        for (h, v) in header.iter().zip(r) {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let label = h.to_ascii_lowercase();
            let field = format!("{label}: {v}");
            let flen = field.chars().count();
            // The first line has the indentation's columns too.
            let room = |n: usize| if n <= 1 { width } else { inner };
            let joins = lines
                .last()
                .is_some_and(|cur| cur.chars().count() + GAP + flen <= room(lines.len()));
            if joins {
                if let Some(cur) = lines.last_mut() {
                    cur.push_str("  ");
                    cur.push_str(&field);
                }
            } else if flen <= room(lines.len() + 1) {
                lines.push(field);
            } else {
                // Longer than a line: the value wraps under itself.
                let pad = " ".repeat(label.chars().count() + 2);
                let parts = wrap(v, inner.saturating_sub(pad.len()).max(MIN_COLUMN));
                for (i, p) in parts.iter().enumerate() {
                    lines.push(if i == 0 {
                        format!("{label}: {p}")
                    } else {
                        format!("{pad}{p}")
                    });
                }
            }
        }
        for (i, l) in lines.iter().enumerate() {
            writeln!(out, "{}{l}", if i == 0 { "" } else { indent.as_str() })?;
        }
    }
    Ok(())
}

/// The longest piece of `text` that [`wrap`] never cuts (it breaks at spaces and after
/// `,`, `/`, `:` and `-`), counting the leading indentation it keeps.
fn longest_piece(text: &str) -> usize {
    let body = text.trim_start_matches(' ');
    let indent = text.len() - body.len();
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == ' ' {
            run = 0;
            continue;
        }
        run += 1;
        longest = longest.max(run);
        if matches!(c, ',' | '/' | ':' | '-') {
            run = 0;
        }
    }
    indent + longest
}

/// Column widths for a table `width` wide: the natural widths when they fit; else the widest
/// columns narrowed, none below its longest unbreakable piece or its header, and what is left
/// handed back to the columns it makes whole. `None` when even those floors do not fit.
fn fit(
    natural: &[usize],
    header: &[&str],
    rows: &[Vec<String>],
    width: usize,
) -> Option<Vec<usize>> {
    let gaps = GAP * natural.len().saturating_sub(1);
    let total = |ws: &[usize]| ws.iter().sum::<usize>() + gaps;
    if total(natural) <= width {
        return Some(natural.to_vec());
    }
    let floor: Vec<usize> = natural
        .iter()
        .zip(header)
        .enumerate()
        .map(|(i, (&n, h))| {
            let piece = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| longest_piece(c))
                .max()
                .unwrap_or(0);
            n.min(piece.max(h.chars().count().max(MIN_COLUMN)))
        })
        .collect();
    if total(&floor) > width {
        return None;
    }
    // The largest cap on every column that fits (the total only grows with it).
    let capped = |cap: usize| -> Vec<usize> {
        natural
            .iter()
            .zip(&floor)
            .map(|(&n, &f)| n.min(cap.max(f)))
            .collect()
    };
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
    let mut spare = width.saturating_sub(total(&widths));
    // Columns the spare makes whole first (a cell on one line reads best), then the others.
    let mut order: Vec<usize> = (0..widths.len()).collect();
    order.sort_by_key(|&i| {
        natural
            .get(i)
            .zip(widths.get(i))
            .map_or(0, |(n, w)| n.saturating_sub(*w))
    });
    for i in order {
        if let (Some(w), Some(&n)) = (widths.get_mut(i), natural.get(i)) {
            let more = n.saturating_sub(*w).min(spare);
            *w += more;
            spare -= more;
        }
    }
    Some(widths)
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
                        rule_cell(&g.via),
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
                        rule_cell(&g.via),
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

/// The RULE cell: `rules[i]` when the rule is the ROLE's own (the column beside it names the
/// role), else the aggregated source role and its rule. JSON keeps the full `rule`.
fn rule_cell(via: &palisade_graph::rbac::Via) -> String {
    via.rule
        .strip_prefix(via.role.as_str())
        .and_then(|rest| rest.strip_prefix(' '))
        .unwrap_or(&via.rule)
        .to_owned()
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
    use super::{fit, longest_piece, table, wrap};

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
        let w = fit(&[14, 37, 70], &header, &rows, 80).unwrap();
        assert_eq!(w.iter().sum::<usize>() + 4, 80);
        assert_eq!(
            w[0], 14,
            "ServiceAccount is not cut while others can give room"
        );
        assert_eq!(fit(&[4, 10, 10], &header, &[], 80), Some(vec![4, 10, 10]));
        // Too narrow for the longest unbreakable pieces: records instead of columns.
        assert_eq!(fit(&[14, 37, 70], &header, &rows, 30), None);
        let records = render(30);
        assert!(
            records.lines().all(|l| l.chars().count() <= 30),
            "{records}"
        );
        assert!(records.starts_with("kind: ServiceAccount\n"), "{records}");
        assert!(records.contains("\n    name:"), "{records}");
        let words = |t: &str| {
            t.split_whitespace()
                .filter(|w| !w.ends_with(':'))
                .collect::<Vec<_>>()
                .concat()
        };
        assert_eq!(words(&records), rows[0].concat().replace(' ', ""));
        assert_eq!(
            longest_piece("ClusterRole/system:aggregate-to-edit rules[0]"),
            12
        );
    }
}
