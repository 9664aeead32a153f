//! `fetch` against a local loopback HTTP server serving the recorded search pages: Link
//! pagination, token, ETag / 304, rate limits, refusal to follow links off the API origin,
//! bounded bodies. Never a real network address.

use crate::testdata;
use palisade_feed::fetch::{EtagCache, FetchOptions, fetch_blocking};
use palisade_feed::{FeedError, Limits};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct Request {
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn page(&self) -> usize {
        self.target
            .split("&page=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Handler = dyn Fn(&Request, &str) -> Response + Send + Sync;

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1; returns its base URL and the log
/// of requests it saw.
fn serve(handler: Arc<Handler>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let (log2, base2) = (log.clone(), base.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim().split_once(':') {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            let req = Request { target, headers };
            let resp = handler(&req, &base2);
            log2.lock().unwrap().push(req);
            let mut out = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                resp.status,
                resp.body.len()
            );
            for (k, v) in &resp.headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&resp.body);
            let _ = stream.flush();
            let mut rest = [0u8; 1];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = stream.read(&mut rest);
        }
    });
    (base, log)
}

fn recorded(page: usize) -> Vec<u8> {
    std::fs::read(testdata(&format!(
        "cve-feed/github-pages-2025/page-{page}.json"
    )))
    .unwrap()
}

/// GitHub's behaviour for the 3 recorded pages: Link headers, ETags, 304 on a matching
/// `If-None-Match`, rate-limit headers.
fn github(req: &Request, base: &str) -> Response {
    let page = req.page();
    let etag = format!("\"etag-page-{page}\"");
    let mut headers = vec![
        (
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        ),
        ("ETag".to_owned(), etag.clone()),
        ("X-RateLimit-Limit".to_owned(), "60".to_owned()),
        ("X-RateLimit-Remaining".to_owned(), "57".to_owned()),
        ("X-RateLimit-Reset".to_owned(), "1767225600".to_owned()),
    ];
    let q = "q=is%3Aissue+label%3Aofficial-cve-feed+repo%3Akubernetes%2Fkubernetes&per_page=100";
    let mut links = Vec::new();
    if page < 3 {
        links.push(format!(
            "<{base}/search/issues?{q}&page={}>; rel=\"next\"",
            page + 1
        ));
    }
    links.push(format!("<{base}/search/issues?{q}&page=3>; rel=\"last\""));
    headers.push(("Link".to_owned(), links.join(", ")));
    if req.header("If-None-Match") == Some(etag.as_str()) {
        return Response {
            status: 304,
            headers,
            body: Vec::new(),
        };
    }
    Response {
        status: 200,
        headers,
        body: recorded(page),
    }
}

fn options(base: &str) -> FetchOptions {
    FetchOptions {
        api_url: base.to_owned(),
        token: Some("test-token".to_owned()),
        timeout: Duration::from_secs(10),
        max_retry_wait: Duration::from_secs(1),
        ..FetchOptions::default()
    }
}

#[test]
fn paginates_with_token_and_etags() {
    let (base, log) = serve(Arc::new(github));
    let first = fetch_blocking(&options(&base), &EtagCache::default()).unwrap();
    assert_eq!(first.pages.len(), 3);
    assert_eq!(first.issues.len(), 70);
    assert!(!first.unchanged());
    assert_eq!(first.rate_limit.remaining, Some(57));
    assert_eq!(first.cache.entries.len(), 3);
    {
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 3);
        assert!(log[0].target.starts_with("/search/issues?q=is%3Aissue+label%3Aofficial-cve-feed+repo%3Akubernetes%2Fkubernetes&per_page=100"), "{}", log[0].target);
        for r in log.iter() {
            assert_eq!(r.header("Authorization"), Some("Bearer test-token"));
            assert_eq!(r.header("Accept"), Some("application/vnd.github+json"));
            assert!(
                r.header("User-Agent")
                    .unwrap()
                    .starts_with("palisade-feed/")
            );
            assert!(r.header("If-None-Match").is_none());
        }
    }
    // Second run: conditional requests, all 304, same issues from the cache.
    let second = fetch_blocking(&options(&base), &first.cache).unwrap();
    assert!(second.unchanged());
    assert_eq!(second.issues, first.issues);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 6);
    assert_eq!(log[3].header("If-None-Match"), Some("\"etag-page-1\""));
}

#[test]
fn fetched_pages_build_the_same_feed_as_the_files() {
    let (base, _) = serve(Arc::new(github));
    let fetched = fetch_blocking(&options(&base), &EtagCache::default()).unwrap();
    let opts = palisade_feed::BuildOptions {
        now: crate::NOW.into(),
        ..Default::default()
    };
    let from_http = palisade_feed::Feed::from_issues(&fetched.issues, &opts);
    assert_eq!(
        palisade_feed::render_json_feed(&from_http),
        palisade_feed::render_json_feed(&crate::build("cve-feed/github-pages-2025"))
    );
}

#[test]
fn rate_limit_exhausted_is_a_clear_error() {
    let (base, _) = serve(Arc::new(|_: &Request, _: &str| Response {
        status: 403,
        headers: vec![
            ("X-RateLimit-Remaining".into(), "0".into()),
            ("X-RateLimit-Reset".into(), "1767225600".into()),
        ],
        body: br#"{"message":"API rate limit exceeded"}"#.to_vec(),
    }));
    let e = fetch_blocking(&options(&base), &EtagCache::default()).unwrap_err();
    assert!(matches!(e, FeedError::RateLimited { .. }), "{e}");
    assert!(e.to_string().contains("resets at 1767225600"), "{e}");
}

#[test]
fn secondary_rate_limit_is_retried_once() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let (base, _) = serve(Arc::new(move |req: &Request, base: &str| {
        let mut n = c.lock().unwrap();
        *n += 1;
        if *n == 1 {
            return Response {
                status: 403,
                headers: vec![("Retry-After".into(), "0".into())],
                body: br#"{"message":"secondary rate limit"}"#.to_vec(),
            };
        }
        github(req, base)
    }));
    let fetched = fetch_blocking(&options(&base), &EtagCache::default()).unwrap();
    assert_eq!(fetched.issues.len(), 70);
    assert_eq!(*calls.lock().unwrap(), 4);
}

#[test]
fn refuses_next_links_to_other_hosts() {
    let (base, log) = serve(Arc::new(|_: &Request, _: &str| Response {
        status: 200,
        headers: vec![(
            "Link".into(),
            "<http://127.0.0.2:1/search/issues?page=2>; rel=\"next\"".into(),
        )],
        body: recorded(3),
    }));
    let e = fetch_blocking(&options(&base), &EtagCache::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to send the request (and token) elsewhere"),
        "{e}"
    );
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[test]
fn bounded_and_checked_bodies() {
    let (base, _) = serve(Arc::new(github));
    let small = FetchOptions {
        limits: Limits {
            max_page_bytes: 10_000,
            ..Limits::default()
        },
        ..options(&base)
    };
    let e = fetch_blocking(&small, &EtagCache::default()).unwrap_err();
    assert!(matches!(e, FeedError::TooLarge { .. }), "{e}");

    let (base, _) = serve(Arc::new(|_: &Request, _: &str| Response {
        status: 200,
        headers: Vec::new(),
        body: b"{\"total_count\": 1, \"items\": [".to_vec(),
    }));
    let e = fetch_blocking(&options(&base), &EtagCache::default()).unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");

    let (base, _) = serve(Arc::new(|_: &Request, _: &str| Response {
        status: 422,
        headers: Vec::new(),
        body: br#"{"message":"Validation Failed"}"#.to_vec(),
    }));
    let e = fetch_blocking(&options(&base), &EtagCache::default()).unwrap_err();
    assert!(e.to_string().contains("HTTP 422"), "{e}");

    let plain = FetchOptions {
        api_url: "http://example.invalid".into(),
        ..FetchOptions::default()
    };
    let e = fetch_blocking(&plain, &EtagCache::default()).unwrap_err();
    assert!(e.to_string().contains("only allowed to loopback"), "{e}");
}

#[test]
fn max_pages_stops_with_a_warning() {
    let (base, _) = serve(Arc::new(github));
    let fetched = fetch_blocking(
        &FetchOptions {
            max_pages: 2,
            ..options(&base)
        },
        &EtagCache::default(),
    )
    .unwrap();
    assert_eq!(fetched.pages.len(), 2);
    assert!(
        fetched
            .warnings
            .iter()
            .any(|w| w.message.contains("max_pages"))
    );
    assert!(!fetched.complete, "a walk cut short is not complete");
    let all = fetch_blocking(&options(&base), &EtagCache::default()).unwrap();
    assert!(
        all.complete && all.warnings.is_empty(),
        "{:?}",
        all.warnings
    );
}
