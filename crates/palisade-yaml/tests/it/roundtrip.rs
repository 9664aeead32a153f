//! Property test: generated objects written as block YAML (keys and strings quoted, nested
//! mappings in block style, sequence items as one-line JSON) load back to the same JSON
//! value, and every key and item is reported at the line it was written on.

use palisade_core::FieldPath;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z][a-zA-Z0-9._/-]{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn emit(
    map: &Map<String, Value>,
    indent: usize,
    path: &FieldPath,
    out: &mut String,
    lines: &mut Vec<(FieldPath, u32)>,
) {
    for (k, v) in map {
        let line = out.matches('\n').count() as u32 + 1;
        let here = path.clone().key(k.clone());
        lines.push((here.clone(), line));
        let key = serde_json::to_string(k).unwrap();
        out.push_str(&" ".repeat(indent));
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str(&format!("{key}:\n"));
                emit(m, indent + 2, &here, out, lines);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push_str(&format!("{key}:\n"));
                for (i, item) in items.iter().enumerate() {
                    let line = out.matches('\n').count() as u32 + 1;
                    lines.push((here.clone().index(i), line));
                    out.push_str(&format!(
                        "{}- {}\n",
                        " ".repeat(indent),
                        serde_json::to_string(item).unwrap()
                    ));
                }
            }
            _ => out.push_str(&format!("{key}: {}\n", serde_json::to_string(v).unwrap())),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn generated_yaml_round_trips_with_lines(body in prop::collection::btree_map("[a-z][a-zA-Z0-9]{0,8}", tree(), 0..6)) {
        let mut obj = Map::new();
        obj.insert("apiVersion".into(), "v1".into());
        obj.insert("kind".into(), "ConfigMap".into());
        obj.insert("data".into(), Value::Object(body.into_iter().collect()));
        let mut text = String::from("# generated\n");
        let mut lines = Vec::new();
        emit(&obj, 0, &FieldPath::root(), &mut text, &mut lines);
        let l = crate::load(&text);
        prop_assert!(l.errors.is_empty(), "{:#?}\n{}", l.errors, text);
        prop_assert_eq!(l.documents.len(), 1);
        let d = &l.documents[0];
        prop_assert_eq!(&d.value, &Value::Object(obj));
        for (path, line) in lines {
            prop_assert!(d.spans.get(&path).is_some(), "{} missing", path);
            prop_assert_eq!(d.locate(&path).line, line, "{}\n{}", path, text);
        }
    }
}
