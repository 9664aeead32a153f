//! `palisade netpol can-reach FROM TO` and `palisade netpol report`: NetworkPolicy queries.
//! The logic is in `palisade_graph::netpol`.

use anyhow::{Context, Result};
use palisade_graph::GraphError;
use palisade_graph::netpol::{Isolation, Netpol, PortQuery};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cmd_rbac::{Common, Placing, QueryFormat, exit, load, print};
use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum NetpolCommand {
    /// Whether pods of FROM may open connections to pods of TO (NAMESPACE/KIND/NAME each).
    CanReach(CanReachArgs),
    /// Isolation per namespace and workload, ingress and egress.
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct CanReachArgs {
    /// Sending workload: NAMESPACE/KIND/NAME, e.g. shop/Deployment/frontend.
    pub from: String,
    /// Receiving workload: NAMESPACE/KIND/NAME.
    pub to: String,
    /// Files or directories with the workloads, namespaces and policies (`-` reads stdin).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Destination port number or name (default: any port).
    #[arg(long)]
    pub port: Option<String>,
    /// TCP, UDP or SCTP.
    #[arg(long, default_value = "TCP")]
    pub protocol: String,
    /// Take the files as the whole cluster: namespaces with neither a NetworkPolicy nor a
    /// Namespace object in them are judged to have no policies. Without it their answer is
    /// given the same way, with a note on stderr naming them.
    #[arg(long)]
    pub assume_complete: bool,
    /// Read the manifests as `kubectl apply -n NS` applies them: objects of namespaced kinds
    /// without metadata.namespace are placed in NS; one naming another namespace is an error.
    #[arg(long, short = 'n', value_name = "NS", value_parser = crate::cmd_scan::parse_namespace)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Files or directories to analyse (`-` reads stdin).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Read the manifests as `kubectl apply -n NS` applies them (see `netpol can-reach -n`).
    #[arg(long, short = 'n', value_name = "NS", value_parser = crate::cmd_scan::parse_namespace)]
    pub namespace: Option<String>,
    /// Take the files as the whole cluster: namespaces with neither a NetworkPolicy nor a
    /// Namespace object in them are judged to have no policies. Without it their isolation is
    /// shown as `unknown` (a note on stderr counts them).
    #[arg(long)]
    pub assume_complete: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(cmd: NetpolCommand) -> Result<ExitCode> {
    match cmd {
        NetpolCommand::CanReach(a) => can_reach(a),
        NetpolCommand::Report(a) => report(a),
    }
}

fn parse_port(s: &str) -> Result<PortQuery, GraphError> {
    match s.parse::<u32>() {
        Ok(n) => u16::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .map(PortQuery::Number)
            .ok_or_else(|| GraphError::BadPort {
                value: s.to_owned(),
            }),
        Err(_) if !s.is_empty() && s.len() <= 15 => Ok(PortQuery::Name(s.to_owned())),
        Err(_) => Err(GraphError::BadPort {
            value: s.to_owned(),
        }),
    }
}

fn can_reach(a: CanReachArgs) -> Result<ExitCode> {
    let port = a.port.as_deref().map(parse_port).transpose()?;
    let protocol = a.protocol.to_ascii_uppercase();
    if !matches!(protocol.as_str(), "TCP" | "UDP" | "SCTP") {
        return Err(GraphError::BadProtocol { value: a.protocol }.into());
    }
    let placing = a.namespace.as_deref().map_or(Placing::None, Placing::Apply);
    let (docs, errors) = load(&a.paths, placing);
    let model = Netpol::build(&docs);
    let from = model.find(&a.from)?;
    let to = model.find(&a.to)?;
    let reach = model.can_reach(from, to, port.as_ref(), &protocol);
    if !a.assume_complete {
        let mut unseen: Vec<&str> = [from.namespace.as_str(), to.namespace.as_str()]
            .into_iter()
            .filter(|ns| !model.judged(ns))
            .collect();
        unseen.dedup();
        if !unseen.is_empty() {
            eprintln!(
                "note: no NetworkPolicy or Namespace object for namespace {} in the files: the answer takes {} to have no policies; pass --assume-complete if the files are the whole cluster",
                unseen.join(" or "),
                if unseen.len() == 1 { "it" } else { "them" }
            );
        }
    }
    let mut out = Output::open(a.common.output.as_deref(), a.common.color)?;
    match a.common.format {
        QueryFormat::Json => {
            serde_json::to_writer_pretty(out.writer(), &reach).context("writing JSON")?;
            writeln!(out.writer())?;
        }
        QueryFormat::Table => {
            let width = palisade_report::terminal_width();
            let w = out.writer();
            write_wrapped(
                w,
                "",
                &format!(
                    "{} -> {} {}/{}: {}",
                    reach.from,
                    reach.to,
                    reach.port.as_deref().unwrap_or("any port"),
                    reach.protocol,
                    if reach.allowed { "ALLOWED" } else { "DENIED" }
                ),
                width,
            )?;
            for (name, s) in [
                ("egress of sender", &reach.egress),
                ("ingress of receiver", &reach.ingress),
            ] {
                let verdict = match (s.isolated, s.allowed) {
                    (false, _) => "not isolated (allowed)".to_owned(),
                    (true, true) => format!("allowed by {}", s.policies.join(", ")),
                    (true, false) => format!(
                        "denied: isolated by {}, none allows it",
                        s.policies.join(", ")
                    ),
                };
                write_wrapped(w, "  ", &format!("{name}: {verdict}"), width)?;
            }
        }
    }
    out.finish()?;
    // As `rbac can` and `kubectl auth can-i`: the answer is the exit status too.
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if reach.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `text` after `indent`, wrapped to `width`; continuation lines two columns further in.
fn write_wrapped(w: &mut dyn Write, indent: &str, text: &str, width: usize) -> Result<()> {
    let first = width.saturating_sub(indent.len());
    let lines = crate::cmd_rbac::wrap(text, first.saturating_sub(2));
    for (i, l) in lines.iter().enumerate() {
        let pad = if i == 0 { "" } else { "  " };
        writeln!(w, "{indent}{pad}{l}")?;
    }
    Ok(())
}

fn iso(i: Isolation) -> &'static str {
    match i {
        Isolation::NotIsolated => "not-isolated",
        Isolation::AllowPoliciesOnly => "allow-policies-only",
        Isolation::DefaultDeny => "default-deny",
    }
}

fn report(a: ReportArgs) -> Result<ExitCode> {
    let placing = a.namespace.as_deref().map_or(Placing::None, Placing::Apply);
    let (docs, errors) = load(&a.paths, placing);
    let model = Netpol::build(&docs);
    let rep = model.report();
    // Namespaces the files say nothing about: isolation unknown unless they are the cluster.
    let unknown = |n: &palisade_graph::netpol::NamespaceReport| !a.assume_complete && !n.seen;
    let unseen: Vec<&str> = rep
        .iter()
        .filter(|n| unknown(n))
        .map(|n| n.namespace.as_str())
        .collect();
    if !unseen.is_empty() {
        let workloads: usize = rep
            .iter()
            .filter(|n| unknown(n))
            .map(|n| n.workloads.len())
            .sum();
        eprintln!(
            "note: no NetworkPolicy or Namespace object for namespace {} in the files: isolation of {workloads} workload(s) there is unknown{}; pass --assume-complete if the files are the whole cluster",
            unseen.join(", "),
            match a.common.format {
                QueryFormat::Table => " (shown as `unknown`)",
                QueryFormat::Json => " (`seen: false`)",
            }
        );
    }
    print(
        &a.common,
        &rep,
        "",
        &["OBJECT", "INGRESS", "EGRESS", "POLICIES"],
        || {
            let mut rows = Vec::new();
            for n in &rep {
                let shown = |i: Isolation| if unknown(n) { "unknown" } else { iso(i) }.to_owned();
                rows.push(vec![
                    format!("namespace {}", n.namespace),
                    shown(n.ingress),
                    shown(n.egress),
                    format!("{} policies", n.policies),
                ]);
                for w in &n.workloads {
                    let mut p = w.ingress.policies.clone();
                    p.extend(w.egress.policies.iter().cloned());
                    p.sort();
                    p.dedup();
                    rows.push(vec![
                        format!("  {}", w.workload),
                        shown(w.ingress.isolation),
                        shown(w.egress.isolation),
                        p.join(", "),
                    ]);
                }
            }
            rows
        },
    )?;
    Ok(exit(&errors))
}
