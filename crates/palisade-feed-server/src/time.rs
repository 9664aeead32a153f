//! The clock, in the forms the server needs: Unix seconds (metrics, sync state) and RFC 3339
//! (the feed; formatting is `palisade_feed::syndication::format_utc`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form GitHub and the feed use.
pub fn rfc3339(unix: u64) -> String {
    palisade_feed::syndication::format_utc(unix)
}

pub fn now_rfc3339() -> String {
    rfc3339(unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // GitHub's created_at of kubernetes/kubernetes#118690.
        assert_eq!(rfc3339(1_686_840_152), "2023-06-15T14:42:32Z");
        assert!(now_rfc3339().as_str() > "2024-01-01T00:00:00Z");
    }
}
