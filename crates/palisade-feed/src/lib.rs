//! The Kubernetes CVE feed, rebuilt from GitHub issues: the official JSON Feed (same keys and
//! values as kubernetes.io's, plus machine-readable affected ranges, CVSS and fixed versions),
//! RSS 2.0, Atom and OSV 1.7 records; the affected-version parser for announcement text; CVSS
//! scoring with strict validation; and "which CVEs affect this version or cluster".
//!
//! The builder is pure: [`Feed::from_issues`] takes parsed issues and a clock value and returns a
//! [`Feed`]; [`render_json_feed`], [`render_rss`], [`render_atom`] and [`osv_records`] turn it into
//! strings. I/O lives only in [`io`] (reading pages, writing outputs) and [`fetch`] (the GitHub API).

pub mod about;
pub mod affected;
pub mod component;
pub mod cvss;
pub mod feed;
pub mod fetch;
pub mod github;
pub mod io;
pub mod matcher;
pub mod osv;
pub mod osv_block;
pub mod syndication;
pub mod timestamp;
pub mod title;
pub mod version;

pub use feed::{BuildOptions, Feed, Item, Site, render_json_feed};
pub use github::{Issue, Limits, parse_page};
pub use osv::osv_records;
pub use syndication::{render_atom, render_rss};

use std::fmt;
use std::path::PathBuf;

/// Errors: each names the file or URL, and for limits the limit and how to raise it.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: not valid JSON at line {line}, column {column}: {message}")]
    Json {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{source_name}: not a GitHub issue page: {found} (expected a search result `{{\"items\": [...]}}` or an issue array)"
    )]
    NotAnIssuePage {
        source_name: String,
        found: &'static str,
    },
    #[error(
        "{source_name}: {size} bytes is over the max_page_bytes limit ({limit}); raise it with --max-page-bytes"
    )]
    TooLarge {
        source_name: String,
        size: usize,
        limit: usize,
    },
    #[error("{source_name}: not a feed this tool can read: {message}")]
    BadFeed {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name}: not `kubectl version -o json` or `kubectl get nodes -o json` output: {message}"
    )]
    BadCluster {
        source_name: String,
        message: String,
    },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "{url}: GitHub API rate limit exhausted; it resets at {reset} (Unix time). Use a token (GITHUB_TOKEN) for a higher limit"
    )]
    RateLimited { url: String, reset: String },
    #[error("no input page could be read ({count} failed):\n  {details}")]
    NoInput { count: usize, details: String },
}

/// Something skipped or doubtful, with where it came from. Never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// A file or URL, when the warning is about an input page.
    pub source: Option<String>,
    pub issue: Option<u64>,
    pub message: String,
}

impl Warning {
    pub fn page(source: &str, message: String) -> Warning {
        Warning {
            source: Some(source.to_owned()),
            issue: None,
            message,
        }
    }

    pub fn issue(number: u64, message: String) -> Warning {
        Warning {
            source: None,
            issue: Some(number),
            message,
        }
    }

    pub fn build(message: String) -> Warning {
        Warning {
            source: None,
            issue: None,
            message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            write!(f, "{s}: ")?;
        }
        if let Some(n) = self.issue {
            write!(f, "issue #{n}: ")?;
        }
        f.write_str(&self.message)
    }
}
