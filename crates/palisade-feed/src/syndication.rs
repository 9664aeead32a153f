//! RSS 2.0 and Atom 1.0 writers.
//!
//! RSS mirrors kubernetes.io's `cve-feed.rss.xml` channel/item mapping (link = issue, guid =
//! cve.org record, description = summary), made valid: `guid isPermaLink="true"`, one GUID per
//! CVE, and the status as an RSS `category` with `domain` (upstream writes Atom's `term`/`scheme`
//! attributes, which RSS does not have). Item and entry titles come from one function,
//! [`entry_title`], so a reader sees the same line whichever format it subscribes to (upstream's
//! RSS title is the bare CVE ID, which says nothing in a feed reader's list).

use crate::feed::{Feed, Item};
use std::fmt::Write;

/// The status category scheme upstream uses.
pub const STATUS_SCHEME: &str = "https://k8s.io/2024-06-27/cve-item-status";

pub fn render_rss(feed: &Feed) -> String {
    let mut s = String::with_capacity(256 + feed.items.len() * 512);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n");
    let site = &feed.site;
    let _ = writeln!(s, "<title>{}</title>", esc(&site.title));
    let _ = writeln!(s, "<link>{}</link>", esc(&site.page_url));
    let _ = writeln!(s, "<description>{}</description>", esc(&site.description));
    s.push_str("<generator>palisade</generator>\n<language>en-US</language>\n");
    if let Some(date) = rfc2822(&feed.updated_at) {
        let _ = writeln!(s, "<lastBuildDate>{date}</lastBuildDate>");
    }
    let _ = writeln!(
        s,
        "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        esc(&site.rss_url)
    );
    for item in &feed.items {
        s.push_str("<item>\n");
        let _ = writeln!(s, "<title>{}</title>", esc(&entry_title(item)));
        let _ = writeln!(s, "<link>{}</link>", esc(&item.url));
        if let Some(date) = rfc2822(&item.date_published) {
            let _ = writeln!(s, "<pubDate>{date}</pubDate>");
        }
        let _ = writeln!(
            s,
            "<guid isPermaLink=\"true\">{}</guid>",
            esc(&item.external_url)
        );
        let _ = writeln!(s, "<description>{}</description>", esc(&item.summary));
        if let Some(status) = item.status {
            let _ = writeln!(
                s,
                "<category domain=\"{STATUS_SCHEME}\">{status}</category>"
            );
        }
        s.push_str("</item>\n");
    }
    s.push_str("</channel>\n</rss>\n");
    s
}

pub fn render_atom(feed: &Feed) -> String {
    let mut s = String::with_capacity(256 + feed.items.len() * 2048);
    let site = &feed.site;
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(s, "<id>{}</id>", esc(&site.atom_url));
    let _ = writeln!(s, "<title>{}</title>", esc(&site.title));
    let _ = writeln!(s, "<subtitle>{}</subtitle>", esc(&site.description));
    let _ = writeln!(s, "<updated>{}</updated>", esc(&feed.updated_at));
    let _ = writeln!(
        s,
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        esc(&site.atom_url)
    );
    let _ = writeln!(
        s,
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        esc(&site.page_url)
    );
    s.push_str("<author><name>Kubernetes Community</name><uri>https://www.kubernetes.dev</uri></author>\n<generator>palisade</generator>\n");
    for item in &feed.items {
        s.push_str("<entry>\n");
        let _ = writeln!(s, "<id>{}</id>", esc(&item.external_url));
        let _ = writeln!(s, "<title>{}</title>", esc(&entry_title(item)));
        let updated = item
            .date_modified
            .as_deref()
            .unwrap_or(&item.date_published);
        let _ = writeln!(s, "<updated>{}</updated>", esc(updated));
        let _ = writeln!(s, "<published>{}</published>", esc(&item.date_published));
        let _ = writeln!(
            s,
            "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            esc(&item.url)
        );
        let _ = writeln!(
            s,
            "<link rel=\"related\" href=\"{}\"/>",
            esc(&item.external_url)
        );
        if let Some(status) = item.status {
            let _ = writeln!(
                s,
                "<category term=\"{status}\" scheme=\"{STATUS_SCHEME}\"/>"
            );
        }
        if let Some(score) = item.primary_cvss() {
            let _ = writeln!(
                s,
                "<category term=\"severity:{}\" label=\"CVSS {} {}\"/>",
                score.severity,
                score.base_score,
                esc(&score.vector)
            );
        }
        let _ = writeln!(s, "<summary type=\"text\">{}</summary>", esc(&item.summary));
        let _ = writeln!(
            s,
            "<content type=\"text\">{}</content>",
            esc(&item.content_text)
        );
        s.push_str("</entry>\n");
    }
    s.push_str("</feed>\n");
    s
}

/// The title of an item in both RSS and Atom: `CVE-2023-2727: Bypassing policies (Medium, score
/// 6.5)`. The summary is left out when the issue title has none, the severity when the issue
/// gives no valid CVSS vector (a stated severity without a vector is not scored, so not shown).
pub fn entry_title(item: &Item) -> String {
    let mut t = item.id.clone();
    if !item.summary.is_empty() {
        t.push_str(": ");
        t.push_str(&item.summary);
    }
    if let Some(score) = item.primary_cvss() {
        let _ = write!(
            t,
            " ({}, score {:.1})",
            capitalized(&score.severity),
            score.base_score
        );
    }
    t
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// XML text/attribute escaping; characters XML 1.0 forbids (C0 controls other than tab, LF, CR)
/// are dropped rather than producing a document no parser accepts.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `2019-04-18T21:31:53Z` -> `Thu, 18 Apr 2019 21:31:53 +0000` (Hugo's `Mon, 02 Jan 2006 15:04:05 -0700`).
pub fn rfc2822(ts: &str) -> Option<String> {
    let (y, mo, d, h, mi, s) = parse_utc(ts)?;
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = days_from_civil(y, mo, d);
    let wd = DAYS.get(usize::try_from(days.rem_euclid(7)).ok()?)?;
    let mon = MONTHS.get(usize::try_from(mo.checked_sub(1)?).ok()?)?;
    Some(format!(
        "{wd}, {d:02} {mon} {y:04} {h:02}:{mi:02}:{s:02} +0000"
    ))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac]Z`, the only form the GitHub API emits.
pub fn parse_utc(ts: &str) -> Option<(i64, u32, u32, u32, u32, u32)> {
    let b = ts.as_bytes();
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || !ts.ends_with('Z')
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| ts.get(r).and_then(|x| x.parse::<u32>().ok());
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((i64::from(y), mo, d, h, mi, s))
}

/// Unix seconds -> `YYYY-MM-DDTHH:MM:SSZ` (the form GitHub and upstream's feed use).
pub fn format_utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Inverse of [`days_from_civil`].
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

/// Days since 1970-01-01 (Howard Hinnant's algorithm); 1970-01-01 was a Thursday.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_hugo() {
        // From website PR #39513's rendered item.
        assert_eq!(
            rfc2822("2019-04-18T21:31:53Z").unwrap(),
            "Thu, 18 Apr 2019 21:31:53 +0000"
        );
        assert_eq!(
            rfc2822("2024-02-29T00:00:00Z").unwrap(),
            "Thu, 29 Feb 2024 00:00:00 +0000"
        );
        assert_eq!(
            rfc2822("1970-01-01T00:00:00Z").unwrap(),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
        assert!(rfc2822("2019-13-18T21:31:53Z").is_none());
        assert!(rfc2822("yesterday").is_none());
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_555_623_113), "2019-04-18T21:31:53Z");
        assert_eq!(format_utc(1_709_164_800), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn capitalizes_severity_words() {
        assert_eq!(capitalized("medium"), "Medium");
        assert_eq!(capitalized("none"), "None");
        assert_eq!(capitalized(""), "");
    }

    #[test]
    fn escaping() {
        assert_eq!(esc("a<b>&\"'\u{1}c"), "a&lt;b&gt;&amp;&quot;&apos;c");
    }
}
