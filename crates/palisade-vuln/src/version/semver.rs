//! SemVer 2.0 precedence (semver.org §11) for OSV `SEMVER` ranges, Go modules, crates.io and
//! npm: build metadata ignored (Go's `+incompatible`), prerelease identifiers compared
//! numerically or in ASCII order. A leading `v` is accepted (Go), and so are Go's short
//! forms `v1` / `v1.2` (= `v1.0.0` / `v1.2.0`, as golang.org/x/mod/semver reads them).

use super::dpkg::compare_digits_bytes;
use std::cmp::Ordering;

/// A version split for precedence; borrows the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemVer<'a> {
    core: [&'a str; 3],
    pre: Vec<&'a str>,
}

fn numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Parses `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`; `None` when it is not one. Leading zeros
/// are tolerated (some OSV bounds carry them); missing minor/patch are `0`.
pub fn parse(text: &str) -> Option<SemVer<'_>> {
    let t = text.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let (t, build) = match t.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (t, None),
    };
    if build.is_some_and(|b| {
        b.split('.')
            .any(|i| i.is_empty() || !i.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    }) {
        return None;
    }
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (t, None),
    };
    let mut parts = core.split('.');
    let major = parts.next().filter(|p| numeric(p))?;
    let minor = parts
        .next()
        .map_or(Some("0"), |p| numeric(p).then_some(p))?;
    let patch = parts
        .next()
        .map_or(Some("0"), |p| numeric(p).then_some(p))?;
    if parts.next().is_some() {
        return None;
    }
    // Go accepts the short forms only without prerelease or build (`v1-pre` is invalid).
    if core.split('.').count() < 3 && (pre.is_some() || build.is_some()) {
        return None;
    }
    let pre: Vec<&str> = match pre {
        Some(p) => {
            let ids: Vec<&str> = p.split('.').collect();
            if ids
                .iter()
                .any(|i| i.is_empty() || !i.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
            {
                return None;
            }
            ids
        }
        None => Vec::new(),
    };
    Some(SemVer {
        core: [major, minor, patch],
        pre,
    })
}

impl SemVer<'_> {
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl Ord for SemVer<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.core.iter().zip(other.core.iter()) {
            let o = compare_digits_bytes(a.as_bytes(), b.as_bytes());
            if o != Ordering::Equal {
                return o;
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.pre.iter().zip(other.pre.iter()) {
            let o = match (numeric(a), numeric(b)) {
                (true, true) => compare_digits_bytes(a.as_bytes(), b.as_bytes()),
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => a.cmp(b),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.pre.len().cmp(&other.pre.len())
    }
}

impl PartialOrd for SemVer<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Precedence of two versions; `None` when either is not SemVer.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(parse(a)?.cmp(&parse(b)?))
}

/// A Go toolchain version as SemVer, the way the Go vulnerability database writes `stdlib`
/// ranges: `go1.21` -> `1.21.0`, `go1.21.3` -> `1.21.3`, `go1.21rc2` -> `1.21.0-rc.2`,
/// `go1.19beta1` -> `1.19.0-beta.1`; anything after a space (` X:boringcrypto`) or a `-`
/// suffix of a custom build is dropped. `None` when it is not a Go release version.
pub fn go_toolchain(v: &str) -> Option<String> {
    let v = v.trim();
    let v = v.split_whitespace().next()?;
    let v = v.strip_prefix("go").unwrap_or(v);
    let v = v.strip_prefix('v').unwrap_or(v);
    // `1.22.3-bazel`, `1.21.0+auto`: keep the release part.
    let v = v.split(['-', '+']).next()?;
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (num, pre) = v.split_at(split);
    let parts: Vec<&str> = num.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || !parts.iter().all(|p| numeric(p)) {
        return None;
    }
    let major = parts.first()?;
    let minor = parts.get(1).copied().unwrap_or("0");
    let patch = parts.get(2).copied().unwrap_or("0");
    let mut out = format!("{major}.{minor}.{patch}");
    if !pre.is_empty() {
        let label_len = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (label, n) = pre.split_at(label_len);
        if !matches!(label, "rc" | "beta" | "alpha") || (!n.is_empty() && !numeric(n)) {
            return None;
        }
        out.push('-');
        out.push_str(label);
        if !n.is_empty() {
            out.push('.');
            out.push_str(n);
        }
    }
    Some(out)
}
