//! Affected and fixed versions from the free text of an announcement.
//!
//! Finds the "Affected Versions" / "Vulnerable versions" and "Fixed Versions" sections, reads each
//! line (every shape catalogued in the research notes, §3.3), then pairs affected spans with fixed
//! versions by minor branch, per component. Lines that look like version lines but cannot be read
//! become warnings; nothing is dropped silently.

use crate::component::{self, Component};
use crate::version::{UpperBound, Version, VersionSpec};
use serde::{Deserialize, Serialize};

/// One vulnerable interval of one component. `introduced: None` means "every earlier version"
/// (OSV `"0"`); `fixed` is the first version with the fix (exclusive end); `last_affected` the
/// last vulnerable version as stated. With neither end, every later version is affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(with = "introduced_serde")]
    pub introduced: Option<Version>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_version_serde"
    )]
    pub fixed: Option<Version>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_version_serde"
    )]
    pub last_affected: Option<Version>,
}

impl Range {
    /// Whether `v` falls in this interval (the OSV evaluation for one introduced/end pair).
    pub fn contains(&self, v: &Version) -> bool {
        if self.introduced.as_ref().is_some_and(|lo| v < lo) {
            return false;
        }
        match (&self.fixed, &self.last_affected) {
            (Some(f), _) => v < f,
            (None, Some(l)) => v <= l,
            (None, None) => true,
        }
    }

    fn end_key(&self) -> End<'_> {
        match (&self.fixed, &self.last_affected) {
            (Some(f), _) => End::Before(f),
            (None, Some(l)) => End::AtOrBefore(l),
            (None, None) => End::Open,
        }
    }
}

/// Where a range stops, ordered so that merging can take the larger end.
#[derive(Debug, PartialEq, Eq)]
enum End<'a> {
    Before(&'a Version),
    AtOrBefore(&'a Version),
    Open,
}

impl End<'_> {
    /// Whether a range starting at `lo` overlaps or touches this end.
    fn reaches(&self, lo: &Version) -> bool {
        match self {
            End::Before(f) => lo <= *f,
            End::AtOrBefore(l) => lo <= *l,
            End::Open => true,
        }
    }

    fn rank(&self) -> (u8, Option<&Version>, u8) {
        match self {
            End::Before(v) => (0, Some(v), 0),
            End::AtOrBefore(v) => (0, Some(v), 1),
            End::Open => (1, None, 0),
        }
    }
}

/// The affected ranges of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedComponent {
    /// The component as Kubernetes names it (`kube-apiserver`, `kubelet`, `ingress-nginx`).
    pub component: String,
    /// Its Go module, the OSV `Kubernetes` package name (`k8s.io/apiserver`).
    pub package: String,
    pub ranges: Vec<Range>,
    /// The announcement's lines these ranges were read from, as written (`kubelet <= v1.28.0`,
    /// `v1.27.0 - v1.27.1`, `All Kubernetes versions are affected.`), so a match can say why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
}

/// Everything read from one body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyVersions {
    pub affected: Vec<AffectedComponent>,
    /// Every release version named as fixed, ascending (pre-releases included).
    pub fixed_versions: Vec<Version>,
    /// Whether an affected or fixed section was found at all.
    pub has_version_section: bool,
    /// The fixed section says there is no fix.
    pub unfixed: bool,
    /// A fix is named on master/main (or as a commit) rather than in a release.
    pub fixed_in_master: bool,
    pub warnings: Vec<String>,
}

/// Longest line read; longer lines are reported, not parsed.
pub const MAX_LINE_LEN: usize = 2000;

/// Reads the version sections of `body`, for `cve` when the body announces several CVEs under
/// their own headings. `title` helps find the component when lines do not name one.
pub fn parse_body(body: &str, cve: Option<&str>, title: &str) -> BodyVersions {
    let text = normalize(body);
    let part = cve.map_or(text.as_str(), |id| cve_part(&text, id));
    let default = component::detect(title, part);
    let mut out = BodyVersions::default();
    let mut spans: Vec<Span> = Vec::new();
    let mut fixes: Vec<Fix> = Vec::new();
    let mut section = Section::Other;
    for raw in part.lines() {
        let line = raw.trim();
        if let Some(heading) = heading_text(line) {
            section = classify_heading(&heading);
            if matches!(section, Section::Affected | Section::Fixed) {
                out.has_version_section = true;
            }
            continue;
        }
        if section == Section::Other && opens_version_list(line) {
            section = Section::Affected;
            out.has_version_section = true;
            continue;
        }
        if section == Section::Components {
            // "All Kubernetes versions are affected." under "Affected Components" (CVE-2020-8554).
            let l = line.to_ascii_lowercase();
            if l.starts_with("all ") && l.contains("versions") && l.contains("affected") {
                out.has_version_section = true;
                spans.push(Span {
                    components: Vec::new(),
                    lo: None,
                    hi: None,
                    inline_fix: None,
                    text: line.to_owned(),
                });
            }
            continue;
        }
        if line.is_empty() || section == Section::Other {
            continue;
        }
        if line.len() > MAX_LINE_LEN {
            out.warnings.push(format!(
                "version line longer than {MAX_LINE_LEN} bytes not read"
            ));
            continue;
        }
        let (bullet, item) = strip_bullet(line);
        let lower = item.to_ascii_lowercase();
        if lower.starts_with("note") {
            continue;
        }
        let is_fix_line = section == Section::Fixed
            || lower.starts_with("fixed in")
            || lower.starts_with("fixed by");
        if is_fix_line {
            match read_fix_line(item) {
                FixLine::Fix(mut fix) => {
                    fix.text = item.to_owned();
                    fixes.push(fix);
                }
                FixLine::Master => out.fixed_in_master = true,
                FixLine::None => out.unfixed = true,
                FixLine::Commit => {
                    out.fixed_in_master = true;
                    out.warnings.push(format!(
                        "fixed line names a commit, not a release: {item:?}"
                    ));
                }
                FixLine::Prose => {
                    if looks_versioned(item) || (bullet && has_digit(item)) {
                        out.warnings.push(format!("fixed line not read: {item:?}"));
                    }
                }
                FixLine::Unreadable(why) => out
                    .warnings
                    .push(format!("fixed line not read ({why}): {item:?}")),
            }
        } else {
            match read_affected_line(item) {
                Ok(Some(mut span)) => {
                    span.text = item.to_owned();
                    spans.push(span);
                }
                Ok(None) => {
                    if looks_versioned(item) || (bullet && has_digit(item)) {
                        out.warnings
                            .push(format!("affected line not read: {item:?}"));
                    }
                }
                Err(why) => out
                    .warnings
                    .push(format!("affected line not read ({why}): {item:?}")),
            }
        }
    }
    if spans.is_empty() && !fixes.is_empty() {
        // Only a fixed list (CVE-2018-1002102): each fixed branch was affected below its fix,
        // the oldest fixed branch from the start.
        spans = derive_from_fixes(&fixes);
        out.warnings
            .push("no affected lines: ranges derived from the fixed versions".to_owned());
    }
    let mut fixed_versions: Vec<Version> = fixes.iter().map(|f| f.version.clone()).collect();
    fixed_versions.extend(spans.iter().filter_map(|s| s.inline_fix.clone()));
    fixed_versions.sort();
    fixed_versions.dedup();
    out.fixed_versions = fixed_versions;
    out.affected = pair(spans, &fixes, &default, &mut out.warnings);
    if out.has_version_section && out.affected.is_empty() {
        out.warnings
            .push("version section found but no affected range could be read".to_owned());
    }
    out
}

/// CRLF, NBSP and the backslash escapes that Google Docs pastes leave in Markdown (`\-`, `` \` ``).
fn normalize(body: &str) -> String {
    let mut s = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\u{a0}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => s.push(' '),
            '\u{2013}' | '\u{2014}' => s.push('-'),
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_punctuation()) => {}
            _ => s.push(c),
        }
    }
    s
}

/// The part of a multi-CVE body under the heading that names `cve` (CVE-2023-2727/2728 share one
/// issue with a section each). Whole body when headings do not separate CVEs.
fn cve_part<'a>(text: &'a str, cve: &str) -> &'a str {
    let mut starts: Vec<(usize, Vec<String>)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(h) = heading_text(line.trim()) {
            let ids = crate::title::find_cve_ids(&h);
            if !ids.is_empty() {
                starts.push((offset, ids));
            }
        }
        offset += line.len();
    }
    let distinct: std::collections::BTreeSet<&String> =
        starts.iter().flat_map(|(_, ids)| ids).collect();
    if distinct.len() < 2 {
        return text;
    }
    let Some(i) = starts
        .iter()
        .position(|(_, ids)| ids.iter().any(|x| x == cve))
    else {
        return text;
    };
    let from = starts.get(i).map_or(0, |(o, _)| *o);
    let to = starts.get(i + 1).map_or(text.len(), |(o, _)| *o);
    text.get(from..to).unwrap_or(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Affected,
    Fixed,
    /// "Affected Components and Configurations": prose, read only for "all versions".
    Components,
    Other,
}

/// The text of a Markdown heading (`### X`) or a whole-line bold/italic pseudo-heading (`**X:**`).
fn heading_text(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = if t.starts_with('#') {
        t.trim_start_matches('#')
    } else if t.len() > 4
        && ((t.starts_with("**") && t.trim_end_matches(':').ends_with("**"))
            || (t.starts_with("__") && t.ends_with("__")))
    {
        t
    } else {
        return None;
    };
    Some(
        inner
            .trim_matches(|c: char| c == '*' || c == '_' || c == ':' || c.is_whitespace())
            .to_owned(),
    )
}

/// A prose line introducing a list of affected versions: "In the following versions, X did
/// not …:" (CVE-2019-11243).
fn opens_version_list(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.ends_with(':')
        && l.contains("following versions")
        && !l.contains("fixed")
        && !l.contains("patched")
}

fn classify_heading(h: &str) -> Section {
    let h = h.to_ascii_lowercase();
    if h.contains("fixed version") || h.contains("patched version") {
        Section::Fixed
    } else if h.contains("affected version")
        || h.contains("vulnerable version")
        || h.contains("versions are affected")
        || h.contains("versions affected")
        || h.contains("who is affected")
    {
        Section::Affected
    } else if h.contains("affected components") {
        Section::Components
    } else {
        Section::Other
    }
}

fn strip_bullet(line: &str) -> (bool, &str) {
    for marker in ["- ", "* ", "+ ", "-\t", "*\t"] {
        if let Some(rest) = line.strip_prefix(marker) {
            return (true, rest.trim());
        }
    }
    // "-<v1.2.0>" without a space after the dash.
    if let Some(rest) = line
        .strip_prefix('-')
        .filter(|r| r.starts_with(['<', 'v', 'V']))
    {
        return (true, rest.trim());
    }
    (false, line)
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Contains something shaped like `1.2` (a version-ish token), so an unreadable line is worth a warning.
fn looks_versioned(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| matches!(w, [a, b'.', c] if a.is_ascii_digit() && c.is_ascii_digit()))
}

/// An affected line, read.
#[derive(Debug, Clone)]
struct Span {
    components: Vec<Component>,
    lo: Option<Version>,
    hi: Option<UpperBound>,
    /// "(fixed in v1.10.11)", ", resolved in v1.13.12 by …" inside the affected list.
    inline_fix: Option<Version>,
    /// The line as written (bullet removed), so a match can quote what it came from.
    text: String,
}

#[derive(Debug, Clone)]
struct Fix {
    components: Vec<Component>,
    version: Version,
    text: String,
}

enum FixLine {
    Fix(Fix),
    Master,
    Commit,
    None,
    Prose,
    Unreadable(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ver(VersionSpec, bool),
    Op(&'static str),
    Sep,
    Slash,
    Comma,
    Word(String),
}

/// Drops Markdown links (keeping their text), bare URLs, `#123` PR references, emphasis and
/// backticks: none of them carries a version, and URLs contain digits that look like one.
fn clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find("](")
        {
            let text = after.get(..close).unwrap_or("");
            let tail = after.get(close + 2..).unwrap_or("");
            if let Some(end) = tail.find(')') {
                out.push_str(text);
                rest = tail.get(end + 1..).unwrap_or("");
                continue;
            }
        }
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest.get(end..).unwrap_or("");
            continue;
        }
        if let Some(after) = rest.strip_prefix('#') {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if n > 0 {
                rest = after.get(n..).unwrap_or("");
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next()
            && c != '`'
            && c != '*'
        {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// Removes parenthesised notes, returning the line without them.
fn drop_parens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn tokenize(s: &str) -> Result<Vec<Tok>, &'static str> {
    let mut toks = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut i = 0;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        if c.is_whitespace() {
            i += 1;
        } else if c == '<' || c == '>' || c == '=' {
            let op = match (c, next) {
                ('<', Some('=')) => "<=",
                ('>', Some('=')) => ">=",
                ('<', _) => "<",
                ('>', _) => ">",
                _ => "=",
            };
            i += op.len();
            toks.push(Tok::Op(op));
        } else if c.is_ascii_digit()
            || ((c == 'v' || c == 'V') && next.is_some_and(|n| n.is_ascii_digit()))
        {
            let start = i;
            if !c.is_ascii_digit() {
                i += 1;
            }
            // Core: digits, dots and a final `.x`.
            while let Some(d) = at(i) {
                let dot_x = d == 'x' && i > start && at(i - 1) == Some('.');
                if d.is_ascii_digit() || d == '.' || dot_x {
                    i += 1;
                } else {
                    break;
                }
            }
            // `-beta.0` is a pre-release; `-1.18.5` or `-v1.12.4` is the other end of a range.
            if at(i) == Some('-')
                && at(i + 1).is_some_and(|n| n.is_ascii_alphabetic() && n != 'v' && n != 'V')
            {
                i += 1;
                while at(i).is_some_and(|d| d.is_ascii_alphanumeric() || d == '.' || d == '-') {
                    i += 1;
                }
            }
            let mut end = i;
            let mut plus = false;
            if at(i) == Some('+') {
                plus = true;
                i += 1;
            }
            // A sentence-ending dot is not part of the version.
            while end > start && at(end - 1) == Some('.') {
                end -= 1;
            }
            let text: String = chars
                .get(start..end)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            let spec = VersionSpec::parse(&text).map_err(|e| e.reason)?;
            toks.push(Tok::Ver(spec, plus));
        } else if c == '-' || c == '~' {
            i += 1;
            toks.push(Tok::Sep);
        } else if c == '/' {
            i += 1;
            toks.push(Tok::Slash);
        } else if c == ',' || c == ';' {
            i += 1;
            toks.push(Tok::Comma);
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while at(i).is_some_and(|d| {
                d.is_alphanumeric() || d == '_' || d == '-' || d == '.' || d == '@'
            }) {
                i += 1;
            }
            let mut w: String = chars
                .get(start..i)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            while w.ends_with(['.', '-']) {
                w.pop();
            }
            if w.eq_ignore_ascii_case("to") || w.eq_ignore_ascii_case("through") {
                toks.push(Tok::Sep);
            } else {
                toks.push(Tok::Word(w));
            }
        } else {
            i += 1;
        }
    }
    Ok(toks)
}

/// Splits off "resolved in X" / "fixed in X": the fix named inside an affected line.
fn split_inline_fix(line: &str) -> (String, Option<Version>) {
    let lower = line.to_ascii_lowercase();
    for marker in ["resolved in", "fixed in"] {
        if let Some(pos) = lower.find(marker) {
            let head = line
                .get(..pos)
                .unwrap_or("")
                .trim_end_matches(|c: char| c == '(' || c == ',' || c.is_whitespace());
            let tail = line.get(pos + marker.len()..).unwrap_or("");
            let fix = tokenize(tail).ok().and_then(|toks| {
                toks.into_iter().find_map(|t| match t {
                    Tok::Ver(VersionSpec::Full(v), _) => Some(v),
                    _ => None,
                })
            });
            return (head.to_owned(), fix);
        }
    }
    (line.to_owned(), None)
}

/// Component words before the first version or operator.
fn leading_components(toks: &[Tok]) -> (Vec<Component>, usize) {
    let n = toks
        .iter()
        .position(|t| matches!(t, Tok::Ver(..) | Tok::Op(_)))
        .unwrap_or(toks.len());
    let words: Vec<&str> = toks
        .iter()
        .take(n)
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.as_str()),
            Tok::Slash => Some("/"),
            _ => None,
        })
        .collect();
    (component::from_words(&words), n)
}

fn read_affected_line(line: &str) -> Result<Option<Span>, &'static str> {
    let cleaned = clean(line);
    let (head, inline_fix) = split_inline_fix(&cleaned);
    let head = drop_parens(&head);
    let lower = head.to_ascii_lowercase();
    let toks = tokenize(&head)?;
    let (components, n) = leading_components(&toks);
    let unknown = toks
        .iter()
        .take(n)
        .filter(|t| matches!(t, Tok::Word(w) if component::lookup(w).is_none() && !FILLER.contains(&w.to_ascii_lowercase().as_str())))
        .count();
    if unknown > 2 {
        // "kubeadm and GKE do not allow enabling PodSecurityPolicy in 1.5": a sentence that
        // mentions a version, not a version line.
        return Err("a sentence, not a version line");
    }
    let rest = toks.get(n..).unwrap_or(&[]);
    let versions = rest.iter().filter(|t| matches!(t, Tok::Ver(..))).count();
    if versions == 0 {
        if lower.contains("all versions") || lower.contains("all kubernetes versions") {
            return Ok(Some(Span {
                components,
                lo: None,
                hi: None,
                inline_fix,
                text: String::new(),
            }));
        }
        return Ok(None);
    }
    let prior =
        lower.contains("prior to") || lower.contains("older than") || lower.contains("before");
    let span = match rest {
        [Tok::Op(op), Tok::Ver(v, _), ..] if versions == 1 => match *op {
            "<=" => Span {
                components,
                lo: None,
                hi: Some(upper_inclusive(v)),
                inline_fix,
                text: String::new(),
            },
            "<" => Span {
                components,
                lo: None,
                hi: Some(UpperBound::Exclusive(v.as_lower())),
                inline_fix,
                text: String::new(),
            },
            ">=" => Span {
                components,
                lo: Some(v.as_lower()),
                hi: None,
                inline_fix,
                text: String::new(),
            },
            "=" => single(components, v, inline_fix),
            _ => return Err("`>` lower bounds are not used by announcements; write `>=`"),
        },
        [Tok::Ver(a, _), Tok::Sep, Tok::Ver(b, _), ..] if versions == 2 => {
            let lo = a.as_lower();
            let hi = b.as_upper();
            if !hi.admits(&lo) {
                return Err("range ends below its start");
            }
            Span {
                components,
                lo: Some(lo),
                hi: Some(hi),
                inline_fix,
                text: String::new(),
            }
        }
        [Tok::Ver(v, _), ..] if versions == 1 && prior => Span {
            components,
            lo: None,
            hi: Some(UpperBound::Exclusive(v.as_lower())),
            inline_fix,
            text: String::new(),
        },
        [Tok::Ver(v, true), ..] if versions == 1 => Span {
            components,
            lo: Some(v.as_lower()),
            hi: None,
            inline_fix,
            text: String::new(),
        },
        [Tok::Ver(v, false), ..] if versions == 1 => single(components, v, inline_fix),
        _ => return Err("expected `X`, `X - Y`, `<= X`, `< X` or `>= X`"),
    };
    Ok(Some(span))
}

/// Words that may stand before a version on a version line besides component names.
const FILLER: &[&str] = &[
    "kubernetes",
    "k8s",
    "version",
    "versions",
    "all",
    "only",
    "controller",
    "release",
    "releases",
    "the",
    "official",
    "prior",
    "before",
    "older",
    "than",
    "image",
    "builder",
    "from",
    "and",
    "including",
    "package",
    "packages",
    "binaries",
    "binary",
    "affected",
    "in",
];

/// `<= 1.6.x` means all of 1.6; `<= 1.16.10` means up to and including it.
fn upper_inclusive(v: &VersionSpec) -> UpperBound {
    v.as_upper()
}

fn single(components: Vec<Component>, v: &VersionSpec, inline_fix: Option<Version>) -> Span {
    Span {
        components,
        lo: Some(v.as_lower()),
        hi: Some(v.as_upper()),
        inline_fix,
        text: String::new(),
    }
}

fn read_fix_line(line: &str) -> FixLine {
    let cleaned = drop_parens(&clean(line));
    let lower = cleaned.to_ascii_lowercase();
    if lower.trim_start().starts_with("none") {
        return FixLine::None;
    }
    let toks = match tokenize(&cleaned) {
        Ok(t) => t,
        Err(why) => return FixLine::Unreadable(why),
    };
    let words_master = toks.iter().any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("master") || w.eq_ignore_ascii_case("main")));
    let commit = toks
        .iter()
        .any(|t| matches!(t, Tok::Word(w) if w.contains('@')));
    let versions: Vec<&VersionSpec> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Ver(v, _) => Some(v),
            _ => None,
        })
        .collect();
    match versions.as_slice() {
        [] if commit => FixLine::Commit,
        [] if words_master => FixLine::Master,
        [] => FixLine::Prose,
        [v] => {
            let (components, _) = leading_components(&toks);
            let components = components
                .into_iter()
                .filter(|c| c.name != "master")
                .collect();
            FixLine::Fix(Fix {
                components,
                version: v.as_lower(),
                text: String::new(),
            })
        }
        _ => FixLine::Unreadable("more than one version on a fixed line"),
    }
}

fn derive_from_fixes(fixes: &[Fix]) -> Vec<Span> {
    let lowest = fixes.iter().map(|f| &f.version).min();
    fixes
        .iter()
        .map(|f| {
            let oldest = Some(&f.version) == lowest;
            let start = f.version.branch_start();
            Span {
                components: f.components.clone(),
                lo: if oldest || start == f.version {
                    None
                } else {
                    Some(start)
                },
                hi: Some(UpperBound::Exclusive(f.version.clone())),
                inline_fix: None,
                text: format!("fixed: {}", f.text),
            }
        })
        .collect()
}

/// Pairs spans with fixes per component and merges touching intervals.
fn pair(
    spans: Vec<Span>,
    fixes: &[Fix],
    default: &[Component],
    warnings: &mut Vec<String>,
) -> Vec<AffectedComponent> {
    let mut names: Vec<Component> = Vec::new();
    for span in &spans {
        let comps = if span.components.is_empty() {
            default
        } else {
            &span.components
        };
        for c in comps {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
    }
    let mut paired_fixes = vec![false; fixes.len()];
    let mut out = Vec::new();
    for comp in names {
        let mut mine: Vec<&Span> = spans
            .iter()
            .filter(|s| {
                if s.components.is_empty() {
                    default.contains(&comp)
                } else {
                    s.components.contains(&comp)
                }
            })
            .collect();
        let my_fixes: Vec<(usize, &Fix)> = fixes
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.components.is_empty()
                    || f.components.contains(&comp)
                    || (f.components.len() == 1
                        && f.components.iter().all(|c| c.name == "kubernetes"))
            })
            .collect();
        // Oldest first by upper bound: only the oldest `<= X` line reaches back to version 0.
        mine.sort_by(|a, b| cmp_hi(a.hi.as_ref(), b.hi.as_ref()));
        let mut ranges = Vec::new();
        for (i, span) in mine.iter().enumerate() {
            let lo = match &span.lo {
                Some(lo) => Some(lo.clone()),
                None if i == 0 => None,
                None => span
                    .hi
                    .as_ref()
                    .map(|h| h.version().branch_start())
                    .filter(|start| span.hi.as_ref().is_some_and(|h| h.admits(start))),
            };
            match &span.hi {
                Some(UpperBound::Inclusive(last)) => {
                    let fix = span.inline_fix.clone().or_else(|| {
                        my_fixes
                            .iter()
                            .filter(|(_, f)| {
                                f.version.branch() == last.branch() && f.version > *last
                            })
                            .min_by(|a, b| a.1.version.cmp(&b.1.version))
                            .map(|(k, f)| {
                                if let Some(p) = paired_fixes.get_mut(*k) {
                                    *p = true;
                                }
                                f.version.clone()
                            })
                    });
                    ranges.push(Range {
                        introduced: lo,
                        fixed: fix,
                        last_affected: Some(last.clone()),
                    });
                }
                Some(UpperBound::Exclusive(x)) => {
                    for (k, f) in &my_fixes {
                        if f.version.branch() == x.branch()
                            && f.version <= *x
                            && let Some(p) = paired_fixes.get_mut(*k)
                        {
                            *p = true;
                        }
                    }
                    ranges.push(Range {
                        introduced: lo,
                        fixed: Some(x.clone()),
                        last_affected: None,
                    });
                }
                None => {
                    // ">= X" (or "all versions") with per-branch fixes: vulnerable up to the fix on
                    // each fixed branch; releases above the newest fixed branch are taken as fixed.
                    let mut branch_fixes: Vec<(usize, &Fix)> = my_fixes
                        .iter()
                        .filter(|(_, f)| lo.as_ref().is_none_or(|l| f.version >= *l))
                        .copied()
                        .collect();
                    branch_fixes.sort_by(|a, b| a.1.version.cmp(&b.1.version));
                    for (j, (k, f)) in branch_fixes.iter().enumerate() {
                        if let Some(p) = paired_fixes.get_mut(*k) {
                            *p = true;
                        }
                        let introduced = if j == 0 {
                            lo.clone()
                        } else {
                            Some(f.version.branch_start())
                        };
                        ranges.push(Range {
                            introduced,
                            fixed: Some(f.version.clone()),
                            last_affected: None,
                        });
                    }
                    // No fix named for any branch: every version from `lo` on (or up to an inline fix).
                    if branch_fixes.is_empty() {
                        ranges.push(Range {
                            introduced: lo.clone(),
                            fixed: span.inline_fix.clone(),
                            last_affected: None,
                        });
                    }
                }
            }
        }
        let ranges = merge(sanitize(ranges, &comp.name, warnings));
        if !ranges.is_empty() {
            let mut lines: Vec<String> = Vec::new();
            for span in &mine {
                if !span.text.is_empty() && !lines.contains(&span.text) {
                    lines.push(span.text.clone());
                }
            }
            out.push(AffectedComponent {
                component: comp.name.clone(),
                package: comp.package.clone(),
                ranges,
                lines,
            });
        }
    }
    // A fix on a branch that no affected line covers: either the first release of a new minor
    // (normal) or a branch the affected list forgot (worth saying).
    let top = out
        .iter()
        .flat_map(|c| &c.ranges)
        .filter_map(|r| r.fixed.as_ref().or(r.last_affected.as_ref()))
        .max()
        .cloned();
    for (fix, paired) in fixes.iter().zip(&paired_fixes) {
        let covered = out
            .iter()
            .flat_map(|c| &c.ranges)
            .any(|r| r.contains(&fix.version) || r.fixed.as_ref() == Some(&fix.version));
        let new_minor = fix.version.patch() == 0 && top.as_ref().is_none_or(|t| fix.version >= *t);
        // `X.Y.0` has nothing below it on its branch (the fuzzer found the empty range this made).
        if !paired
            && !covered
            && !new_minor
            && !fix.version.is_prerelease()
            && fix.version.branch_start() < fix.version
        {
            // A fix on a branch the affected list left out (CVE-2025-0426 lists 1.30-1.32 but
            // fixes 1.29.14 too): that branch was affected below its fix.
            warnings.push(format!("fixed version {} has no matching affected line; {}.{}.x below it taken as affected", fix.version, fix.version.major(), fix.version.minor()));
            let extra = Range {
                introduced: Some(fix.version.branch_start()),
                fixed: Some(fix.version.clone()),
                last_affected: None,
            };
            for c in out.iter_mut().filter(|c| {
                fix.components.is_empty() || fix.components.iter().any(|f| f.name == c.component)
            }) {
                let mut ranges = std::mem::take(&mut c.ranges);
                ranges.push(extra.clone());
                c.ranges = merge(ranges);
                let line = format!("fixed: {}", fix.text);
                if !c.lines.contains(&line) {
                    c.lines.push(line);
                }
            }
        }
    }
    out
}

fn cmp_hi(a: Option<&UpperBound>, b: Option<&UpperBound>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.version().cmp(y.version()),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Drops ends that contradict their start (a fix at or below `introduced`, a last affected
/// version below it), with a warning, so every range is a non-empty interval.
pub fn sanitize(ranges: Vec<Range>, what: &str, warnings: &mut Vec<String>) -> Vec<Range> {
    let mut out = Vec::with_capacity(ranges.len());
    for mut r in ranges {
        if let (Some(lo), Some(f)) = (&r.introduced, &r.fixed)
            && f <= lo
        {
            warnings.push(format!(
                "{what}: fixed version {f} is not above the range start {lo}; fixed version dropped"
            ));
            r.fixed = None;
        }
        if let (Some(f), Some(l)) = (&r.fixed, &r.last_affected)
            && f <= l
        {
            warnings.push(format!(
                "{what}: fixed version {f} is not above last affected {l}; fixed version dropped"
            ));
            r.fixed = None;
        }
        if let (Some(lo), Some(l)) = (&r.introduced, &r.last_affected)
            && l < lo
        {
            warnings.push(format!(
                "{what}: last affected {l} is below the range start {lo}; range dropped"
            ));
            continue;
        }
        out.push(r);
    }
    out
}

/// What the parser guarantees about its output (checked by the fuzz target and the regression
/// replay): per component, non-empty intervals, sorted, neither overlapping nor touching.
pub fn check_invariants(b: &BodyVersions) -> Result<(), String> {
    for c in &b.affected {
        if c.component.is_empty() || c.package.is_empty() {
            return Err(format!("empty component or package: {c:?}"));
        }
        for r in &c.ranges {
            let lo = r.introduced.as_ref();
            let bad_fixed = r.fixed.as_ref().is_some_and(|f| {
                lo.is_some_and(|lo| f <= lo) || r.last_affected.as_ref().is_some_and(|l| f <= l)
            });
            let bad_last = r
                .last_affected
                .as_ref()
                .is_some_and(|l| lo.is_some_and(|lo| l < lo));
            if bad_fixed || bad_last {
                return Err(format!("{}: empty range {r:?}", c.component));
            }
        }
        for w in c.ranges.windows(2) {
            if let [a, b] = w {
                let Some(next) = &b.introduced else {
                    return Err(format!(
                        "{}: introduced 0 after another range: {:?}",
                        c.component, c.ranges
                    ));
                };
                let separate = match a.end_key() {
                    End::Before(f) => f < next,
                    End::AtOrBefore(l) => l < next,
                    End::Open => false,
                };
                if !separate {
                    return Err(format!(
                        "{}: ranges overlap or touch: {:?}",
                        c.component, c.ranges
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Sorts by start and merges overlapping or touching intervals (`… fixed 1.7.0` + `introduced
/// 1.7.0 …`), so OSV events come out sorted and non-overlapping.
pub fn merge(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort_by(|a, b| {
        a.introduced
            .cmp(&b.introduced)
            .then_with(|| a.end_key().rank().cmp(&b.end_key().rank()))
    });
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if let Some(prev) = out.last_mut() {
            let touches = match &r.introduced {
                None => true,
                Some(lo) => prev.end_key().reaches(lo),
            };
            if touches {
                if r.end_key().rank() > prev.end_key().rank() {
                    prev.fixed = r.fixed;
                    prev.last_affected = r.last_affected;
                }
                continue;
            }
        }
        out.push(r);
    }
    out
}

mod introduced_serde {
    use crate::version::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Version>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_str("0"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Version>, D::Error> {
        let text = String::deserialize(d)?;
        if text == "0" {
            return Ok(None);
        }
        Version::parse(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

mod opt_version_serde {
    use crate::version::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Version>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Version>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => Version::parse(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// `component: lo..end` lines for compact assertions.
    fn show(b: &BodyVersions) -> Vec<String> {
        b.affected
            .iter()
            .flat_map(|c| {
                c.ranges.iter().map(move |r| {
                    format!(
                        "{} {}..{}{}",
                        c.component,
                        r.introduced
                            .as_ref()
                            .map_or("0".to_owned(), |x| x.to_string()),
                        r.fixed.as_ref().map_or(String::new(), |x| format!("<{x}")),
                        r.last_affected
                            .as_ref()
                            .map_or(String::new(), |x| format!(" last {x}"))
                    )
                })
            })
            .collect()
    }

    fn parse(body: &str) -> BodyVersions {
        parse_body(body, None, "")
    }

    #[test]
    fn component_ranges_paired_by_branch() {
        let b = parse(
            "### Affected Versions\r\n\r\n- kube-apiserver v1.27.0 - v1.27.2\r\n- kube-apiserver <= v1.24.14\r\n- kube-apiserver v1.25.0 - v1.25.10\r\n\r\n### Fixed Versions\r\n- kube-apiserver v1.24.15\r\n- kube-apiserver v1.25.11\r\n- kube-apiserver v1.27.3\r\n",
        );
        assert_eq!(
            show(&b),
            [
                "kube-apiserver 0..<1.24.15 last 1.24.14",
                "kube-apiserver 1.25.0..<1.25.11 last 1.25.10",
                "kube-apiserver 1.27.0..<1.27.3 last 1.27.2"
            ]
        );
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        assert_eq!(b.fixed_versions, [v("1.24.15"), v("1.25.11"), v("1.27.3")]);
    }

    #[test]
    fn shapes() {
        let cases: &[(&str, &[&str])] = &[
            (
                "- kubelet v1.18.0-1.18.5",
                &["kubelet 1.18.0.. last 1.18.5"],
            ),
            (
                "- kubelet v1.30.0 to v1.30.2",
                &["kubelet 1.30.0.. last 1.30.2"],
            ),
            ("* Kubernetes 1.3.x-1.6.x", &["kubernetes 1.3.0..<1.7.0"]),
            ("- kubelet v1.20 - v1.21", &["kubelet 1.20.0..<1.22.0"]),
            (
                "- kubelet/kube-proxy <=1.16.10",
                &["kubelet 0.. last 1.16.10", "kube-proxy 0.. last 1.16.10"],
            ),
            ("- <v1.2.0", &["kubernetes 0..<1.2.0"]),
            (
                "ingress-nginx controller < v1.10.4",
                &["ingress-nginx 0..<1.10.4"],
            ),
            ("kube-apiserver >= v1.3", &["kube-apiserver 1.3.0.."]),
            ("* Kubelet v1.13.6", &["kubelet 1.13.6.. last 1.13.6"]),
            (
                "- all kube-apiserver versions prior to v1.16.0",
                &["kube-apiserver 0..<1.16.0"],
            ),
            ("All versions of Kubernetes", &["kubernetes 0.."]),
            (
                "- Kubernetes kube-apiserver <= v1.25.3",
                &["kube-apiserver 0.. last 1.25.3"],
            ),
            (
                "- Kubernetes Image Builder versions <= v0.1.37",
                &["image-builder 0.. last 0.1.37"],
            ),
            (
                "v1.16.0 - v1.18.18 (Note: EndpointSlices were not enabled by default in 1.16-1.18)",
                &["kubernetes 1.16.0.. last 1.18.18"],
            ),
            (
                "* Kubernetes v1.13.0-1.13.11, resolved in v1.13.12 by https://github.com/kubernetes/kubernetes/pull/83436",
                &["kubernetes 1.13.0..<1.13.12 last 1.13.11"],
            ),
            (
                "* Kubernetes v1.10.0-1.10.10 (fixed in [v1.10.11](https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG-1.10.md/#v11011))",
                &["kubernetes 1.10.0..<1.10.11 last 1.10.10"],
            ),
            ("- v1.11.0 \\- 1.11.4", &["kubernetes 1.11.0.. last 1.11.4"]),
            (
                "- kubernetes-csi-proxy <= v2.0.0-alpha.0",
                &["csi-proxy 0.. last 2.0.0-alpha.0"],
            ),
            (
                "- secrets-store-csi-driver < 1.3.3",
                &["secrets-store-csi-driver 0..<1.3.3"],
            ),
            ("- kubelet <= 1.27.15", &["kubelet 0.. last 1.27.15"]),
            (
                "- kubelet >= v1.8.0 (including all later minor versions)",
                &["kubelet 1.8.0.."],
            ),
            ("kubectl v1.8.0+", &["kubectl 1.8.0.."]),
        ];
        for (line, want) in cases {
            let b = parse(&format!("#### Affected Versions\r\n{line}\r\n"));
            assert_eq!(show(&b), *want, "{line}");
            assert!(b.warnings.is_empty(), "{line}: {:?}", b.warnings);
        }
    }

    #[test]
    fn fixed_line_shapes() {
        let b = parse(
            "**Affected Versions**\n- kube-controller-manager v1.18.0\n- kube-controller-manager v1.17.0 - v1.17.4\n- kube-controller-manager <= v1.15.11\n**Fixed Versions**\n- kube-controller-manager master - fixed by https://github.com/kubernetes/kubernetes/pull/89794\n- kube-controller-manager v1.18.1+ - fixed by #1\n- kube-controller-manager v1.17.5+ - fixed by https://x/1\n* Fixed in v1.15.12 by #61047\nTo upgrade, refer to the documentation: https://kubernetes.io/docs/tasks/administer-cluster/cluster-management/#upgrading-a-cluster\n",
        );
        assert_eq!(
            show(&b),
            [
                "kube-controller-manager 0..<1.15.12 last 1.15.11",
                "kube-controller-manager 1.17.0..<1.17.5 last 1.17.4",
                "kube-controller-manager 1.18.0..<1.18.1 last 1.18.0"
            ]
        );
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    }

    #[test]
    fn not_oldest_upper_bound_starts_at_its_branch() {
        // srctl-style input that makes peers emit `introduced: 0` twice (research §2.4).
        let b = parse(
            "#### Affected Versions\n- kube-apiserver < v1.31.12\n- kube-apiserver v1.32.0 < v1.32.8\n- kube-apiserver < v1.33.4\n",
        );
        // The middle line has two versions around `<`: not an announcement shape, so a warning.
        assert_eq!(
            show(&b),
            [
                "kube-apiserver 0..<1.31.12",
                "kube-apiserver 1.33.0..<1.33.4"
            ]
        );
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
        let b = parse(
            "### Affected Versions\ningress-nginx controller < v1.11.2\ningress-nginx controller < v1.10.4\n",
        );
        assert_eq!(
            show(&b),
            ["ingress-nginx 0..<1.10.4", "ingress-nginx 1.11.0..<1.11.2"]
        );
    }

    #[test]
    fn open_lower_bound_split_by_branch_fixes() {
        let b = parse(
            "#### Affected Versions\n- kubelet >= v1.8.0 (including all later minor versions)\n#### Fixed Versions\n- kubelet master - fixed by #121881\n- kubelet v1.28.4 - fixed by #121882\n- kubelet v1.27.8 - fixed by #121883\n- kubelet v1.25.16 - fixed by #121885\n",
        );
        assert_eq!(
            show(&b),
            [
                "kubelet 1.8.0..<1.25.16",
                "kubelet 1.27.0..<1.27.8",
                "kubelet 1.28.0..<1.28.4"
            ]
        );
        let b = parse(
            "#### Affected Versions\nkube-apiserver >= v1.3\n#### Fixed Versions\n- None. A longer term fix is proposed\n",
        );
        assert!(b.unfixed);
        assert_eq!(show(&b), ["kube-apiserver 1.3.0.."]);
    }

    #[test]
    fn multi_cve_body_uses_its_own_section() {
        let body = "### CVE-2023-1111: A\n### Affected Versions\n- kubelet v1.1.0 - v1.1.2\n### CVE-2023-2222: B\n### Affected Versions\n- kube-apiserver v1.2.0 - v1.2.3\n";
        assert_eq!(
            show(&parse_body(body, Some("CVE-2023-2222"), "")),
            ["kube-apiserver 1.2.0.. last 1.2.3"]
        );
        assert_eq!(
            show(&parse_body(body, Some("CVE-2023-1111"), "")),
            ["kubelet 1.1.0.. last 1.1.2"]
        );
    }

    #[test]
    fn unreadable_lines_are_warnings() {
        let b = parse(
            "#### Affected Versions\n- kubelet v1.2.3 v1.4.5 v1.6.7\n- kubelet v99999999999999999999999.0.0\n- something\n#### Fixed Versions\n- ingress-nginx [main@06c992a](https://github.com/x)\n- Kubernetes v1.10-v1.14 - Fix available as alpha\n",
        );
        assert!(b.affected.is_empty());
        assert_eq!(b.warnings.len(), 5, "{:#?}", b.warnings);
        let b = parse("no sections at all, v1.2.3 mentioned");
        assert!(!b.has_version_section && b.warnings.is_empty() && b.affected.is_empty());
    }

    #[test]
    fn merge_touching() {
        let r = |lo: Option<&str>, f: Option<&str>| Range {
            introduced: lo.map(v),
            fixed: f.map(v),
            last_affected: None,
        };
        let m = merge(vec![
            r(Some("1.7.0"), Some("1.7.14")),
            r(Some("1.3.0"), Some("1.7.0")),
            r(None, Some("1.2.0")),
        ]);
        assert_eq!(
            m,
            vec![r(None, Some("1.2.0")), r(Some("1.3.0"), Some("1.7.14"))]
        );
        assert!(
            m[1].contains(&v("1.5.9"))
                && !m[1].contains(&v("1.7.14"))
                && !m[0].contains(&v("1.2.0"))
        );
    }
}
