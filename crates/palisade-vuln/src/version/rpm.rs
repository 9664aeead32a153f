//! RPM version ordering: `rpmvercmp` segment comparison over `[epoch:]version[-release]`
//! (semantics from rpm's rpmio/rpmvercmp and the Fedora versioning guidelines).

use super::dpkg::compare_digits_bytes;
use std::cmp::Ordering;

/// Compares two EVR strings: epoch (missing = 0) numerically, then version, then release
/// (the release only when both sides have one).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split(a.trim());
    let (eb, vb, rb) = split(b.trim());
    let o = compare_digits_bytes(ea.as_bytes(), eb.as_bytes())
        .then_with(|| vercmp(va.as_bytes(), vb.as_bytes()));
    match (ra, rb) {
        (Some(ra), Some(rb)) => o.then_with(|| vercmp(ra.as_bytes(), rb.as_bytes())),
        _ => o,
    }
}

fn split(v: &str) -> (&str, &str, Option<&str>) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|c| c.is_ascii_digit()) => (e, rest),
        _ => ("0", v),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, Some(r)),
        None => (epoch, rest, None),
    }
}

fn is_sep(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^')
}

/// `rpmvercmp` on one field.
pub fn vercmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    loop {
        let skip = |s: &[u8]| s.iter().take_while(|c| is_sep(**c)).count();
        a = a.get(skip(a)..).unwrap_or_default();
        b = b.get(skip(b)..).unwrap_or_default();
        let (ca, cb) = (a.first().copied(), b.first().copied());
        // A tilde sorts before anything, even the end of the field.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
            continue;
        }
        // A caret sorts after the end of the field but before any further segment.
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(x), _) if x != b'^' => return Ordering::Greater,
                (_, Some(y)) if y != b'^' => return Ordering::Less,
                _ => {}
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
            continue;
        }
        let (Some(first), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = first.is_ascii_digit();
        let run = |s: &[u8]| {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (sa, ra) = a.split_at(run(a));
        let (sb, rb) = b.split_at(run(b));
        if sb.is_empty() {
            // Segments of different types: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if numeric {
            compare_digits_bytes(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if o != Ordering::Equal {
            return o;
        }
        a = ra;
        b = rb;
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}
