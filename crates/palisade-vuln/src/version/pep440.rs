//! PEP 440 version ordering (PyPI): epoch, release (trailing zeros ignored), pre-release
//! (`a` < `b` < `rc`), post-release, dev-release, local label; with the spec's
//! normalisations of spellings (`alpha`, `c`, `pre`, `preview`, `rev`, `r`, `-N`, separators,
//! implicit numbers, case, a leading `v`).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalPart {
    // Strings sort before numbers in a local label.
    Text(String),
    Num(u64),
}

/// A parsed version, ordered by its sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

struct Cursor<'a> {
    s: &'a [u8],
}

impl Cursor<'_> {
    fn number(&mut self) -> Option<u64> {
        let n = self.s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let v = self.s.get(..n)?.iter().try_fold(0u64, |v, d| {
            v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        self.s = self.s.get(n..)?;
        Some(v)
    }

    fn sep(&mut self) -> bool {
        if matches!(self.s.first(), Some(b'.' | b'-' | b'_')) {
            self.s = self.s.get(1..).unwrap_or_default();
            true
        } else {
            false
        }
    }

    /// Consumes the first of `labels` the input starts with (longest listed first).
    fn label(&mut self, labels: &[&str]) -> Option<usize> {
        let i = labels
            .iter()
            .position(|l| self.s.starts_with(l.as_bytes()))?;
        self.s = self.s.get(labels.get(i)?.len()..)?;
        Some(i)
    }
}

/// An optional separator, then a label, then an optional separator and number.
fn labelled(c: &mut Cursor<'_>, labels: &[&str]) -> Option<(usize, u64)> {
    let save = c.s;
    c.sep();
    let Some(i) = c.label(labels) else {
        c.s = save;
        return None;
    };
    let after_label = c.s;
    let had_sep = c.sep();
    let n = match c.number() {
        Some(n) => n,
        None => {
            if had_sep {
                c.s = after_label;
            }
            0
        }
    };
    Some((i, n))
}

/// Parses a PEP 440 version; `None` when it is not one.
pub fn parse(text: &str) -> Option<Pep440> {
    let lower = text.trim().to_ascii_lowercase();
    let (public, local) = match lower.split_once('+') {
        Some((p, l)) => (p, Some(l)),
        None => (lower.as_str(), None),
    };
    let mut c = Cursor {
        s: public.strip_prefix('v').unwrap_or(public).as_bytes(),
    };
    let first = c.number()?;
    let (epoch, mut release) = if c.s.first() == Some(&b'!') {
        c.s = c.s.get(1..)?;
        (first, vec![c.number()?])
    } else {
        (0, vec![first])
    };
    while c.s.first() == Some(&b'.') && c.s.get(1).is_some_and(u8::is_ascii_digit) {
        c.s = c.s.get(1..)?;
        release.push(c.number()?);
    }
    const PRE: [&str; 7] = ["alpha", "a", "beta", "b", "preview", "pre", "rc"];
    // `c` last: it must not shadow nothing longer; `pre`/`preview` are rc.
    const PRE_C: [&str; 1] = ["c"];
    let pre = labelled(&mut c, &PRE)
        .map(|(i, n)| {
            let rank = match i {
                0 | 1 => 0,
                2 | 3 => 1,
                _ => 2,
            };
            (rank, n)
        })
        .or_else(|| labelled(&mut c, &PRE_C).map(|(_, n)| (2, n)));
    let post = if c.s.first() == Some(&b'-') && c.s.get(1).is_some_and(u8::is_ascii_digit) {
        c.s = c.s.get(1..)?;
        Some(c.number()?)
    } else {
        labelled(&mut c, &["post", "rev", "r"]).map(|(_, n)| n)
    };
    let dev = labelled(&mut c, &["dev"]).map(|(_, n)| n);
    if !c.s.is_empty() {
        return None;
    }
    let local = match local {
        None => Vec::new(),
        Some(l) => {
            let parts: Vec<&str> = l.split(['.', '-', '_']).collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return None;
            }
            parts
                .into_iter()
                .map(|p| match p.parse::<u64>() {
                    Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => LocalPart::Num(n),
                    _ => LocalPart::Text(p.to_owned()),
                })
                .collect()
        }
    };
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    Some(Pep440 {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Sort position of the pre-release part: a dev release of the final version (`1.0.dev1`)
/// sorts before every pre-release, a final or post release after them.
fn pre_key(v: &Pep440) -> (u8, u8, u64) {
    match v.pre {
        Some((rank, n)) => (1, rank, n),
        None if v.post.is_none() && v.dev.is_some() => (0, 0, 0),
        None => (2, 0, 0),
    }
}

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release.cmp(&other.release))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            // No post release sorts first, no dev release last.
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| match (self.dev, other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `None` when either side is not a PEP 440 version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(parse(a)?.cmp(&parse(b)?))
}
