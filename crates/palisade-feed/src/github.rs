//! GitHub issues as the REST and search APIs return them.
//!
//! Accepts a search page (`{"total_count":…,"items":[…]}`) or a REST issue array (`[…]`). A page
//! that is not JSON is an error for that page; an item that is not an issue is a warning and the
//! other items are still used.

use crate::{FeedError, Warning};
use serde::Deserialize;
use serde_json::Value;

/// The fields of a GitHub issue the feed uses.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub html_url: String,
    pub state: String,
    #[serde(default)]
    pub state_reason: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Present on pull requests, which the REST issue list also returns.
    #[serde(default)]
    pub pull_request: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Label {
    pub name: String,
}

/// Upstream's `getCVEStatus(state, state_reason)`.
pub fn cve_status(state: &str, state_reason: Option<&str>) -> Option<&'static str> {
    match (state, state_reason) {
        ("open", Some("reopened")) => Some("unknown"),
        ("open", _) => Some("open"),
        ("closed", Some("completed")) => Some("fixed"),
        ("closed", Some("not_planned")) => Some("unfixed"),
        _ => None,
    }
}

/// Limits on input pages. Each is checked and named in its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest page file or HTTP response body, in bytes.
    pub max_page_bytes: usize,
    /// Most issues taken over all pages.
    pub max_issues: usize,
    /// Longest issue body parsed for versions and CVSS, in bytes (longer bodies are kept in
    /// `content_text` but not parsed, with a warning).
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page_bytes: 32 << 20,
            max_issues: 10_000,
            max_body_bytes: 1 << 20,
        }
    }
}

/// Parses one page. `source` names it in errors and warnings (a path or URL).
pub fn parse_page(
    bytes: &[u8],
    source: &str,
    limits: &Limits,
) -> Result<(Vec<Issue>, Vec<Warning>), FeedError> {
    parse_search_page(bytes, source, limits).map(|p| (p.issues, p.warnings))
}

/// One parsed page, with whether GitHub said the search behind it was cut short.
#[derive(Debug)]
pub struct ParsedPage {
    pub issues: Vec<Issue>,
    pub warnings: Vec<Warning>,
    /// The search result object had `"incomplete_results": true` (the search timed out).
    pub incomplete: bool,
}

/// [`parse_page`], also reporting GitHub's `incomplete_results` flag from the parsed object.
pub fn parse_search_page(
    bytes: &[u8],
    source: &str,
    limits: &Limits,
) -> Result<ParsedPage, FeedError> {
    if bytes.len() > limits.max_page_bytes {
        return Err(FeedError::TooLarge {
            source_name: source.to_owned(),
            size: bytes.len(),
            limit: limits.max_page_bytes,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| FeedError::Json {
        source_name: source.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let mut incomplete = false;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => {
                incomplete = map.get("incomplete_results") == Some(&Value::Bool(true));
                items
            }
            _ => {
                return Err(FeedError::NotAnIssuePage {
                    source_name: source.to_owned(),
                    found: "an object without an `items` array",
                });
            }
        },
        _ => {
            return Err(FeedError::NotAnIssuePage {
                source_name: source.to_owned(),
                found: "neither an array nor a search result object",
            });
        }
    };
    let mut issues = Vec::with_capacity(items.len());
    let mut warnings = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match Issue::deserialize(item) {
            Ok(issue) if issue.pull_request.is_some() => warnings.push(Warning::page(
                source,
                format!(
                    "items[{index}] (#{}) is a pull request, not an issue: skipped",
                    issue.number
                ),
            )),
            Ok(issue) => issues.push(issue),
            Err(e) => warnings.push(Warning::page(
                source,
                format!("items[{index}] is not a GitHub issue ({e}): skipped"),
            )),
        }
    }
    Ok(ParsedPage {
        issues,
        warnings,
        incomplete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_results_comes_from_the_parsed_object() {
        let l = Limits::default();
        let cut = br#"{"total_count": 0, "incomplete_results": true, "items": []}"#;
        assert!(parse_search_page(cut, "p", &l).unwrap().incomplete);
        // The words inside an issue body are not the flag.
        let body = br#"{"incomplete_results": false, "items": [{"number": 1, "title": "t",
            "html_url": "u", "state": "open", "created_at": "2023-01-01T00:00:00Z",
            "body": "\"incomplete_results\": true"}]}"#;
        let p = parse_search_page(body, "p", &l).unwrap();
        assert!(!p.incomplete);
        assert_eq!(p.issues.len(), 1);
    }

    #[test]
    fn status_mapping() {
        assert_eq!(cve_status("open", None), Some("open"));
        assert_eq!(cve_status("open", Some("reopened")), Some("unknown"));
        assert_eq!(cve_status("closed", Some("completed")), Some("fixed"));
        assert_eq!(cve_status("closed", Some("not_planned")), Some("unfixed"));
        assert_eq!(cve_status("closed", None), None);
    }

    #[test]
    fn bad_pages() {
        let l = Limits::default();
        let e = parse_page(b"{\"items\": [", "p.json", &l).unwrap_err();
        assert!(e.to_string().contains("p.json"), "{e}");
        assert!(parse_page(b"<html>", "p", &l).is_err());
        assert!(parse_page(b"{\"message\":\"API rate limit exceeded\"}", "p", &l).is_err());
        let small = Limits {
            max_page_bytes: 4,
            ..l
        };
        let e = parse_page(b"[1,2,3]", "p", &small).unwrap_err();
        assert!(e.to_string().contains("max_page_bytes"), "{e}");
        let (issues, warnings) = parse_page(br#"[{"number":1},{"number":2,"title":"t","html_url":"u","state":"open","created_at":"c","pull_request":{}}]"#, "p", &l).unwrap();
        assert!(issues.is_empty());
        assert_eq!(warnings.len(), 2);
    }
}
