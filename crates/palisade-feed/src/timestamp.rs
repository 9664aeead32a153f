//! RFC 3339 timestamps: what GitHub sends (`created_at`, `updated_at`), what JSON Feed
//! (`date_published`) and OSV (`published`, `modified`: `YYYY-MM-DDTHH:MM:SS[.frac]Z`) require.
//!
//! Inputs that are not GitHub's own (hand-made or converted pages) carry other shapes. Those
//! with one meaning are normalised to the canonical UTC form; the rest are refused with the
//! reason, so no output ever carries a time the OSV schema rejects.

use std::cmp::Ordering;
use std::fmt;

/// An instant in UTC: seconds since the Unix epoch plus the fraction as written (digits kept,
/// trailing zeros dropped, so the canonical text round-trips).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    secs: i64,
    /// Fraction digits after the decimal point, without trailing zeros (`""` for none).
    frac: String,
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        // Fractions compare as decimal digit strings once padded to the same length.
        let width = self.frac.len().max(other.frac.len());
        let pad = |f: &str| format!("{f:0<width$}");
        self.secs
            .cmp(&other.secs)
            .then_with(|| pad(&self.frac).cmp(&pad(&other.frac)))
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.frac]Z`, the form GitHub emits and the OSV schema's pattern.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        f.write_str("Z")
    }
}

impl Timestamp {
    /// Seconds since the Unix epoch (the fraction dropped).
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }
}

/// Why a value is not a usable timestamp. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ): {reason}")]
pub struct TimestampError {
    pub value: String,
    pub reason: &'static str,
}

fn err(value: &str, reason: &'static str) -> TimestampError {
    TimestampError {
        value: value.chars().take(80).collect(),
        reason,
    }
}

/// Strict RFC 3339 (`2024-01-02T03:04:05Z`, `…05.123+02:00`; `t`/`z` and a space for `T` as
/// RFC 3339 §5.6 allows). Offsets are applied, so the result is UTC. Years 0000-9999 only;
/// a leap second (`:60`) is refused, as no date library downstream agrees on it.
pub fn parse(value: &str) -> Result<Timestamp, TimestampError> {
    let s = value.trim();
    if s.is_empty() {
        return Err(err(value, "empty"));
    }
    let (days, rest) = date_part(s).ok_or_else(|| err(value, "no YYYY-MM-DD date"))?;
    let Some(&sep) = rest.as_bytes().first() else {
        return Err(err(value, "a date without a time of day or zone"));
    };
    if !matches!(sep, b'T' | b't' | b' ') {
        return Err(err(value, "date and time must be separated by `T`"));
    }
    let time = rest.get(1..).unwrap_or("");
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = time.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let tb = time.as_bytes();
    if tb.len() < 8 || tb.get(2) != Some(&b':') || tb.get(5) != Some(&b':') {
        return Err(err(value, "no HH:MM:SS time of day"));
    }
    let (h, mi, sec) = match (num(0..2), num(3..5), num(6..8)) {
        (Some(h), Some(mi), Some(sec)) => (h, mi, sec),
        _ => return Err(err(value, "no HH:MM:SS time of day")),
    };
    if h > 23 || mi > 59 || sec > 59 {
        return Err(err(value, "hour, minute or second out of range"));
    }
    let mut i = 8;
    let mut frac = String::new();
    if tb.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while tb.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(err(value, "a decimal point without digits"));
        }
        frac = time
            .get(start..i)
            .unwrap_or("")
            .trim_end_matches('0')
            .to_owned();
    }
    let zone = time.get(i..).unwrap_or("");
    let offset = match zone {
        "Z" | "z" => 0,
        "" => {
            return Err(err(
                value,
                "no time zone (`Z` or `+HH:MM`): the instant is ambiguous",
            ));
        }
        _ => {
            let zb = zone.as_bytes();
            let sign = match zb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(err(value, "unexpected text after the time")),
            };
            let digits = |r: std::ops::Range<usize>| -> Option<i64> {
                let t = zone.get(r)?;
                if t.bytes().all(|c| c.is_ascii_digit()) {
                    t.parse().ok()
                } else {
                    None
                }
            };
            match (zb.len(), zb.get(3), digits(1..3), digits(4..6)) {
                (6, Some(b':'), Some(oh), Some(om)) if oh <= 23 && om <= 59 => {
                    sign * (oh * 3600 + om * 60)
                }
                _ => return Err(err(value, "the zone offset is not `+HH:MM`")),
            }
        }
    };
    Ok(Timestamp {
        secs: days * 86_400 + h * 3600 + mi * 60 + sec - offset,
        frac,
    })
}

/// A timestamp from a page that may not be GitHub's: RFC 3339 as [`parse`] reads it, or a full
/// calendar date (`2025-03-23`, taken as midnight UTC, the convention of date-only
/// announcements). A month (`2024-10`), a time without a zone or anything else is refused:
/// inventing the missing day or zone would publish a date nobody stated.
pub fn normalize(value: &str) -> Result<String, TimestampError> {
    let s = value.trim();
    if let Some((days, "")) = date_part(s) {
        return Ok(Timestamp {
            secs: days * 86_400,
            frac: String::new(),
        }
        .to_string());
    }
    if s.len() == 7
        && s.as_bytes().get(4) == Some(&b'-')
        && s.bytes().filter(|c| c.is_ascii_digit()).count() == 6
    {
        return Err(err(value, "a month without a day"));
    }
    parse(s).map(|t| t.to_string())
}

/// `YYYY-MM-DD` at the start of `s`, as days since 1970-01-01, and the rest.
fn date_part(s: &str) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some((days_from_civil(y, m, d), s.get(10..)?))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_form_round_trips() {
        for s in [
            "2023-06-15T14:42:32Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2024-02-29T23:59:59.5Z",
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
            assert_eq!(normalize(s).unwrap(), s);
        }
        assert_eq!(
            parse("2023-06-15T14:42:32Z").unwrap().unix_seconds(),
            1_686_840_152
        );
    }

    #[test]
    fn unambiguous_forms_are_normalised() {
        let n = |s: &str| normalize(s).unwrap();
        assert_eq!(n("2025-03-23"), "2025-03-23T00:00:00Z");
        assert_eq!(n("2025-03-23T10:00:00+02:00"), "2025-03-23T08:00:00Z");
        assert_eq!(n("2025-03-23t01:00:00-01:30"), "2025-03-23T02:30:00Z");
        assert_eq!(n("2025-01-01 00:30:00+01:00"), "2024-12-31T23:30:00Z");
        assert_eq!(n(" 2025-03-23T10:00:00.120z "), "2025-03-23T10:00:00.12Z");
        assert_eq!(n("2025-03-23T10:00:00.000Z"), "2025-03-23T10:00:00Z");
    }

    #[test]
    fn ambiguous_or_broken_forms_are_refused() {
        for (s, why) in [
            ("2024-10", "month without a day"),
            ("2025-03-23T10:00:00", "no time zone"),
            ("not-a-date", "no YYYY-MM-DD"),
            ("", "empty"),
            ("2025-02-29", "no YYYY-MM-DD"),
            ("2025-13-01T00:00:00Z", "no YYYY-MM-DD"),
            ("2025-03-23T24:00:00Z", "out of range"),
            ("2025-03-23T10:00:60Z", "out of range"),
            ("2025-03-23T10:00Z", "HH:MM:SS"),
            ("2025-03-23T10:00:00+0200", "`+HH:MM`"),
            ("2025-03-23T10:00:00.Z", "without digits"),
            ("2025-03-23T10:00:00Z trailing", "unexpected text"),
            ("23/03/2025", "no YYYY-MM-DD"),
            ("2025-03-23Tx", "HH:MM:SS"),
        ] {
            let e = normalize(s).unwrap_err();
            assert!(e.to_string().contains(why), "{s}: {e}");
        }
        assert!(parse("2025-03-23").is_err(), "strict parse wants a time");
    }

    #[test]
    fn ordering_is_by_instant() {
        let p = |s: &str| parse(s).unwrap();
        assert!(p("2025-01-01T00:00:00.5Z") > p("2025-01-01T00:00:00Z"));
        assert!(p("2025-01-01T00:00:00.05Z") < p("2025-01-01T00:00:00.5Z"));
        assert!(p("2025-01-01T01:00:00+02:00") < p("2025-01-01T00:00:00Z"));
        assert_eq!(
            p("2025-01-01T02:00:00+02:00").cmp(&p("2025-01-01T00:00:00Z")),
            Ordering::Equal
        );
    }
}
