//! Scalar resolution as Kubernetes does it: `sigs.k8s.io/yaml` decodes with its fork of
//! go-yaml v2 (YAML 1.1 rules) into `interface{}` and then converts to JSON. Only plain
//! (unquoted, untagged) scalars are resolved; quoted scalars are strings. The rules below
//! follow go-yaml v2's `resolve()` step by step so that `privileged: on` is `true` and
//! `defaultMode: 0644` is `420`, exactly as the API server will see them.

use serde_json::{Number, Value};
use std::borrow::Cow;

/// What a scalar resolved to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX` but fits `u64` (go-yaml returns a `uint64`).
    Uint(u64),
    Float(f64),
    /// Hex/octal/binary integer beyond `u64` (go-yaml returns a `*big.Int`); kept as the
    /// nearest `f64` because our JSON values have no arbitrary precision.
    BigInt(f64),
    /// `.inf`, `-.inf`, `.nan`: JSON has none of them (kubectl's JSON conversion fails);
    /// kept as the source string and reported with a note.
    NonFinite(f64),
    /// Anything else: the scalar's own text.
    Str,
}

/// The YAML core tags go-yaml knows (after `!!` or `tag:yaml.org,2002:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreTag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Timestamp,
    Merge,
    /// Any other tag (`!!binary`, `!!map`, `!custom`, the non-specific `!`): not resolved.
    Other,
}

impl CoreTag {
    pub(crate) fn from_parts(handle: &str, suffix: &str) -> CoreTag {
        let name = if handle == "!!" || handle == "tag:yaml.org,2002:" {
            suffix
        } else if handle.is_empty() {
            suffix.strip_prefix("tag:yaml.org,2002:").unwrap_or("")
        } else {
            ""
        };
        match name {
            "str" => CoreTag::Str,
            "int" => CoreTag::Int,
            "float" => CoreTag::Float,
            "bool" => CoreTag::Bool,
            "null" => CoreTag::Null,
            "timestamp" => CoreTag::Timestamp,
            "merge" => CoreTag::Merge,
            _ => CoreTag::Other,
        }
    }
}

/// Resolves one scalar. `plain` is false for quoted and block scalars. `Err` carries
/// go-yaml's complaint when an explicit tag does not fit the value (`!!int abc`).
pub(crate) fn resolve(text: &str, plain: bool, tag: Option<CoreTag>) -> Result<Scalar, String> {
    match tag {
        None if plain => Ok(resolve_plain(text)),
        None => Ok(Scalar::Str),
        Some(CoreTag::Str | CoreTag::Other | CoreTag::Merge | CoreTag::Timestamp) => {
            Ok(Scalar::Str)
        }
        Some(t) => {
            let r = resolve_plain(text);
            let ok = match (t, r) {
                (CoreTag::Int, Scalar::Int(_) | Scalar::Uint(_) | Scalar::BigInt(_)) => true,
                (CoreTag::Float, Scalar::Float(_) | Scalar::NonFinite(_)) => true,
                (CoreTag::Float, Scalar::Int(i)) => return Ok(Scalar::Float(i as f64)),
                (CoreTag::Float, Scalar::Uint(u)) => return Ok(Scalar::Float(u as f64)),
                (CoreTag::Bool, Scalar::Bool(_)) => true,
                (CoreTag::Null, Scalar::Null) => true,
                _ => false,
            };
            if ok {
                Ok(r)
            } else {
                Err(format!(
                    "cannot decode `{}` as {}",
                    truncate(text, 40),
                    match t {
                        CoreTag::Int => "!!int",
                        CoreTag::Float => "!!float",
                        CoreTag::Bool => "!!bool",
                        _ => "!!null",
                    }
                ))
            }
        }
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

/// go-yaml v2 `resolve("", in)` for a plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Scalar {
    let Some(&first) = s.as_bytes().first() else {
        return Scalar::Null;
    };
    // The "in map" table: checked for every hinted first byte.
    let hinted = matches!(
        first,
        b'+' | b'-' | b'0'
            ..=b'9'
                | b'y'
                | b'Y'
                | b'n'
                | b'N'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'o'
                | b'O'
                | b'~'
                | b'.'
    );
    if !hinted {
        return Scalar::Str;
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => return Scalar::NonFinite(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::NonFinite(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::NonFinite(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        b'.' => match s.parse::<f64>() {
            // Go's ParseFloat fails (range error) where Rust gives infinity.
            Ok(f) if f.is_finite() => Scalar::Float(f),
            _ => Scalar::Str,
        },
        b'+' | b'-' | b'0'..=b'9' => resolve_number(s),
        _ => Scalar::Str,
    }
}

fn resolve_number(s: &str) -> Scalar {
    // Timestamps (YYYY-...) resolve to a timestamp, which go-yaml v2 hands back to an
    // `interface{}` as the original string.
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 4 && s.as_bytes().get(4) == Some(&b'-') {
        return Scalar::Str;
    }
    let owned;
    let plain: &str = if s.contains('_') {
        owned = s.replace('_', "");
        &owned
    } else {
        s
    };
    if let Ok(i) = go_parse_int(plain) {
        return Scalar::Int(i);
    }
    let uint_err = match go_parse_uint(plain) {
        Ok(u) => return Scalar::Uint(u),
        Err(e) => e,
    };
    if yaml_style_float(plain)
        && let Ok(f) = plain.parse::<f64>()
        && f.is_finite()
    {
        return Scalar::Float(f);
    }
    // go-yaml: the `0b` retries are covered by Go's base-0 parsing above. Out-of-range
    // unsigned integers (any base) become a big integer.
    if uint_err == IntErr::Range
        && let Some(f) = big_to_f64(plain)
    {
        return Scalar::BigInt(f);
    }
    Scalar::Str
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntErr {
    Syntax,
    Range,
}

/// Go's `strconv.ParseUint(s, 0, 64)` (underscores already removed).
fn go_parse_uint(s: &str) -> Result<u64, IntErr> {
    let (base, digits) = split_base(s)?;
    let mut n: u64 = 0;
    for c in digits.bytes() {
        let d = digit_value(c).ok_or(IntErr::Syntax)?;
        if d >= base {
            return Err(IntErr::Syntax);
        }
        n = n
            .checked_mul(base)
            .and_then(|n| n.checked_add(d))
            .ok_or(IntErr::Range)?;
    }
    Ok(n)
}

fn split_base(s: &str) -> Result<(u64, &str), IntErr> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(IntErr::Syntax);
    }
    if b.first() == Some(&b'0') {
        if b.len() >= 3 {
            let rest = s.get(2..).ok_or(IntErr::Syntax)?;
            match b.get(1).map(u8::to_ascii_lowercase) {
                Some(b'b') => return Ok((2, rest)),
                Some(b'o') => return Ok((8, rest)),
                Some(b'x') => return Ok((16, rest)),
                _ => {}
            }
        }
        return Ok((8, s.get(1..).unwrap_or("")));
    }
    Ok((10, s))
}

fn digit_value(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'a'..=b'z' => Some(u64::from(c - b'a') + 10),
        b'A'..=b'Z' => Some(u64::from(c - b'A') + 10),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Result<i64, IntErr> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let un = go_parse_uint(rest)?;
    const CUTOFF: u64 = 1 << 63;
    if neg {
        if un > CUTOFF {
            return Err(IntErr::Range);
        }
        Ok((un as i64).wrapping_neg())
    } else {
        i64::try_from(un).map_err(|_| IntErr::Range)
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let count_digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if b.get(i) == Some(&b'.') {
        let n = count_digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = count_digits(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + count_digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = count_digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// `big.Int.SetString(s, 0)` approximated as an `f64`, for unsigned integers beyond `u64`.
fn big_to_f64(s: &str) -> Option<f64> {
    let (base, digits) = split_base(s).ok()?;
    if digits.is_empty() {
        return None;
    }
    let mut f = 0.0f64;
    for c in digits.bytes() {
        let d = digit_value(c)?;
        if d >= base {
            return None;
        }
        f = f * base as f64 + d as f64;
    }
    f.is_finite().then_some(f)
}

impl Scalar {
    /// The JSON value (`text` is the scalar's source text, used for strings).
    pub(crate) fn to_value(self, text: Cow<'_, str>) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::Number(i.into()),
            Scalar::Uint(u) => Value::Number(u.into()),
            Scalar::Float(f) | Scalar::BigInt(f) => match Number::from_f64(f) {
                Some(n) => Value::Number(n),
                None => Value::String(text.into_owned()),
            },
            Scalar::NonFinite(_) | Scalar::Str => Value::String(text.into_owned()),
        }
    }

    /// The JSON object key `sigs.k8s.io/yaml` makes of a map key, or why it cannot.
    pub(crate) fn to_key(self, text: Cow<'_, str>) -> Result<String, String> {
        match self {
            Scalar::Str => Ok(text.into_owned()),
            Scalar::Bool(b) => Ok(if b { "true" } else { "false" }.to_owned()),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::Float(f) => Ok(go_format_float32_g(f)),
            Scalar::NonFinite(f) => Ok(if f.is_nan() {
                ".nan"
            } else if f > 0.0 {
                ".inf"
            } else {
                "-.inf"
            }
            .to_owned()),
            Scalar::Null => Err("a null map key (`~`, `null` or empty)".to_owned()),
            Scalar::Uint(_) | Scalar::BigInt(_) => Err(format!(
                "map key `{}`: an integer above 9223372036854775807",
                truncate(&text, 40)
            )),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: shortest digits that round-trip as a
/// 32-bit float, `%e` form when the exponent is below -4 or at least 6.
pub(crate) fn go_format_float32_g(f: f64) -> String {
    let x = f as f32;
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        }
        .to_owned();
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        let mut chars = digits.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        let rest: String = chars.collect();
        if !rest.is_empty() {
            out.push('.');
            out.push_str(&rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let dp = (exp + 1) as usize;
        if digits.len() <= dp {
            out.push_str(&digits);
            for _ in digits.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(digits.get(..dp).unwrap_or(""));
            out.push('.');
            out.push_str(digits.get(dp..).unwrap_or(""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        resolve_plain(s).to_value(Cow::Borrowed(s))
    }

    #[test]
    fn go_yaml_v2_table() {
        for s in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(v(s), Value::Bool(true), "{s}");
        }
        for s in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(v(s), Value::Bool(false), "{s}");
        }
        for s in ["yEs", "oN", "tRUE", "nO"] {
            assert_eq!(v(s), Value::String(s.into()), "{s}");
        }
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(v(s), Value::Null, "{s}");
        }
        assert_eq!(v("nULL"), Value::String("nULL".into()));
        let cases: &[(&str, Value)] = &[
            ("0644", 420.into()),
            ("0", 0.into()),
            ("-0", 0.into()),
            ("00", 0.into()),
            ("0o17", 15.into()),
            ("0O17", 15.into()),
            ("0x1F", 31.into()),
            ("0X1f", 31.into()),
            ("-0x1F", (-31).into()),
            ("+12", 12.into()),
            ("1_000", 1000.into()),
            ("0b1010", 10.into()),
            ("-0b1010", (-10).into()),
            ("9223372036854775807", i64::MAX.into()),
            ("-9223372036854775808", i64::MIN.into()),
            ("9223372036854775808", 9_223_372_036_854_775_808u64.into()),
            ("18446744073709551615", u64::MAX.into()),
        ];
        for (s, want) in cases {
            assert_eq!(&v(s), want, "{s}");
        }
        let floats: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("08", 8.0),
            ("09.5", 9.5),
            ("1e3", 1000.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("+.5", 0.5),
            ("-1.5e-3", -0.0015),
            ("18446744073709551616", 18_446_744_073_709_551_616.0),
            ("-9223372036854775809", -9_223_372_036_854_775_809.0),
            ("1_0.5", 10.5),
        ];
        for (s, want) in floats {
            assert_eq!(v(s).as_f64(), Some(*want), "{s}");
            assert!(!v(s).is_i64() && !v(s).is_u64(), "{s} should be a float");
        }
        for s in [
            "0x",
            "0b",
            "1e",
            "1e400",
            ".e5",
            "1:20",
            "2001-12-14",
            "12:30:00",
            "0x1G",
            "--1",
            "+",
        ] {
            assert_eq!(v(s), Value::String(s.into()), "{s}");
        }
        assert!(matches!(resolve_plain(".inf"), Scalar::NonFinite(f) if f > 0.0));
        assert!(matches!(resolve_plain("-.Inf"), Scalar::NonFinite(f) if f < 0.0));
        assert!(matches!(resolve_plain(".NaN"), Scalar::NonFinite(f) if f.is_nan()));
        assert_eq!(v(".inf"), Value::String(".inf".into()));
        assert!(matches!(
            resolve_plain("0x1FFFFFFFFFFFFFFFF"),
            Scalar::BigInt(f) if f == 36_893_488_147_419_103_231.0
        ));
    }

    #[test]
    fn tags_and_quoting() {
        assert_eq!(resolve("on", false, None), Ok(Scalar::Str));
        assert_eq!(resolve("0644", true, Some(CoreTag::Str)), Ok(Scalar::Str));
        assert_eq!(
            resolve("0x10", true, Some(CoreTag::Int)),
            Ok(Scalar::Int(16))
        );
        assert_eq!(
            resolve("12", false, Some(CoreTag::Int)),
            Ok(Scalar::Int(12))
        );
        assert_eq!(
            resolve("3", true, Some(CoreTag::Float)),
            Ok(Scalar::Float(3.0))
        );
        assert_eq!(
            resolve("yes", false, Some(CoreTag::Bool)),
            Ok(Scalar::Bool(true))
        );
        assert_eq!(resolve("~", true, Some(CoreTag::Null)), Ok(Scalar::Null));
        assert!(resolve("abc", true, Some(CoreTag::Int)).is_err());
        assert!(resolve("1", true, Some(CoreTag::Bool)).is_err());
        assert_eq!(resolve("on", true, Some(CoreTag::Other)), Ok(Scalar::Str));
        assert_eq!(CoreTag::from_parts("!!", "int"), CoreTag::Int);
        assert_eq!(
            CoreTag::from_parts("tag:yaml.org,2002:", "bool"),
            CoreTag::Bool
        );
        assert_eq!(CoreTag::from_parts("!", "int"), CoreTag::Other);
    }

    #[test]
    fn keys_as_sigs_k8s_yaml_makes_them() {
        let k = |s: &str| resolve_plain(s).to_key(Cow::Borrowed(s));
        assert_eq!(k("on"), Ok("true".into()));
        assert_eq!(k("No"), Ok("false".into()));
        assert_eq!(k("0644"), Ok("420".into()));
        assert_eq!(k("1.5"), Ok("1.5".into()));
        assert_eq!(k("1e6"), Ok("1e+06".into()));
        assert_eq!(k("123456"), Ok("123456".into()));
        assert_eq!(k("0.1"), Ok("0.1".into()));
        assert_eq!(k("0.00001"), Ok("1e-05".into()));
        assert_eq!(k("0.0001"), Ok("0.0001".into()));
        assert_eq!(k("1234567.0"), Ok("1.234567e+06".into()));
        assert_eq!(k(".inf"), Ok(".inf".into()));
        assert_eq!(k("name"), Ok("name".into()));
        assert!(k("~").is_err());
        assert!(k("").is_err());
        assert!(k("18446744073709551615").is_err());
    }
}
