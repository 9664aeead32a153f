//! GitHub webhook deliveries: `X-Hub-Signature-256` verification and what an `issues` event
//! means for the store. Pure functions; the HTTP handler in [`crate::http`] calls them.

use crate::store::{Change, MAX_DELIVERY_ID, StoredIssue};
use hmac::{Hmac, Mac};
use palisade_feed::github::Issue;
use palisade_feed::timestamp;
use serde::Deserialize;
use sha2::Sha256;

/// Largest delivery body accepted. GitHub caps payloads at 25 MB, but an `issues` payload is the
/// issue (body at most 65,536 characters, up to 4 bytes each) plus repository and sender
/// objects: 1 MiB is ample and bounds memory per request.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// The `issues` actions that can change the feed (GitHub's list; `closed` has no example
/// payload upstream but the same shape as `reopened`).
pub const HANDLED_ACTIONS: &[&str] = &[
    "opened",
    "edited",
    "labeled",
    "unlabeled",
    "closed",
    "reopened",
    "deleted",
    "transferred",
];

/// Checks `sha256=<hex>` against HMAC-SHA256 of `body` under `secret`, in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(sig) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// `sha256=<hex>` for `body`: what GitHub sends, for tests and the load generator.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC takes keys of any length; this branch cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(body);
    let out = mac.finalize().into_bytes();
    let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    let bytes = s.as_bytes();
    bytes
        .chunks(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct IssuesEvent {
    action: String,
    issue: Issue,
    repository: Repository,
}

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
}

/// What to do with a verified `issues` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Apply(Box<Change>),
    /// Valid but not for us: another repository, or an action that cannot change the feed.
    Ignore(String),
}

/// Reads an `issues` payload. `Err` is a payload that is not JSON or not an issues event.
pub fn decide(body: &[u8], repo: &str) -> Result<Decision, String> {
    let ev: IssuesEvent = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a GitHub `issues` event payload (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    if !ev.repository.full_name.eq_ignore_ascii_case(repo) {
        return Ok(Decision::Ignore(format!(
            "repository {} is not the configured {repo}",
            ev.repository.full_name
        )));
    }
    if ev.issue.pull_request.is_some() {
        return Ok(Decision::Ignore("a pull request, not an issue".to_owned()));
    }
    let action = ev.action.as_str();
    if !HANDLED_ACTIONS.contains(&action) {
        return Ok(Decision::Ignore(format!(
            "action `{action}` does not change the feed"
        )));
    }
    let stored = StoredIssue::from(checked_times(ev.issue)?);
    Ok(Decision::Apply(Box::new(match action {
        "deleted" => Change::Remove(stored, "deleted"),
        "transferred" => Change::Remove(stored, "transferred"),
        _ => Change::Upsert(stored),
    })))
}

/// The issue with its times checked and in canonical UTC form. The store orders deliveries by
/// `updated_at` and the builder publishes `created_at`, so a value that is not RFC 3339 (or a
/// missing `updated_at`, which GitHub always sends) refuses the delivery instead of being kept.
fn checked_times(mut issue: Issue) -> Result<Issue, String> {
    let n = issue.number;
    let bad = |field: &str, e: timestamp::TimestampError| format!("issue #{n}: {field} {e}");
    issue.created_at = timestamp::parse(&issue.created_at)
        .map_err(|e| bad("created_at", e))?
        .to_string();
    let Some(updated) = issue.updated_at.as_deref() else {
        return Err(format!(
            "issue #{n}: updated_at is missing or null; GitHub sends it with every issues event, and deliveries are ordered by it"
        ));
    };
    issue.updated_at = Some(
        timestamp::parse(updated)
            .map_err(|e| bad("updated_at", e))?
            .to_string(),
    );
    if let Some(closed) = issue.closed_at.as_deref() {
        issue.closed_at = Some(
            timestamp::parse(closed)
                .map_err(|e| bad("closed_at", e))?
                .to_string(),
        );
    }
    Ok(issue)
}

/// The `X-GitHub-Delivery` header when usable as a deduplication key: GitHub sends a GUID with
/// every delivery (pings included); empty, blank, over [`MAX_DELIVERY_ID`] bytes or with
/// control characters is refused.
pub fn delivery_id(header: Option<&str>) -> Result<&str, String> {
    match header {
        None => Err("missing X-GitHub-Delivery".to_owned()),
        Some(d) if d.trim().is_empty() => Err("empty X-GitHub-Delivery".to_owned()),
        Some(d) if d.len() > MAX_DELIVERY_ID => {
            Err(format!("X-GitHub-Delivery is over {MAX_DELIVERY_ID} bytes"))
        }
        Some(d) if !d.bytes().all(|b| b.is_ascii_graphic()) => {
            Err("X-GitHub-Delivery has characters other than printable ASCII".to_owned())
        }
        Some(d) => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_documented_test_vector() {
        // docs.github.com "Validating webhook deliveries", recomputed in the research notes.
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, body), good);
        assert!(verify_signature(secret, body, Some(good)));
        assert!(!verify_signature(secret, b"Hello, World?", Some(good)));
        assert!(!verify_signature(b"other", body, Some(good)));
        assert!(!verify_signature(secret, body, None));
        assert!(!verify_signature(secret, body, Some(&good[7..])));
        assert!(!verify_signature(secret, body, Some("sha1=abc")));
        assert!(!verify_signature(secret, body, Some("sha256=zz")));
        let upper = good.to_ascii_uppercase().replace("SHA256=", "sha256=");
        assert!(verify_signature(secret, body, Some(&upper)));
    }

    #[test]
    fn decisions() {
        let payload = |action: &str, repo: &str| {
            format!(
                r#"{{"action":"{action}","issue":{{"number":5,"title":"CVE-2099-1: x","html_url":"u","state":"open","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-02T00:00:00Z","labels":[{{"name":"official-cve-feed"}}]}},"repository":{{"full_name":"{repo}"}}}}"#
            )
        };
        let r = "kubernetes/kubernetes";
        assert!(matches!(
            decide(payload("labeled", r).as_bytes(), r).unwrap(),
            Decision::Apply(c) if matches!(*c, Change::Upsert(_))
        ));
        assert!(matches!(
            decide(payload("deleted", "Kubernetes/Kubernetes").as_bytes(), r).unwrap(),
            Decision::Apply(c) if matches!(*c, Change::Remove(_, "deleted"))
        ));
        assert!(matches!(
            decide(payload("pinned", r).as_bytes(), r).unwrap(),
            Decision::Ignore(_)
        ));
        assert!(matches!(
            decide(payload("labeled", "octo/x").as_bytes(), r).unwrap(),
            Decision::Ignore(m) if m.contains("octo/x")
        ));
        assert!(decide(b"{", r).unwrap_err().contains("line 1"));
        assert!(decide(b"{\"action\":\"opened\"}", r).is_err());
    }

    #[test]
    fn delivery_ids() {
        assert_eq!(
            delivery_id(Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")),
            Ok("72d3162e-cc78-11e3-81ab-4c9367dc0958")
        );
        for bad in [None, Some(""), Some("   "), Some("a b"), Some("\u{7f}")] {
            assert!(delivery_id(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(MAX_DELIVERY_ID + 1);
        assert!(delivery_id(Some(&long)).unwrap_err().contains("128"));
    }

    #[test]
    fn issue_times_are_checked_and_made_canonical() {
        let payload = |created: &str, updated: &str, closed: &str| {
            format!(
                r#"{{"action":"closed","issue":{{"number":5,"title":"CVE-2099-1: x","html_url":"u","state":"closed","created_at":{created},"updated_at":{updated},"closed_at":{closed},"labels":[]}},"repository":{{"full_name":"k/k"}}}}"#
            )
        };
        let ok = decide(
            payload(
                "\"2024-01-01T02:00:00+02:00\"",
                "\"2024-01-02T00:00:00z\"",
                "null",
            )
            .as_bytes(),
            "k/k",
        )
        .unwrap();
        let Decision::Apply(change) = ok else {
            panic!("{ok:?}")
        };
        let Change::Upsert(stored) = *change else {
            panic!("not an upsert")
        };
        assert_eq!(stored.created_at, "2024-01-01T00:00:00Z");
        assert_eq!(stored.updated_at.as_deref(), Some("2024-01-02T00:00:00Z"));
        for (created, updated, closed, field) in [
            (
                "\"2024-01-01T00:00:00Z\"",
                "\"not-a-date\"",
                "null",
                "updated_at",
            ),
            ("\"2024-01-01T00:00:00Z\"", "null", "null", "updated_at"),
            (
                "\"2024-10\"",
                "\"2024-01-02T00:00:00Z\"",
                "null",
                "created_at",
            ),
            (
                "\"2024-01-01T00:00:00Z\"",
                "\"2024-01-02T00:00:00Z\"",
                "\"yesterday\"",
                "closed_at",
            ),
        ] {
            let e = decide(payload(created, updated, closed).as_bytes(), "k/k").unwrap_err();
            assert!(e.contains("issue #5") && e.contains(field), "{e}");
        }
        // Actions that are ignored are not held to it (nothing is stored).
        let pinned =
            payload("\"x\"", "null", "null").replace("closed\",\"issue", "pinned\",\"issue");
        assert!(matches!(
            decide(pinned.as_bytes(), "k/k"),
            Ok(Decision::Ignore(_))
        ));
    }
}
