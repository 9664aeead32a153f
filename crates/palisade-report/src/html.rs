//! One self-contained HTML page: summary by severity, family, namespace and rule; filters;
//! every finding with its message, rule link, location and the source lines around it;
//! waived findings, input errors and notes.
//!
//! Nothing is loaded from the network: CSS and the script are inline, and the page's Content
//! Security Policy allows no other source and only this script (by its hash), so even markup
//! that slipped through escaping could not run or fetch anything. Every text from the scan
//! (messages, file names, manifest lines) is HTML-escaped.
//!
//! Filtering works without JavaScript: each filter is a group of radio buttons placed before
//! the findings, and CSS generated per value (`#sev-high:checked ~ main .finding:not(...)`)
//! hides what does not match. The script adds free-text search, keeps the filters in the URL
//! fragment (`#severity=high&family=pss&namespace=shop&q=text`, so a filtered view can be
//! linked) and marks hidden findings with the `hidden` attribute and a count.
//!
//! The library reads no files: source lines come from the caller's [`HtmlOptions::source`]
//! (see [`SourceText`] for a ready index of one file's lines), capped at
//! [`EXCERPT_MAX_LINES`] lines of at most [`EXCERPT_MAX_LINE_CHARS`] characters.

use crate::{Format, Report, ReportError};
use palisade_core::{Finding, InputError, RuleMeta, Severity, SuppressedFinding};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufWriter, Write};

/// Most source lines shown around one finding.
pub const EXCERPT_MAX_LINES: usize = 9;
/// Longer source lines are cut to this many characters.
pub const EXCERPT_MAX_LINE_CHARS: usize = 240;
/// Lines shown before and after a finding's line.
const RADIUS: u32 = 4;

/// Source lines around `line` of `file`: `(line number, text)` pairs, or `None` when the
/// file cannot be shown (not a file, unreadable).
pub type SourceLines<'a> = &'a dyn Fn(&str, u32) -> Option<Vec<(u32, String)>>;

/// What the HTML page needs besides the [`Report`].
#[derive(Clone, Copy, Default)]
pub struct HtmlOptions<'a> {
    /// Source lines for findings in files; `None`: no excerpts.
    pub source: Option<SourceLines<'a>>,
    /// Shown under the title, e.g. when the scan ran (the caller's clock and format).
    pub generated: Option<&'a str>,
}

/// One file's text with the start of every line, so excerpts for many findings in one file
/// cost O(lines shown) each instead of a scan of the file.
#[derive(Debug, Clone)]
pub struct SourceText {
    text: String,
    starts: Vec<usize>,
}

impl SourceText {
    pub fn new(text: String) -> SourceText {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText { text, starts }
    }

    /// Lines `line - radius ..= line + radius` (1-based, clipped to the file), without their
    /// line ends.
    pub fn excerpt(&self, line: u32, radius: u32) -> Vec<(u32, String)> {
        if line == 0 {
            return Vec::new();
        }
        let first = line.saturating_sub(radius).max(1);
        let last = line.saturating_add(radius);
        (first..=last)
            .map_while(|n| {
                let i = usize::try_from(n - 1).ok()?;
                let start = *self.starts.get(i)?;
                // After a final newline there is no further line.
                if i > 0 && start >= self.text.len() {
                    return None;
                }
                let end = self.starts.get(i + 1).map_or(self.text.len(), |e| e - 1);
                let text = self.text.get(start..end.max(start))?;
                Some((n, text.trim_end_matches('\r').to_owned()))
            })
            .collect()
    }
}

/// The page's script. Its hash is in the Content Security Policy ([`SCRIPT_SHA256`]); a test
/// recomputes it, so edit both together.
const SCRIPT: &str = r##"(function () {
  "use strict";
  var d = document;
  var items = Array.prototype.slice.call(d.querySelectorAll("article.finding"));
  var text = items.map(function (e) { return e.textContent.toLowerCase(); });
  var q = d.getElementById("q");
  var shown = d.getElementById("shown");
  var groups = { severity: "sev", family: "fam", namespace: "ns" };
  d.getElementById("search").hidden = false;
  function checked(g) { return d.querySelector('input[name="' + g + '"]:checked'); }
  function apply(write) {
    var want = {}, key;
    for (key in groups) { var r = checked(groups[key]); want[key] = r ? r : null; }
    var s = want.severity ? want.severity.getAttribute("data-k") : "";
    var f = want.family ? want.family.getAttribute("data-k") : "";
    var n = want.namespace ? want.namespace.getAttribute("data-k") : "";
    var t = q.value.trim().toLowerCase();
    var open = 0, waived = 0;
    items.forEach(function (e, i) {
      var ok = (!s || e.getAttribute("data-sev") === s) &&
        (!f || e.getAttribute("data-fam") === f) &&
        (!n || e.getAttribute("data-ns") === n) &&
        (!t || text[i].indexOf(t) >= 0);
      e.hidden = !ok;
      if (ok) { if (e.classList.contains("waived")) { waived++; } else { open++; } }
    });
    shown.textContent = "Showing " + open + " of " + shown.getAttribute("data-total") +
      " findings and " + waived + " of " + shown.getAttribute("data-waived") + " waived";
    if (write) {
      var p = new URLSearchParams();
      for (key in groups) { if (want[key] && want[key].value) { p.set(key, want[key].value); } }
      if (t) { p.set("q", q.value.trim()); }
      var h = p.toString();
      history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
    }
  }
  function read() {
    var p = new URLSearchParams(location.hash.slice(1));
    for (var key in groups) {
      var v = p.get(key) || "";
      var radios = d.querySelectorAll('input[name="' + groups[key] + '"]');
      var hit = null;
      for (var i = 0; i < radios.length; i++) { if (radios[i].value === v) { hit = radios[i]; } }
      if (!hit) { hit = radios[0]; }
      if (hit) { hit.checked = true; }
    }
    q.value = p.get("q") || "";
    apply(false);
  }
  d.addEventListener("change", function (e) { if (e.target.name) { apply(true); } });
  q.addEventListener("input", function () { apply(true); });
  window.addEventListener("hashchange", read);
  read();
})();
"##;

/// `sha256-<base64>` of [`SCRIPT`], for the Content Security Policy.
const SCRIPT_SHA256: &str = "sha256-Bknk2/RUU+sSa0qj/mHpQ+OEKLnMjBMVNsm95y+GrDY=";

const CSS: &str = r#"
:root{--fg:#1d232b;--muted:#5b6674;--line:#d9dee4;--bg:#fff;--soft:#f4f6f8;--accent:#1f5fbf;
--critical:#8e1b1b;--high:#c2410c;--medium:#a16207;--low:#2563eb;--info:#4b5563}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.page,nav,main{max-width:1200px;margin:0 auto;padding:0 16px}
header.page h1{font-size:22px;margin:16px 0 4px}
.meta{color:var(--muted);margin:0 0 8px}
.fr{position:absolute;opacity:0;width:1px;height:1px}
nav{position:sticky;top:0;background:var(--bg);border-bottom:1px solid var(--line);padding-top:8px;padding-bottom:8px;z-index:1}
.group{display:flex;flex-wrap:wrap;gap:4px;align-items:center;margin:2px 0}
.group>span{min-width:88px;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.group label{border:1px solid var(--line);border-radius:12px;padding:1px 9px;cursor:pointer;background:var(--soft);font-size:13px}
.fr:focus-visible+*{outline:2px solid var(--accent)}
#search input{width:min(420px,100%);padding:4px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}
#shown{margin:4px 0 0;color:var(--muted);font-size:13px}
h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px;align-items:start}
#by-rule{margin-top:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.finding{border:1px solid var(--line);border-left:4px solid var(--info);border-radius:6px;padding:8px 12px;margin:8px 0;background:var(--bg)}
.finding>header{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.sev{display:inline-block;min-width:64px;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:600;padding:0 6px;background:var(--info)}
.s-critical{border-left-color:var(--critical)}.sev.critical{background:var(--critical)}
.s-high{border-left-color:var(--high)}.sev.high{background:var(--high)}
.s-medium{border-left-color:var(--medium)}.sev.medium{background:var(--medium)}
.s-low{border-left-color:var(--low)}.sev.low{background:var(--low)}
.rule{font-weight:600;color:var(--accent)}
.msg{margin:4px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0 12px;margin:4px 0;font-size:13px}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
pre.src{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:4px 0;margin:6px 0 0;overflow:auto;font-size:12px;line-height:1.4}
pre.src span{display:block;padding:0 8px;white-space:pre}
pre.src span.at{background:#fff1c2}
pre.src i{display:inline-block;min-width:44px;color:var(--muted);font-style:normal;user-select:none}
.waived{opacity:.85;border-style:dashed}
.waiver{margin:4px 0;font-size:13px}
ul.errors li{margin:2px 0}
.none{color:var(--muted)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
@media (max-width:640px){nav{position:static}}
.wide{overflow-x:auto}
@media print{nav{position:static}.fr,#search{display:none}}
"#;

/// A filter value and its radio button's id.
struct Choice {
    id: String,
    /// The value written to the URL fragment (a severity, family or namespace name).
    value: String,
    /// What findings carry in their `data-*` attribute (an index, never scan text, so the
    /// generated CSS never holds scan text).
    key: String,
    label: String,
    count: usize,
}

/// Families and namespaces of the report, each numbered in name order.
struct Index<'r> {
    families: BTreeMap<&'r str, usize>,
    namespaces: BTreeMap<Option<&'r str>, usize>,
    rules: HashMap<&'r str, &'r RuleMeta>,
}

impl<'r> Index<'r> {
    fn new(report: &Report<'r>) -> Index<'r> {
        let all = report
            .findings
            .iter()
            .chain(report.suppressed.iter().map(|s| &s.finding));
        let mut families = BTreeMap::new();
        let mut namespaces = BTreeMap::new();
        for f in all {
            families.insert(f.family.as_str(), 0);
            namespaces.insert(f.object.namespace.as_deref(), 0);
        }
        for (i, v) in families.values_mut().enumerate() {
            *v = i;
        }
        for (i, v) in namespaces.values_mut().enumerate() {
            *v = i;
        }
        Index {
            families,
            namespaces,
            rules: report.rules.iter().map(|r| (r.id, r)).collect(),
        }
    }

    fn family(&self, f: &Finding) -> usize {
        self.families.get(f.family.as_str()).copied().unwrap_or(0)
    }

    fn namespace(&self, f: &Finding) -> usize {
        self.namespaces
            .get(&f.object.namespace.as_deref())
            .copied()
            .unwrap_or(0)
    }
}

const NO_NAMESPACE: &str = "(no namespace)";

/// Writes `report` as one HTML page.
pub fn render_html(
    report: &Report<'_>,
    options: &HtmlOptions<'_>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let mut w = BufWriter::with_capacity(64 * 1024, out);
    page(report, options, &mut w)
        .and_then(|()| w.flush())
        .map_err(ReportError::io(Format::Html))
}

fn page(report: &Report<'_>, options: &HtmlOptions<'_>, w: &mut dyn Write) -> io::Result<()> {
    let index = Index::new(report);
    let title = "Palisade scan report";
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src '{SCRIPT_SHA256}'; img-src data:; \
         base-uri 'none'; form-action 'none'\">\n<title>{title}</title>\n<style>{CSS}"
    )?;
    let (sev, fam, ns) = choices(report, &index);
    filter_css(w, &[&sev, &fam, &ns])?;
    w.write_all(b"</style>\n</head>\n<body>\n")?;
    // The radios come first: the CSS reaches the findings and labels as their later siblings.
    for (group, list) in [("sev", &sev), ("fam", &fam), ("ns", &ns)] {
        for (i, c) in list.iter().enumerate() {
            write!(
                w,
                "<input type=\"radio\" class=\"fr\" name=\"{group}\" id=\"{}\" value=\"",
                c.id
            )?;
            esc(w, &c.value)?;
            writeln!(
                w,
                "\" data-k=\"{}\"{}>",
                c.key,
                if i == 0 { " checked" } else { "" }
            )?;
        }
    }
    header(report, options, title, w)?;
    nav(
        report,
        w,
        &[("Severity", &sev), ("Family", &fam), ("Namespace", &ns)],
    )?;
    w.write_all(b"<main>\n")?;
    summary(report, &index, &sev, &fam, &ns, w)?;
    writeln!(
        w,
        "<section id=\"findings\">\n<h2>Findings ({})</h2>",
        report.findings.len()
    )?;
    if report.findings.is_empty() {
        w.write_all(b"<p class=\"none\">No findings.</p>\n")?;
    }
    for (i, f) in report.findings.iter().enumerate() {
        finding(w, &index, options, f, None, &format!("f{}", i + 1))?;
    }
    w.write_all(b"</section>\n")?;
    if !report.suppressed.is_empty() {
        writeln!(
            w,
            "<section id=\"waived\">\n<h2>Waived findings ({})</h2>",
            report.suppressed.len()
        )?;
        for (i, s) in report.suppressed.iter().enumerate() {
            finding(
                w,
                &index,
                options,
                &s.finding,
                Some(s),
                &format!("w{}", i + 1),
            )?;
        }
        w.write_all(b"</section>\n")?;
    }
    input_errors(w, "errors", "Input errors", report.errors)?;
    input_errors(w, "notes", "Notes", report.notes)?;
    compliance(report, w)?;
    writeln!(w, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>")
}

fn choices<'r>(report: &Report<'r>, index: &Index<'r>) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let all = |group: &str, total: usize| Choice {
        id: format!("{group}-all"),
        value: String::new(),
        key: String::new(),
        label: "all".into(),
        count: total,
    };
    let total = report.findings.len();
    let mut sev = vec![all("sev", total)];
    for s in Severity::ALL.into_iter().rev() {
        sev.push(Choice {
            id: format!("sev-{s}"),
            value: s.as_str().into(),
            key: s.as_str().into(),
            label: s.as_str().into(),
            count: report
                .summary
                .by_severity
                .get(&s)
                .copied()
                .unwrap_or_else(|| report.findings.iter().filter(|f| f.severity == s).count()),
        });
    }
    let mut fam_counts = vec![0usize; index.families.len()];
    let mut ns_counts = vec![0usize; index.namespaces.len()];
    for f in report.findings {
        if let Some(c) = fam_counts.get_mut(index.family(f)) {
            *c += 1;
        }
        if let Some(c) = ns_counts.get_mut(index.namespace(f)) {
            *c += 1;
        }
    }
    let mut fam = vec![all("fam", total)];
    for (name, &i) in &index.families {
        fam.push(Choice {
            id: format!("fam-{i}"),
            value: (*name).into(),
            key: i.to_string(),
            label: (*name).into(),
            count: fam_counts.get(i).copied().unwrap_or(0),
        });
    }
    let mut ns = vec![all("ns", total)];
    for (name, &i) in &index.namespaces {
        ns.push(Choice {
            id: format!("ns-{i}"),
            value: name.unwrap_or("-").into(),
            key: i.to_string(),
            label: name.unwrap_or(NO_NAMESPACE).into(),
            count: ns_counts.get(i).copied().unwrap_or(0),
        });
    }
    (sev, fam, ns)
}

/// CSS that filters without script: a checked radio hides every finding whose attribute
/// differs, and marks its label. Only generated ids and indices appear in it.
fn filter_css(w: &mut dyn Write, groups: &[&Vec<Choice>]) -> io::Result<()> {
    let mut labels = Vec::new();
    for (g, list) in groups.iter().enumerate() {
        let attr = ["data-sev", "data-fam", "data-ns"]
            .get(g)
            .copied()
            .unwrap_or("data-x");
        for c in list.iter() {
            if !c.key.is_empty() {
                writeln!(
                    w,
                    "#{}:checked~main .finding:not([{attr}=\"{}\"]){{display:none}}",
                    c.id, c.key
                )?;
            }
            labels.push(format!("#{id}:checked~nav label[for=\"{id}\"]", id = c.id));
        }
    }
    if !labels.is_empty() {
        writeln!(
            w,
            "{}{{background:var(--accent);color:#fff;border-color:var(--accent)}}",
            labels.join(",")
        )?;
    }
    Ok(())
}

fn header(
    report: &Report<'_>,
    options: &HtmlOptions<'_>,
    title: &str,
    w: &mut dyn Write,
) -> io::Result<()> {
    let s = &report.summary;
    write!(
        w,
        "<header class=\"page\">\n<h1>{title}</h1>\n<p class=\"meta\">"
    )?;
    esc(w, report.tool_name)?;
    w.write_all(b" ")?;
    esc(w, report.tool_version)?;
    if let Some(g) = options.generated {
        w.write_all(b" \xc2\xb7 ")?;
        esc(w, g)?;
    }
    write!(
        w,
        " \u{b7} {} files, {} documents, {} objects \u{b7} Pod Security ",
        s.files, s.documents, s.objects
    )?;
    esc(w, &s.pss_level)?;
    w.write_all(b":")?;
    esc(w, &s.pss_version)?;
    if let Some(fw) = &s.framework {
        w.write_all(b" \xc2\xb7 framework ")?;
        esc(w, fw)?;
    }
    writeln!(
        w,
        " \u{b7} fail on {} \u{b7} <strong>{}</strong></p>\n</header>",
        s.fail_on,
        if s.errors > 0 {
            "input errors"
        } else if s.failed {
            "failed"
        } else {
            "passed"
        }
    )
}

fn nav(report: &Report<'_>, w: &mut dyn Write, groups: &[(&str, &Vec<Choice>)]) -> io::Result<()> {
    w.write_all(b"<nav id=\"filters\" aria-label=\"Filters\">\n")?;
    for (name, list) in groups {
        write!(w, "<div class=\"group\"><span>{name}</span>")?;
        for c in list.iter() {
            write!(w, "<label for=\"{}\">", c.id)?;
            esc(w, &c.label)?;
            write!(w, " <b>{}</b></label>", c.count)?;
        }
        w.write_all(b"</div>\n")?;
    }
    write!(
        w,
        "<div class=\"group\" id=\"search\" hidden><span>Search</span>\
         <input type=\"search\" id=\"q\" placeholder=\"message, rule, object, file\" \
         aria-label=\"Search findings\"></div>\n\
         <p id=\"shown\" aria-live=\"polite\" data-total=\"{0}\" data-waived=\"{1}\">\
         {0} findings, {1} waived</p>\n</nav>\n",
        report.findings.len(),
        report.suppressed.len()
    )
}

fn summary(
    report: &Report<'_>,
    index: &Index<'_>,
    sev: &[Choice],
    fam: &[Choice],
    ns: &[Choice],
    w: &mut dyn Write,
) -> io::Result<()> {
    w.write_all(b"<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"tables\">\n")?;
    let mut waived_fam = vec![0usize; fam.len()];
    let mut waived_ns = vec![0usize; ns.len()];
    let mut waived_sev: BTreeMap<Severity, usize> = BTreeMap::new();
    for s in report.suppressed {
        if let Some(c) = waived_fam.get_mut(index.family(&s.finding) + 1) {
            *c += 1;
        }
        if let Some(c) = waived_ns.get_mut(index.namespace(&s.finding) + 1) {
            *c += 1;
        }
        *waived_sev.entry(s.finding.severity).or_default() += 1;
    }
    let table = |w: &mut dyn Write,
                 id: &str,
                 head: &str,
                 list: &[Choice],
                 waived: &dyn Fn(usize) -> usize|
     -> io::Result<()> {
        writeln!(
            w,
            "<table id=\"by-{id}\"><thead><tr><th>{head}</th><th>Findings</th><th>Waived</th></tr></thead><tbody>"
        )?;
        for (i, c) in list.iter().enumerate().skip(1) {
            write!(w, "<tr data-k=\"{}\"><td><label for=\"{}\">", c.key, c.id)?;
            esc(w, &c.label)?;
            writeln!(
                w,
                "</label></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                c.count,
                waived(i)
            )?;
        }
        w.write_all(b"</tbody></table>\n")
    };
    let sev_waived = |i: usize| {
        sev.get(i)
            .and_then(|c| Severity::parse(&c.key))
            .and_then(|s| waived_sev.get(&s).copied())
            .unwrap_or(0)
    };
    table(w, "severity", "Severity", sev, &sev_waived)?;
    table(w, "family", "Family", fam, &|i| {
        waived_fam.get(i).copied().unwrap_or(0)
    })?;
    table(w, "namespace", "Namespace", ns, &|i| {
        waived_ns.get(i).copied().unwrap_or(0)
    })?;
    w.write_all(b"</div>\n")?;

    // By rule: most severe first, then by ID.
    let mut by_rule: BTreeMap<&str, (Severity, &str, usize, usize)> = BTreeMap::new();
    for f in report.findings {
        by_rule
            .entry(f.rule.as_str())
            .or_insert((f.severity, f.family.as_str(), 0, 0))
            .2 += 1;
    }
    for s in report.suppressed {
        let f = &s.finding;
        by_rule
            .entry(f.rule.as_str())
            .or_insert((f.severity, f.family.as_str(), 0, 0))
            .3 += 1;
    }
    let mut rows: Vec<_> = by_rule.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    w.write_all(
        b"<div class=\"wide\"><table id=\"by-rule\"><thead><tr><th>Rule</th><th>Title</th><th>Severity</th>\
          <th>Family</th><th>Findings</th><th>Waived</th></tr></thead><tbody>\n",
    )?;
    for (id, (severity, family, n, waived)) in rows {
        let meta = index.rules.get(id);
        w.write_all(b"<tr><td>")?;
        rule_link(w, id, meta)?;
        w.write_all(b"</td><td>")?;
        esc(w, meta.map_or("", |m| m.title))?;
        write!(
            w,
            "</td><td><span class=\"sev {severity}\">{severity}</span></td><td>"
        )?;
        esc(w, family)?;
        writeln!(
            w,
            "</td><td class=\"n\">{n}</td><td class=\"n\">{waived}</td></tr>"
        )?;
    }
    w.write_all(b"</tbody></table></div>\n</section>\n")
}

fn rule_link(w: &mut dyn Write, id: &str, meta: Option<&&RuleMeta>) -> io::Result<()> {
    // A user's policy has no page to link to: its ID alone.
    let Some(url) = crate::policyreport::docs_url(meta, id) else {
        w.write_all(b"<span class=\"rule\">")?;
        esc(w, id)?;
        return w.write_all(b"</span>");
    };
    w.write_all(b"<a class=\"rule\" href=\"")?;
    esc(w, &url)?;
    w.write_all(b"\">")?;
    esc(w, id)?;
    w.write_all(b"</a>")
}

fn finding(
    w: &mut dyn Write,
    index: &Index<'_>,
    options: &HtmlOptions<'_>,
    f: &Finding,
    waiver: Option<&SuppressedFinding>,
    id: &str,
) -> io::Result<()> {
    let severity = f.severity.as_str();
    write!(
        w,
        "<article class=\"finding s-{severity}{}\" id=\"{id}\" data-sev=\"{severity}\" data-fam=\"{}\" data-ns=\"{}\">\n<header><span class=\"sev {severity}\">{severity}</span> ",
        if waiver.is_some() { " waived" } else { "" },
        index.family(f),
        index.namespace(f),
    )?;
    let meta = index.rules.get(f.rule.as_str());
    rule_link(w, &f.rule, meta)?;
    if let Some(m) = meta {
        w.write_all(b" <span class=\"title\">")?;
        esc(w, m.title)?;
        w.write_all(b"</span>")?;
    }
    w.write_all(b"</header>\n<p class=\"msg\">")?;
    esc(w, &crate::table::shown_message(f))?;
    w.write_all(b"</p>\n")?;
    if let Some(s) = waiver {
        let by = if s.suppression.kind == "annotation" {
            "an annotation"
        } else {
            "the configuration"
        };
        write!(w, "<p class=\"waiver\">Waived by {by} (")?;
        esc(w, &s.suppression.source)?;
        w.write_all(b"): ")?;
        esc(w, &s.suppression.reason)?;
        if let Some(e) = &s.suppression.expires {
            w.write_all(b"; expires ")?;
            esc(w, e)?;
        }
        w.write_all(b"</p>\n")?;
    }
    w.write_all(b"<dl><dt>Object</dt><dd>")?;
    esc(w, &f.object.to_string())?;
    w.write_all(b"</dd><dt>Location</dt><dd><code>")?;
    esc(w, &f.file)?;
    if f.line > 0 {
        write!(w, ":{}:{}", f.line, f.column)?;
    }
    w.write_all(b"</code>")?;
    if f.origin.is_none() {
        write!(w, " (document {})", f.document + 1)?;
    }
    w.write_all(b"</dd>")?;
    if !f.field.is_empty() {
        w.write_all(b"<dt>Field</dt><dd>")?;
        let fields: &[String] = if f.fields.len() > 1 {
            &f.fields
        } else {
            std::slice::from_ref(&f.field)
        };
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                w.write_all(b", ")?;
            }
            w.write_all(b"<code>")?;
            esc(w, field)?;
            w.write_all(b"</code>")?;
        }
        w.write_all(b"</dd>")?;
    }
    if !f.paths.is_empty() {
        w.write_all(b"<dt>Paths</dt><dd>")?;
        esc(w, &f.paths.join(", "))?;
        w.write_all(b"</dd>")?;
    }
    w.write_all(b"</dl>\n")?;
    // Cluster objects have no source file to show.
    if let (Some(source), None, true) = (options.source, &f.origin, f.line > 0)
        && let Some(lines) = source(&f.file, f.line)
    {
        excerpt(w, &lines, f.line)?;
    }
    w.write_all(b"</article>\n")
}

/// The lines around `at`, capped in count and width whatever the caller returned.
fn excerpt(w: &mut dyn Write, lines: &[(u32, String)], at: u32) -> io::Result<()> {
    let near: Vec<&(u32, String)> = lines
        .iter()
        .filter(|(n, _)| n.abs_diff(at) <= RADIUS)
        .take(EXCERPT_MAX_LINES)
        .collect();
    if near.is_empty() {
        return Ok(());
    }
    w.write_all(b"<pre class=\"src\"><code>")?;
    for (n, text) in near {
        let class = if *n == at { " class=\"at\"" } else { "" };
        write!(w, "<span{class}><i>{n}</i>")?;
        match text.char_indices().nth(EXCERPT_MAX_LINE_CHARS) {
            Some((cut, _)) => {
                esc(w, text.get(..cut).unwrap_or_default())?;
                w.write_all("\u{2026}".as_bytes())?;
            }
            None => esc(w, text)?,
        }
        w.write_all(b"</span>")?;
    }
    w.write_all(b"</code></pre>\n")
}

fn input_errors(w: &mut dyn Write, id: &str, title: &str, list: &[InputError]) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "<section id=\"{id}\">\n<h2>{title} ({})</h2>\n<ul class=\"errors\">",
        list.len()
    )?;
    for e in list {
        w.write_all(b"<li><code>")?;
        esc(w, &e.file)?;
        if let Some(l) = e.line {
            write!(w, ":{l}")?;
            if let Some(c) = e.column {
                write!(w, ":{c}")?;
            }
        }
        w.write_all(b"</code>")?;
        if let Some(d) = e.document {
            write!(w, " (document {})", d + 1)?;
        }
        w.write_all(b" <b>")?;
        esc(w, &e.kind)?;
        w.write_all(b"</b> ")?;
        esc(w, &e.message)?;
        w.write_all(b"</li>\n")?;
    }
    w.write_all(b"</ul>\n</section>\n")
}

fn compliance(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    let Some(c) = report.compliance else {
        return Ok(());
    };
    w.write_all(b"<section id=\"compliance\">\n<h2>Compliance</h2>\n")?;
    for fw in &c.frameworks {
        w.write_all(b"<h3>")?;
        esc(w, &fw.title)?;
        write!(
            w,
            "</h3>\n<p>{} passed, {} failed, {} skipped</p>\n<table><thead><tr><th>Control</th>\
             <th>Title</th><th>Status</th><th>Findings</th><th>Objects</th></tr></thead><tbody>\n",
            fw.passed, fw.failed, fw.skipped
        )?;
        for ctl in &fw.controls {
            w.write_all(b"<tr><td>")?;
            esc(w, &ctl.id)?;
            w.write_all(b"</td><td>")?;
            esc(w, &ctl.title)?;
            let status = match ctl.status {
                crate::ControlStatus::Passed => "passed",
                crate::ControlStatus::Failed => "failed",
                crate::ControlStatus::Skipped => "skipped",
            };
            writeln!(
                w,
                "</td><td>{status}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                ctl.findings, ctl.failed_objects
            )?;
        }
        w.write_all(b"</tbody></table>\n")?;
    }
    w.write_all(b"</section>\n")
}

/// Writes `s` as HTML text or attribute value: markup characters as references, control
/// characters (which have no business in a page and can hide text) as U+FFFD.
fn esc(w: &mut dyn Write, s: &str) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            '\t' | '\n' => continue,
            c if c.is_control() => "\u{fffd}",
            _ => continue,
        };
        w.write_all(s.get(start..i).unwrap_or_default().as_bytes())?;
        w.write_all(rep.as_bytes())?;
        start = i + c.len_utf8();
    }
    w.write_all(s.get(start..).unwrap_or_default().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        esc(&mut out, s).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escaped("<script>a&b</script> \"x\" 'y' \u{1b}[31m\tü"),
            "&lt;script&gt;a&amp;b&lt;/script&gt; &quot;x&quot; &#39;y&#39; \u{fffd}[31m\tü"
        );
    }

    #[test]
    fn excerpts_from_source_text() {
        let t = SourceText::new("a\nb\r\nc\nd\n".into());
        assert_eq!(
            t.excerpt(2, 1),
            vec![(1, "a".into()), (2, "b".into()), (3, "c".into())]
        );
        assert_eq!(
            t.excerpt(4, 2),
            vec![(2, "b".into()), (3, "c".into()), (4, "d".into())]
        );
        assert_eq!(t.excerpt(1, 0), vec![(1, "a".into())]);
        assert!(t.excerpt(0, 3).is_empty());
        assert!(t.excerpt(9, 1).is_empty());
        let no_newline = SourceText::new("x\ny".into());
        assert_eq!(
            no_newline.excerpt(2, 5),
            vec![(1, "x".into()), (2, "y".into())]
        );
    }

    #[test]
    fn excerpt_is_capped() {
        let lines: Vec<(u32, String)> = (1..=100).map(|n| (n, "x".repeat(500))).collect();
        let mut out = Vec::new();
        excerpt(&mut out, &lines, 50).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert_eq!(html.matches("<span").count(), EXCERPT_MAX_LINES);
        assert!(html.contains("<i>46</i>") && html.contains("<i>54</i>"));
        assert!(!html.contains("<i>45</i>") && !html.contains("<i>55</i>"));
        assert!(!html.contains(&"x".repeat(EXCERPT_MAX_LINE_CHARS + 1)));
        assert!(html.contains(&format!("{}\u{2026}", "x".repeat(EXCERPT_MAX_LINE_CHARS))));
    }
}
