//! Resync from a loopback stand-in for the GitHub search API: conditional requests, issues
//! added and removed upstream, deliveries newer than the search index kept.

use crate::*;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Api {
    body: Mutex<String>,
    requests: Mutex<Vec<Option<String>>>,
}

fn all_seed_items() -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(seed_pages())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    for p in pages {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        items.extend(v["items"].as_array().unwrap().iter().cloned());
    }
    items
}

fn page(items: &[serde_json::Value]) -> String {
    serde_json::json!({"total_count": items.len(), "incomplete_results": false, "items": items})
        .to_string()
}

async fn search(
    axum::extract::State(api): axum::extract::State<Arc<Api>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let inm = headers
        .get("if-none-match")
        .map(|v| v.to_str().unwrap().to_owned());
    api.requests.lock().unwrap().push(inm.clone());
    let body = api.body.lock().unwrap().clone();
    let etag = format!("\"{}\"", body.len());
    if inm.as_deref() == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
    }
    (
        [
            ("etag", etag),
            ("content-type", "application/json".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// The value of an unlabelled gauge in `/metrics` text.
fn gauge(metrics: &str, name: &str) -> i64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing: {metrics}"))
        .parse()
        .unwrap()
}

/// A loopback search API answering `items`; returns it and its base URL.
async fn api_serving(items: &[serde_json::Value]) -> (Arc<Api>, String) {
    let api = Arc::new(Api::default());
    *api.body.lock().unwrap() = page(items);
    let app = axum::Router::new()
        .route("/search/issues", axum::routing::get(search))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (api, format!("http://{api_addr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_store_is_not_reported_as_synced() {
    const SYNC: &str = "palisade_feed_last_successful_sync_timestamp_seconds";
    const SEED: &str = "palisade_feed_last_seed_timestamp_seconds";
    let t0 = i64::try_from(palisade_feed_server::time::unix_now()).unwrap();
    let h = start(true).await;
    let m = String::from_utf8(h.metrics().await).unwrap();
    assert_eq!(gauge(&m, SYNC), 0, "only seeded: never synced");
    let seeded = gauge(&m, SEED);
    let t1 = i64::try_from(palisade_feed_server::time::unix_now()).unwrap();
    assert!((t0..=t1).contains(&seeded), "{t0} <= {seeded} <= {t1}");

    // A restart without --input keeps the seed time and still has no sync.
    let dir = h.dir;
    h.server.shutdown().await.unwrap();
    let (_api, api_url) = api_serving(&all_seed_items()).await;
    let mut c = config(dir.path(), false);
    c.api_url = api_url;
    let h = start_with(dir, c).await;
    let m = String::from_utf8(h.metrics().await).unwrap();
    assert_eq!((gauge(&m, SYNC), gauge(&m, SEED)), (0, seeded));

    // The first resync sets the sync time; the seed time stays.
    palisade_feed_server::server::resync_once(&h.server.state)
        .await
        .unwrap();
    let m = String::from_utf8(h.metrics().await).unwrap();
    assert!(gauge(&m, SYNC) >= seeded, "{m}");
    assert_eq!(gauge(&m, SEED), seeded);
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_uses_conditional_requests_and_tracks_upstream() {
    let items = all_seed_items();
    let (api, api_url) = api_serving(&items).await;

    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), false);
    c.api_url = api_url;
    let h = start_with(dir, c).await;
    let state = h.server.state.clone();
    assert!(ids(&h.feed().await).is_empty());

    assert!(
        palisade_feed_server::server::resync_once(&state)
            .await
            .unwrap()
    );
    let first = ids(&h.feed().await);
    assert!(first.len() >= 43, "{}", first.len());
    let baseline = h.outputs().await;

    // Unchanged upstream: a conditional request, a 304, nothing rebuilt.
    assert!(
        !palisade_feed_server::server::resync_once(&state)
            .await
            .unwrap()
    );
    let reqs = api.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].is_none() && reqs[1].is_some(), "{reqs:?}");
    assert!(baseline == h.outputs().await);

    // A delivery the search index has not caught up with yet survives a resync.
    let fresh = variant(
        "labeled",
        119594,
        NEW_CVE,
        &palisade_feed_server::time::now_rfc3339(),
    );
    assert_eq!(h.post("issues", "fresh", fresh, None).await.status(), 200);
    // Upstream drops #118690 (CVE-2023-2431): it was unlabelled while we missed the webhook.
    let fewer: Vec<_> = items
        .iter()
        .filter(|i| i["number"] != 118690)
        .cloned()
        .collect();
    *api.body.lock().unwrap() = page(&fewer);
    assert!(
        palisade_feed_server::server::resync_once(&state)
            .await
            .unwrap()
    );
    let now = ids(&h.feed().await);
    assert!(!now.contains(&"CVE-2023-2431".to_owned()));
    assert!(now.contains(&NEW_CVE.to_owned()));

    let metrics = String::from_utf8(h.metrics().await).unwrap();
    assert!(
        metrics.contains("palisade_feed_resyncs_total{result=\"not_modified\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_feed_resyncs_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    let last = gauge(
        &metrics,
        "palisade_feed_last_successful_sync_timestamp_seconds",
    );
    assert!(last > 1_700_000_000, "{last}");

    // Upstream failing is an error, and the feed stays as it was.
    let before = h.outputs().await;
    *api.body.lock().unwrap() = "{\"message\": \"oops\"}".to_owned();
    assert!(
        palisade_feed_server::server::resync_once(&state)
            .await
            .is_err()
    );
    assert!(before == h.outputs().await);
    h.server.shutdown().await.unwrap();
}
