//! Maven version ordering, the semantics of Maven's `ComparableVersion`: items split at `.`,
//! `-` and digit/letter transitions; `-`, a transition and a qualifier after `.` open a
//! sub-list; trailing "null" items (`0`, ``, `final`, `ga`, `release`) are dropped before a
//! hyphen and at the end of each list; known qualifiers order
//! `alpha < beta < milestone < rc = cr < snapshot < (release) < sp`, unknown ones after
//! them in text order; numbers beat qualifiers and sub-lists.

use super::dpkg::compare_digits_bytes;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Sort key of a qualifier: its rank, or after all known ones by text.
fn qualifier_key(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn release_key() -> (usize, &'static str) {
    (5, "")
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let s = if followed_by_digit && s.len() == 1 {
        match s {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        s
    };
    let s = match s {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(s.to_owned())
}

fn parse_item(s: &str, followed_by_digit: bool) -> Item {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        let t = s.trim_start_matches('0');
        Item::Int(if t.is_empty() {
            "0".into()
        } else {
            t.to_owned()
        })
    } else {
        string_item(s, followed_by_digit)
    }
}

fn is_null(i: &Item) -> bool {
    match i {
        Item::Int(n) => n == "0",
        Item::Str(s) => s.is_empty(),
        Item::List(l) => l.is_empty(),
    }
}

/// Drops trailing null items (`0`, ``, empty lists) up to the first non-null one.
fn normalize(list: &mut Vec<Item>) {
    while list.last().is_some_and(is_null) {
        list.pop();
    }
}

/// Parses into nested lists (a stack of open lists, innermost last).
fn parse(version: &str) -> Vec<Item> {
    let v = version.trim().to_ascii_lowercase();
    let bytes = v.as_bytes();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut start = 0usize;
    let mut digit = false;
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = stack.last_mut() {
            top.push(item);
        }
    };
    for (i, &c) in bytes.iter().enumerate() {
        let piece = v.get(start..i).unwrap_or_default();
        if c == b'.' || c == b'-' {
            push(
                &mut stack,
                if i == start {
                    Item::Int("0".into())
                } else {
                    parse_item(piece, false)
                },
            );
            start = i + 1;
            if c == b'-' {
                // `1.0-a` = `1-a`: the items before a hyphen lose their trailing nulls.
                if let Some(top) = stack.last_mut() {
                    normalize(top);
                }
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !digit && i > start {
                // `.X1` is read as `-X1`: a qualifier opens a sub-list after `.` too.
                if stack.last().is_some_and(|l| !l.is_empty()) {
                    stack.push(Vec::new());
                }
                push(&mut stack, string_item(piece, true));
                start = i;
                stack.push(Vec::new());
            }
            digit = true;
        } else {
            if digit && i > start {
                push(&mut stack, parse_item(piece, false));
                start = i;
                stack.push(Vec::new());
            }
            digit = false;
        }
    }
    if bytes.len() > start {
        let piece = v.get(start..).unwrap_or_default();
        if !digit && stack.last().is_some_and(|l| !l.is_empty()) {
            stack.push(Vec::new());
        }
        push(&mut stack, parse_item(piece, false));
    }
    // Close the open lists innermost first, normalising each.
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        push(&mut stack, Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// `a` against a missing item.
fn cmp_null(a: &Item) -> Ordering {
    match a {
        Item::Int(n) => {
            if n == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Str(s) => qualifier_key(s).cmp(&release_key()),
        Item::List(l) => l.first().map_or(Ordering::Equal, cmp_null),
    }
}

fn cmp_item(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Int(x), Item::Int(y)) => compare_digits_bytes(x.as_bytes(), y.as_bytes()),
        (Item::Int(_), _) => Ordering::Greater,
        (Item::Str(_), Item::Int(_)) => Ordering::Less,
        (Item::Str(x), Item::Str(y)) => qualifier_key(x).cmp(&qualifier_key(y)),
        (Item::Str(_), Item::List(_)) => Ordering::Less,
        (Item::List(_), Item::Int(_)) => Ordering::Less,
        (Item::List(_), Item::Str(_)) => Ordering::Greater,
        (Item::List(x), Item::List(y)) => cmp_lists(x, y),
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => cmp_item(x, y),
            (Some(x), None) => cmp_null(x),
            (None, Some(y)) => cmp_null(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Compares two Maven versions (total: every string is a Maven version).
pub fn compare(a: &str, b: &str) -> Ordering {
    cmp_lists(&parse(a), &parse(b))
}
