//! The parallel path loader (files cut into pieces of whole documents, parsed on several
//! threads, numbered before parsing) must give exactly what the in-order loader
//! (`load_bytes`) gives: same documents, indices, spans, errors and notes, in the same order.

use palisade_core::{InputError, SpanTree};
use palisade_yaml::{Limits, Loaded, PIECE_BYTES, load_bytes, load_paths, load_paths_map};
use proptest::prelude::*;
use std::fs;

/// Everything observable of a load, in order.
pub type Summary<'a> = (
    usize,
    u64,
    Vec<(
        &'a str,
        usize,
        Option<usize>,
        &'a serde_json::Value,
        &'a SpanTree,
    )>,
    &'a [InputError],
    &'a [InputError],
);

pub fn summary(l: &Loaded) -> Summary<'_> {
    (
        l.files,
        l.bytes,
        l.documents
            .iter()
            .map(|d| (&*d.file, d.index, d.item, &d.value, &d.spans))
            .collect(),
        &l.errors,
        &l.notes,
    )
}

/// `load_paths` (pieces) and `load_paths_map` (pieces, concatenated) against `load_bytes`.
fn assert_same(text: &str, limits: &Limits) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    fs::write(&path, text).unwrap();
    let name = path.display().to_string();
    let want = load_bytes(&name, text.as_bytes(), limits);
    let want = summary(&want);
    let got = load_paths(&[&path], limits);
    assert!(summary(&got) == want, "{text:?}");
    let mut pieces = Loaded::default();
    load_paths_map(&[&path], limits, &|l| l, |l| pieces.extend(l));
    assert!(summary(&pieces) == want);
}

fn big_configmap(name: &str, kb: usize) -> String {
    let mut s = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n");
    for i in 0..kb * 1024 / 32 {
        s.push_str(&format!("  k{i:06}: \"{:0>18}\"\n", i));
    }
    s
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: on\n";

#[test]
fn pieces_match_the_in_order_loader_on_edge_cases() {
    let big = big_configmap("big", 200);
    let cases: Vec<String> = vec![
        // Several pieces: big documents around small ones.
        format!("{big}---\n{POD}---\n{big}---\n{POD}"),
        // Comment-only first chunk, then documents (index 0 is the first `---` document).
        format!("# header\n\n---\n{POD}---\n{big}"),
        // A syntax error in the middle takes one index; the rest is read.
        format!("{POD}---\na: [\n---\n{big}---\n{POD}"),
        // `...` can start more documents inside a chunk: read in order.
        format!("{POD}...\n{POD}---\n{big}...\n# c\n...\n{POD}"),
        // Directives go with the document they introduce.
        format!("{POD}---\n%YAML 1.1\n---\n{POD}---\n{big}"),
        // Empty documents only: one file-level note, even across several pieces.
        format!("# only comments\n{}", "---\n# nothing here\n".repeat(8_000)),
        // Lists keep their items together; CRLF and lone CR line breaks.
        format!(
            "apiVersion: v1\r\nkind: List\r\nitems:\r\n- {{apiVersion: v1, kind: Pod}}\r\n---\r\n{}",
            big.replace('\n', "\r")
        ),
        // A byte-order mark.
        format!("\u{FEFF}{POD}---\n{big}"),
        // Not an object, not Kubernetes, duplicate keys.
        format!("- a\n---\nfoo: 1\n---\n{POD}hostPID: off\n---\n{big}"),
    ];
    for case in &cases {
        assert!(case.len() > PIECE_BYTES || case.contains("..."));
        assert_same(case, &Limits::default());
    }
    // The documents-per-file limit is decided in order, whatever the cut.
    let limits = Limits {
        max_documents_per_file: 3,
        ..Limits::default()
    };
    for case in &cases {
        assert_same(case, &limits);
    }
}

#[test]
fn a_large_file_comes_in_several_pieces_in_order() {
    let root = crate::testdata("corpus/calico/manifests/calico.yaml");
    let mut pieces = Vec::new();
    load_paths_map(&[&root], &Limits::default(), &|l| l, |l| pieces.push(l));
    assert!(pieces.len() > 5, "{} pieces", pieces.len());
    assert_eq!(pieces.iter().map(|p| p.files).sum::<usize>(), 1);
    assert_eq!(pieces[0].files, 1);
    let indices: Vec<usize> = pieces
        .iter()
        .flat_map(|p| p.documents.iter().map(|d| d.index))
        .collect();
    assert!(indices.windows(2).all(|w| w[0] <= w[1]));
    // No document is split across pieces.
    for w in pieces.windows(2) {
        if let (Some(a), Some(b)) = (w[0].documents.last(), w[1].documents.first()) {
            assert!(a.index < b.index);
        }
    }
    let mut all = Loaded::default();
    for p in pieces {
        all.extend(p);
    }
    let want = load_bytes(
        &root.display().to_string(),
        &fs::read(&root).unwrap(),
        &Limits::default(),
    );
    assert!(summary(&all) == summary(&want));
}

/// Pieces of YAML streams: markers, comments, directives, errors, Lists, anchors, block
/// scalars holding marker-like lines, an under-indented quoted scalar.
const FRAGMENTS: &[&str] = &[
    "---\n",
    "--- \n",
    "...\n",
    "# comment\n",
    "\n",
    "%YAML 1.1\n",
    POD,
    "a: [\n",
    "x: |\n  ---\n  ...\n",
    "- item\n",
    "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n- 3\n",
    "k: &a {b: 1}\nm: *a\n",
    "--- !!str\n",
    "\r\n",
    "---x\n",
    "q:\n  - \"a\nb\", [\"c\n d\", e]\n",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        (1usize..40).prop_map(|kb| big_configmap("g", kb)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn pieces_match_the_in_order_loader(frags in prop::collection::vec(fragment(), 0..40), limit in 1usize..12) {
        let text: String = frags.concat();
        assert_same(&text, &Limits::default());
        assert_same(&text, &Limits { max_documents_per_file: limit, ..Limits::default() });
    }
}
