//! The page at `/`: every CVE newest first, filtered by Kubernetes version and component through
//! query parameters (a plain GET form, so it works without JavaScript), links to every output.
//! Server-rendered; every value from the feed goes through [`esc`].

use axum::http::StatusCode;
use palisade_feed::affected::Range;
use palisade_feed::component;
use palisade_feed::feed::{JsonFeed, JsonItem};
use palisade_feed::matcher::{self, Target};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Query parameters of `/`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    /// A Kubernetes (or component) version: `1.27.3`, `v1.27.3`, `v1.28.3-eks-1`.
    #[serde(default)]
    pub version: Option<String>,
    /// A component (`kubelet`, `kube-apiserver`, `ingress-nginx`) or Go module.
    #[serde(default)]
    pub component: Option<String>,
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

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 .75rem;line-height:1.4;color:#1b1b1b}\
h1{font-size:1.4rem}form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:1rem 0}\
label{display:flex;flex-direction:column;font-size:.85rem}input,select,button{font-size:1rem;padding:.35rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}\
th{background:#f3f3f3}.sev-CRITICAL,.sev-HIGH{color:#a40000;font-weight:600}.sev-MEDIUM{color:#8a5a00}\
.note{background:#fff4ce;padding:.5rem}.outputs a{margin-right:.75rem}ul.r{margin:0;padding-left:1rem}\
@media (max-width:40rem){table,thead,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ddd;margin:.5rem 0;padding:.25rem}\
td{border:0;padding:.15rem .25rem}td::before{content:attr(data-label) \": \";font-weight:600}}";

/// Renders the page. `400` when the version cannot be read (the page says why).
pub fn render(feed: &JsonFeed, filter: &Filter, base: &str) -> (StatusCode, String) {
    let base = esc(base);
    let mut status = StatusCode::OK;
    let mut notice = None;
    let version_text = nonempty(&filter.version);
    let component_text = nonempty(&filter.component);
    let wanted = component_text.map(canonical);
    // id -> the fixed version on the matched branch, when a version was given.
    let mut fixed_for: HashMap<String, Option<String>> = HashMap::new();
    let mut version_ok = None;
    if let Some(v) = version_text {
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
                status = StatusCode::BAD_REQUEST;
                notice = Some(format!(
                    "Version `{v}` not understood: {e}. Showing every CVE."
                ));
            }
        }
    }
    let shown: Vec<&JsonItem> = feed
        .items
        .iter()
        .filter(|i| match (&version_ok, &wanted) {
            (Some(_), _) => fixed_for.contains_key(&i.id),
            (None, Some(w)) if notice.is_none() => component_matches(i, w),
            _ => true,
        })
        .collect();
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

    let mut h = String::with_capacity(64 * 1024);
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
        base = base,
        title = esc(&feed.title),
        updated = esc(&feed.kubernetes_io.updated_at),
        checked = esc(feed
            .kubernetes_io
            .last_checked_at
            .as_deref()
            .unwrap_or("unknown")),
    );
    let _ = write!(
        h,
        "<form method=\"get\" action=\"{base}/\" id=\"filter\"><label>Kubernetes or component version\
<input name=\"version\" id=\"version\" value=\"{v}\" placeholder=\"1.30.2\" inputmode=\"decimal\"></label>\
<label>Component<select name=\"component\" id=\"component\"><option value=\"\">any</option>",
        v = esc(version_text.unwrap_or("")),
        base = base,
    );
    for c in &components {
        let sel = if wanted.as_deref() == Some(*c) {
            " selected"
        } else {
            ""
        };
        let _ = write!(h, "<option value=\"{c}\"{sel}>{c}</option>", c = esc(c));
    }
    let _ = writeln!(
        h,
        "</select></label><button type=\"submit\">Filter</button> <a href=\"{base}/\">clear</a></form>",
    );
    if let Some(n) = &notice {
        let _ = writeln!(h, "<p class=\"note\" id=\"notice\">{}</p>", esc(n));
    }
    let _ = writeln!(
        h,
        "<p id=\"count\">{} of {} CVEs{}</p>",
        shown.len(),
        feed.items.len(),
        match (&version_ok, &wanted) {
            (Some(v), Some(c)) => format!(" affect {} {}", esc(c), esc(&v.to_string())),
            (Some(v), None) => format!(" affect Kubernetes {}", esc(&v.to_string())),
            (None, Some(c)) if notice.is_none() => format!(" name {}", esc(c)),
            _ => String::new(),
        }
    );
    h.push_str(
        "<table id=\"cves\"><thead><tr><th>ID</th><th>Summary</th><th>Severity</th>\
<th>Affected</th><th>Fixed in</th><th>Status</th><th>Published</th><th>Links</th></tr></thead><tbody>\n",
    );
    for item in shown {
        row(
            &mut h,
            item,
            fixed_for.get(&item.id).cloned().flatten(),
            &base,
        );
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    (status, h)
}

/// `base`: already escaped.
fn row(h: &mut String, item: &JsonItem, fixed_on_branch: Option<String>, base: &str) {
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
        "<tr class=\"cve\" id=\"{id}\"><td data-label=\"ID\"><a href=\"{ext}\">{id}</a></td>\
<td data-label=\"Summary\">{summary}</td><td data-label=\"Severity\" class=\"sev-{sevc}\">{sev} {score}</td>\
<td data-label=\"Affected\"><ul class=\"r\">",
        ext = esc(&item.external_url),
        summary = esc(&item.summary),
        sevc = esc(&sev),
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
    let date = item
        .date_published
        .get(..10)
        .unwrap_or(&item.date_published);
    let _ = writeln!(
        h,
        "</ul></td><td data-label=\"Fixed in\">{fixed}</td><td data-label=\"Status\">{status}</td>\
<td data-label=\"Published\"><time datetime=\"{dp}\">{date}</time></td>\
<td data-label=\"Links\"><a href=\"{url}\">issue #{n}</a> <a href=\"{base}/osv/{id}.json\">OSV</a></td></tr>",
        status = esc(item.status.as_deref().unwrap_or("")),
        dp = esc(&item.date_published),
        date = esc(date),
        url = esc(&item.url),
        n = item.kubernetes_io.issue_number,
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
}
