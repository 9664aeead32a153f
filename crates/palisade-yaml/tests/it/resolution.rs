//! Scalars resolved as Kubernetes (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1) does, end to end.

use crate::load_ok;
use serde_json::{Value, json};

fn spec(body: &str) -> Value {
    let l = load_ok(&format!("apiVersion: v1\nkind: Pod\nspec:\n{body}"));
    assert_eq!(l.documents.len(), 1);
    l.documents[0].value["spec"].clone()
}

#[test]
fn yaml_1_1_table() {
    let s = spec(
        "  privileged: on\n  a: Off\n  b: y\n  c: N\n  d: YES\n  e: ~\n  f:\n  g: Null\n  \
         defaultMode: 0644\n  h: 0x1F\n  i: +12\n  j: 1_000\n  k: 0b1010\n  l: 1.5\n  m: \"on\"\n  \
         nq: 'yes'\n  n: 1\n  o: !!str 0644\n  p: !!int \"0x10\"\n  q: !!float 3\n  r: !!bool 'on'\n  \
         s: 1:20\n  t: 2001-12-14\n  u: yEs\n  v: 9223372036854775808\n  w: 08\n  x: |\n    on\n  \
         z: !custom on\n",
    );
    let want = json!({
        "privileged": true, "a": false, "b": true, "c": false, "d": true, "e": null, "f": null,
        "g": null, "defaultMode": 420, "h": 31, "i": 12, "j": 1000, "k": 10, "l": 1.5, "m": "on",
        "nq": "yes", "false": 1, "o": "0644", "p": 16, "q": 3.0, "r": true, "s": "1:20", "t": "2001-12-14",
        "u": "yEs", "v": 9_223_372_036_854_775_808u64, "w": 8.0, "x": "on\n", "z": "on",
    });
    assert_eq!(s, want);
    assert!(s["q"].is_f64() && s["w"].is_f64() && s["h"].is_i64());
}

#[test]
fn keys_become_json_strings() {
    let s = spec("  on: 1\n  no: 2\n  0644: 3\n  \"on\": 4\n  1.5: 5\n  ? y\n  : 6\n");
    let obj = s.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["1.5", "420", "false", "on", "true"]);
    assert_eq!(
        s["true"], 6,
        "`y` and `on` are the same key: the later wins"
    );
    assert_eq!(s["on"], 4);
}

#[test]
fn non_finite_floats_are_kept_as_strings_with_a_note() {
    let l = crate::load("apiVersion: v1\nkind: X\na: .inf\nb: -.Inf\nc: .NaN\n");
    assert!(l.errors.is_empty());
    let v = &l.documents[0].value;
    assert_eq!(
        (v["a"].as_str(), v["b"].as_str(), v["c"].as_str()),
        (Some(".inf"), Some("-.Inf"), Some(".NaN"))
    );
    assert_eq!(l.notes.len(), 3);
    assert!(l.notes.iter().all(|n| n.kind == "unsupported-value"));
    assert_eq!(l.notes[1].line, Some(4));
}

#[test]
fn tag_mismatch_and_bad_keys_are_document_errors() {
    for (text, needle) in [
        ("apiVersion: v1\nkind: X\na: !!int abc\n", "!!int"),
        ("apiVersion: v1\nkind: X\n~: 1\n", "null map key"),
        ("apiVersion: v1\nkind: X\n[a]: 1\n", "map key"),
        ("apiVersion: v1\nkind: X\na: *nope\n", "anchor"),
        ("apiVersion: v1\nkind: X\nm:\n  <<: 3\n", "merge"),
        (
            "apiVersion: v1\nkind: X\ns: &s [{a: 1}]\nm:\n  <<: *s\n",
            "merge",
        ),
        (
            "apiVersion: v1\nkind: X\nm:\n  <<: [{a: 1}, [b]]\n",
            "merge",
        ),
    ] {
        let l = crate::load(&format!("{text}---\napiVersion: v1\nkind: Why\n"));
        assert_eq!(l.errors.len(), 1, "{text}: {:#?}", l.errors);
        let e = &l.errors[0];
        assert_eq!((e.kind.as_str(), e.document), ("syntax", Some(0)), "{text}");
        assert!(e.message.contains(needle), "{text}: {}", e.message);
        assert!(e.line.is_some());
        // The next document is still loaded.
        assert_eq!(l.documents.len(), 1, "{text}");
        assert_eq!(l.documents[0].value["kind"], "Why");
    }
}
