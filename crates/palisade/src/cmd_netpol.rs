//! `palisade netpol can-reach FROM TO` and `palisade netpol report`: NetworkPolicy queries.
//! The logic is in `palisade_graph::netpol`.

use anyhow::{Context, Result};
use palisade_graph::GraphError;
use palisade_graph::netpol::{Isolation, Netpol, PortQuery};
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
    let mut out = Output::open(a.common.output.as_deref(), a.common.color)?;
    match a.common.format {
        QueryFormat::Json => {
            serde_json::to_writer_pretty(out.writer(), &reach).context("writing JSON")?;
            writeln!(out.writer())?;
        }
        QueryFormat::Table => {
            let w = out.writer();
            writeln!(
                w,
                "{} -> {} {}/{}: {}",
                reach.from,
                reach.to,
                reach.port.as_deref().unwrap_or("any port"),
                reach.protocol,
                if reach.allowed { "ALLOWED" } else { "DENIED" }
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
                writeln!(w, "  {name}: {verdict}")?;
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
    print(
        &a.common,
        &rep,
        "",
        &["OBJECT", "INGRESS", "EGRESS", "POLICIES"],
        || {
            let mut rows = Vec::new();
            for n in &rep {
                rows.push(vec![
                    format!("namespace {}", n.namespace),
                    iso(n.ingress).to_owned(),
                    iso(n.egress).to_owned(),
                    format!("{} policies", n.policies),
                ]);
                for w in &n.workloads {
                    let mut p = w.ingress.policies.clone();
                    p.extend(w.egress.policies.iter().cloned());
                    p.sort();
                    p.dedup();
                    rows.push(vec![
                        format!("  {}", w.workload),
                        iso(w.ingress.isolation).to_owned(),
                        iso(w.egress.isolation).to_owned(),
                        p.join(", "),
                    ]);
                }
            }
            rows
        },
    )?;
    Ok(exit(&errors))
}
