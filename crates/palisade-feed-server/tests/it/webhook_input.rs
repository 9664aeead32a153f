//! Issue 14 item 11: deliveries with an empty `X-GitHub-Delivery` or with issue times that are
//! not RFC 3339 are refused with 400 and store nothing; a valid unlabel after them still takes
//! the CVE out of the feed.

use crate::*;

fn with_times(
    action: &str,
    updated_at: serde_json::Value,
    created_at: Option<&str>,
    labels: serde_json::Value,
) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&labeled_payload()).unwrap();
    v["action"] = action.into();
    v["issue"]["updated_at"] = updated_at;
    if let Some(c) = created_at {
        v["issue"]["created_at"] = c.into();
    }
    v["issue"]["labels"] = labels;
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_delivery_id_is_a_400_and_changes_nothing() {
    let h = start(true).await;
    let before = h.outputs().await;
    let r = h.post("issues", "", labeled_payload(), None).await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("X-GitHub-Delivery"),
        "{body}"
    );
    // Ping and other events carry a delivery ID too; an empty one is refused before them.
    assert_eq!(h.post("ping", "", b"{}".to_vec(), None).await.status(), 400);
    assert_eq!(
        h.post("star", " ", b"{}".to_vec(), None).await.status(),
        400
    );
    let after = h.outputs().await;
    assert_eq!(before, after);
    assert!(!ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    // The ID was not remembered: the same delivery with a real ID is applied.
    let r = h.post("issues", "d-ok", labeled_payload(), None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "applied"
    );
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_issue_times_are_a_400_with_nothing_stored() {
    let h = start(true).await;
    let before = h.outputs().await;
    let label = serde_json::json!([{"name": "official-cve-feed"}]);
    for (n, (updated, created)) in [
        (serde_json::json!("not-a-date"), None),
        (serde_json::Value::Null, None),
        (serde_json::json!("2025-03-23"), None),
        (serde_json::json!("2023-07-26T15:31:02Z"), Some("2024-10")),
    ]
    .into_iter()
    .enumerate()
    {
        let body = with_times("labeled", updated.clone(), created, label.clone());
        let r = h.post("issues", &format!("bad-{n}"), body, None).await;
        assert_eq!(
            r.status(),
            400,
            "updated_at {updated}, created_at {created:?}"
        );
        let reply: serde_json::Value = r.json().await.unwrap();
        let message = reply["error"].as_str().unwrap();
        assert!(
            message.contains("issue #119594")
                && (message.contains("updated_at") || message.contains("created_at")),
            "{message}"
        );
        // Refused before the delivery was recorded: a corrected redelivery is not a duplicate.
        assert!(
            !h.server
                .state
                .store
                .has_delivery(&format!("bad-{n}"))
                .unwrap()
        );
    }
    assert_eq!(before, h.outputs().await);

    // The sequence of the report: after the refused delivery, a valid label and a later valid
    // unlabel both take effect.
    let poisoned = with_times("labeled", "not-a-date".into(), None, label.clone());
    assert_eq!(h.post("issues", "p-1", poisoned, None).await.status(), 400);
    let labeled = with_times("labeled", "2023-07-26T15:31:02Z".into(), None, label);
    assert_eq!(h.post("issues", "p-2", labeled, None).await.status(), 200);
    assert!(ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    let unlabeled = with_times(
        "unlabeled",
        "2023-07-27T09:00:00Z".into(),
        None,
        serde_json::json!([]),
    );
    assert_eq!(h.post("issues", "p-3", unlabeled, None).await.status(), 200);
    assert!(!ids(&h.feed().await).contains(&NEW_CVE.to_owned()));
    h.server.shutdown().await.unwrap();
}
