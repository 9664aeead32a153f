//! YAML as kube-bench's Go decoder (yaml.v2 into string fields) sees it: every scalar is its
//! source text. palisade-yaml resolves `0644` to 420 and `1.10` to 1.1 (right for Kubernetes
//! objects, wrong here: `value: 0644` must stay "0644" for `bitmask`, `id: 1.10` must stay
//! "1.10"), so non-string scalars are read back from their line in the source.

use crate::BenchError;
use palisade_core::{SpanChildren, SpanTree};
use serde_json::Value;

/// A YAML node with scalars as source text and the 1-based line of each node.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Null(u32),
    Str(String, u32),
    Seq(Vec<Raw>, u32),
    Map(Vec<(String, Raw)>, u32),
}

impl Raw {
    pub fn line(&self) -> u32 {
        match self {
            Raw::Null(l) | Raw::Str(_, l) | Raw::Seq(_, l) | Raw::Map(_, l) => *l,
        }
    }

    /// Value of `key` in a mapping (the last one, as yaml.v2 keeps).
    pub fn get(&self, key: &str) -> Option<&Raw> {
        match self {
            Raw::Map(entries, _) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses YAML text (one document) into [`Raw`]; a syntax error names file and line.
pub fn parse(file: &str, text: &str) -> Result<Raw, BenchError> {
    let loaded =
        palisade_yaml::load_mapping_bytes(file, text.as_bytes(), &palisade_yaml::Limits::default());
    if let Some(err) = loaded.errors.first() {
        return Err(BenchError::Yaml {
            file: file.to_string(),
            line: err.line.unwrap_or(0),
            message: err.message.clone(),
        });
    }
    let lines: Vec<&str> = text.lines().collect();
    match loaded.documents.into_iter().next() {
        Some(doc) => Ok(convert(&doc.value, &doc.spans, &lines, false)),
        None => Ok(Raw::Null(1)),
    }
}

fn convert(value: &Value, spans: &SpanTree, lines: &[&str], map_entry: bool) -> Raw {
    let line = spans.span.line;
    let children = &spans.children;
    match value {
        Value::Object(map) => {
            let entries = map
                .iter()
                .map(|(k, v)| {
                    let child = match children {
                        SpanChildren::Map(es) => es.iter().rev().find(|(key, _)| key == k),
                        _ => None,
                    };
                    let raw = match child {
                        Some((_, t)) => convert(v, t, lines, true),
                        None => convert(v, &SpanTree::default(), lines, true),
                    };
                    (k.clone(), raw)
                })
                .collect();
            Raw::Map(entries, line)
        }
        Value::Array(items) => {
            let out = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let child = match children {
                        SpanChildren::Seq(s) => s.get(i),
                        _ => None,
                    };
                    match child {
                        Some(t) => convert(v, t, lines, false),
                        None => convert(v, &SpanTree::default(), lines, false),
                    }
                })
                .collect();
            Raw::Seq(out, line)
        }
        Value::String(s) => Raw::Str(s.clone(), line),
        Value::Null => Raw::Null(line),
        other => {
            let source = source_text(lines, spans.span.line, spans.span.column, map_entry);
            Raw::Str(source.unwrap_or_else(|| other.to_string()), line)
        }
    }
}

/// The plain scalar written at (line, column): after the key when the span is a mapping
/// entry's (spans of entries point at their key), else the item itself.
fn source_text(lines: &[&str], line: u32, column: u32, map_entry: bool) -> Option<String> {
    let text = lines.get((line as usize).checked_sub(1)?)?;
    let start = text
        .char_indices()
        .nth((column as usize).checked_sub(1)?)
        .map(|(i, _)| i)?;
    let mut rest = text.get(start..)?;
    if map_entry {
        // A plain key ends at the first ": " (or ":" at the end of the line).
        let colon = rest
            .match_indices(':')
            .map(|(i, _)| i)
            .find(|&i| matches!(rest.as_bytes().get(i + 1), None | Some(b' ' | b'\t')))?;
        rest = rest.get(colon + 1..)?;
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let end = rest.find(" #").unwrap_or(rest.len());
    let scalar = rest.get(..end)?.trim_end();
    if scalar.is_empty() {
        None
    } else {
        Some(scalar.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_source_text() {
        let raw = parse(
            "t.yaml",
            "id: 1.10\nvalue: 0644\nflag: false # c\nlist:\n  - 1.20\n  - yes\nq: \"0600\"\n",
        )
        .unwrap();
        assert_eq!(raw.get("id"), Some(&Raw::Str("1.10".into(), 1)));
        assert_eq!(raw.get("value"), Some(&Raw::Str("0644".into(), 2)));
        assert_eq!(raw.get("flag"), Some(&Raw::Str("false".into(), 3)));
        assert_eq!(
            raw.get("list"),
            Some(&Raw::Seq(
                vec![Raw::Str("1.20".into(), 5), Raw::Str("yes".into(), 6)],
                4
            ))
        );
        assert_eq!(raw.get("q"), Some(&Raw::Str("0600".into(), 7)));
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let err = parse("cfg/x/master.yaml", "a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cfg/x/master.yaml"), "{text}");
        assert!(
            matches!(err, BenchError::Yaml { line, .. } if line >= 2),
            "{text}"
        );
    }
}
