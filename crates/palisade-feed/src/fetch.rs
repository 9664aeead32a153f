//! The GitHub API client: the upstream search query, `Link: rel="next"` pagination, an optional
//! token, conditional requests (`If-None-Match` with stored ETags, so unchanged pages cost no
//! rate limit), rate-limit handling and bounded response bodies.
//!
//! The token is only ever sent to the API origin: a `next` link to another host is refused.
//! Plain `http://` is accepted only for loopback addresses (tests, local mirrors).

use crate::github::{self, Issue, Limits};
use crate::{FeedError, Warning};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Upstream's query (sig-security `fetch-official-cve-feed.py`).
pub const DEFAULT_QUERY: &str = "is:issue label:official-cve-feed repo:kubernetes/kubernetes";
pub const DEFAULT_API: &str = "https://api.github.com";

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub api_url: String,
    pub query: String,
    pub token: Option<String>,
    pub per_page: u32,
    /// Most pages followed (the search API stops at 1,000 results = 10 pages of 100).
    pub max_pages: usize,
    pub timeout: Duration,
    /// Longest wait honoured for a `Retry-After` (secondary rate limit) before giving up.
    pub max_retry_wait: Duration,
    pub limits: Limits,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            api_url: DEFAULT_API.to_owned(),
            query: DEFAULT_QUERY.to_owned(),
            token: None,
            per_page: 100,
            max_pages: 20,
            timeout: Duration::from_secs(30),
            max_retry_wait: Duration::from_secs(60),
            limits: Limits::default(),
        }
    }
}

/// Stored ETags and bodies by URL, for conditional requests on the next run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtagCache {
    pub entries: BTreeMap<String, CachedPage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPage {
    pub etag: String,
    pub body: String,
    /// The `next` link the page had, so a 304 can still paginate.
    #[serde(default)]
    pub next: Option<String>,
}

/// One page as fetched (or reused from the cache on `304 Not Modified`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub url: String,
    pub body: String,
    pub not_modified: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Fetched {
    pub pages: Vec<Page>,
    pub issues: Vec<Issue>,
    pub warnings: Vec<Warning>,
    /// The new cache to store.
    pub cache: EtagCache,
    /// From the last response.
    pub rate_limit: RateLimit,
    /// Every issue matching the search was returned: false when GitHub reported
    /// `incomplete_results` or `max_pages` stopped the walk. An incomplete result must not make
    /// issues disappear from a stored feed.
    pub complete: bool,
}

impl Fetched {
    /// Every page came back `304 Not Modified`: nothing changed upstream.
    pub fn unchanged(&self) -> bool {
        !self.pages.is_empty() && self.pages.iter().all(|p| p.not_modified)
    }
}

fn http_err(url: &str, message: impl Into<String>) -> FeedError {
    FeedError::Http {
        url: url.to_owned(),
        message: message.into(),
    }
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port() {
        Some(p) => format!("{}://{host}:{p}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    })
}

fn check_url(url: &str) -> Result<reqwest::Url, FeedError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| http_err(url, format!("not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" => {
            let host = parsed
                .host_str()
                .unwrap_or("")
                .trim_start_matches('[')
                .trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(parsed)
            } else {
                Err(http_err(
                    url,
                    "plain http is only allowed to loopback addresses; use https",
                ))
            }
        }
        other => Err(http_err(url, format!("unsupported scheme `{other}`"))),
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let t = target.trim();
        is_next.then(|| t.trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// Fetches every page of the search. Pages that are not valid issue pages are errors (a broken
/// API response should not silently shrink the feed).
pub async fn fetch(options: &FetchOptions, cache: &EtagCache) -> Result<Fetched, FeedError> {
    let base = options.api_url.trim_end_matches('/');
    let api_origin = origin(base).ok_or_else(|| http_err(base, "not a URL"))?;
    let mut first = check_url(&format!("{base}/search/issues"))?;
    first
        .query_pairs_mut()
        .append_pair("q", &options.query)
        .append_pair("per_page", &options.per_page.to_string());
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .user_agent(concat!("palisade-feed/", env!("CARGO_PKG_VERSION")))
        // Redirects could carry the token elsewhere; the API does not need them for search.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| http_err(base, e.to_string()))?;
    let mut out = Fetched {
        pages: Vec::new(),
        issues: Vec::new(),
        warnings: Vec::new(),
        cache: EtagCache::default(),
        rate_limit: RateLimit::default(),
        complete: true,
    };
    let mut next = Some(first.to_string());
    while let Some(url) = next.take() {
        if out.pages.len() >= options.max_pages {
            out.warnings.push(Warning::page(
                &url,
                format!(
                    "stopped after max_pages ({}) pages; raise --max-pages",
                    options.max_pages
                ),
            ));
            out.complete = false;
            break;
        }
        check_url(&url)?;
        if origin(&url).as_deref() != Some(api_origin.as_str()) {
            return Err(http_err(
                &url,
                format!(
                    "next page is not on {api_origin}; refusing to send the request (and token) elsewhere"
                ),
            ));
        }
        let (page, link) = fetch_page(&client, &url, options, cache, &mut out).await?;
        let mut parsed = github::parse_search_page(page.body.as_bytes(), &url, &options.limits)?;
        if parsed.incomplete {
            parsed.warnings.push(Warning::page(&url, "GitHub reports incomplete_results: the search timed out; some issues may be missing".to_owned()));
            out.complete = false;
        }
        out.issues.append(&mut parsed.issues);
        out.warnings.append(&mut parsed.warnings);
        out.pages.push(page);
        next = link;
    }
    Ok(out)
}

async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    options: &FetchOptions,
    cache: &EtagCache,
    out: &mut Fetched,
) -> Result<(Page, Option<String>), FeedError> {
    let cached = cache.entries.get(url);
    let mut retried = false;
    loop {
        let mut req = client
            .get(url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = &options.token {
            req = req.bearer_auth(token);
        }
        if let Some(c) = cached {
            req = req.header("If-None-Match", &c.etag);
        }
        let mut resp = req.send().await.map_err(|e| http_err(url, e.to_string()))?;
        let headers = resp.headers().clone();
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let num = |name: &str| h(name).and_then(|v| v.trim().parse::<u64>().ok());
        out.rate_limit = RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset: num("x-ratelimit-reset"),
        };
        let status = resp.status().as_u16();
        if status == 304 {
            let Some(c) = cached else {
                return Err(http_err(
                    url,
                    "304 Not Modified for a request that was not conditional",
                ));
            };
            out.cache.entries.insert(url.to_owned(), c.clone());
            return Ok((
                Page {
                    url: url.to_owned(),
                    body: c.body.clone(),
                    not_modified: true,
                },
                c.next.clone(),
            ));
        }
        if status == 403 || status == 429 {
            if let Some(wait) = num("retry-after") {
                let wait = Duration::from_secs(wait);
                if !retried && wait <= options.max_retry_wait {
                    retried = true;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(http_err(
                    url,
                    format!(
                        "secondary rate limit: retry after {}s (over max_retry_wait or already retried)",
                        wait.as_secs()
                    ),
                ));
            }
            if out.rate_limit.remaining == Some(0) {
                return Err(FeedError::RateLimited {
                    url: url.to_owned(),
                    reset: out
                        .rate_limit
                        .reset
                        .map_or_else(|| "?".to_owned(), |r| r.to_string()),
                });
            }
        }
        // Read the body in chunks so an oversized response is cut off, not buffered whole.
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| http_err(url, e.to_string()))?
        {
            if body.len() + chunk.len() > options.limits.max_page_bytes {
                return Err(FeedError::TooLarge {
                    source_name: url.to_owned(),
                    size: body.len() + chunk.len(),
                    limit: options.limits.max_page_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| http_err(url, "response is not UTF-8"))?;
        if !(200..300).contains(&status) {
            let mut snippet: String = text.chars().take(200).collect();
            if snippet.len() < text.len() {
                snippet.push('…');
            }
            return Err(http_err(url, format!("HTTP {status}: {snippet}")));
        }
        let link = h("link").and_then(|l| next_link(&l));
        if let Some(etag) = h("etag") {
            out.cache.entries.insert(
                url.to_owned(),
                CachedPage {
                    etag,
                    body: text.clone(),
                    next: link.clone(),
                },
            );
        }
        return Ok((
            Page {
                url: url.to_owned(),
                body: text,
                not_modified: false,
            },
            link,
        ));
    }
}

/// [`fetch`] on a private single-threaded runtime, for callers without one (the CLI).
pub fn fetch_blocking(options: &FetchOptions, cache: &EtagCache) -> Result<Fetched, FeedError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            http_err(
                &options.api_url,
                format!("cannot start the I/O runtime: {e}"),
            )
        })?;
    rt.block_on(fetch(options, cache))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let h = r#"<https://api.github.com/search/issues?q=x&page=2>; rel="next", <https://api.github.com/search/issues?q=x&page=3>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/search/issues?q=x&page=2")
        );
        assert_eq!(next_link(r#"<https://a/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn urls() {
        assert!(check_url("https://api.github.com/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://api.github.com/x").is_err());
        assert!(check_url("ftp://x/").is_err());
    }
}
