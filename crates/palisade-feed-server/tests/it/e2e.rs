//! Webhook deliveries end to end on loopback.

use crate::*;
use std::io::Read;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_labeled_delivery_shows_up_in_every_output() {
    let h = start(true).await;
    let before = h.feed().await;
    let n_before = before["items"].as_array().unwrap().len();
    assert!(n_before >= 43, "seeded from the 2023 pages: {n_before}");
    assert!(!ids(&before).contains(&NEW_CVE.to_owned()));
    assert_eq!(h.get(&format!("/osv/{NEW_CVE}.json")).await.status(), 404);

    let r = h
        .post("issues", "d-labeled-1", labeled_payload(), None)
        .await;
    assert_eq!(r.status(), 200);
    let reply: serde_json::Value = r.json().await.unwrap();
    assert_eq!(reply["status"], "applied");

    // JSON Feed, at both paths, newest first.
    let feed = h.feed().await;
    assert_eq!(ids(&feed)[0], NEW_CVE);
    assert_eq!(feed["items"].as_array().unwrap().len(), n_before + 1);
    let item = &feed["items"][0];
    assert_eq!(
        item["url"],
        "https://github.com/kubernetes/kubernetes/issues/119594"
    );
    assert_eq!(item["_kubernetes_io"]["issue_number"], 119594);
    assert_eq!(item["status"], "open");
    assert_eq!(
        h.bytes("/docs/reference/issues-security/official-cve-feed/index.json")
            .await,
        h.bytes("/feed.json").await
    );

    // RSS and Atom, read by a feed parser.
    let rss = feed_rs::parser::parse(&h.bytes("/feed.xml").await[..]).unwrap();
    assert!(rss.entries.iter().any(|e| {
        e.title
            .as_ref()
            .is_some_and(|t| t.content.starts_with(NEW_CVE))
    }));
    let atom = feed_rs::parser::parse(&h.bytes("/atom.xml").await[..]).unwrap();
    assert_eq!(atom.entries.len(), n_before + 1);

    // OSV, single record and archive.
    let osv: serde_json::Value =
        serde_json::from_slice(&h.bytes(&format!("/osv/{NEW_CVE}.json")).await).unwrap();
    assert_eq!(osv["id"], NEW_CVE);
    assert_eq!(osv["published"], "2023-07-26T15:30:26Z");
    let zip = h.bytes("/osv/all.zip").await;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    assert_eq!(z.len(), n_before + 1);
    let mut text = String::new();
    z.by_name(&format!("{NEW_CVE}.json"))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(
        text.as_bytes(),
        &h.bytes(&format!("/osv/{NEW_CVE}.json")).await[..]
    );

    // The page lists it first, and what is served is what is on disk.
    let page = String::from_utf8(h.bytes("/").await).unwrap();
    assert!(page.contains(&format!("<tr class=\"cve\" id=\"{NEW_CVE}\" ")));
    let out = h.outputs().await;
    assert_eq!(out["served /feed.json"], out["disk official-cve-feed.json"]);
    assert_eq!(out["served /feed.xml"], out["disk feed.xml"]);
    assert_eq!(out["served /osv/all.zip"], out["disk osv/all.zip"]);
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_deliveries_leave_outputs_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), true);
    c.max_body_bytes = 64 * 1024;
    let h = start_with(dir, c).await;
    assert_eq!(
        h.post("issues", "d-1", labeled_payload(), None)
            .await
            .status(),
        200
    );
    let baseline = h.outputs().await;
    let body = labeled_payload();

    // Forged signature: right shape, wrong key.
    let forged = webhook::sign(b"not the secret", &body);
    assert_eq!(
        h.post("issues", "d-2", body.clone(), Some(forged))
            .await
            .status(),
        401
    );
    // Missing signature.
    let r = h
        .client
        .post(format!("{}/webhooks/github", h.base))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", "d-3")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Body altered after signing.
    let sig = webhook::sign(SECRET, &body);
    let mut altered = body.clone();
    altered.push(b' ');
    assert_eq!(
        h.post("issues", "d-4", altered, Some(sig)).await.status(),
        401
    );
    // Replay of an accepted delivery, even with newer content.
    let newer = variant("edited", 119594, NEW_CVE, "2023-08-01T00:00:00Z");
    let r = h.post("issues", "d-1", newer, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    // Another repository, correctly signed.
    let mut other: serde_json::Value = serde_json::from_slice(&body).unwrap();
    other["repository"]["full_name"] = "octo-org/octo-repo".into();
    let other = serde_json::to_vec(&other).unwrap();
    assert_eq!(h.post("issues", "d-5", other, None).await.status(), 204);
    // Over the body limit: signed, and once without Content-Length (chunked).
    let mut big: serde_json::Value = serde_json::from_slice(&body).unwrap();
    big["issue"]["body"] = "x".repeat(70 * 1024).into();
    let big = serde_json::to_vec(&big).unwrap();
    assert_eq!(
        h.post("issues", "d-6", big.clone(), None).await.status(),
        413
    );
    let sig = webhook::sign(SECRET, &big);
    let status = raw_chunked(
        h.server.addr,
        &[
            ("X-GitHub-Event", "issues"),
            ("X-GitHub-Delivery", "d-7"),
            ("X-Hub-Signature-256", &sig),
        ],
        &big,
    )
    .await;
    assert_eq!(status, 413);
    // Malformed JSON, correctly signed; and JSON that is not an issues event.
    assert_eq!(
        h.post(
            "issues",
            "d-8",
            b"{\"action\": \"labeled\", ".to_vec(),
            None
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        h.post("issues", "d-9", b"[1,2,3]".to_vec(), None)
            .await
            .status(),
        400
    );
    // An action that cannot change the feed, and an event we do not handle.
    let assigned = variant("assigned", 119594, NEW_CVE, "2023-09-01T00:00:00Z");
    assert_eq!(h.post("issues", "d-10", assigned, None).await.status(), 204);
    assert_eq!(
        h.post("star", "d-11", b"{}".to_vec(), None).await.status(),
        204
    );
    // Missing delivery ID.
    let r = h
        .client
        .post(format!("{}/webhooks/github", h.base))
        .header("X-GitHub-Event", "issues")
        .header("X-Hub-Signature-256", webhook::sign(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let after = h.outputs().await;
    assert_eq!(
        baseline.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &baseline {
        assert!(after[k] == *v, "{k} changed");
    }
    let metrics = String::from_utf8(h.metrics().await).unwrap();
    assert!(
        metrics.contains(
            "palisade_feed_webhook_events_total{event=\"issues\",outcome=\"unauthorized\"} 3"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("outcome=\"too_large\"} 2"), "{metrics}");
    assert!(metrics.contains("outcome=\"duplicate\"} 1"), "{metrics}");
    h.server.shutdown().await.unwrap();
}

/// POSTs a chunked body over a raw connection (no Content-Length), returning the status.
async fn raw_chunked(addr: std::net::SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = String::from(
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    for c in body.chunks(8192) {
        // The server may answer and close before the whole body is sent.
        if s.write_all(format!("{:x}\r\n", c.len()).as_bytes())
            .await
            .is_err()
            || s.write_all(c).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_gzip_cors_and_content_types() {
    let h = start(true).await;
    let r = h.get("/feed.json").await;
    assert_eq!(
        r.headers()["content-type"],
        "application/feed+json; charset=utf-8"
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let lm = r.headers()["last-modified"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    for (path, ct) in [
        (
            "/docs/reference/issues-security/official-cve-feed/index.json",
            "application/json; charset=utf-8",
        ),
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/osv/all.zip", "application/zip"),
        ("/osv/CVE-2023-2431.json", "application/json; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ] {
        let r = h.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], ct, "{path}");
    }
    let m = h
        .client
        .get(format!("http://{}/metrics", h.server.metrics_addr.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        m.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    // Not on the main listener, which the Ingress exposes.
    for bad in [
        "/metrics",
        "/osv/CVE-2023-9999.json",
        "/osv/%2e%2e%2ffeed.json",
        "/osv/x.json",
        "/nope",
    ] {
        assert_eq!(h.get(bad).await.status(), 404, "{bad}");
    }
    let cond = |name: &'static str, value: String| {
        h.client
            .get(format!("{}/feed.json", h.base))
            .header(name, value)
            .send()
    };
    let r = cond("If-None-Match", etag.clone()).await.unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(
        cond("If-None-Match", "W/\"other\"".into())
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(cond("If-Modified-Since", lm).await.unwrap().status(), 304);
    assert_eq!(
        cond("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT".into())
            .await
            .unwrap()
            .status(),
        200
    );

    // gzip when asked, identity otherwise; the zip is not compressed twice.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_proxy()
        .build()
        .unwrap();
    let r = raw
        .get(format!("{}/feed.json", h.base))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz = r.bytes().await.unwrap();
    assert!(
        gz.len() * 3 < h.bytes("/feed.json").await.len(),
        "gzip should shrink the feed"
    );
    let r = raw
        .get(format!("{}/feed.json", h.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    let r = raw
        .get(format!("{}/osv/all.zip", h.base))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("content-encoding").is_none());

    // CORS on the JSON outputs, including a preflight.
    let r = h
        .client
        .get(format!("{}/feed.json", h.base))
        .header("Origin", "https://example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let r = h
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/osv/CVE-2023-2431.json", h.base),
        )
        .header("Origin", "https://example.org")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    assert_eq!(h.bytes("/healthz").await, b"ok\n");
    assert_eq!(h.bytes("/readyz").await, b"ready\n");
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlabel_close_delete_and_transfer_follow_github() {
    let h = start(true).await;
    let ping =
        std::fs::read(root().join("testdata/feed-server/octokit/ping/payload.json")).unwrap();
    let r = h.post("ping", "p-1", ping, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.post("issues", "a", labeled_payload(), None)
            .await
            .status(),
        200
    );
    // Closed as completed: status `fixed`.
    let mut closed: serde_json::Value =
        serde_json::from_slice(&variant("closed", 119594, NEW_CVE, "2023-07-27T00:00:00Z"))
            .unwrap();
    closed["issue"]["state"] = "closed".into();
    closed["issue"]["state_reason"] = "completed".into();
    assert_eq!(
        h.post("issues", "b", serde_json::to_vec(&closed).unwrap(), None)
            .await
            .status(),
        200
    );
    assert_eq!(h.feed().await["items"][0]["status"], "fixed");
    // An older edit arriving late does not undo it.
    let stale = variant("edited", 119594, NEW_CVE, "2023-07-26T16:00:00Z");
    let r = h.post("issues", "c", stale, None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "unchanged"
    );
    assert_eq!(h.feed().await["items"][0]["status"], "fixed");
    // Unlabelled: leaves the feed, its OSV record goes.
    let mut unl: serde_json::Value = serde_json::from_slice(&variant(
        "unlabeled",
        119594,
        NEW_CVE,
        "2023-07-28T00:00:00Z",
    ))
    .unwrap();
    unl["issue"]["labels"] = serde_json::json!([]);
    assert_eq!(
        h.post("issues", "d", serde_json::to_vec(&unl).unwrap(), None)
            .await
            .status(),
        200
    );
    assert!(!ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    assert_eq!(h.get(&format!("/osv/{NEW_CVE}.json")).await.status(), 404);
    h.server.state.settle().await;
    assert!(
        !h.dir
            .path()
            .join(format!("out/osv/{NEW_CVE}.json"))
            .exists()
    );
    // Relabelled, then deleted; a later redelivery of the old label event cannot revive it.
    let relabel = variant("labeled", 119594, NEW_CVE, "2023-07-29T00:00:00Z");
    assert_eq!(
        h.post("issues", "e", relabel.clone(), None).await.status(),
        200
    );
    assert!(ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    let del = variant("deleted", 119594, NEW_CVE, "2023-07-29T00:00:00Z");
    assert_eq!(h.post("issues", "f", del, None).await.status(), 200);
    assert!(!ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    assert_eq!(h.post("issues", "g", relabel, None).await.status(), 200);
    assert!(!ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    // Transferred away: a seeded CVE leaves the feed.
    let before = ids(&h.feed().await);
    assert!(before.contains(&"CVE-2023-2431".to_owned()));
    let mut tr: serde_json::Value = serde_json::from_slice(&variant(
        "transferred",
        118690,
        "CVE-2023-2431",
        "2024-01-01T00:00:00Z",
    ))
    .unwrap();
    tr["changes"] = serde_json::json!({"new_repository": {"full_name": "kubernetes/security"}});
    assert_eq!(
        h.post("issues", "h", serde_json::to_vec(&tr).unwrap(), None)
            .await
            .status(),
        200
    );
    let after = ids(&h.feed().await);
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after.contains(&"CVE-2023-2431".to_owned()));
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_serves_exactly_what_it_had() {
    let h = start(true).await;
    assert_eq!(
        h.post("issues", "r-1", labeled_payload(), None)
            .await
            .status(),
        200
    );
    let before = h.outputs().await;
    let dir = h.dir;
    h.server.shutdown().await.unwrap();
    // No --input this time: everything comes from the store and the files on disk.
    let c = config(dir.path(), false);
    let h2 = start_with(dir, c).await;
    let after = h2.outputs().await;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        assert!(after[k] == *v, "{k} differs after restart");
    }
    // The delivery is still remembered.
    let r = h2.post("issues", "r-1", labeled_payload(), None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    h2.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_without_secret_is_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), true);
    c.webhook_secret = None;
    let h = start_with(dir, c).await;
    let before = h.outputs().await;
    assert_eq!(
        h.post("issues", "x", labeled_payload(), None)
            .await
            .status(),
        404
    );
    assert!(before == h.outputs().await);
    h.server.shutdown().await.unwrap();
}
