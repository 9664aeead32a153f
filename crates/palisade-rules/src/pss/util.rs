//! Small helpers: tolerant reads from `serde_json::Value` and PSA's message formatting.
//!
//! PSA sees a decoded Go `corev1.Pod`. A static scanner sees raw JSON, so every read here
//! maps JSON onto what Go decoding would produce: JSON `null` is a nil pointer / zero value,
//! and a field of the wrong JSON type is treated as unset (the API server rejects such an
//! object before PSA runs, so there is no PSA verdict to copy; "unset" never invents a
//! violation). Exception, documented where it applies: a volume source key counts as set
//! whenever it is present and not `null`, so a malformed `hostPath:` is still reported.

use palisade_core::FieldPath;
use serde_json::Value;

/// `v[key]`, or `None` when `v` is not an object, the key is absent, or its value is `null`.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v.as_object()?.get(key)? {
        Value::Null => None,
        x => Some(x),
    }
}

/// `v[key]` when it is an object (a Go struct pointer that is set).
pub(crate) fn get_obj<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    get(v, key).filter(|x| x.is_object())
}

pub(crate) fn get_bool(v: &Value, key: &str) -> Option<bool> {
    get(v, key)?.as_bool()
}

pub(crate) fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key)?.as_str()
}

/// A string field as Go would hold it: the zero value `""` when unset.
pub(crate) fn str_or_empty<'a>(v: &'a Value, key: &str) -> &'a str {
    get_str(v, key).unwrap_or("")
}

/// An array field, empty when unset or not an array.
pub(crate) fn get_arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    get(v, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An integer field (`hostPort`, `runAsUser`, ...); floats with an integral value count too.
pub(crate) fn get_int(v: &Value, key: &str) -> Option<i64> {
    let x = get(v, key)?;
    x.as_i64()
        .or_else(|| x.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| {
            x.as_f64()
                .filter(|f| f.fract() == 0.0 && f.is_finite())
                .map(|f| f as i64)
        })
}

/// Path from plain keys, e.g. `path(&["spec", "hostPID"])`.
pub(crate) fn path(keys: &[&str]) -> FieldPath {
    keys.iter().fold(FieldPath::root(), |p, k| p.key(*k))
}

/// `p` followed by plain keys.
pub(crate) fn sub(p: &FieldPath, keys: &[&str]) -> FieldPath {
    keys.iter().fold(p.clone(), |p, k| p.key(*k))
}

/// PSA's `joinQuote`: each item wrapped in double quotes (no escaping), joined by `", "`.
pub(crate) fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item.as_ref());
        out.push('"');
    }
    out
}

/// PSA's `pluralize`: the singular form only for exactly one.
pub(crate) fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
pub(crate) fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Go's `%q` (`strconv.Quote`), used by PSA for annotation values. Printable characters are
/// kept; `"` and `\` are escaped; control characters use Go's short escapes or `\xHH`;
/// other non-printable characters use `\uHHHH` / `\UHHHHHHHH`. "Printable" approximates Go's
/// `unicode.IsPrint` (control, format, private-use and non-space separator characters are
/// escaped), which is exact for ASCII and the common cases.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_go_printable(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    let u = c as u32;
    let format_or_private = matches!(
        u,
        0x80..=0x9f
            | 0xad
            | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x180e
            | 0x200b..=0x200f
            | 0x202a..=0x202e
            | 0x2060..=0x206f
            | 0xd800..=0xdfff
            | 0xe000..=0xf8ff
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0xf0000..=0x10ffff
    );
    !(format_or_private || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("unconfined"), r#""unconfined""#);
        assert_eq!(go_quote(""), r#""""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\tc\u{1b}"), r#""a\nb\tc\x1b""#);
        assert_eq!(go_quote("é日本"), "\"é日本\"");
        assert_eq!(go_quote("\u{a0}\u{200b}"), r#""\u00a0\u200b""#);
    }

    #[test]
    fn join_quote_and_pluralize() {
        assert_eq!(join_quote(["a", "b"]), r#""a", "b""#);
        assert_eq!(join_quote(Vec::<&str>::new()), "");
        assert_eq!(containers_phrase(&["x"]), r#"container "x""#);
        assert_eq!(containers_phrase(&["x", "y"]), r#"containers "x", "y""#);
    }

    #[test]
    fn wrong_types_read_as_unset() {
        let v = json!({"a": null, "b": "true", "c": true, "n": 0.0, "s": [1]});
        assert_eq!(get(&v, "a"), None);
        assert_eq!(get_bool(&v, "b"), None);
        assert_eq!(get_bool(&v, "c"), Some(true));
        assert_eq!(get_int(&v, "n"), Some(0));
        assert_eq!(get_str(&v, "s"), None);
        assert!(get_arr(&v, "b").is_empty());
        assert_eq!(get(&json!([1]), "a"), None);
    }
}
