//! apk-tools version ordering: `digits{.digits}[letter]{_suffix[N]}[-rN]` (semantics of
//! apk-tools 2.x as documented in the research note §E.4 and exercised by its
//! test/version.data; written here from that description).

use std::cmp::Ordering;

/// What the next token of a version is; the order matters (see [`compare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    /// A number after `.`: leading zeros are weighed specially.
    DotNumber,
    Number,
    Letter,
    Suffix,
    SuffixNumber,
    /// `~hash` (apk-tools 3 commit suffix), compared as text.
    Hash,
    Revision,
    End,
}

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A token's value: plain numbers, the digits of a `.number` (leading zeros make it a
/// decimal fraction, compared as text), or text (`~hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val<'a> {
    Int(i64),
    Dot(&'a [u8]),
    Text(&'a [u8]),
}

fn cmp_val(a: Val<'_>, b: Val<'_>) -> Ordering {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => x.cmp(&y),
        (Val::Dot(x), Val::Dot(y)) => {
            if x.first() == Some(&b'0') || y.first() == Some(&b'0') {
                let trim = |s: &'_ [u8]| -> usize {
                    s.len() - s.iter().rev().take_while(|c| **c == b'0').count()
                };
                x.get(..trim(x))
                    .unwrap_or_default()
                    .cmp(y.get(..trim(y)).unwrap_or_default())
            } else {
                super::dpkg::compare_digits_bytes(x, y)
            }
        }
        (Val::Text(x), Val::Text(y)) => x.cmp(y),
        // Different kinds are never compared by value (the kinds differ first).
        _ => Ordering::Equal,
    }
}

struct Tokens<'a> {
    rest: &'a [u8],
    next: Kind,
}

impl<'a> Tokens<'a> {
    fn new(v: &'a str) -> Self {
        let rest = v.trim().as_bytes();
        Tokens {
            rest,
            next: if rest.is_empty() {
                Kind::End
            } else {
                Kind::Number
            },
        }
    }

    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    fn digits(&mut self) -> i64 {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let v = self
            .rest
            .get(..n)
            .unwrap_or_default()
            .iter()
            .fold(0i64, |v, d| {
                v.saturating_mul(10).saturating_add(i64::from(d - b'0'))
            });
        self.advance(n);
        v
    }

    /// The value of the token of kind `self.next`; afterwards `self.next` is the kind of the
    /// token after it.
    fn value(&mut self) -> Val<'a> {
        if self.rest.is_empty() {
            self.next = Kind::End;
            return Val::Int(0);
        }
        let mut forced = None;
        let v = match self.next {
            Kind::DotNumber => {
                let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
                let d = self.rest.get(..n).unwrap_or_default();
                self.advance(n);
                Val::Dot(d)
            }
            Kind::Number | Kind::SuffixNumber | Kind::Revision => Val::Int(self.digits()),
            Kind::Hash => {
                let n = self
                    .rest
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                let d = self.rest.get(..n).unwrap_or_default();
                self.advance(n);
                Val::Text(d)
            }
            Kind::Letter => {
                let c = self.rest.first().copied().unwrap_or(0);
                self.advance(1);
                Val::Int(i64::from(c))
            }
            Kind::Suffix => {
                let name = |list: &[&str]| {
                    list.iter()
                        .position(|s| self.rest.starts_with(s.as_bytes()))
                };
                let v = if let Some(i) = name(&PRE) {
                    self.advance(PRE.get(i).map_or(0, |s| s.len()));
                    i64::try_from(i).unwrap_or(0) - 4
                } else if let Some(i) = name(&POST) {
                    self.advance(POST.get(i).map_or(0, |s| s.len()));
                    i64::try_from(i).unwrap_or(0)
                } else {
                    self.next = Kind::Invalid;
                    return Val::Int(-1);
                };
                // A number may follow the suffix name; otherwise the next token is read
                // as if after a suffix number (so `_alpha_pre2` is two suffixes).
                if self.rest.first().is_some_and(u8::is_ascii_digit) {
                    forced = Some(Kind::SuffixNumber);
                } else {
                    self.next = Kind::SuffixNumber;
                }
                Val::Int(v)
            }
            Kind::Invalid | Kind::End => {
                self.next = Kind::Invalid;
                return Val::Int(-1);
            }
        };
        if self.rest.is_empty() {
            self.next = Kind::End;
        } else if let Some(k) = forced {
            self.next = k;
        } else {
            self.classify();
        }
        v
    }

    /// Decides the kind of the next token from its first character(s), consuming separators.
    fn classify(&mut self) {
        let prev = self.next;
        let c = self.rest.first().copied().unwrap_or(0);
        let k = if matches!(prev, Kind::Number | Kind::DotNumber) && c.is_ascii_lowercase() {
            Kind::Letter
        } else if prev == Kind::Letter && c.is_ascii_digit() {
            Kind::Number
        } else if prev == Kind::Suffix && c.is_ascii_digit() {
            Kind::SuffixNumber
        } else {
            let k = match c {
                b'.' => Kind::DotNumber,
                b'_' => Kind::Suffix,
                b'~' => Kind::Hash,
                b'-' if self.rest.get(1) == Some(&b'r') => {
                    self.advance(1);
                    Kind::Revision
                }
                _ => Kind::Invalid,
            };
            self.advance(1);
            k
        };
        // Tokens only move forward in the grammar, with three exceptions: another `.number`
        // after a number, another suffix after a suffix number, a number after a letter.
        let allowed_back = matches!(
            (prev, k),
            (Kind::Number, Kind::DotNumber)
                | (Kind::SuffixNumber, Kind::Suffix)
                | (Kind::Letter, Kind::Number)
        );
        self.next = if k < prev && !allowed_back {
            Kind::Invalid
        } else {
            k
        };
    }
}

/// Compares two apk versions. Invalid strings still compare (token by token up to the
/// first invalid one), as apk does.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut ta = Tokens::new(a);
    let mut tb = Tokens::new(b);
    let (mut va, mut vb) = (Val::Int(0), Val::Int(0));
    while ta.next == tb.next
        && !matches!(ta.next, Kind::End | Kind::Invalid)
        && cmp_val(va, vb) == Ordering::Equal
    {
        va = ta.value();
        vb = tb.value();
    }
    match cmp_val(va, vb) {
        Ordering::Equal => {}
        o => return o,
    }
    let (ka, kb) = (ta.next, tb.next);
    if ka == kb {
        return Ordering::Equal;
    }
    // Same so far and one goes on: a pre-release suffix makes it older, anything else newer
    // (the side whose next token kind ranks lower is newer; the end ranks highest).
    let pre = |v: Val<'_>| matches!(v, Val::Int(n) if n < 0);
    if ka == Kind::Suffix && pre(ta.value()) {
        return Ordering::Less;
    }
    if kb == Kind::Suffix && pre(tb.value()) {
        return Ordering::Greater;
    }
    kb.cmp(&ka)
}
