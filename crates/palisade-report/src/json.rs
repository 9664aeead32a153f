//! The JSON contract: `{"findings":[...],"suppressed":[...],"errors":[...],"notes":[...],
//! "summary":{...}}`, plus `"compliance":{...}` after a `--framework` scan.
//!
//! Findings and input errors use the serde shapes of `palisade_core` unchanged, so the
//! contract lives in one place; `docs/output-formats.md` describes every field.

use crate::{Compliance, Format, Report, ReportError, Summary};
use palisade_core::{Finding, InputError, SuppressedFinding};
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: &'a [Finding],
    suppressed: &'a [SuppressedFinding],
    errors: &'a [InputError],
    notes: &'a [InputError],
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<&'a Compliance>,
}

pub(crate) fn render(report: &Report<'_>, out: &mut dyn Write) -> Result<(), ReportError> {
    let doc = JsonReport {
        findings: report.findings,
        suppressed: report.suppressed,
        errors: report.errors,
        notes: report.notes,
        summary: &report.summary,
        compliance: report.compliance,
    };
    write_pretty(&doc, Format::Json, out)
}

/// Pretty-printed JSON followed by a newline (POSIX tools expect a final newline).
pub(crate) fn write_pretty<T: Serialize + ?Sized>(
    value: &T,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|source| {
        if source.is_io() {
            ReportError::Io {
                format,
                source: source.into(),
            }
        } else {
            ReportError::Json { format, source }
        }
    })?;
    out.write_all(b"\n")
        .map_err(|source| ReportError::Io { format, source })
}
