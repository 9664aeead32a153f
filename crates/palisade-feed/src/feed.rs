//! The feed model and the JSON Feed writer, compatible with kubernetes.io's
//! `official-cve-feed.json` (same keys, same order, same values) plus additive fields.

use crate::Warning;
use crate::about::{self, About};
use crate::affected::{self, AffectedComponent, BodyVersions};
use crate::cvss::{self, BodyCvss, Score};
use crate::github::{self, Issue, Limits};
use crate::osv_block;
use crate::timestamp;
use crate::title;
use serde::{Deserialize, Serialize};

/// Where the feed says it lives. Defaults are upstream's URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub title: String,
    pub home_page_url: String,
    pub feed_url: String,
    /// The HTML page the RSS channel links to.
    pub page_url: String,
    pub rss_url: String,
    pub atom_url: String,
    pub description: String,
    pub feed_refresh_job: String,
    /// A page of this feed's own showing each CVE at `{cve_page_url}{CVE-ID}`, added to every
    /// OSV record as a `WEB` reference. `None` (upstream's feed) adds none.
    pub cve_page_url: Option<String>,
}

impl Default for Site {
    fn default() -> Self {
        let page = "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/";
        Site {
            title: "Kubernetes Vulnerability Announcements - CVE Feed".to_owned(),
            home_page_url: "https://kubernetes.io".to_owned(),
            feed_url: format!("{page}index.json"),
            page_url: page.to_owned(),
            rss_url: format!("{page}feed.xml"),
            atom_url: format!("{page}atom.xml"),
            description: "Auto-refreshing official CVE feed for Kubernetes repository".to_owned(),
            feed_refresh_job:
                "https://testgrid.k8s.io/sig-security-cve-feed#auto-refreshing-official-cve-feed"
                    .to_owned(),
            cve_page_url: None,
        }
    }
}

/// How to build. `now` is the check time (RFC 3339, `Z`), passed in so the builder does no I/O
/// and is reproducible.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub now: String,
    pub site: Site,
    pub limits: Limits,
    /// The previously published feed (its JSON), so `updated_at` moves only when content changes.
    pub previous: Option<serde_json::Value>,
}

/// One feed item: one CVE of one issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub url: String,
    pub external_url: String,
    pub summary: String,
    pub content_text: String,
    pub date_published: String,
    pub date_modified: Option<String>,
    pub status: Option<&'static str>,
    pub google_group_url: String,
    pub issue_number: u64,
    /// Other CVE IDs announced by the same issue.
    pub related: Vec<String>,
    pub versions: BodyVersions,
    pub cvss: BodyCvss,
    /// GHSA IDs named in the body.
    pub aliases: Vec<String>,
    /// The components the issue itself names (labels, title, text), which narrow ranges whose
    /// lines only say "Kubernetes".
    pub about: About,
    pub warnings: Vec<String>,
}

impl Item {
    pub fn primary_cvss(&self) -> Option<&Score> {
        self.cvss.scores.first()
    }
}

/// A built feed: items newest first, and what could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub site: Site,
    pub items: Vec<Item>,
    /// When content last changed.
    pub updated_at: String,
    /// When the source was last read (this build).
    pub last_checked_at: String,
    pub warnings: Vec<Warning>,
}

impl Feed {
    /// Builds the feed from issues (any order, duplicates allowed: the most recently updated copy
    /// of an issue wins). Issues whose title does not start with a CVE ID are warnings, as
    /// upstream lists them as "not parsable".
    pub fn from_issues(issues: &[Issue], options: &BuildOptions) -> Feed {
        let mut warnings = Vec::new();
        let mut latest: Vec<Dated<'_>> = Vec::new();
        for issue in issues {
            let Some(dated) = Dated::new(issue, &mut warnings) else {
                continue;
            };
            match latest.iter_mut().find(|d| d.issue.number == issue.number) {
                Some(slot) => {
                    if dated.updated_key > slot.updated_key {
                        *slot = dated;
                    }
                }
                None => latest.push(dated),
            }
        }
        if latest.len() > options.limits.max_issues {
            warnings.push(Warning::build(format!(
                "{} issues exceed max_issues ({}); only the first {} are used",
                latest.len(),
                options.limits.max_issues,
                options.limits.max_issues
            )));
            latest.truncate(options.limits.max_issues);
        }
        let mut items = Vec::new();
        for Dated {
            issue,
            created,
            updated,
            ..
        } in latest
        {
            let Some((ids, summary)) = title::parse_cve_title(&issue.title) else {
                warnings.push(Warning::issue(
                    issue.number,
                    format!(
                        "title does not start with a CVE ID, not in the feed: {:?}",
                        issue.title
                    ),
                ));
                continue;
            };
            let body = issue.body.clone().unwrap_or_default();
            let labels: Vec<&str> = issue.labels.iter().map(|l| l.name.as_str()).collect();
            let about = if body.len() <= options.limits.max_body_bytes {
                about::detect(&labels, &issue.title, &body)
            } else {
                about::detect(&labels, &issue.title, "")
            };
            let parse_body = body.len() <= options.limits.max_body_bytes;
            for id in &ids {
                let mut item_warnings = Vec::new();
                let (versions, cvss) = if parse_body {
                    let mut versions = match osv_block::affected_from_body(&body) {
                        Some(Ok(from_osv)) => from_osv,
                        Some(Err(e)) => {
                            item_warnings.push(format!("embedded OSV block not used: {e}"));
                            affected::parse_body(&body, Some(id), &issue.title)
                        }
                        None => affected::parse_body(&body, Some(id), &issue.title),
                    };
                    if body.trim().is_empty() {
                        item_warnings.push("issue body is empty: no versions or CVSS".to_owned());
                    } else if !versions.has_version_section {
                        item_warnings
                            .push("no affected/fixed versions section in the body".to_owned());
                    }
                    item_warnings.append(&mut versions.warnings);
                    let mut cvss = cvss::from_body(&body);
                    item_warnings.append(&mut cvss.warnings);
                    (versions, cvss)
                } else {
                    item_warnings.push(format!(
                        "body is {} bytes, over max_body_bytes ({}): versions and CVSS not read",
                        body.len(),
                        options.limits.max_body_bytes
                    ));
                    (BodyVersions::default(), BodyCvss::default())
                };
                items.push(Item {
                    id: id.clone(),
                    url: issue.html_url.clone(),
                    external_url: format!("https://www.cve.org/cverecord?id={id}"),
                    summary: summary.clone(),
                    content_text: body.clone(),
                    date_published: created.clone(),
                    date_modified: updated.clone(),
                    status: github::cve_status(&issue.state, issue.state_reason.as_deref()),
                    google_group_url: format!(
                        "https://groups.google.com/g/kubernetes-announce/search?q={id}"
                    ),
                    issue_number: issue.number,
                    related: ids.iter().filter(|x| *x != id).cloned().collect(),
                    versions,
                    cvss,
                    aliases: ghsa_ids(&body),
                    about: about.clone(),
                    warnings: item_warnings,
                });
            }
        }
        // Newest first, as the published feed is; stable for one issue's several CVEs.
        // Compared as instants: canonical strings with and without a fraction do not sort as text.
        items.sort_by(|a, b| {
            let t = |i: &Item| timestamp::parse(&i.date_published).ok();
            t(b).cmp(&t(a)).then(b.issue_number.cmp(&a.issue_number))
        });
        let mut feed = Feed {
            site: options.site.clone(),
            items,
            updated_at: options.now.clone(),
            last_checked_at: options.now.clone(),
            warnings,
        };
        if let Some(prev) = &options.previous
            && let Some(prev_updated) = unchanged_since(prev, &feed)
        {
            feed.updated_at = prev_updated;
        }
        feed
    }

    /// Items with any warning, for reporting.
    pub fn item_warnings(&self) -> impl Iterator<Item = (&Item, &String)> {
        self.items
            .iter()
            .flat_map(|i| i.warnings.iter().map(move |w| (i, w)))
    }
}

/// An issue with its times normalised (see [`timestamp::normalize`]).
struct Dated<'a> {
    issue: &'a Issue,
    created: String,
    updated: Option<String>,
    /// For "the most recently updated copy wins"; `None` (no usable time) loses to any time.
    updated_key: Option<timestamp::Timestamp>,
}

impl<'a> Dated<'a> {
    /// `None` when `created_at` cannot be used: the item's `date_published` and OSV `published`
    /// would be invalid, so the issue is left out with a warning naming it and the value.
    fn new(issue: &'a Issue, warnings: &mut Vec<Warning>) -> Option<Dated<'a>> {
        let created = match timestamp::normalize(&issue.created_at) {
            Ok(c) => c,
            Err(e) => {
                warnings.push(Warning::issue(
                    issue.number,
                    format!("created_at {e}; not in the feed (the publication time is required)"),
                ));
                return None;
            }
        };
        let updated = match issue.updated_at.as_deref().map(timestamp::normalize) {
            None => None,
            Some(Ok(u)) => Some(u),
            Some(Err(e)) => {
                warnings.push(Warning::issue(
                    issue.number,
                    format!("updated_at {e}; ignored (the publication time stands for it)"),
                ));
                None
            }
        };
        let updated_key = updated.as_deref().and_then(|u| timestamp::parse(u).ok());
        Some(Dated {
            issue,
            created,
            updated,
            updated_key,
        })
    }
}

/// The previous feed's `updated_at` when its items are the same as ours.
fn unchanged_since(prev: &serde_json::Value, feed: &Feed) -> Option<String> {
    let prev_items = prev.get("items")?;
    let ours = serde_json::to_value(json_items(feed)).ok()?;
    if *prev_items != ours {
        return None;
    }
    prev.get("_kubernetes_io")?
        .get("updated_at")?
        .as_str()
        .map(str::to_owned)
}

fn ghsa_ids(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (pos, _) in body.match_indices("GHSA-") {
        let tail = body.get(pos..).unwrap_or("");
        let id: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let parts: Vec<&str> = id.split('-').collect();
        if parts.len() == 4 && parts.iter().skip(1).all(|p| p.len() == 4) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

// ---- JSON Feed output. Field order is upstream's; additive fields come after theirs. ----

#[derive(Debug, Serialize, Deserialize)]
pub struct JsonFeed {
    pub version: String,
    pub title: String,
    pub home_page_url: String,
    pub feed_url: String,
    pub description: String,
    pub authors: Vec<Author>,
    #[serde(rename = "_kubernetes_io")]
    pub kubernetes_io: RootExt,
    pub items: Vec<JsonItem>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RootExt {
    pub feed_refresh_job: String,
    pub updated_at: String,
    /// Additive: when the source was last read; `updated_at` only moves when content changes.
    #[serde(default)]
    pub last_checked_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JsonItem {
    pub id: String,
    pub url: String,
    pub external_url: String,
    pub summary: String,
    pub content_text: String,
    pub date_published: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "_kubernetes_io")]
    pub kubernetes_io: ItemExt,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ItemExt {
    pub google_group_url: String,
    pub issue_number: u64,
    /// Additive: machine-readable affected ranges per component (SemVer, no `v`).
    #[serde(default)]
    pub affected: Vec<AffectedComponent>,
    /// Additive: every version named as containing the fix.
    #[serde(default)]
    pub fixed_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<ItemCvss>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// Additive: what the issue's labels, title and text say it is about (see [`About`]).
    #[serde(default, skip_serializing_if = "About::is_empty")]
    pub about: About,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ItemCvss {
    #[serde(flatten)]
    pub score: Score,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_severity: Option<String>,
    /// Further vectors in the body (several scenarios), scored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_vectors: Vec<Score>,
}

fn json_items(feed: &Feed) -> Vec<JsonItem> {
    feed.items
        .iter()
        .map(|i| JsonItem {
            id: i.id.clone(),
            url: i.url.clone(),
            external_url: i.external_url.clone(),
            summary: i.summary.clone(),
            content_text: i.content_text.clone(),
            date_published: i.date_published.clone(),
            date_modified: i.date_modified.clone(),
            status: i.status.map(str::to_owned),
            kubernetes_io: ItemExt {
                google_group_url: i.google_group_url.clone(),
                issue_number: i.issue_number,
                affected: i.versions.affected.clone(),
                fixed_versions: i
                    .versions
                    .fixed_versions
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                cvss: i.primary_cvss().map(|s| ItemCvss {
                    score: s.clone(),
                    stated_score: i.cvss.stated_score,
                    stated_severity: i.cvss.stated_severity.clone(),
                    other_vectors: i.cvss.scores.iter().skip(1).cloned().collect(),
                }),
                related: i.related.clone(),
                about: i.about.clone(),
                warnings: i.warnings.clone(),
            },
        })
        .collect()
}

/// The JSON Feed document, 4-space indented like upstream's `json.dumps(indent=4)`.
pub fn render_json_feed(feed: &Feed) -> String {
    let doc = JsonFeed {
        version: "https://jsonfeed.org/version/1.1".to_owned(),
        title: feed.site.title.clone(),
        home_page_url: feed.site.home_page_url.clone(),
        feed_url: feed.site.feed_url.clone(),
        description: feed.site.description.clone(),
        authors: vec![Author {
            name: "Kubernetes Community".to_owned(),
            url: "https://www.kubernetes.dev".to_owned(),
        }],
        kubernetes_io: RootExt {
            feed_refresh_job: feed.site.feed_refresh_job.clone(),
            updated_at: feed.updated_at.clone(),
            last_checked_at: Some(feed.last_checked_at.clone()),
        },
        items: json_items(feed),
    };
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    // Serializing owned strings and numbers into a Vec cannot fail; keep the error path anyway.
    if doc.serialize(&mut ser).is_err() {
        return String::new();
    }
    buf.push(b'\n');
    String::from_utf8(buf).unwrap_or_default()
}
