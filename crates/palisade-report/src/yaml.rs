//! A small block-style YAML writer for the Kubernetes objects the report formats emit.
//!
//! The objects are built as [`Node`]s (ordered maps, so `apiVersion`, `kind` and `metadata`
//! come first as people expect) and written as one YAML document each. A string is written
//! plain only when no YAML 1.1 reader (go-yaml v2, which `kubectl` uses) could take it for
//! anything but that string; everything else is a double-quoted JSON string, which is valid
//! YAML with the same escapes.

use std::io::{self, Write};

/// A YAML value with ordered mappings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Keys are the fixed field names of the report objects.
    Map(Vec<(&'static str, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Node {
    pub(crate) fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// Compact JSON length of the node: what the API server stores and what `kubectl apply`
    /// copies into its last-applied annotation, used to keep reports under those limits.
    pub(crate) fn json_len(&self) -> usize {
        match self {
            Node::Map(entries) => {
                2 + entries.len().saturating_sub(1)
                    + entries
                        .iter()
                        .map(|(k, v)| json_str_len(k) + 1 + v.json_len())
                        .sum::<usize>()
            }
            Node::Seq(items) => {
                2 + items.len().saturating_sub(1) + items.iter().map(Node::json_len).sum::<usize>()
            }
            Node::Str(s) => json_str_len(s),
            Node::Int(i) => i.to_string().len(),
            Node::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
        }
    }
}

/// Length of `s` as serde_json writes it (quotes and escapes), without building it.
fn json_str_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\t' | b'\r' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Writes `node` as one document of a YAML stream, starting with `---`.
pub(crate) fn write_document(node: &Node, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"---\n")?;
    match node {
        Node::Map(entries) if !entries.is_empty() => write_map(entries, 0, out),
        Node::Seq(items) if !items.is_empty() => write_seq(items, 0, out),
        scalar => {
            write_scalar(scalar, out)?;
            out.write_all(b"\n")
        }
    }
}

fn indent(n: usize, out: &mut dyn Write) -> io::Result<()> {
    const SPACES: &[u8; 32] = b"                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.write_all(SPACES.get(..step).unwrap_or_default())?;
        left -= step;
    }
    Ok(())
}

fn write_map(
    entries: &[(&'static str, Node)],
    depth: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (key, value) in entries {
        indent(depth, out)?;
        write_string(key, out)?;
        out.write_all(b":")?;
        write_value_after_key(value, depth, out)?;
    }
    Ok(())
}

/// The value of a mapping entry whose key (at `depth`) was just written.
fn write_value_after_key(value: &Node, depth: usize, out: &mut dyn Write) -> io::Result<()> {
    match value {
        Node::Map(entries) if !entries.is_empty() => {
            out.write_all(b"\n")?;
            write_map(entries, depth + 2, out)
        }
        // Sequences under a key are written at the key's indentation, as kubectl prints them.
        Node::Seq(items) if !items.is_empty() => {
            out.write_all(b"\n")?;
            write_seq(items, depth, out)
        }
        scalar => {
            out.write_all(b" ")?;
            write_scalar(scalar, out)?;
            out.write_all(b"\n")
        }
    }
}

fn write_seq(items: &[Node], depth: usize, out: &mut dyn Write) -> io::Result<()> {
    for item in items {
        indent(depth, out)?;
        out.write_all(b"-")?;
        match item {
            // The first entry shares the dash's line; the others line up under it.
            Node::Map(entries) if !entries.is_empty() => {
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i == 0 {
                        out.write_all(b" ")?;
                    } else {
                        indent(depth + 2, out)?;
                    }
                    write_string(key, out)?;
                    out.write_all(b":")?;
                    write_value_after_key(value, depth + 2, out)?;
                }
            }
            Node::Seq(inner) if !inner.is_empty() => {
                out.write_all(b"\n")?;
                write_seq(inner, depth + 2, out)?;
            }
            scalar => {
                out.write_all(b" ")?;
                write_scalar(scalar, out)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

fn write_scalar(node: &Node, out: &mut dyn Write) -> io::Result<()> {
    match node {
        Node::Map(_) => out.write_all(b"{}"),
        Node::Seq(_) => out.write_all(b"[]"),
        Node::Str(s) => write_string(s, out),
        Node::Int(i) => write!(out, "{i}"),
        Node::Bool(b) => write!(out, "{b}"),
    }
}

fn write_string(s: &str, out: &mut dyn Write) -> io::Result<()> {
    if is_plain_safe(s) {
        return out.write_all(s.as_bytes());
    }
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\t' => Some(b"\\t"),
            _ if needs_escape(c) => Some(b""),
            _ => None,
        };
        let Some(escape) = escape else { continue };
        out.write_all(s.get(start..i).unwrap_or_default().as_bytes())?;
        if escape.is_empty() {
            write!(out, "\\u{:04x}", u32::from(c))?;
        } else {
            out.write_all(escape)?;
        }
        start = i + c.len_utf8();
    }
    out.write_all(s.get(start..).unwrap_or_default().as_bytes())?;
    out.write_all(b"\"")
}

/// Characters YAML does not allow raw in a double-quoted scalar (outside its printable set) or
/// that YAML 1.1 readers take for line breaks (NEL, LS, PS) and would fold; all are BMP
/// characters, so `\uXXXX` (valid in JSON and YAML) writes each.
fn needs_escape(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Words YAML 1.1 (go-yaml v2) resolves to booleans or null when plain.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `s` reads back as the same string when written plain: it starts with a letter,
/// holds only letters, digits and `._/-` (so no `: `, ` #`, flow indicators or number,
/// timestamp or `.inf` shapes), and is not a YAML 1.1 boolean or null word.
fn is_plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !RESERVED.iter().any(|w| w.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(node: &Node) -> String {
        let mut out = Vec::new();
        write_document(node, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "",
            "yes",
            "No",
            "ON",
            "null",
            "~",
            "1",
            "0o17",
            "1e3",
            ".inf",
            "2024-01-01",
            "a: b",
            "a #b",
            "-x",
            "[x]",
            "x y",
            "Y",
            "*a",
            "&a",
            "!t",
            "%x",
            "@x",
            "`x",
        ] {
            assert!(!is_plain_safe(s), "{s:?}");
        }
        for s in [
            "palisade",
            "wgpolicyk8s.io/v1alpha2",
            "PSS006",
            "app.kubernetes.io/managed-by",
        ] {
            assert!(is_plain_safe(s), "{s:?}");
        }
    }

    #[test]
    fn block_layout() {
        let node = Node::Map(vec![
            ("kind", Node::str("PolicyReport")),
            ("metadata", Node::Map(vec![("name", Node::str("p"))])),
            (
                "results",
                Node::Seq(vec![
                    Node::Map(vec![
                        ("policy", Node::str("PSS001")),
                        ("scored", Node::Bool(true)),
                        (
                            "resources",
                            Node::Seq(vec![Node::Map(vec![("kind", Node::str("Pod"))])]),
                        ),
                    ]),
                    Node::Map(vec![]),
                ]),
            ),
            ("summary", Node::Map(vec![("pass", Node::Int(0))])),
            ("msg", Node::str("a \"b\"\n<c>")),
        ]);
        assert_eq!(
            text(&node),
            "---\nkind: PolicyReport\nmetadata:\n  name: p\nresults:\n- policy: PSS001\n  scored: true\n  resources:\n  - kind: Pod\n- {}\nsummary:\n  pass: 0\nmsg: \"a \\\"b\\\"\\n<c>\"\n"
        );
    }

    #[test]
    fn json_str_len_is_serde_jsons() {
        for s in [
            "",
            "plain",
            "q\"b\\",
            "\u{0}\u{1f}\u{8}\u{c}\r\n\t",
            "é ü \u{2028} \u{7f}",
        ] {
            assert_eq!(
                json_str_len(s),
                serde_json::to_string(s).unwrap().len(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn json_len_is_the_compact_json_length() {
        let node = Node::Map(vec![
            ("a", Node::Seq(vec![Node::Int(-12), Node::Bool(false)])),
            ("b\"", Node::str("é\n")),
            ("c", Node::Map(vec![])),
            ("d", Node::Seq(vec![])),
        ]);
        let json = r#"{"a":[-12,false],"b\"":"é\n","c":{},"d":[]}"#;
        assert_eq!(node.json_len(), json.len());
    }

    #[test]
    fn unprintable_and_break_characters_are_escaped() {
        let s = "a\u{1b}b\u{7f}\u{85}\u{2028}\u{feff}\tü\"\\\r";
        assert_eq!(
            text(&Node::str(s)),
            "---\n\"a\\u001bb\\u007f\\u0085\\u2028\\ufeff\\tü\\\"\\\\\\u000d\"\n"
        );
        // The escapes are JSON's too, so a JSON reader agrees on the value.
        let body = text(&Node::str(s));
        let back: String =
            serde_json::from_str(body.trim_start_matches("---\n").trim_end()).unwrap();
        assert_eq!(back, s);
    }
}
