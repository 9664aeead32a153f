//! Times the HTML and PolicyReport printers on the corpus' findings times N (default 10):
//! `cargo run --release -p palisade-report --example render_bench [-- N]`.
//! The corpus is loaded and checked once (not timed); each copy's findings name their own
//! file, so the HTML page asks for N times as many excerpts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use palisade_core::Finding;
use palisade_report::{
    FailOn, HtmlOptions, PolicyReportOptions, Report, ReportApi, SourceText, Summary,
};
use std::collections::HashMap;
use std::time::Instant;

fn main() {
    let copies: usize = std::env::args()
        .nth(1)
        .map_or(10, |a| a.parse().expect("N: a number"));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/corpus");
    let loaded = palisade_yaml::load_paths(&[dir], &palisade_yaml::Limits::default());
    let once =
        palisade_rules::check_documents(&loaded.documents, &palisade_rules::ScanOptions::default());
    let mut findings: Vec<Finding> = Vec::with_capacity(once.len() * copies);
    for copy in 0..copies {
        for f in &once {
            let mut f = f.clone();
            f.file = format!("{}#{copy}", f.file);
            findings.push(f);
        }
    }
    // The binary's side: read each file once, index its lines, answer excerpts from memory.
    let mut texts: HashMap<String, SourceText> = HashMap::new();
    for f in &once {
        texts
            .entry(f.file.clone())
            .or_insert_with(|| SourceText::new(std::fs::read_to_string(&f.file).unwrap()));
    }
    let source = |file: &str, line: u32| {
        let real = file.rsplit_once('#').map_or(file, |(f, _)| f);
        texts.get(real).map(|t| t.excerpt(line, 4))
    };
    let report = Report {
        findings: &findings,
        suppressed: &[],
        compliance: None,
        errors: &[],
        notes: &[],
        rules: palisade_rules::catalog(),
        summary: Summary {
            files: loaded.files * copies,
            documents: loaded.documents.len() * copies,
            objects: loaded.documents.len() * copies,
            findings: findings.len(),
            suppressed: 0,
            expired_waivers: 0,
            by_severity: Summary::count_by_severity(&findings),
            errors: 0,
            notes: 0,
            pss_level: "restricted".into(),
            pss_version: "latest".into(),
            framework: None,
            fail_on: FailOn::Never,
            failed: false,
        },
        tool_name: "palisade",
        tool_version: "bench",
    };
    println!(
        "{} objects, {} findings (corpus x{copies})",
        report.summary.objects,
        findings.len()
    );
    for run in 0..3 {
        let mut out = Vec::with_capacity(64 << 20);
        let t = Instant::now();
        palisade_report::render_html(
            &report,
            &HtmlOptions {
                source: Some(&source),
                generated: None,
            },
            &mut out,
        )
        .unwrap();
        let html = t.elapsed();
        let html_bytes = out.len();
        for (name, api) in [
            ("policyreport", ReportApi::WgPolicy),
            ("openreports", ReportApi::OpenReports),
        ] {
            let mut out = Vec::with_capacity(64 << 20);
            let t = Instant::now();
            palisade_report::render_policy_reports(
                &report,
                api,
                &PolicyReportOptions::default(),
                &mut out,
            )
            .unwrap();
            println!(
                "run {run}: {name}: {:.3} s, {} bytes",
                t.elapsed().as_secs_f64(),
                out.len()
            );
        }
        println!(
            "run {run}: html: {:.3} s, {html_bytes} bytes",
            html.as_secs_f64()
        );
    }
}
