//! GitHub webhook deliveries: `X-Hub-Signature-256` verification and what an `issues` event
//! means for the store. Pure functions; the HTTP handler in [`crate::http`] calls them.

use crate::store::{Change, StoredIssue};
use hmac::{Hmac, Mac};
use palisade_feed::github::Issue;
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
    let stored = StoredIssue::from(ev.issue);
    Ok(match ev.action.as_str() {
        "deleted" => Decision::Apply(Box::new(Change::Remove(stored, "deleted"))),
        "transferred" => Decision::Apply(Box::new(Change::Remove(stored, "transferred"))),
        a if HANDLED_ACTIONS.contains(&a) => Decision::Apply(Box::new(Change::Upsert(stored))),
        other => Decision::Ignore(format!("action `{other}` does not change the feed")),
    })
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
                r#"{{"action":"{action}","issue":{{"number":5,"title":"CVE-2099-1: x","html_url":"u","state":"open","created_at":"2024-01-01T00:00:00Z","labels":[{{"name":"official-cve-feed"}}]}},"repository":{{"full_name":"{repo}"}}}}"#
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
}
