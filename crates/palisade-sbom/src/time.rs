//! Document timestamps: `SOURCE_DATE_EPOCH` (reproducible builds) or the clock, as
//! `YYYY-MM-DDThh:mm:ssZ` (the form SPDX requires and CycloneDX accepts).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch for a document written now: `SOURCE_DATE_EPOCH` when it is set to
/// an integer, else the system clock.
pub(crate) fn now() -> i64 {
    now_with(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

/// [`now`] with the variable's value passed in (testable without touching the environment).
fn now_with(source_date_epoch: Option<&str>) -> i64 {
    if let Some(secs) = source_date_epoch.and_then(|v| v.trim().parse::<i64>().ok()) {
        return secs;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `secs` since the epoch as UTC `YYYY-MM-DDThh:mm:ssZ` (the feed's formatter), clamped to
/// 1970–9999 so the output always has the shape the schemas ask for.
pub(crate) fn rfc3339(secs: i64) -> String {
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    palisade_feed::syndication::format_utc(u64::try_from(secs.clamp(0, MAX)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::{now_with, rfc3339};

    #[test]
    fn source_date_epoch_wins_when_it_is_a_number() {
        assert_eq!(now_with(Some("1620340909")), 1_620_340_909);
        assert_eq!(now_with(Some(" 0\n")), 0);
        // not a number: the clock (some time after this code was written)
        assert!(now_with(Some("yesterday")) > 1_700_000_000);
        assert!(now_with(None) > 1_700_000_000);
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_620_340_909), "2021-05-06T22:41:49Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MIN), "1970-01-01T00:00:00Z");
    }
}
