//! Inputs: directories (recursive, sorted, hidden and non-manifest entries skipped),
//! explicit files of any extension, missing paths, the total-size limit.

use palisade_yaml::{Limits, load_paths};
use std::fs;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\n";

fn pod(name: &str) -> String {
    POD.replace("NAME", name)
}

#[test]
fn directories_are_walked_sorted_skipping_hidden_and_other_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("b/sub")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("c.yaml"), pod("c")).unwrap();
    fs::write(root.join("a.YML"), pod("a")).unwrap();
    fs::write(
        root.join("b/sub/d.json"),
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"}}"#,
    )
    .unwrap();
    fs::write(root.join("b/a2.yaml"), pod("a2")).unwrap();
    fs::write(root.join(".hidden.yaml"), pod("hidden")).unwrap();
    fs::write(root.join(".git/x.yaml"), pod("git")).unwrap();
    fs::write(root.join("notes.txt"), pod("txt")).unwrap();
    fs::write(root.join("README.md"), "# not yaml: [").unwrap();
    let l = load_paths(&[root], &Limits::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let names: Vec<_> = l
        .documents
        .iter()
        .map(|d| d.object_ref().name.unwrap())
        .collect();
    assert_eq!(names, ["a", "a2", "d", "c"]);
    assert_eq!(l.files, 4);
    assert!(l.documents[2].file.ends_with("d.json"));
    // An explicitly named file is read whatever its extension.
    let l = load_paths(&[root.join("notes.txt")], &Limits::default());
    assert_eq!(l.documents.len(), 1);
    assert_eq!(
        &*l.documents[0].file,
        root.join("notes.txt").display().to_string()
    );
}

#[test]
fn load_paths_each_gives_the_same_results_file_by_file() {
    let root = crate::testdata("corpus");
    let all = load_paths(&[&root], &Limits::default());
    let mut files = Vec::new();
    let mut docs = Vec::new();
    palisade_yaml::load_paths_each(&[&root], &Limits::default(), |l| {
        assert_eq!(l.files, 1);
        files.push(l.documents.first().map(|d| d.file.clone()));
        docs.extend(l.documents.into_iter().map(|d| (d.file, d.index, d.item)));
    });
    assert_eq!(files.len(), 183);
    let want: Vec<_> = all
        .documents
        .into_iter()
        .map(|d| (d.file, d.index, d.item))
        .collect();
    assert_eq!(docs, want);
}

#[test]
fn a_directory_without_manifests_gets_a_note() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let l = load_paths(&[dir.path()], &Limits::default());
    assert!(l.errors.is_empty() && l.documents.is_empty());
    assert_eq!(l.notes.len(), 1);
    assert_eq!(l.notes[0].kind, "empty");
}

#[test]
fn missing_paths_are_io_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let good = dir.path().join("ok.yaml");
    fs::write(&good, pod("ok")).unwrap();
    let l = load_paths(&[&missing, &good], &Limits::default());
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!(e.kind, "io");
    assert!(
        e.message.contains("nope.yaml") && e.file.ends_with("nope.yaml"),
        "{e}"
    );
    assert_eq!(l.documents.len(), 1);
}

#[test]
fn total_size_limit_stops_reading_and_says_what_was_not_read() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["a", "b", "c", "d"] {
        fs::write(dir.path().join(format!("{n}.yaml")), pod(n)).unwrap();
    }
    let per_file = pod("a").len() as u64;
    let limits = Limits {
        max_total_bytes: per_file * 2,
        ..Limits::default()
    };
    let l = load_paths(&[dir.path()], &limits);
    assert_eq!(l.documents.len(), 2);
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!(e.kind, "limit");
    assert!(e.file.ends_with("c.yaml"));
    assert!(
        e.message.contains("the 1 inputs after it were not read")
            && e.message.contains("--max-total-size"),
        "{}",
        e.message
    );
}

/// `load_mapping_bytes` (kubeconfig and other non-Kubernetes YAML): every mapping document as
/// it is, with the same resolution, spans and limits; what is not a mapping is still an error.
#[test]
fn mapping_documents_load_without_apiversion_and_kind() {
    let limits = Limits::default();
    let text = "current-context: x\nenabled: on\nitems: [a]\nkind: SomethingList\n---\n- 1\n";
    let loaded = palisade_yaml::load_mapping_bytes("k.yaml", text.as_bytes(), &limits);
    assert_eq!(loaded.documents.len(), 1, "{loaded:?}");
    let doc = &loaded.documents[0];
    assert_eq!(doc.value["current-context"], "x");
    // YAML 1.1 booleans as everywhere else; a `*List` kind is not expanded here.
    assert_eq!(doc.value["enabled"], true);
    assert_eq!(doc.value["items"][0], "a");
    assert_eq!(
        doc.locate(&palisade_core::FieldPath::parse("enabled")).line,
        2
    );
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].document, Some(1));
    // The ordinary loader skips the same mapping with a note.
    let plain = palisade_yaml::load_bytes("k.yaml", b"current-context: x\n", &limits);
    assert!(plain.documents.is_empty());
    assert_eq!(plain.notes[0].kind, "not-kubernetes");
    // Limits still apply (alias expansion budget).
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    let small = Limits {
        max_alias_expansions: 1000,
        ..Limits::default()
    };
    let loaded = palisade_yaml::load_mapping_bytes("bomb.yaml", bomb.as_bytes(), &small);
    assert!(loaded.documents.is_empty());
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
}

/// Issue 13 item 9: a Helm chart template is not YAML until rendered. Its parse errors stay
/// errors, and say what the file looks like and how to render it; the whole-file loaders and
/// the piece-wise path loader agree (the template action is in another piece than the error).
#[test]
fn helm_template_errors_say_to_render_the_template() {
    let template = "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n\
                    metadata:\n  name: {{ .Release.Name }}-config\n{{- end }}\n";
    let l = palisade_yaml::load_str("templates/cm.yaml", template, &Limits::default());
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    let m = &l.errors[0].message;
    assert_eq!(l.errors[0].kind, "syntax");
    assert!(m.contains("\"-\" is only valid inside a block"), "{m}");
    assert!(m.contains("Go/Helm template"), "{m}");
    assert!(m.contains("helm template"), "{m}");
    // A file with no template action keeps saphyr's message alone.
    let l = palisade_yaml::load_str("x.yaml", "a: [\n", &Limits::default());
    assert!(!l.errors[0].message.contains("template"), "{:#?}", l.errors);

    // Large enough to be cut in pieces: the action is in the first, the error in the last.
    let mut text = String::from("# {{ .Chart.Name }}\n");
    for i in 0..6000 {
        text.push_str(&format!("---\n{}", pod(&format!("p{i}"))));
    }
    text.push_str("---\napiVersion: v1\nkind: Pod\nmetadata: {name: [}\n");
    assert!(text.len() > 2 * palisade_yaml::PIECE_BYTES);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    fs::write(&path, &text).unwrap();
    let whole = palisade_yaml::load_bytes(
        &path.display().to_string(),
        text.as_bytes(),
        &Limits::default(),
    );
    let pieces = load_paths(&[&path], &Limits::default());
    assert_eq!(whole.errors, pieces.errors);
    assert_eq!(pieces.errors.len(), 1, "{:#?}", pieces.errors);
    assert!(pieces.errors[0].message.contains("helm template"));
    assert_eq!(pieces.documents.len(), 6000);
}
