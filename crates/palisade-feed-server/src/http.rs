//! The routes: outputs with `ETag`/`Last-Modified`/`304`, gzip and CORS for the JSON; the
//! webhook endpoint; the page; health and readiness; metrics on their own router.

use crate::outputs::{Asset, OSV_ZIP, Snapshot};
use crate::server::{State, blocking, ensure_built};
use crate::webhook::{self, Decision};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use palisade_feed::io::{ATOM, JSON_FEED, OSV_DIR, RSS};
use std::sync::Arc;
use std::time::SystemTime;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::{Any, CorsLayer};

/// The JSON Feed at kubernetes.io's path, so existing consumers only change the host.
pub const UPSTREAM_JSON_PATH: &str = "/docs/reference/issues-security/official-cve-feed/index.json";

const JSON: &str = "application/json; charset=utf-8";
const FEED_JSON: &str = "application/feed+json; charset=utf-8";
const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
const ZIP: &str = "application/zip";

type AppState = axum::extract::State<Arc<State>>;

pub fn router(state: Arc<State>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .expose_headers([header::ETAG, header::LAST_MODIFIED]);
    let json = Router::new()
        .route(UPSTREAM_JSON_PATH, get(index_json))
        .route("/feed.json", get(feed_json))
        .route("/osv/{file}", get(osv))
        .layer(cors);
    // The archive is already deflated; compressing it again only costs CPU.
    let compress = CompressionLayer::new()
        .compress_when(DefaultPredicate::new().and(NotForContentType::const_new(ZIP)));
    Router::new()
        .route("/", get(page))
        .route("/feed.xml", get(rss))
        .route("/atom.xml", get(atom))
        .route("/webhooks/github", post(github_webhook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(json)
        .layer(compress)
        .with_state(state)
}

/// The metrics listener's routes: `/metrics` and `/healthz`. Kept off the main router, which
/// the Ingress exposes.
pub fn metrics_router(state: Arc<State>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(state)
}

fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Whether the client's copy is current: `If-None-Match` (weak comparison, `*`), else
/// `If-Modified-Since` at one-second resolution (RFC 9110 §13.1).
fn not_modified(headers: &HeaderMap, asset: &Asset) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if let Some(v) = headers.get(header::IF_NONE_MATCH) {
        let ours = opaque(&asset.etag);
        return v
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == "*" || opaque(t) == ours));
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match since {
        Some(since) => {
            let secs = |t: SystemTime| {
                t.duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            };
            secs(asset.last_modified) <= secs(since)
        }
        None => false,
    }
}

/// `Accept-Encoding` names gzip with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

fn serve(headers: &HeaderMap, asset: Option<&Asset>, content_type: &'static str) -> Response {
    let Some(asset) = asset else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let mut resp = if not_modified(headers, asset) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let pre = asset.gzip.as_ref().filter(|_| accepts_gzip(headers));
        let mut r = Response::new(Body::from(pre.unwrap_or(&asset.bytes).clone()));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if pre.is_some() {
            // Already encoded: the compression layer leaves it alone.
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    if asset.gzip.is_some() {
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(asset.last_modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    // Cacheable, but revalidated every time: the point is to see a new CVE at once.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    resp
}

async fn index_json(st: AppState, headers: HeaderMap) -> Response {
    serve(&headers, st.current().assets.get(JSON_FEED), JSON)
}

async fn feed_json(st: AppState, headers: HeaderMap) -> Response {
    serve(&headers, st.current().assets.get(JSON_FEED), FEED_JSON)
}

async fn rss(st: AppState, headers: HeaderMap) -> Response {
    serve(&headers, st.current().assets.get(RSS), RSS_TYPE)
}

async fn atom(st: AppState, headers: HeaderMap) -> Response {
    serve(&headers, st.current().assets.get(ATOM), ATOM_TYPE)
}

async fn osv(st: AppState, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let snap = st.current();
    if file == OSV_ZIP {
        return serve(
            &headers,
            snap.assets.get(&format!("{OSV_DIR}/{OSV_ZIP}")),
            ZIP,
        );
    }
    let asset = file
        .strip_suffix(".json")
        .filter(|id| palisade_feed::title::is_cve_id(id))
        .and_then(|id| snap.assets.get(&Snapshot::osv_key(id)));
    serve(&headers, asset, JSON)
}

/// The page: query parameters are read by [`crate::page::Filter::from_query`] (bad ones give
/// `400` with the page and a notice, not a bare error), and a strict policy allows only the
/// page's own script and style.
async fn page(st: AppState, RawQuery(query): RawQuery) -> Response {
    let snap = st.current();
    let base = st.config.link_base();
    let (status, html) = crate::page::render(&snap.feed, query.as_deref(), base);
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&crate::page::content_security_policy(base)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(st: AppState) -> Response {
    if st.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the last rebuild failed (see the log)\n",
        )
            .into_response()
    }
}

async fn metrics(st: AppState) -> Response {
    let mut r = st.metrics.encode().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

fn json_reply(status: StatusCode, value: serde_json::Value) -> Response {
    let mut r = (status, format!("{value}\n")).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

fn reject(st: &State, event: &str, outcome: &str, status: StatusCode, message: &str) -> Response {
    st.metrics.event(event, outcome);
    tracing::info!("webhook {event}: {status}: {message}");
    json_reply(status, serde_json::json!({ "error": message }))
}

/// Reads the body up to `limit` bytes, cutting an oversized delivery off as soon as it passes
/// the limit rather than buffering it whole. `Err(true)`: over the limit; `Err(false)`: broken.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, bool> {
    use axum::body::HttpBody;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(Bytes::from(buf)),
            Some(Err(_)) => return Err(false),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        return Err(true);
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

/// `POST /webhooks/github`. Order of checks: configured (404), size (413), signature (401),
/// delivery ID (400), event (`ping` 200, other than `issues` 204), payload and times (400), repository and
/// action (204 when nothing to do), then store + rebuild (200; 500 if either fails).
async fn github_webhook(st: AppState, req: Request) -> Response {
    let st = st.0;
    let headers = req.headers().clone();
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let event = h("x-github-event").unwrap_or("").to_owned();
    let Some(secret) = st.config.webhook_secret.clone() else {
        return reject(
            &st,
            &event,
            "not_configured",
            StatusCode::NOT_FOUND,
            "the webhook is not configured: start the server with --webhook-secret-file",
        );
    };
    let limit = st.config.max_body_bytes;
    let declared = h("content-length").and_then(|v| v.parse::<u64>().ok());
    let too_large = format!("the body is over the {limit}-byte limit for a webhook delivery");
    if declared.is_some_and(|n| n > limit as u64) {
        return reject(
            &st,
            &event,
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large,
        );
    }
    let body = match read_body(req.into_body(), limit).await {
        Ok(b) => b,
        Err(true) => {
            return reject(
                &st,
                &event,
                "too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                &too_large,
            );
        }
        Err(false) => {
            return reject(
                &st,
                &event,
                "bad_body",
                StatusCode::BAD_REQUEST,
                "the body could not be read",
            );
        }
    };
    if !webhook::verify_signature(&secret, &body, h("x-hub-signature-256")) {
        return reject(
            &st,
            &event,
            "unauthorized",
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Hub-Signature-256",
        );
    }
    // Every GitHub delivery carries an ID (pings too): checked before any event is answered.
    let delivery = match webhook::delivery_id(h("x-github-delivery")) {
        Ok(d) => d.to_owned(),
        Err(message) => {
            return reject(
                &st,
                &event,
                "bad_delivery",
                StatusCode::BAD_REQUEST,
                &message,
            );
        }
    };
    match event.as_str() {
        "ping" => {
            st.metrics.event("ping", "ok");
            return json_reply(StatusCode::OK, serde_json::json!({ "status": "pong" }));
        }
        "issues" => {}
        _ => {
            st.metrics.event(&event, "ignored");
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    let change = match webhook::decide(&body, &st.config.repo) {
        Ok(Decision::Apply(c)) => c,
        Ok(Decision::Ignore(reason)) => {
            st.metrics.event(&event, "ignored");
            tracing::info!("webhook {delivery}: ignored: {reason}");
            return StatusCode::NO_CONTENT.into_response();
        }
        Err(message) => {
            return reject(&st, &event, "malformed", StatusCode::BAD_REQUEST, &message);
        }
    };
    let d = delivery.clone();
    let applied = match blocking(&st, move |s| s.store.apply_delivery(&d, Some(*change))).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("webhook {delivery}: store: {e}");
            return reject(
                &st,
                &event,
                "error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not store the delivery; GitHub may redeliver it",
            );
        }
    };
    // Also on a duplicate: a redelivery after a failed rebuild retries it.
    if let Err(e) = ensure_built(&st, applied.generation).await {
        tracing::error!("webhook {delivery}: rebuild: {e}");
        return reject(
            &st,
            &event,
            "error",
            StatusCode::INTERNAL_SERVER_ERROR,
            "stored, but the outputs could not be rebuilt",
        );
    }
    let status = if applied.duplicate {
        "duplicate"
    } else if applied.changed {
        "applied"
    } else {
        "unchanged"
    };
    st.metrics.event(&event, status);
    tracing::info!(
        "webhook {delivery}: {status} (generation {})",
        applied.generation
    );
    json_reply(
        StatusCode::OK,
        serde_json::json!({ "status": status, "generation": applied.generation }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn asset() -> Asset {
        Asset {
            bytes: Bytes::from_static(b"x"),
            etag: "W/\"abc\"".to_owned(),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            gzip: None,
        }
    }

    #[test]
    fn accept_encoding() {
        let h = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_gzip(&m)
        };
        assert!(h("gzip"));
        assert!(h("br, gzip;q=0.8"));
        assert!(h("*"));
        assert!(!h("gzip;q=0"));
        assert!(!h("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn conditional_requests() {
        let a = asset();
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, &a));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert!(not_modified(&h, &a));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("W/\"x\", W/\"abc\""),
        );
        assert!(not_modified(&h, &a));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"zzz\""));
        // If-None-Match wins over If-Modified-Since.
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&http_date(a.last_modified)).unwrap(),
        );
        assert!(!not_modified(&h, &a));
        h.remove(header::IF_NONE_MATCH);
        assert!(not_modified(&h, &a));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Mon, 13 Nov 2023 22:13:19 GMT"),
        );
        assert!(!not_modified(&h, &a));
    }
}
