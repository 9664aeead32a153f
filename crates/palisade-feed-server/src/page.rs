//! The page at `/`: every CVE, searchable, filtered by severity, Kubernetes version and
//! component, sorted by date, score or ID, with links to every output.
//!
//! Server-rendered from query parameters (a plain GET form), so it works without JavaScript.
//! The version and component filters drop rows (they need the matcher); search and severity
//! mark the rows they exclude `hidden`, and every row carries its search text and sort keys as
//! `data-*` attributes, so the small inline script can filter and re-sort as the reader types
//! with the same rules the server applied. The script and style are constants allowed by their
//! SHA-256 in a strict Content-Security-Policy ([`content_security_policy`]). Every value from
//! the feed goes through [`esc`].

use axum::http::StatusCode;
use base64::Engine;
use palisade_feed::affected::Range;
use palisade_feed::component;
use palisade_feed::feed::{JsonFeed, JsonItem};
use palisade_feed::matcher::{self, Target};
use palisade_feed::timestamp;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::OnceLock;

/// A longer query string is refused whole (`400`, no filter applied). The form's own fields at
/// their limits stay under it even in 4-byte characters, percent-encoded (12 bytes each).
pub const MAX_QUERY_BYTES: usize = 4096;
/// Longest `q` (search text), in characters; the input's `maxlength`.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest `version` or `component`, in characters.
pub const MAX_FIELD_CHARS: usize = 64;

/// The severity buckets of the filter: CVSS v3/v4 qualitative ratings, with `none` also holding
/// CVEs that have no (valid) vector, since both carry no rating to act on.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "none"];

/// What the rows are ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Publication (issue creation) time.
    #[default]
    Published,
    /// Last update time (publication time when never updated).
    Updated,
    /// CVSS base score; CVEs without one sort below 0.0.
    Score,
    /// CVE ID by year, then number (`CVE-2019-11243` before `CVE-2019-1002101`).
    Id,
}

impl Sort {
    const ALL: [(Sort, &'static str, &'static str); 4] = [
        (Sort::Published, "published", "published date"),
        (Sort::Updated, "updated", "updated date"),
        (Sort::Score, "score", "CVSS score"),
        (Sort::Id, "id", "CVE ID"),
    ];
}

/// The page's query, as read by [`Filter::from_query`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A Kubernetes (or component) version: `1.27.3`, `v1.27.3`, `v1.28.3-eks-1`.
    pub version: Option<String>,
    /// A component (`kubelet`, `kube-apiserver`, `ingress-nginx`) or Go module.
    pub component: Option<String>,
    /// Free text: every whitespace-separated word must occur (case-insensitively) in the CVE ID,
    /// summary, related IDs or component names.
    pub search: Option<String>,
    /// Severity buckets to show (any of [`SEVERITIES`]); empty shows all.
    pub severities: Vec<&'static str>,
    pub sort: Sort,
    /// Ascending; descending (newest, highest first) by default.
    pub ascending: bool,
}

impl Filter {
    /// Reads `version`, `component`, `q`, `severity` (repeatable), `sort`
    /// (`published|updated|score|id`) and `order` (`asc|desc`). Other parameters are ignored (a
    /// link may carry tracking parameters). A value that is unknown, too long, or given twice
    /// for a single-valued parameter is left out and named in the returned problems, which the
    /// page shows with status `400`; the rest of the query still applies. A query string over
    /// [`MAX_QUERY_BYTES`] is not read at all.
    pub fn from_query(raw: Option<&str>) -> (Filter, Vec<String>) {
        let mut f = Filter::default();
        let mut problems = Vec::new();
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_BYTES {
            problems.push(format!(
                "The query is {} bytes, over the {MAX_QUERY_BYTES}-byte limit; no filter applied.",
                raw.len()
            ));
            return (f, problems);
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let single = matches!(
                key.as_ref(),
                "version" | "component" | "q" | "sort" | "order"
            );
            if single && !seen.insert(key.to_string()) {
                problems.push(format!(
                    "Parameter `{key}` given more than once; the first is used."
                ));
                continue;
            }
            let value = value.trim();
            let too_long = |limit: usize| value.chars().count() > limit;
            match key.as_ref() {
                "version" | "component" if too_long(MAX_FIELD_CHARS) => problems.push(format!(
                    "Parameter `{key}` is over {MAX_FIELD_CHARS} characters; ignored."
                )),
                "version" => f.version = Some(value.to_owned()).filter(|v| !v.is_empty()),
                "component" => f.component = Some(value.to_owned()).filter(|v| !v.is_empty()),
                "q" if too_long(MAX_SEARCH_CHARS) => problems.push(format!(
                    "The search text is over {MAX_SEARCH_CHARS} characters; ignored."
                )),
                "q" => f.search = Some(value.to_owned()).filter(|v| !v.is_empty()),
                "severity" => match SEVERITIES.iter().find(|s| value.eq_ignore_ascii_case(s)) {
                    Some(s) if !f.severities.contains(s) => f.severities.push(s),
                    Some(_) => {}
                    None if value.is_empty() => {}
                    None => problems.push(format!(
                        "Severity `{}` is not one of {}; ignored.",
                        clip(value),
                        SEVERITIES.join(", ")
                    )),
                },
                "sort" => match Sort::ALL.iter().find(|(_, n, _)| value == *n) {
                    Some((s, _, _)) => f.sort = *s,
                    None => problems.push(format!(
                        "Sort `{}` is not one of published, updated, score, id; sorted by published date.",
                        clip(value)
                    )),
                },
                "order" => match value {
                    "asc" => f.ascending = true,
                    "desc" => f.ascending = false,
                    _ => problems.push(format!(
                        "Order `{}` is not asc or desc; descending.",
                        clip(value)
                    )),
                },
                _ => {}
            }
        }
        (f, problems)
    }
}

/// A rejected value as quoted back in a notice: at most 40 characters.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The component as the feed names it, for a user's spelling.
fn canonical(c: &str) -> String {
    component::lookup(c).map_or_else(|| c.to_ascii_lowercase(), |c| c.name)
}

fn component_matches(item: &JsonItem, wanted: &str) -> bool {
    item.kubernetes_io.affected.iter().any(|c| {
        c.component == wanted
            || c.package == wanted
            || (c.component == "kubernetes" && component::is_core(wanted))
    })
}

fn range_text(r: &Range) -> String {
    let lo = r.introduced.as_ref().map(|v| format!("≥ {v}"));
    let hi = match (&r.fixed, &r.last_affected) {
        (Some(f), _) => Some(format!("< {f}")),
        (None, Some(l)) => Some(format!("≤ {l}")),
        (None, None) => None,
    };
    match (lo, hi) {
        (Some(l), Some(h)) => format!("{l}, {h}"),
        (Some(l), None) => l,
        (None, Some(h)) => h,
        (None, None) => "all versions".to_owned(),
    }
}

/// What the search looks in, lowercased: ID, summary, related IDs, affected components and
/// their modules, and the components the issue names. The script searches the same string.
fn search_text(item: &JsonItem) -> String {
    let ext = &item.kubernetes_io;
    let mut parts: Vec<&str> = vec![&item.id, &item.summary];
    parts.extend(ext.related.iter().map(String::as_str));
    for c in &ext.affected {
        parts.push(&c.component);
        parts.push(&c.package);
    }
    parts.extend(ext.about.components.iter().map(String::as_str));
    parts.join(" ").to_lowercase()
}

fn search_matches(haystack: &str, search: &str) -> bool {
    search
        .to_lowercase()
        .split_whitespace()
        .all(|w| haystack.contains(w))
}

/// The severity bucket of an item (one of [`SEVERITIES`]).
fn severity_of(item: &JsonItem) -> &'static str {
    item.kubernetes_io
        .cvss
        .as_ref()
        .and_then(|c| {
            SEVERITIES
                .iter()
                .find(|s| c.score.severity.eq_ignore_ascii_case(s))
        })
        .copied()
        .unwrap_or("none")
}

/// One row with its sort keys; the script compares the same integers.
struct Row<'a> {
    item: &'a JsonItem,
    /// Position in the feed (newest first): the tie-breaker in every order.
    n: usize,
    published: i64,
    updated: i64,
    /// Base score x10; -1 without one.
    score: i64,
    /// Rank in CVE-ID order.
    id_rank: usize,
    severity: &'static str,
    search: String,
    hidden: bool,
}

impl Row<'_> {
    fn key(&self, sort: Sort) -> i64 {
        match sort {
            Sort::Published => self.published,
            Sort::Updated => self.updated,
            Sort::Score => self.score,
            Sort::Id => i64::try_from(self.id_rank).unwrap_or(i64::MAX),
        }
    }
}

fn unix(ts: &str) -> i64 {
    timestamp::parse(ts).map_or(0, |t| t.unix_seconds())
}

/// `CVE-YYYY-N` as (year, number) so IDs order numerically; anything else after them as text.
fn id_order(id: &str) -> (u64, u64, &str) {
    let mut parts = id.split('-').skip(1);
    let mut num = || parts.next().and_then(|p| p.parse::<u64>().ok());
    match (num(), num()) {
        (Some(y), Some(n)) => (y, n, ""),
        _ => (u64::MAX, u64::MAX, id),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 .75rem;line-height:1.4;color:#1b1b1b}\
h1{font-size:1.4rem}form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:1rem 0}\
label{display:flex;flex-direction:column;font-size:.85rem}input,select,button{font-size:1rem;padding:.35rem;max-width:100%}\
label.q{flex:1 1 14rem}input[type=search]{width:100%;box-sizing:border-box}fieldset{border:1px solid #ccc;padding:.2rem .5rem;margin:0;display:flex;flex-wrap:wrap;gap:.1rem .6rem}\
legend{font-size:.85rem;padding:0 .2rem}fieldset label{flex-direction:row;align-items:center;gap:.2rem;font-size:.95rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}\
th{background:#f3f3f3;white-space:nowrap}td.w{overflow-wrap:anywhere}td.id,td.n{white-space:nowrap}.upd{display:block;font-size:.85rem;color:#555}\
.sev-critical,.sev-high{color:#a40000;font-weight:600}.sev-medium{color:#8a5a00}\
.note{background:#fff4ce;padding:.5rem}.outputs a{margin-right:.75rem}ul.r{margin:0;padding-left:1rem}[hidden]{display:none!important}\
@media (max-width:56rem){table,thead,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ddd;margin:.5rem 0;padding:.25rem}\
td{border:0;padding:.15rem .25rem}td::before{content:attr(data-label) \": \";font-weight:600}}";

/// Progressive enhancement: search, severity and sort apply as the reader types, with the rules
/// the server uses (see [`search_matches`], [`Row::key`]); the URL follows, so a reload or a
/// shared link gives the same page. Version and component still go through the form.
const SCRIPT: &str = r#"(function () {
  var f = document.getElementById("filter"), table = document.getElementById("cves"),
    count = document.getElementById("count");
  if (!f || !table || !count || !table.tBodies.length) return;
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows),
    keys = { published: "p", updated: "u", score: "s", id: "i" },
    own = ["q", "severity", "sort", "order"];
  function apply() {
    var terms = f.elements.q.value.toLowerCase().split(/\s+/).filter(Boolean),
      sev = Array.prototype.filter.call(f.querySelectorAll("input[name=severity]"),
        function (c) { return c.checked; }).map(function (c) { return c.value; }),
      n = 0;
    rows.forEach(function (r) {
      var text = r.getAttribute("data-search"),
        ok = terms.every(function (t) { return text.indexOf(t) >= 0; }) &&
          (!sev.length || sev.indexOf(r.getAttribute("data-sev")) >= 0);
      r.hidden = !ok;
      if (ok) n++;
    });
    var k = "data-" + (keys[f.elements.sort.value] || "p"),
      dir = f.elements.order.value === "asc" ? 1 : -1;
    rows.slice().sort(function (a, b) {
      return dir * (a.getAttribute(k) - b.getAttribute(k)) ||
        a.getAttribute("data-n") - b.getAttribute("data-n");
    }).forEach(function (r) { body.appendChild(r); });
    count.textContent = n + " of " + count.getAttribute("data-total") + " CVEs" +
      count.getAttribute("data-suffix");
    var params = new URLSearchParams(location.search);
    own.forEach(function (name) { params.delete(name); });
    new FormData(f).forEach(function (v, name) {
      if (own.indexOf(name) >= 0 && v !== "") params.append(name, v);
    });
    var query = params.toString();
    try { history.replaceState(null, "", query ? "?" + query : location.pathname); } catch (e) { /* file: pages */ }
  }
  f.addEventListener("input", apply);
  f.addEventListener("change", apply);
  table.setAttribute("data-js", "on");
})();"#;

fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The policy's fixed part: nothing loads but the page's own script and style, known by hash.
fn csp_base() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {}; style-src {}; base-uri 'none'; frame-ancestors 'none'",
            sha256_source(SCRIPT),
            sha256_source(STYLE)
        )
    })
}

/// The page's `Content-Security-Policy`. `form-action` allows this origin and, with a public
/// URL, that URL's origin (the form submits to it).
pub fn content_security_policy(base: &str) -> String {
    let mut csp = format!("{}; form-action 'self'", csp_base());
    if let Ok(u) = url::Url::parse(base) {
        let origin = u.origin();
        if origin.is_tuple() {
            csp.push(' ');
            csp.push_str(&origin.ascii_serialization());
        }
    }
    csp
}

/// Renders the page for a raw query string. `400` when a parameter was refused (the page says
/// which, and shows the rest of the query applied).
pub fn render(feed: &JsonFeed, raw_query: Option<&str>, base: &str) -> (StatusCode, String) {
    let (filter, mut problems) = Filter::from_query(raw_query);
    let base = esc(base);
    let wanted = filter.component.as_deref().map(canonical);
    // id -> the fixed version on the matched branch, when a version was given.
    let mut fixed_for: HashMap<String, Option<String>> = HashMap::new();
    let mut version_ok = None;
    let mut version_bad = false;
    if let Some(v) = filter.version.as_deref() {
        match matcher::cluster_version(v) {
            Ok(version) => {
                let target = Target {
                    label: "query".to_owned(),
                    component: wanted.clone(),
                    version: version.clone(),
                };
                for m in matcher::affected(feed, &target) {
                    fixed_for.insert(m.id, m.fixed);
                }
                version_ok = Some(version);
            }
            Err(e) => {
                version_bad = true;
                problems.push(format!(
                    "Version `{v}` not understood: {e}. Showing every version."
                ));
            }
        }
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };

    let mut id_sorted: Vec<&JsonItem> = feed.items.iter().collect();
    id_sorted.sort_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)));
    let id_rank: HashMap<&str, usize> = id_sorted
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.as_str(), i))
        .collect();
    let mut rows: Vec<Row<'_>> = feed
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| match (&version_ok, &wanted) {
            (Some(_), _) => fixed_for.contains_key(&i.id),
            (None, Some(w)) if !version_bad => component_matches(i, w),
            _ => true,
        })
        .map(|(n, item)| {
            let search = search_text(item);
            let severity = severity_of(item);
            let hidden = filter
                .search
                .as_deref()
                .is_some_and(|q| !search_matches(&search, q))
                || (!filter.severities.is_empty() && !filter.severities.contains(&severity));
            let published = unix(&item.date_published);
            Row {
                item,
                n,
                published,
                updated: item.date_modified.as_deref().map_or(published, unix),
                score: item.kubernetes_io.cvss.as_ref().map_or(-1, |c| {
                    // Scores are tenths in 0.0..=10.0: x10 is exact as an integer.
                    (c.score.base_score * 10.0).round() as i64
                }),
                id_rank: id_rank.get(item.id.as_str()).copied().unwrap_or(0),
                severity,
                search,
                hidden,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let by_key = a.key(filter.sort).cmp(&b.key(filter.sort));
        let by_key = if filter.ascending {
            by_key
        } else {
            by_key.reverse()
        };
        by_key.then(a.n.cmp(&b.n))
    });
    let components: BTreeSet<&str> = feed
        .items
        .iter()
        .flat_map(|i| {
            i.kubernetes_io
                .affected
                .iter()
                .map(|c| c.component.as_str())
        })
        .collect();

    let mut h = String::with_capacity(2048 + rows.len() * 1536);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><link rel=\"alternate\" type=\"application/feed+json\" href=\"{base}/feed.json\">\
<link rel=\"alternate\" type=\"application/rss+xml\" href=\"{base}/feed.xml\">\
<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{base}/atom.xml\">\
<style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n\
<p>Updated <time id=\"updated\">{updated}</time>; last checked {checked}.</p>\n\
<p class=\"outputs\">Outputs: <a href=\"{base}/feed.json\">JSON Feed</a><a href=\"{base}/feed.xml\">RSS</a>\
<a href=\"{base}/atom.xml\">Atom</a><a href=\"{base}/osv/all.zip\">OSV (zip)</a>\
<a href=\"{base}/docs/reference/issues-security/official-cve-feed/index.json\">kubernetes.io path</a></p>\n",
        title = esc(&feed.title),
        updated = esc(&feed.kubernetes_io.updated_at),
        checked = esc(feed
            .kubernetes_io
            .last_checked_at
            .as_deref()
            .unwrap_or("unknown")),
    );
    form(&mut h, &filter, wanted.as_deref(), &components, &base);
    if !problems.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\" id=\"notice\">{}</p>",
            esc(&problems.join(" "))
        );
    }
    let suffix = match (&version_ok, &wanted) {
        (Some(v), Some(c)) => format!(" affect {c} {v}"),
        (Some(v), None) => format!(" affect Kubernetes {v}"),
        (None, Some(c)) if !version_bad => format!(" name {c}"),
        _ => String::new(),
    };
    let _ = writeln!(
        h,
        "<p id=\"count\" aria-live=\"polite\" data-total=\"{total}\" data-suffix=\"{sfx}\">{shown} of {total} CVEs{sfx}</p>",
        shown = rows.iter().filter(|r| !r.hidden).count(),
        total = feed.items.len(),
        sfx = esc(&suffix),
    );
    h.push_str(
        "<table id=\"cves\"><thead><tr><th class=\"id\">ID</th><th>Summary</th><th>Severity</th>\
<th>Affected</th><th>Fixed in</th><th>Status</th><th>Published</th><th>Links</th></tr></thead><tbody>\n",
    );
    for r in &rows {
        row(
            &mut h,
            r,
            fixed_for.get(&r.item.id).cloned().flatten(),
            &base,
        );
    }
    let _ = write!(
        h,
        "</tbody></table>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
    (status, h)
}

/// The filter form; `base` already escaped.
fn form(
    h: &mut String,
    filter: &Filter,
    wanted: Option<&str>,
    components: &BTreeSet<&str>,
    base: &str,
) {
    let _ = write!(
        h,
        "<form method=\"get\" action=\"{base}/\" id=\"filter\" role=\"search\">\
<label class=\"q\">Search<input type=\"search\" name=\"q\" id=\"q\" value=\"{q}\" maxlength=\"{MAX_SEARCH_CHARS}\" \
placeholder=\"CVE ID, words, component\"></label><fieldset id=\"severity\"><legend>Severity</legend>",
        q = esc(filter.search.as_deref().unwrap_or("")),
    );
    for s in SEVERITIES {
        let checked = if filter.severities.contains(&s) {
            " checked"
        } else {
            ""
        };
        let text = if s == "none" { "none/unknown" } else { s };
        let _ = write!(
            h,
            "<label><input type=\"checkbox\" name=\"severity\" value=\"{s}\"{checked}>{text}</label>"
        );
    }
    h.push_str("</fieldset><label>Sort by<select name=\"sort\" id=\"sort\">");
    for (s, name, text) in Sort::ALL {
        let sel = if s == filter.sort { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{name}\"{sel}>{text}</option>");
    }
    let (asc, desc) = if filter.ascending {
        (" selected", "")
    } else {
        ("", " selected")
    };
    let _ = write!(
        h,
        "</select></label><label>Order<select name=\"order\" id=\"order\">\
<option value=\"desc\"{desc}>descending</option><option value=\"asc\"{asc}>ascending</option></select></label>\
<label>Kubernetes or component version<input name=\"version\" id=\"version\" value=\"{v}\" \
maxlength=\"{MAX_FIELD_CHARS}\" placeholder=\"1.30.2\" inputmode=\"decimal\"></label>\
<label>Component<select name=\"component\" id=\"component\"><option value=\"\">any</option>",
        v = esc(filter.version.as_deref().unwrap_or("")),
    );
    for c in components {
        let sel = if wanted == Some(*c) { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{c}\"{sel}>{c}</option>", c = esc(c));
    }
    let _ = writeln!(
        h,
        "</select></label><button type=\"submit\">Filter</button> <a href=\"{base}/\">clear</a></form>",
    );
}

/// `base`: already escaped.
fn row(h: &mut String, r: &Row<'_>, fixed_on_branch: Option<String>, base: &str) {
    let item = r.item;
    let id = esc(&item.id);
    let (sev, score) =
        item.kubernetes_io
            .cvss
            .as_ref()
            .map_or((String::new(), String::new()), |c| {
                (
                    c.score.severity.to_ascii_uppercase(),
                    format!("{:.1}", c.score.base_score),
                )
            });
    let _ = write!(
        h,
        "<tr class=\"cve\" id=\"{id}\" data-sev=\"{sevc}\" data-n=\"{n}\" data-p=\"{p}\" data-u=\"{u}\" \
data-s=\"{s}\" data-i=\"{i}\" data-search=\"{search}\"{hidden}><td data-label=\"ID\" class=\"id\">\
<a href=\"{ext}\">{id}</a></td><td data-label=\"Summary\" class=\"w\">{summary}</td>\
<td data-label=\"Severity\" class=\"n sev-{sevc}\">{sev} {score}</td><td data-label=\"Affected\" class=\"w\"><ul class=\"r\">",
        sevc = r.severity,
        n = r.n,
        p = r.published,
        u = r.updated,
        s = r.score,
        i = r.id_rank,
        search = esc(&r.search),
        hidden = if r.hidden { " hidden" } else { "" },
        ext = esc(&item.external_url),
        summary = esc(&item.summary),
        sev = esc(&sev),
    );
    for c in &item.kubernetes_io.affected {
        let ranges: Vec<String> = c.ranges.iter().map(range_text).collect();
        let _ = write!(
            h,
            "<li>{}: {}</li>",
            esc(&c.component),
            esc(&ranges.join("; "))
        );
    }
    let fixed = match fixed_on_branch {
        Some(f) => format!("<strong>{}</strong>", esc(&f)),
        None => esc(&item.kubernetes_io.fixed_versions.join(", ")),
    };
    let day = |t: &str| esc(t.get(..10).unwrap_or(t));
    let updated = match item.date_modified.as_deref() {
        Some(m) if day(m) != day(&item.date_published) => format!(
            "<span class=\"upd\">updated <time datetime=\"{}\">{}</time></span>",
            esc(m),
            day(m)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        h,
        "</ul></td><td data-label=\"Fixed in\" class=\"w\">{fixed}</td><td data-label=\"Status\">{status}</td>\
<td data-label=\"Published\" class=\"n\"><time datetime=\"{dp}\">{date}</time>{updated}</td>\
<td data-label=\"Links\"><a href=\"{url}\">issue #{num}</a> <a href=\"{base}/osv/{id}.json\">OSV</a></td></tr>",
        status = esc(item.status.as_deref().unwrap_or("")),
        dp = esc(&item.date_published),
        date = day(&item.date_published),
        url = esc(&item.url),
        num = item.kubernetes_io.issue_number,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn query_parameters() {
        let (f, p) = Filter::from_query(Some(
            "q=kubelet+Windows&severity=high&severity=CRITICAL&severity=high&sort=score&order=asc&utm_source=x&version=&component=kubelet",
        ));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(f.search.as_deref(), Some("kubelet Windows"));
        assert_eq!(f.severities, ["high", "critical"]);
        assert_eq!(f.sort, Sort::Score);
        assert!(f.ascending);
        assert_eq!(f.version, None);
        assert_eq!(f.component.as_deref(), Some("kubelet"));
        assert_eq!(Filter::from_query(None), (Filter::default(), vec![]));
    }

    #[test]
    fn bad_parameters_are_named_and_left_out() {
        let (f, p) = Filter::from_query(Some(
            "severity=urgent&sort=cvss&order=up&q=a&q=b&severity=low",
        ));
        assert_eq!(f.severities, ["low"]);
        assert_eq!(f.sort, Sort::Published);
        assert!(!f.ascending);
        assert_eq!(f.search.as_deref(), Some("a"));
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("`urgent`") && p[0].contains("critical, high"));
        assert!(p[1].contains("`cvss`"));
        assert!(p[2].contains("`up`"));
        assert!(p[3].contains("`q` given more than once"));

        let long = format!("q={}", "x".repeat(MAX_SEARCH_CHARS + 1));
        let (f, p) = Filter::from_query(Some(&long));
        assert_eq!(f.search, None);
        assert!(p[0].contains("over 200 characters"), "{p:?}");
        let ok = format!("q={}", "é".repeat(MAX_SEARCH_CHARS));
        assert!(Filter::from_query(Some(&ok)).1.is_empty());

        let huge = format!("severity=low&x={}", "y".repeat(MAX_QUERY_BYTES));
        let (f, p) = Filter::from_query(Some(&huge));
        assert_eq!(f, Filter::default());
        assert!(p[0].contains("4096-byte limit"), "{p:?}");
        // Every field of the form at its limit, in 4-byte characters, is still read.
        let wide = |n: usize| "%F0%9F%98%80".repeat(n);
        let full = format!(
            "q={}&severity=critical&severity=high&severity=medium&severity=low&severity=none\
&sort=published&order=desc&version={}&component={}",
            wide(MAX_SEARCH_CHARS),
            wide(MAX_FIELD_CHARS),
            wide(MAX_FIELD_CHARS)
        );
        assert!(full.len() <= MAX_QUERY_BYTES, "{}", full.len());
        let (f, p) = Filter::from_query(Some(&full));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(f.search.map(|s| s.chars().count()), Some(MAX_SEARCH_CHARS));
        assert_eq!(f.severities.len(), 5);
        // A rejected value is quoted back short.
        let (_, p) = Filter::from_query(Some(&format!("sort={}", "z".repeat(500))));
        assert!(p[0].len() < 200, "{p:?}");
    }

    #[test]
    fn search_is_every_word_case_insensitively() {
        let hay = "cve-2023-2431 bypass of seccomp profile enforcement kubelet k8s.io/kubelet";
        assert!(search_matches(hay, "Seccomp  KUBELET"));
        assert!(search_matches(hay, "  "));
        assert!(search_matches(hay, "cve-2023-2431"));
        assert!(!search_matches(hay, "seccomp apiserver"));
    }

    #[test]
    fn ids_order_by_number() {
        let mut ids = [
            "CVE-2019-1002101",
            "CVE-2019-11243",
            "CVE-2018-1002105",
            "x",
        ];
        ids.sort_by_key(|i| id_order(i));
        assert_eq!(
            ids,
            [
                "CVE-2018-1002105",
                "CVE-2019-11243",
                "CVE-2019-1002101",
                "x"
            ]
        );
    }

    #[test]
    fn policy_allows_the_script_and_style_by_hash_only() {
        let csp = content_security_policy("");
        assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(!csp.contains("unsafe"));
        assert!(csp.ends_with("form-action 'self'"));
        let with_url = content_security_policy("https://cve.example.org/feeds");
        assert!(with_url.ends_with("form-action 'self' https://cve.example.org"));
        // The hash is of the bytes inside the element (known-answer: SHA-256 of "").
        assert_eq!(
            sha256_source(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
