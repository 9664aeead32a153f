//! CVSS v3.0, v3.1 and v4.0 scoring: the RustSec `cvss` crate for the arithmetic, plus the
//! strictness it lacks (it accepts lower-case metrics, which FIRST's grammar and the OSV schema
//! reject) and extraction of vectors and stated scores from announcement text.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A scored vector. For v3.x the score is the base score (temporal and environmental metrics are
/// validated but not applied); for v4.0 it is the CVSS-B/BT/BE/BTE score of the metrics given,
/// named by `nomenclature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub vector: String,
    pub version: String,
    pub base_score: f64,
    pub severity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nomenclature: Option<String>,
}

/// A vector that is not valid, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVSS vector `{vector}`: {reason}")]
pub struct CvssError {
    pub vector: String,
    pub reason: String,
}

const V3_BASE: &[&str] = &["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
const V3_OTHER: &[&str] = &[
    "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
];
const V4_BASE: &[&str] = &[
    "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
];
const V4_OTHER: &[&str] = &[
    "E", "CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI",
    "MSA", "S", "AU", "R", "V", "RE", "U",
];

/// Longest vector accepted (a full v4.0 vector with every metric is about 180 bytes).
pub const MAX_VECTOR_LEN: usize = 512;

/// Scores one vector, rejecting anything FIRST's grammar does not allow.
pub fn score(vector: &str) -> Result<Score, CvssError> {
    let err = |reason: String| CvssError {
        vector: vector.to_owned(),
        reason,
    };
    if vector.len() > MAX_VECTOR_LEN {
        return Err(err(format!("longer than {MAX_VECTOR_LEN} bytes")));
    }
    let v = vector.trim();
    if v.is_empty() {
        return Err(err("empty".to_owned()));
    }
    let Some(rest) = v.strip_prefix("CVSS:") else {
        if v.to_ascii_uppercase().starts_with("CVSS:") {
            return Err(err("the prefix must be upper-case `CVSS:`".to_owned()));
        }
        return Err(err(
            "missing the `CVSS:3.0/`, `CVSS:3.1/` or `CVSS:4.0/` prefix (CVSS v2 vectors are not supported)".to_owned(),
        ));
    };
    let (version, metrics) = rest.split_once('/').unwrap_or((rest, ""));
    let (base, other): (&[&str], &[&str]) = match version {
        "3.0" | "3.1" => (V3_BASE, V3_OTHER),
        "4.0" => (V4_BASE, V4_OTHER),
        _ => {
            return Err(err(format!(
                "unsupported CVSS version `{version}` (3.0, 3.1 and 4.0 are)"
            )));
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, part) in metrics.split('/').enumerate() {
        let Some((key, value)) = part.split_once(':') else {
            return Err(err(format!(
                "metric {} `{part}` is not `NAME:VALUE`",
                i + 1
            )));
        };
        if key != key.to_ascii_uppercase() || value != value.to_ascii_uppercase() && key != "U" {
            return Err(err(format!(
                "metric `{part}` must be upper case (`{}:{}`)",
                key.to_ascii_uppercase(),
                value.to_ascii_uppercase()
            )));
        }
        if !base.contains(&key) && !other.contains(&key) {
            return Err(err(format!("`{key}` is not a CVSS {version} metric")));
        }
        if seen.contains(&key) {
            return Err(err(format!("metric `{key}` appears twice")));
        }
        seen.push(key);
    }
    let missing: Vec<&str> = base.iter().copied().filter(|k| !seen.contains(k)).collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "missing base metric(s) {}",
            missing.join(", ")
        )));
    }
    let parsed = cvss::Cvss::from_str(v).map_err(|e| err(e.to_string()))?;
    let nomenclature = match &parsed {
        cvss::Cvss::CvssV40(v4) => Some(v4.nomenclature().to_string()),
        _ => None,
    };
    Ok(Score {
        vector: v.to_owned(),
        version: version.to_owned(),
        base_score: parsed.score(),
        severity: parsed.severity().as_str().to_owned(),
        nomenclature,
    })
}

/// What a body says about CVSS: every vector found (valid or not), the score and severity it
/// states in words, and where those disagree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BodyCvss {
    /// Valid vectors in order of appearance (distinct).
    pub scores: Vec<Score>,
    pub invalid: Vec<CvssError>,
    pub stated_score: Option<f64>,
    pub stated_severity: Option<String>,
    pub warnings: Vec<String>,
}

/// Finds `CVSS:x.y/...` vectors in Markdown text (link text and calculator URL fragments) and the
/// score/severity words on the line of the first one ("(score: 3.4)", "**HIGH** (8.8)",
/// "(Score: 8.8, High)").
pub fn from_body(body: &str) -> BodyCvss {
    let mut out = BodyCvss::default();
    let mut first_line: Option<&str> = None;
    let mut seen: Vec<String> = Vec::new();
    for line in body.lines() {
        for vector in vectors_in(line) {
            if seen.contains(&vector) {
                continue;
            }
            seen.push(vector.clone());
            first_line.get_or_insert(line);
            match score(&vector) {
                Ok(s) => {
                    if !out.scores.iter().any(|o| o.vector == s.vector) {
                        out.scores.push(s);
                    }
                }
                Err(e) => out.invalid.push(e),
            }
        }
    }
    if let Some(line) = first_line {
        let (score, severity) = stated(line);
        out.stated_score = score;
        out.stated_severity = severity;
    }
    for e in &out.invalid {
        let fixed_elsewhere = !out.scores.is_empty();
        out.warnings.push(if fixed_elsewhere {
            format!("{e}; a valid vector elsewhere in the body is used")
        } else {
            e.to_string()
        });
    }
    if let Some(primary) = out.scores.first() {
        if let Some(s) = out.stated_score
            && (s - primary.base_score).abs() > 0.05
        {
            out.warnings.push(format!(
                "body states score {s} but {} scores {}",
                primary.vector, primary.base_score
            ));
        }
        if let Some(sev) = &out.stated_severity
            && *sev != primary.severity
        {
            out.warnings.push(format!(
                "body states severity {sev} but {} is {}",
                primary.vector, primary.severity
            ));
        }
    }
    out
}

/// Vectors on one line: each `CVSS:` followed by the vector alphabet.
fn vectors_in(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = line
        .get(from..)
        .and_then(|t| t.find("CVSS:").or_else(|| t.find("cvss:")))
    {
        let start = from + pos;
        let tail = line.get(start..).unwrap_or("");
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.')))
            .unwrap_or(tail.len());
        let v = tail.get(..len).unwrap_or("").trim_end_matches(['.', '/']);
        // "CVSS:3.1" alone (a heading) is not a vector.
        if v.contains('/') {
            out.push(v.to_owned());
        }
        from = start + len.max(5);
    }
    out
}

/// The score number and severity word a line states, vectors and links removed first.
fn stated(line: &str) -> (Option<f64>, Option<String>) {
    let mut text = String::new();
    for word in line
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | '*' | '-'))
    {
        if word.contains("CVSS:") || word.contains("cvss:") || word.contains("http") {
            continue;
        }
        text.push_str(word);
        text.push(' ');
    }
    let mut score = None;
    let mut severity = None;
    for word in text.split_whitespace() {
        let w = word
            .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.')
            .trim_end_matches('.');
        if score.is_none()
            && w.contains('.')
            && let Ok(n) = w.parse::<f64>()
            && (0.0..=10.0).contains(&n)
        {
            score = Some(n);
        }
        if severity.is_none() {
            let lw = w.to_ascii_lowercase();
            severity = match lw.as_str() {
                "none" | "low" | "medium" | "high" | "critical" => Some(lw),
                "moderate" => Some("medium".to_owned()),
                _ => None,
            };
        }
    }
    (score, severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        let s = score("CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L").unwrap();
        assert_eq!(
            (s.base_score, s.severity.as_str(), s.version.as_str()),
            (5.1, "medium", "3.1")
        );
        let s = score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((s.base_score, s.severity.as_str()), (9.3, "critical"));
        assert_eq!(s.nomenclature.as_deref(), Some("CVSS-B"));
        // Environmental metrics are accepted; the base score stays.
        assert_eq!(
            score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H/CR:H/IR:H/AR:M")
                .unwrap()
                .base_score,
            5.5
        );
    }

    #[test]
    fn precise_errors() {
        let cases = [
            ("", "empty"),
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "v2 vectors are not supported"),
            (
                "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "upper-case `CVSS:`",
            ),
            ("CVSS:3.2/AV:N", "unsupported CVSS version `3.2`"),
            (
                "CVSS:3.1/av:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                "`av:N` must be upper case (`AV:N`)",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H",
                "missing base metric(s) A",
            ),
            (
                "CVSS:3.1/AV:N/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                "`AV` appears twice",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/",
                "metric 9 `` is not `NAME:VALUE`",
            ),
            ("CVSS:3.1/AV:Q/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "AV"),
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/VC:H",
                "`VC` is not a CVSS 3.1 metric",
            ),
        ];
        for (v, want) in cases {
            let e = score(v).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn body_vectors_and_stated_scores() {
        let b = from_body(
            "This issue has been rated LOW ([CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N](https://www.first.org/cvss/calculator/3.1#CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N)) (score: 3.4).",
        );
        assert_eq!(b.scores.len(), 1);
        assert_eq!(
            (b.stated_score, b.stated_severity.as_deref()),
            (Some(3.4), Some("low"))
        );
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        // Link text with `av:N` and a valid URL: the URL's vector is used, the bad text reported.
        let b = from_body(
            "rated **High** ([CVSS:3.1/av:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H](https://www.first.org/cvss/calculator/3.1#CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H))",
        );
        assert_eq!(b.scores.len(), 1);
        assert_eq!(b.invalid.len(), 1);
        assert_eq!(b.scores[0].base_score, 8.8);
        // A stated score that disagrees is reported.
        let b = from_body(
            "CVSS Rating: **6.5** (HIGH) [CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L](https://x)",
        );
        assert_eq!(b.warnings.len(), 2, "{:?}", b.warnings);
    }
}
