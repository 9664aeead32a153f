//! Terminal output: one line per finding, `file:line  SEVERITY  RULE  object  message`,
//! grouped by file, messages wrapped to the terminal width; then input errors, notes
//! (skipped input and other remarks) and a one-line summary.
//!
//! Laid out by hand rather than with a table crate: the columns are fixed and narrow, only
//! the message wraps, and the layout stays copy-paste friendly (`file:line` first, no box
//! drawing) while ANSI colours are added after the widths are computed from plain text.

use crate::{Report, Style, Summary};
use owo_colors::OwoColorize;
use palisade_core::{Finding, InputError, RuleMeta, Severity};
use std::io::{self, Write};

/// A finding's message as people read it: a policy that only warns or audits says so
/// (`Finding::action`; machine formats carry the action as a field of its own).
pub(crate) fn shown_message(f: &Finding) -> std::borrow::Cow<'_, str> {
    match &f.action {
        Some(a) if f.warn_only() => format!("{} [{a}]", f.message).into(),
        _ => f.message.as_str().into(),
    }
}

/// Narrowest message column worth wrapping into; below it the message goes on its own line.
const MIN_MESSAGE_WIDTH: usize = 32;
/// Objects longer than this do not widen the object column for every row.
const MAX_OBJECT_COLUMN: usize = 48;
const GAP: &str = "  ";
const INDENT: usize = 4;

fn width_of(s: &str) -> usize {
    s.chars().count()
}

fn pad(out: &mut dyn Write, used: usize, to: usize) -> io::Result<()> {
    write!(out, "{:1$}", "", to.saturating_sub(used))
}

fn severity_label(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn paint_severity(sev: Severity, style: Style) -> String {
    let label = severity_label(sev);
    if !style.color {
        return label.to_owned();
    }
    match sev {
        Severity::Critical => label.bright_red().bold().to_string(),
        Severity::High => label.red().to_string(),
        Severity::Medium => label.yellow().to_string(),
        Severity::Low => label.blue().to_string(),
        Severity::Info => label.dimmed().to_string(),
    }
}

fn paint(s: &str, style: Style, f: fn(&str) -> String) -> String {
    if style.color { f(s) } else { s.to_owned() }
}

/// Greedy word wrap to `width` characters; words longer than a line are split.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let wlen = word.len();
                if len > 0 && len + 1 + wlen <= width {
                    line.push(' ');
                    line.extend(word.iter());
                    len += 1 + wlen;
                    break;
                }
                if len > 0 {
                    lines.push(std::mem::take(&mut line));
                    len = 0;
                }
                if wlen <= width {
                    line.extend(word.iter());
                    len = wlen;
                    break;
                }
                let rest = word.split_off(width);
                lines.push(word.iter().collect());
                word = rest;
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Writes `text` starting at column `col` (the cursor is already there), wrapped to `width`,
/// continuation lines indented to `col`.
/// Finishes a line whose head ends before column `col` with `text`, wrapped from `col` when
/// at least [`MIN_MESSAGE_WIDTH`] columns are left there, else below the head.
fn write_message(out: &mut dyn Write, text: &str, col: usize, width: usize) -> io::Result<()> {
    if width >= col + MIN_MESSAGE_WIDTH {
        write!(out, "{GAP}")?;
        write_wrapped(out, text, col, width)
    } else {
        write_below(out, text, width)
    }
}

/// `text` on the next lines, indented by [`INDENT`] (for a head too wide to share a line).
fn write_below(out: &mut dyn Write, text: &str, width: usize) -> io::Result<()> {
    writeln!(out)?;
    pad(out, 0, INDENT)?;
    write_wrapped(out, text, INDENT, width.max(INDENT + MIN_MESSAGE_WIDTH))
}

fn write_wrapped(out: &mut dyn Write, text: &str, col: usize, width: usize) -> io::Result<()> {
    for (i, line) in wrap(text, width.saturating_sub(col)).iter().enumerate() {
        if i > 0 {
            pad(out, 0, col)?;
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `file:line`; an object from a cluster has no line (0): its `cluster://` name alone.
fn location(f: &Finding) -> String {
    if f.line == 0 {
        f.file.clone()
    } else {
        format!("{}:{}", f.file, f.line)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn render(
    report: &Report<'_>,
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let findings = report.findings;
    if style.quiet {
        write_findings(findings, style, width, out)?;
        if !report.errors.is_empty() {
            if !findings.is_empty() {
                writeln!(out)?;
            }
            write_input(report.errors, "ERROR", style, width, out)?;
        }
        return Ok(());
    }
    if findings.is_empty() {
        writeln!(
            out,
            "{}",
            paint("No findings.", style, |s| s.green().bold().to_string())
        )?;
    } else {
        write_findings(findings, style, width, out)?;
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        let title = format!("Suppressed by waivers ({}):", report.suppressed.len());
        writeln!(out, "{}", paint(&title, style, |s| s.bold().to_string()))?;
        for s in report.suppressed {
            let f = &s.finding;
            let head = format!("  {}{GAP}{}", location(f), f.rule);
            let object = f.object.to_string();
            let text = format!("{} ({})", s.suppression.reason, s.suppression.source);
            write!(out, "{head}")?;
            if width_of(&head) + GAP.len() + width_of(&object) > width {
                // The object below the head, then the reason, each wrapped.
                write_below(out, &object, width)?;
                pad(out, 0, INDENT)?;
                write_wrapped(out, &text, INDENT, width.max(INDENT + MIN_MESSAGE_WIDTH))?;
                continue;
            }
            write!(out, "{GAP}{object}")?;
            let col = width_of(&head) + 2 * GAP.len() + width_of(&object);
            write_message(out, &text, col, width)?;
        }
    }
    if let Some(c) = report.compliance {
        write_compliance(c, style, width, out)?;
    }
    if !report.errors.is_empty() {
        writeln!(out)?;
        let title = format!("Input errors ({}):", report.errors.len());
        writeln!(
            out,
            "{}",
            paint(&title, style, |s| s.red().bold().to_string())
        )?;
        write_input(report.errors, "ERROR", style, width, out)?;
    }
    if !report.notes.is_empty() {
        writeln!(out)?;
        let title = format!("Notes ({}):", report.notes.len());
        writeln!(out, "{}", paint(&title, style, |s| s.bold().to_string()))?;
        write_input(report.notes, "NOTE", style, width, out)?;
    }
    writeln!(out)?;
    let line = summary_line(&report.summary);
    write_bold_wrapped(out, &line, style, width)
}

/// A title or summary line, bold, wrapped to the width (continuations indented).
fn write_bold_wrapped(
    out: &mut dyn Write,
    text: &str,
    style: Style,
    width: usize,
) -> io::Result<()> {
    for (i, line) in wrap(text, width.saturating_sub(INDENT).max(MIN_MESSAGE_WIDTH))
        .iter()
        .enumerate()
    {
        if i > 0 {
            pad(out, 0, INDENT)?;
        }
        writeln!(out, "{}", paint(line, style, |s| s.bold().to_string()))?;
    }
    Ok(())
}

fn write_findings(
    findings: &[Finding],
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Group by file in order of first appearance (the caller normally sorts by file already).
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|(file, _)| *file == f.file) {
            Some((_, list)) => list.push(f),
            None => groups.push((f.file.as_str(), vec![f])),
        }
    }

    let sev_w = findings
        .iter()
        .map(|f| severity_label(f.severity).len())
        .max()
        .unwrap_or(0);
    let rule_w = findings
        .iter()
        .map(|f| width_of(&f.rule))
        .max()
        .unwrap_or(0);
    let obj_w = findings
        .iter()
        .map(|f| width_of(&f.object.to_string()))
        .filter(|&w| w <= MAX_OBJECT_COLUMN)
        .max()
        .unwrap_or(0);

    for (i, (_, group)) in groups.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        // Locations are aligned within a file: one long path elsewhere must not push every
        // row of the table past the terminal's width.
        let loc_w = group
            .iter()
            .map(|f| width_of(&location(f)))
            .max()
            .unwrap_or(0);
        let msg_col = loc_w + sev_w + rule_w + obj_w + 4 * GAP.len();
        for f in group {
            let loc = location(f);
            write!(out, "{}", paint(&loc, style, |s| s.bold().to_string()))?;
            pad(out, width_of(&loc), loc_w)?;
            write!(out, "{GAP}{}", paint_severity(f.severity, style))?;
            pad(out, severity_label(f.severity).len(), sev_w)?;
            write!(
                out,
                "{GAP}{}",
                paint(&f.rule, style, |s| s.cyan().to_string())
            )?;
            let object = f.object.to_string();
            let message = shown_message(f);
            let obj_len = width_of(&object);
            let head = loc_w + sev_w + rule_w + 3 * GAP.len() + obj_len;
            if head > width {
                // Too narrow for the object on the head line: object and message below it,
                // each wrapped to the width.
                writeln!(out)?;
                pad(out, 0, INDENT)?;
                write_wrapped(out, &object, INDENT, width.max(INDENT + MIN_MESSAGE_WIDTH))?;
                pad(out, 0, INDENT)?;
                write_wrapped(out, &message, INDENT, width.max(INDENT + MIN_MESSAGE_WIDTH))?;
                continue;
            }
            pad(out, width_of(&f.rule), rule_w)?;
            write!(out, "{GAP}{object}")?;
            if obj_len <= obj_w && width >= msg_col + MIN_MESSAGE_WIDTH {
                pad(out, obj_len, obj_w)?;
                write!(out, "{GAP}")?;
                write_wrapped(out, &message, msg_col, width)?;
            } else {
                write_below(out, &message, width)?;
            }
        }
    }
    Ok(())
}

fn input_location(e: &InputError) -> String {
    let mut loc = e.file.clone();
    if let Some(line) = e.line {
        loc.push_str(&format!(":{line}"));
        if let Some(col) = e.column {
            loc.push_str(&format!(":{col}"));
        }
    }
    loc
}

fn write_input(
    items: &[InputError],
    label: &str,
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    for e in items {
        let loc = input_location(e);
        let painted_label = match (style.color, label) {
            (false, _) => label.to_owned(),
            (true, "ERROR") => label.red().bold().to_string(),
            (true, _) => label.dimmed().to_string(),
        };
        write!(
            out,
            "  {}{GAP}{painted_label}",
            paint(&loc, style, |s| s.bold().to_string())
        )?;
        let col = 2 + width_of(&loc) + label.len() + 2 * GAP.len();
        let mut text = format!("{}: {}", e.kind, e.message);
        if let Some(doc) = e.document {
            text.push_str(&format!(" (document {})", doc + 1));
        }
        write_message(out, &text, col, width)?;
    }
    Ok(())
}

fn write_compliance(
    c: &crate::Compliance,
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    for fw in &c.frameworks {
        writeln!(out)?;
        let title = format!(
            "{} ({}): {} passed, {} failed, {} skipped",
            fw.title, fw.name, fw.passed, fw.failed, fw.skipped
        );
        write_bold_wrapped(out, &title, style, width)?;
        let id_w = fw
            .controls
            .iter()
            .map(|c| width_of(&c.id))
            .max()
            .unwrap_or(0);
        for ctl in &fw.controls {
            let (label, failed) = match ctl.status {
                crate::ControlStatus::Passed => ("PASS", false),
                crate::ControlStatus::Failed => ("FAIL", true),
                crate::ControlStatus::Skipped => ("SKIP", false),
            };
            let painted = match (style.color, failed) {
                (false, _) => label.to_owned(),
                (true, true) => label.red().bold().to_string(),
                (true, false) => label.green().to_string(),
            };
            write!(out, "  {painted}  {}", ctl.id)?;
            pad(out, width_of(&ctl.id), id_w)?;
            let text = if failed {
                format!(
                    "{} [{}: {}]",
                    ctl.title,
                    ctl.rules.join(", "),
                    plural(ctl.failed_objects, "object", "objects")
                )
            } else {
                format!("{} [{}]", ctl.title, ctl.rules.join(", "))
            };
            let col = 2 + 4 + 2 + id_w + GAP.len();
            write_message(out, &text, col, width)?;
        }
    }
    Ok(())
}

/// `N findings (x critical, y high, ...) in M objects from F files; E input errors`.
pub(crate) fn summary_line(s: &Summary) -> String {
    let mut line = plural(s.findings, "finding", "findings");
    if s.findings > 0 {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .map(|sev| format!("{} {sev}", s.by_severity.get(sev).copied().unwrap_or(0)))
            .collect();
        line.push_str(&format!(" ({})", parts.join(", ")));
    }
    line.push_str(&format!(
        " in {} from {}; {}",
        plural(s.objects, "object", "objects"),
        plural(s.files, "file", "files"),
        plural(s.errors, "input error", "input errors"),
    ));
    if s.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", s.suppressed));
    }
    if s.expired_waivers > 0 {
        line.push_str(&format!(
            "; {}",
            plural(s.expired_waivers, "expired waiver", "expired waivers")
        ));
    }
    // Notes are more than skipped input (rendered charts, owner deduplication, namespaces
    // not judged): count them as what they are.
    if s.notes > 0 {
        line.push_str(&format!("; {}", plural(s.notes, "note", "notes")));
    }
    line.push_str(&format!(" (PSS {}:{})", s.pss_level, s.pss_version));
    line
}

/// `palisade rules`: ID, name, family, severity and title, the title wrapped to `width`.
pub(crate) fn render_rules(
    rules: &[RuleMeta],
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    const HEAD: [&str; 5] = ["ID", "NAME", "FAMILY", "SEVERITY", "TITLE"];
    let col = |head: &str, f: &dyn Fn(&RuleMeta) -> usize| {
        rules.iter().map(f).max().unwrap_or(0).max(head.len())
    };
    let id_w = col(HEAD[0], &|r| width_of(r.id));
    let name_w = col(HEAD[1], &|r| width_of(r.name));
    let fam_w = col(HEAD[2], &|r| width_of(r.family));
    let sev_w = col(HEAD[3], &|r| severity_label(r.severity).len());
    let title_col = id_w + name_w + fam_w + sev_w + 4 * GAP.len();

    let header = format!(
        "{:id_w$}{GAP}{:name_w$}{GAP}{:fam_w$}{GAP}{:sev_w$}{GAP}{}",
        HEAD[0], HEAD[1], HEAD[2], HEAD[3], HEAD[4]
    );
    writeln!(out, "{}", paint(&header, style, |s| s.bold().to_string()))?;
    for r in rules {
        write!(out, "{}", paint(r.id, style, |s| s.cyan().to_string()))?;
        pad(out, width_of(r.id), id_w)?;
        write!(out, "{GAP}{}", r.name)?;
        pad(out, width_of(r.name), name_w)?;
        write!(out, "{GAP}{}", r.family)?;
        pad(out, width_of(r.family), fam_w)?;
        write!(out, "{GAP}{}", paint_severity(r.severity, style))?;
        pad(out, severity_label(r.severity).len(), sev_w)?;
        write!(out, "{GAP}")?;
        write_wrapped(
            out,
            r.title,
            title_col,
            width.max(title_col + MIN_MESSAGE_WIDTH),
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", plural(rules.len(), "rule", "rules"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_words_and_splits_long_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh x", 3), vec!["abc", "def", "gh", "x"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("one\ntwo", 80), vec!["one", "two"]);
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let text = "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false \
                    (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false)";
        for w in 1..60 {
            for line in wrap(text, w) {
                assert!(line.chars().count() <= w, "{w}: {line:?}");
            }
        }
    }

    #[test]
    fn cluster_objects_have_no_line_and_notes_are_counted_as_notes() {
        let mut f = Finding {
            rule: "PSS007".into(),
            family: "pss".into(),
            severity: Severity::High,
            message: "m".into(),
            file: "cluster://prod/shop/Pod/web".into(),
            line: 0,
            column: 0,
            document: 0,
            object: palisade_core::ObjectRef::default(),
            field: String::new(),
            fields: Vec::new(),
            paths: Vec::new(),
            origin: None,
            action: None,
        };
        assert_eq!(location(&f), "cluster://prod/shop/Pod/web");
        f.file = "a.yaml".into();
        f.line = 7;
        assert_eq!(location(&f), "a.yaml:7");
        let summary = |notes| Summary {
            files: 1,
            documents: 1,
            objects: 1,
            findings: 0,
            suppressed: 0,
            expired_waivers: 0,
            by_severity: Default::default(),
            errors: 0,
            notes,
            pss_level: "restricted".into(),
            pss_version: "latest".into(),
            framework: None,
            fail_on: crate::FailOn::Never,
            failed: false,
        };
        assert!(summary_line(&summary(1)).contains("; 1 note (PSS"));
        assert!(summary_line(&summary(3)).contains("; 3 notes (PSS"));
        assert!(!summary_line(&summary(0)).contains("note"));
    }
}
