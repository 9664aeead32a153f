//! Line and column of nodes: multi-document files, Lists, JSON, anchors, merge keys, CRLF,
//! byte-order marks.

use crate::{line, load_ok};
use palisade_core::FieldPath;

const MULTI: &str = "\
# leading comment
apiVersion: v1
kind: Pod
metadata:
  name: first
spec:
  containers:
  - name: a
    image: nginx
    securityContext:
      privileged: on
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata:
  name: second
spec:
  containers:
    - name: b
      image: busybox
      securityContext:
        runAsNonRoot: false
...
---
apiVersion: v1
kind: ConfigMap
metadata: {name: third}
data: {a: '1', b: \"2\"}
---
";

#[test]
fn multi_document_lines_and_indices() {
    let l = load_ok(MULTI);
    assert_eq!(l.documents.len(), 3);
    let [a, b, c] = [&l.documents[0], &l.documents[1], &l.documents[2]];
    // Indices count every document in the stream, the comment-only one included.
    assert_eq!((a.index, b.index, c.index), (0, 2, 3));
    assert_eq!(a.spans.span.line, 2);
    assert_eq!(line(a, "kind"), 3);
    assert_eq!(line(a, "spec.containers[0]"), 8);
    assert_eq!(line(a, "spec.containers[0].securityContext.privileged"), 11);
    let p = FieldPath::parse("spec.containers[0].securityContext.privileged");
    assert_eq!(a.locate(&p).column, 7);
    assert_eq!(
        a.value["spec"]["containers"][0]["securityContext"]["privileged"],
        true
    );
    assert_eq!(line(b, "metadata.name"), 18);
    assert_eq!(
        line(b, "spec.containers[0].securityContext.runAsNonRoot"),
        24
    );
    assert_eq!(b.locate(&FieldPath::parse("spec.containers[0]")).column, 7);
    assert_eq!(line(c, "metadata.name"), 29);
    assert_eq!(line(c, "data.b"), 30);
    // A missing field points at its deepest present ancestor.
    assert_eq!(
        a.locate(&FieldPath::parse(
            "spec.containers[0].securityContext.runAsUser"
        ))
        .line,
        10
    );
    assert!(l.notes.is_empty(), "{:#?}", l.notes);
}

#[test]
fn list_items_become_documents_with_their_own_spans() {
    let text = "\
apiVersion: v1
kind: ConfigMapList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: one
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: two
  data:
    k: v
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: three}
";
    let l = load_ok(text);
    let names: Vec<_> = l
        .documents
        .iter()
        .map(|d| d.object_ref().name.unwrap())
        .collect();
    assert_eq!(names, ["one", "two", "three"]);
    let items: Vec<_> = l.documents.iter().map(|d| (d.index, d.item)).collect();
    assert_eq!(items, [(0, Some(0)), (0, Some(1)), (1, Some(0))]);
    let two = &l.documents[1];
    assert_eq!(two.spans.span.line, 8);
    assert_eq!(line(two, "metadata.name"), 11);
    assert_eq!(line(two, "data.k"), 13);
    assert_eq!(line(&l.documents[2], "metadata.name"), 20);
    assert!(two.value.get("items").is_none());
}

#[test]
fn nested_lists_are_flattened() {
    let l = load_ok(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Secret\n- apiVersion: v1\n  kind: Pod\n- apiVersion: v1\n  kind: PodList\n  items: []\n",
    );
    let kinds: Vec<_> = l
        .documents
        .iter()
        .map(|d| (d.value["kind"].as_str().unwrap(), d.item))
        .collect();
    assert_eq!(kinds, [("Secret", Some(0)), ("Pod", Some(1))]);
    assert_eq!(l.documents[0].spans.span.line, 7);
}

#[test]
fn list_items_that_are_not_objects_are_errors() {
    let l =
        crate::load("apiVersion: v1\nkind: PodList\nitems:\n- 3\n- apiVersion: v1\n  kind: Pod\n");
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.documents[0].item, Some(1));
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].kind, "not-object");
    assert_eq!(l.errors[0].line, Some(4));
}

#[test]
fn json_documents_have_lines_too() {
    let text = "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"spec\": {\n\t\t\"containers\": [\n\t\t\t{\"name\": \"a\", \"securityContext\": {\"privileged\": true}}\n\t\t],\n\t\t\"hostPID\": true,\n\t\t\"n\": 1e3,\n\t\t\"s\": \"on\"\n\t}\n}\n";
    let l = palisade_yaml::load_str("pod.json", text, &Default::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let d = &l.documents[0];
    assert_eq!(&*d.file, "pod.json");
    assert_eq!(line(d, "spec.hostPID"), 8);
    assert_eq!(line(d, "spec.containers[0].securityContext.privileged"), 6);
    assert_eq!(d.value["spec"]["s"], "on");
    assert_eq!(d.value["spec"]["hostPID"], true);
    assert_eq!(d.value["spec"]["n"].as_f64(), Some(1000.0));
    let p = palisade_core::FieldPath::parse("spec.hostPID");
    assert_eq!(d.locate(&p).column, 3);
}

#[test]
fn json_streams_escapes_and_fallback() {
    let limits = palisade_yaml::Limits::default();
    // Several concatenated values (kubectl reads a JSON stream), surrogate-pair escapes.
    let text = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\\ud83d\\ude00\\/x\"}}\n{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\", \"metadata\": {\"name\": \"b\\ud800\"}}\n";
    let l = palisade_yaml::load_str("s.json", text, &limits);
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    assert_eq!(l.documents.len(), 2);
    assert_eq!(l.documents[0].value["metadata"]["name"], "a\u{1F600}/x");
    assert_eq!(l.documents[1].value["metadata"]["name"], "b\u{FFFD}");
    assert_eq!(
        (l.documents[1].index, l.documents[1].spans.span.line),
        (1, 2)
    );
    assert_eq!(line(&l.documents[1], "kind"), 3);
    // A YAML flow mapping in a .yaml file is read as YAML when it is not valid JSON.
    let l = palisade_yaml::load_str(
        "f.yaml",
        "{apiVersion: v1, kind: Pod, spec: {hostPID: on}}\n",
        &limits,
    );
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    assert_eq!(l.documents[0].value["spec"]["hostPID"], true);
    let mixed = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n---\napiVersion: v1\nkind: Service\n";
    let l = palisade_yaml::load_str("m.yaml", mixed, &limits);
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    assert_eq!(l.documents.len(), 2);
    assert_eq!(line(&l.documents[1], "kind"), 4);
    // ... but a .json file must be JSON.
    let l = palisade_yaml::load_str(
        "f.json",
        "{\"apiVersion\": \"v1\",\n \"kind\": Pod}\n",
        &limits,
    );
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!(
        (e.kind.as_str(), e.line, e.column),
        ("syntax", Some(2), Some(10))
    );
    assert!(e.message.contains("JSON"), "{}", e.message);
    // Deep JSON nesting hits the depth limit; the next value still loads.
    let deep = format!(
        "{{\"a\": {}{}}}\n{{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let l = palisade_yaml::load_str("d.json", &deep, &limits);
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].kind, "limit");
    assert_eq!(l.documents.len(), 1);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: &labels
    app: web
    tier: front
  annotations: *labels
spec:
  base: &sc
    privileged: false
    runAsUser: 1000
  containers:
  - name: a
    securityContext:
      <<: *sc
      privileged: true
  - name: b
    securityContext: *sc
  - name: c
    securityContext:
      <<: [*sc, {runAsUser: 0, readOnlyRootFilesystem: true}]
";
    let l = load_ok(text);
    let d = &l.documents[0];
    assert_eq!(d.value["metadata"]["annotations"]["tier"], "front");
    // The alias site for the node itself, the anchor's lines for what it contains.
    assert_eq!(line(d, "metadata.annotations"), 8);
    assert_eq!(line(d, "metadata.annotations.tier"), 7);
    let sc = &d.value["spec"]["containers"];
    assert_eq!(sc[0]["securityContext"]["privileged"], true);
    assert_eq!(sc[0]["securityContext"]["runAsUser"], 1000);
    assert_eq!(line(d, "spec.containers[0].securityContext.privileged"), 17);
    assert_eq!(line(d, "spec.containers[0].securityContext.runAsUser"), 12);
    assert_eq!(sc[1]["securityContext"]["privileged"], false);
    assert_eq!(line(d, "spec.containers[1].securityContext"), 19);
    assert_eq!(line(d, "spec.containers[1].securityContext.privileged"), 11);
    // In a merge sequence the earlier mapping wins.
    assert_eq!(sc[2]["securityContext"]["runAsUser"], 1000);
    assert_eq!(sc[2]["securityContext"]["readOnlyRootFilesystem"], true);
    assert!(sc[0]["securityContext"].get("<<").is_none());
    assert!(l.notes.is_empty(), "{:#?}", l.notes);
}

#[test]
fn merge_is_in_place_as_go_yaml_v2_does() {
    // go-yaml v2 writes merged keys where `<<` stands: an explicit key *before* it is
    // overridden (and noted), one after it wins.
    let l =
        load_ok("apiVersion: v1\nkind: X\nbase: &b {a: 1, c: 3}\nm:\n  a: 2\n  <<: *b\n  c: 4\n");
    let m = &l.documents[0].value["m"];
    assert_eq!(m["a"], 1);
    assert_eq!(m["c"], 4);
    assert_eq!(l.notes.len(), 1);
    assert_eq!(l.notes[0].kind, "duplicate-key");
    assert_eq!(l.notes[0].line, Some(6));
}

#[test]
fn crlf_line_endings() {
    let text = "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  hostPID: yes\r\n---\r\napiVersion: v1\r\nkind: Pod\r\nspec:\r\n  hostIPC: true\r\n";
    let l = load_ok(text);
    assert_eq!(l.documents.len(), 2);
    assert_eq!(line(&l.documents[0], "spec.hostPID"), 4);
    assert_eq!(l.documents[0].value["spec"]["hostPID"], true);
    assert_eq!(line(&l.documents[1], "spec.hostIPC"), 9);
}

#[test]
fn utf8_bom_is_skipped_and_columns_unchanged() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(
        b"apiVersion: v1\nkind: Pod\nspec: {hostNetwork: true}\n---\napiVersion: v1\nkind: Pod\n",
    );
    let l = palisade_yaml::load_bytes("bom.yaml", &bytes, &Default::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    assert_eq!(l.documents.len(), 2);
    let d = &l.documents[0];
    assert_eq!(d.spans.span, palisade_core::Span { line: 1, column: 1 });
    assert_eq!(line(d, "spec.hostNetwork"), 3);
    assert_eq!(d.value["apiVersion"], "v1");
}

#[test]
fn duplicate_keys_last_wins_with_a_note() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: false\n      privileged: true\n";
    let l = load_ok(text);
    let d = &l.documents[0];
    assert_eq!(
        d.value["spec"]["containers"][0]["securityContext"]["privileged"],
        true
    );
    assert_eq!(line(d, "spec.containers[0].securityContext.privileged"), 8);
    assert_eq!(l.notes.len(), 1);
    let n = &l.notes[0];
    assert_eq!(n.kind, "duplicate-key");
    assert_eq!(
        (n.file.as_str(), n.document, n.line),
        ("test.yaml", Some(0), Some(8))
    );
    assert!(
        n.message.contains("privileged") && n.message.contains("line 7"),
        "{}",
        n.message
    );
}

/// go-yaml (Kubernetes) reads continuation lines of quoted scalars at any indentation; the
/// values fold exactly as they would when indented, and columns after the closing quote
/// are those of the source.
#[test]
fn under_indented_quoted_scalar_continuations_are_read_like_go_yaml() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n    - name: c\n      command:\n        - sh\n        - \"exec a \\\n      --b c \\\n      --d 'x' \"\n        - [\"multi\n    line\", next]\n      image: 'it''s\n  continued'\n";
    let l = crate::load_ok(text);
    let doc = &l.documents[0];
    let c = &doc.value["spec"]["containers"][0];
    assert_eq!(c["command"][1], "exec a --b c --d 'x' ");
    assert_eq!(c["command"][2], serde_json::json!(["multi line", "next"]));
    assert_eq!(c["image"], "it's continued");
    let next = doc
        .spans
        .get(&FieldPath::parse("spec.containers[0].command[2][1]"))
        .unwrap();
    assert_eq!((next.span.line, next.span.column), (14, 12));
    assert_eq!(crate::line(doc, "spec.containers[0].image"), 15);
    // The same document with the continuation lines indented gives the same value.
    let indented = text.replace("\n      --", "\n          --");
    assert_eq!(crate::load_ok(&indented).documents[0].value, doc.value);
}

/// The Checkov kafka fixtures (a `sh -c` command continued on lines indented less than its
/// sequence entry) load as Kubernetes loads them.
#[test]
fn checkov_kafka_fixture_loads() {
    let path = crate::testdata(
        "peer-fixtures/checkov/tests/kubernetes/checks/example_ImageTagFixed/kafka-ImageWithRepo-PASSED.yaml",
    );
    let l = palisade_yaml::load_paths(&[&path], &palisade_yaml::Limits::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let sts = l
        .documents
        .iter()
        .find(|d| d.value["kind"] == "StatefulSet")
        .unwrap();
    let cmd = sts.value["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(cmd.starts_with("exec kafka-server-start.sh"), "{cmd}");
    assert!(
        cmd.contains(" --override listeners=PLAINTEXT://:9093 --override"),
        "{cmd}"
    );
    assert!(!cmd.contains('\n'));
}
