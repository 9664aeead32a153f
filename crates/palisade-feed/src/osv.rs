//! OSV records (schema 1.7.5), one per CVE: ecosystem `Kubernetes`, Go-module package names,
//! `SEMVER` ranges without `v`, sorted non-overlapping events, top-level CVSS severity.

use crate::affected::Range;
use crate::feed::{Feed, Item};
use serde::Serialize;

pub const SCHEMA_VERSION: &str = "1.7.5";

#[derive(Debug, Clone, Serialize)]
pub struct OsvRecord {
    pub schema_version: &'static str,
    pub id: String,
    pub modified: String,
    pub published: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    pub summary: String,
    pub details: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<OsvSeverity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<OsvAffected>,
    pub references: Vec<OsvReference>,
    pub database_specific: DatabaseSpecific,
}

#[derive(Debug, Clone, Serialize)]
pub struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub score: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OsvAffected {
    pub package: OsvPackage,
    pub ranges: Vec<OsvRange>,
    pub database_specific: AffectedSpecific,
}

#[derive(Debug, Clone, Serialize)]
pub struct OsvPackage {
    pub ecosystem: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AffectedSpecific {
    /// The component as the announcement names it (`kube-apiserver`).
    pub component: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OsvRange {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub events: Vec<OsvEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct OsvReference {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseSpecific {
    pub issue_number: u64,
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Events for a list of ranges. OSV forbids `fixed` and `last_affected` in one range, so ranges
/// ending in a known fix and ranges ending at a last affected version go to separate `SEMVER`
/// ranges; each stays sorted. A range with both ends known uses `fixed` (the spec prefers it).
pub fn osv_ranges(ranges: &[Range]) -> Vec<OsvRange> {
    let mut fixed = Vec::new();
    let mut last = Vec::new();
    for r in ranges {
        let intro = OsvEvent::Introduced(
            r.introduced
                .as_ref()
                .map_or("0".to_owned(), ToString::to_string),
        );
        match (&r.fixed, &r.last_affected) {
            (Some(f), _) => fixed.extend([intro, OsvEvent::Fixed(f.to_string())]),
            (None, Some(l)) => last.extend([intro, OsvEvent::LastAffected(l.to_string())]),
            (None, None) => fixed.push(intro),
        }
    }
    [fixed, last]
        .into_iter()
        .filter(|events| !events.is_empty())
        .map(|events| OsvRange {
            kind: "SEMVER",
            events,
        })
        .collect()
}

/// One record for an item.
pub fn osv_record(item: &Item) -> OsvRecord {
    let severity = item
        .cvss
        .scores
        .first()
        .map(|s| OsvSeverity {
            kind: if s.version.starts_with('4') {
                "CVSS_V4"
            } else {
                "CVSS_V3"
            },
            score: s.vector.clone(),
        })
        .into_iter()
        .collect();
    let affected = item
        .versions
        .affected
        .iter()
        .map(|c| OsvAffected {
            package: OsvPackage {
                ecosystem: "Kubernetes",
                name: c.package.clone(),
            },
            ranges: osv_ranges(&c.ranges),
            database_specific: AffectedSpecific {
                component: c.component.clone(),
            },
        })
        .collect();
    OsvRecord {
        schema_version: SCHEMA_VERSION,
        id: item.id.clone(),
        modified: item
            .date_modified
            .clone()
            .unwrap_or_else(|| item.date_published.clone()),
        published: item.date_published.clone(),
        aliases: item.aliases.clone(),
        related: item.related.clone(),
        summary: item.summary.clone(),
        details: item.content_text.clone(),
        severity,
        affected,
        references: vec![
            OsvReference {
                kind: "ADVISORY",
                url: item.url.clone(),
            },
            OsvReference {
                kind: "ADVISORY",
                url: item.external_url.clone(),
            },
            OsvReference {
                kind: "ARTICLE",
                url: item.google_group_url.clone(),
            },
        ],
        database_specific: DatabaseSpecific {
            issue_number: item.issue_number,
            status: item.status,
            fixed_versions: item
                .versions
                .fixed_versions
                .iter()
                .map(ToString::to_string)
                .collect(),
            warnings: item.warnings.clone(),
        },
    }
}

/// One record per CVE, as `(CVE ID, JSON text)` pairs, in feed order. With
/// [`crate::Site::cve_page_url`], each also references that page.
pub fn osv_records(feed: &Feed) -> Vec<(String, String)> {
    feed.items
        .iter()
        .map(|item| {
            let mut record = osv_record(item);
            if let Some(page) = &feed.site.cve_page_url {
                record.references.push(OsvReference {
                    kind: "WEB",
                    url: format!("{page}{}", item.id),
                });
            }
            let text = serde_json::to_string_pretty(&record).unwrap_or_default();
            (item.id.clone(), text + "\n")
        })
        .collect()
}
