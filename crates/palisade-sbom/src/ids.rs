//! Identifiers derived from content, so writing the same inventory twice gives the same
//! document (reproducible SBOMs), and the licence helpers both writers share.

use sha2::{Digest, Sha256};

/// A UUID (RFC 9562 version 8, "custom") made of the SHA-256 of `content`, lowercase
/// `8-4-4-4-12` hex.
pub(crate) fn content_uuid(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or(""),
        hex.get(8..12).unwrap_or(""),
        hex.get(12..16).unwrap_or(""),
        hex.get(16..20).unwrap_or(""),
        hex.get(20..32).unwrap_or("")
    )
}

/// The SPDX licence list identifiers (licence list 3.28.0) exactly as CycloneDX 1.6's
/// `spdx.schema.json` enumerates them for `license.id`: copied from that file
/// (CycloneDX/specification `schema/spdx.schema.json`, commit e02a34ae), one per line, sorted.
const SPDX_LICENSE_IDS: &str = include_str!("spdx-license-ids.txt");

/// Whether `id` is on that list (case-sensitive, as the schema's enum is).
pub(crate) fn is_listed_license(id: &str) -> bool {
    static IDS: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| SPDX_LICENSE_IDS.lines().collect());
    IDS.binary_search(&id).is_ok()
}

/// Keeps letters, digits, `.` and `-` (what an SPDX identifier may hold), the rest becomes
/// `-`.
pub(crate) fn spdx_idstring(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Whether `s` is an SPDX licence expression by syntax: identifiers (`MIT`, `GPL-2.0+`,
/// `LicenseRef-x`) joined by AND/OR/WITH, with parentheses. A free-text licence name
/// ("GPL v2 or later") is not.
pub(crate) fn is_license_expression(s: &str) -> bool {
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let mut tokens = spaced.split_whitespace().filter(|t| *t != "(" && *t != ")");
    let mut any = false;
    let mut expect_id = true;
    for t in tokens.by_ref() {
        any = true;
        let operator = matches!(t, "AND" | "OR" | "WITH");
        if expect_id == operator {
            return false;
        }
        if !operator
            && !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':'))
        {
            return false;
        }
        expect_id = operator;
    }
    any && !expect_id && s.matches('(').count() == s.matches(')').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape_and_stability() {
        let a = content_uuid(b"x");
        assert_eq!(a, content_uuid(b"x"));
        assert_ne!(a, content_uuid(b"y"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'));
        assert!(matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
    }

    #[test]
    fn listed_licenses() {
        for id in [
            "MIT",
            "Apache-2.0",
            "GPL-2.0-or-later",
            "0BSD",
            "Classpath-exception-2.0",
        ] {
            assert!(is_listed_license(id), "{id}");
        }
        for id in ["mit", "GPLv3+", "MIT OR Apache-2.0", "", "LicenseRef-x"] {
            assert!(!is_listed_license(id), "{id}");
        }
        let ids: Vec<&str> = SPDX_LICENSE_IDS.lines().collect();
        assert_eq!(ids.len(), 811);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn license_syntax() {
        for ok in [
            "MIT",
            "GPL-2.0+",
            "MIT OR Apache-2.0",
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "LicenseRef-foo",
        ] {
            assert!(is_license_expression(ok), "{ok}");
        }
        for bad in [
            "",
            "GPL v2",
            "MIT OR",
            "AND MIT",
            "(MIT",
            "Public Domain",
            "MIT/X11",
        ] {
            assert!(!is_license_expression(bad), "{bad}");
        }
    }
}
