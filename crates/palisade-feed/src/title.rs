//! Issue titles -> CVE IDs and summary, exactly as upstream's `parse_cve_title()`
//! (sig-security `cve_title_parser.py`): only the *leading* block `^(?:CVE-\d{4}-\d{4,}[\s,:-]*)+`
//! counts; the summary is the rest of the title, stripped.

/// The CVE IDs leading a title and the summary after them; `None` when the title does not start
/// with a CVE ID (upstream lists such issues as "not parsable").
pub fn parse_cve_title(title: &str) -> Option<(Vec<String>, String)> {
    let mut ids = Vec::new();
    let mut rest = title;
    while let Some(len) = cve_id_len(rest) {
        let (id, tail) = rest.split_at(len);
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_owned());
        }
        rest = tail.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '-'));
    }
    if ids.is_empty() {
        return None;
    }
    Some((ids, rest.trim().to_owned()))
}

/// Length of a `CVE-\d{4}-\d{4,}` match at the start of `s`.
fn cve_id_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if !s.starts_with("CVE-") || digits(4) != 4 || b.get(8) != Some(&b'-') {
        return None;
    }
    let n = digits(9);
    (n >= 4).then_some(9 + n)
}

/// Whether `s` is exactly one CVE ID.
pub fn is_cve_id(s: &str) -> bool {
    cve_id_len(s) == Some(s.len())
}

/// All CVE IDs anywhere in `text`, in order of first appearance.
pub fn find_cve_ids(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(pos) = text.get(i..).and_then(|t| t.find("CVE-")) {
        let at = i + pos;
        let tail = text.get(at..).unwrap_or("");
        match cve_id_len(tail) {
            Some(len) => {
                let id = tail.get(..len).unwrap_or("");
                if !out.iter().any(|x| x == id) {
                    out.push(id.to_owned());
                }
                i = at + len;
            }
            None => i = at + 4,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> (Vec<String>, String) {
        parse_cve_title(t).unwrap()
    }

    #[test]
    fn upstream_cases() {
        assert_eq!(
            parse("CVE-2023-2727, CVE-2023-2728: Bypassing policies"),
            (
                vec!["CVE-2023-2727".into(), "CVE-2023-2728".into()],
                "Bypassing policies".into()
            )
        );
        // Later IDs in the summary are not items (CVE-2019-11249).
        let (ids, summary) = parse(
            "CVE-2019-11249: Incomplete fixes for CVE-2019-1002101 and CVE-2019-11246, kubectl cp",
        );
        assert_eq!(ids, vec!["CVE-2019-11249"]);
        assert_eq!(
            summary,
            "Incomplete fixes for CVE-2019-1002101 and CVE-2019-11246, kubectl cp"
        );
        // The old parser turned " --http-cache" into ":-http-cache"; this one keeps the title.
        assert_eq!(
            parse("CVE-2019-11244: `kubectl --http-cache=<world-accessible dir>` creates files").1,
            "`kubectl --http-cache=<world-accessible dir>` creates files"
        );
        assert_eq!(
            parse("CVE-2023-2431: Bypass of seccomp profile enforcement ").1,
            "Bypass of seccomp profile enforcement"
        );
        assert_eq!(
            parse("CVE-2021-25742 - ingress-nginx custom snippets").1,
            "ingress-nginx custom snippets"
        );
        assert_eq!(parse("CVE-2024-12345").1, "");
    }

    #[test]
    fn not_parsable() {
        for t in [
            "[Security Advisory] CVE-2024-9042: Command Injection",
            "Placeholder Issue",
            "",
            "cve-2023-2727: lower case",
            "CVE-202-1234: short year",
            "CVE-2023-123: short number",
        ] {
            assert!(parse_cve_title(t).is_none(), "{t:?}");
        }
    }

    #[test]
    fn finds_ids() {
        assert_eq!(
            find_cve_ids("x CVE-2023-2727 y CVE-2023-2727 CVE-2023-12"),
            vec!["CVE-2023-2727"]
        );
        assert!(is_cve_id("CVE-2025-1974"));
        assert!(!is_cve_id("CVE-2025-1974:"));
    }
}
