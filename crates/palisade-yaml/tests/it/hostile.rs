//! Hostile and broken input: every case gives a clear error (or a note), never a panic, a
//! hang or a huge allocation; other documents in the same file are still loaded.

use crate::load;
use palisade_yaml::{Limits, load_bytes, load_paths, load_str};

const GOOD: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n";

fn billion_laughs() -> String {
    let mut s = String::from(
        "apiVersion: v1\nkind: ConfigMap\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        s.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    s
}

/// Lifts the tree-memory share (`max_tree_ratio`), which stops these documents first when
/// they are small, to test the other limits.
fn without_tree_share(limits: Limits) -> Limits {
    Limits {
        max_tree_ratio: usize::MAX,
        ..limits
    }
}

#[test]
fn alias_bomb_fails_on_the_tree_share_or_the_alias_budget() {
    // By default an 800-byte file may not build more than 256 KiB and 64 bytes per byte:
    // that stops the bomb before the alias budget does.
    let l = load(&(billion_laughs() + GOOD));
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert!(
        l.errors[0].message.contains("--max-tree-ratio"),
        "{}",
        l.errors[0].message
    );
    assert_eq!(l.documents.len(), 1);
    let l = load_str(
        "test.yaml",
        &(billion_laughs() + GOOD),
        &without_tree_share(Limits::default()),
    );
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    let e = &l.errors[0];
    assert_eq!(e.kind, "limit");
    assert!(
        e.message.contains("max_alias_expansions") && e.message.contains("--max-alias-expansions"),
        "{}",
        e.message
    );
    assert!(e.line.is_some());
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.documents[0].index, 1);
}

#[test]
fn alias_bomb_within_node_budget_when_aliases_allowed() {
    // With the alias budget lifted, the node budget still stops it.
    let limits = without_tree_share(Limits {
        max_alias_expansions: usize::MAX,
        ..Limits::default()
    });
    let l = load_str("bomb.yaml", &billion_laughs(), &limits);
    assert_eq!(l.errors.len(), 1);
    assert!(
        l.errors[0].message.contains("max_nodes"),
        "{}",
        l.errors[0].message
    );
}

#[test]
fn deep_flow_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("a: {}{}\n{GOOD}", "[".repeat(10_000), "]".repeat(10_000));
    let l = load(&text);
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert_eq!(l.errors[0].kind, "limit");
    assert!(
        l.errors[0].message.contains("nested"),
        "{}",
        l.errors[0].message
    );
    assert_eq!(l.documents.len(), 1);
}

#[test]
fn deep_block_nesting_hits_max_depth() {
    let text = format!("{}x\n{GOOD}", "- ".repeat(10_000));
    let l = load(&text);
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    let e = &l.errors[0];
    assert_eq!(e.kind, "limit");
    assert!(
        e.message.contains("max_depth = 256") && e.message.contains("--max-depth"),
        "{}",
        e.message
    );
    assert_eq!(e.document, Some(0));
    assert_eq!(l.documents.len(), 1);
    // Deep block mappings too (indentation grows; 2,000 levels).
    let mut t = String::new();
    for i in 0..2_000 {
        t.push_str(&" ".repeat(i));
        t.push_str("k:\n");
    }
    let l = load(&t);
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].kind, "limit");
}

#[test]
fn depth_limit_counts_alias_expansion() {
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let ok = "apiVersion: v1\nkind: X\na: &a {b: {c: 1}}\n";
    assert!(load_str("t", ok, &limits).errors.is_empty());
    let deep = format!("{ok}d:\n  e:\n    f: *a\n");
    let l = load_str("t", &deep, &limits);
    assert_eq!(l.errors.len(), 1);
    assert!(l.errors[0].message.contains("max_depth = 5"));
    assert_eq!(l.errors[0].line, Some(6));
}

#[test]
fn node_and_document_limits() {
    let limits = Limits {
        max_nodes: 50,
        max_documents_per_file: 3,
        ..Limits::default()
    };
    let big = format!(
        "apiVersion: v1\nkind: X\nl: [{}]\n",
        vec!["1"; 60].join(",")
    );
    let l = load_str("t", &big, &limits);
    assert_eq!(l.errors.len(), 1);
    assert!(
        l.errors[0].message.contains("max_nodes = 50")
            && l.errors[0].message.contains("--max-nodes")
    );
    let many = "apiVersion: v1\nkind: X\n---\n".repeat(5);
    let l = load_str("t", &many, &limits);
    assert_eq!(l.documents.len(), 3);
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!((e.kind.as_str(), e.document), ("limit", Some(3)));
    assert!(
        e.message.contains("max_documents_per_file = 3") && e.message.contains("--max-documents"),
        "{}",
        e.message
    );
}

#[test]
fn truncated_yaml_is_a_syntax_error_with_position_and_earlier_documents_kept() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, image: \"nginx";
    let l = load(text);
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!((e.kind.as_str(), e.document), ("syntax", Some(1)));
    assert!(e.line.unwrap() >= 8, "{e:?}");
    assert!(
        e.message.contains("rest of this document was not read"),
        "{}",
        e.message
    );
    assert!(e.to_string().starts_with("test.yaml:"), "{e}");
    assert!(e.to_string().contains("(document 2)"), "{e}");
}

#[test]
fn a_malformed_document_in_the_middle_does_not_hide_the_others() {
    let text = "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n  bad: indent\n: x\n---\napiVersion: v1\nkind: C\n";
    let l = load(text);
    let kinds: Vec<_> = l
        .documents
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["A", "C"]);
    assert_eq!(l.documents[1].index, 2);
    assert_eq!(l.errors.len(), 1);
    assert_eq!(
        (l.errors[0].document, l.errors[0].kind.as_str()),
        (Some(1), "syntax")
    );
    assert_eq!(l.errors[0].line, Some(6));
}

#[test]
fn encoding_errors() {
    let l = load_bytes(
        "bin.yaml",
        b"apiVersion: v1\nkind: Pod\x00\x01\x02",
        &Limits::default(),
    );
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].kind, "encoding");
    assert!(l.errors[0].message.contains("NUL"));
    assert_eq!(l.errors[0].line, Some(2));
    let l = load_bytes(
        "latin1.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n",
        &Limits::default(),
    );
    assert_eq!(l.errors.len(), 1);
    assert_eq!(
        (l.errors[0].kind.as_str(), l.errors[0].line),
        ("encoding", Some(3))
    );
    assert!(l.errors[0].message.contains("UTF-8"));
    let l = load_bytes(
        "utf16.yaml",
        &[0xFF, 0xFE, b'a', 0, b':', 0],
        &Limits::default(),
    );
    assert_eq!(l.errors[0].kind, "encoding");
    assert!(l.errors[0].message.contains("UTF-16"));
    assert!(l.documents.is_empty());
}

#[test]
fn empty_and_comment_only_files_are_notes() {
    for text in [
        "",
        "  \n\n",
        "# just a comment\n",
        "---\n",
        "---\n# c\n---\n...\n",
    ] {
        let l = load(text);
        assert!(l.errors.is_empty() && l.documents.is_empty(), "{text:?}");
        assert_eq!(l.notes.len(), 1, "{text:?}: {:#?}", l.notes);
        assert_eq!(l.notes[0].kind, "empty");
    }
    let l = load_bytes("e.yaml", b"", &Limits::default());
    assert_eq!(l.notes[0].message, "empty file: no documents");
}

#[test]
fn non_object_and_non_kubernetes_documents() {
    let text = "just a string\n---\n- a\n- b\n---\n42\n---\nfoo: bar\n---\napiVersion: v1\n---\napiVersion: example.com/v1\nkind: SomethingUnknown\nspec: {x: 1}\n";
    let l = load(text);
    let kinds: Vec<_> = l
        .errors
        .iter()
        .map(|e| (e.document.unwrap(), e.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [(0, "not-object"), (1, "not-object"), (2, "not-object")]
    );
    assert!(l.errors[1].message.contains("a sequence"));
    assert_eq!(l.errors[1].line, Some(3));
    let notes: Vec<_> = l
        .notes
        .iter()
        .map(|n| (n.document.unwrap(), n.kind.as_str(), n.line))
        .collect();
    assert_eq!(
        notes,
        [
            (3, "not-kubernetes", Some(8)),
            (4, "not-kubernetes", Some(10))
        ]
    );
    assert!(l.notes[1].message.contains("no kind"));
    // An unknown kind is still a Kubernetes object: loaded; rules decide what to do with it.
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.documents[0].value["kind"], "SomethingUnknown");
}

#[test]
fn file_size_limit_in_memory() {
    let limits = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    let l = load_str("big.yaml", "apiVersion: v1\nkind: Pod\n", &limits);
    assert!(l.documents.is_empty());
    assert_eq!(l.errors[0].kind, "limit");
    assert!(
        l.errors[0].message.contains("max_file_bytes = 10")
            && l.errors[0].message.contains("--max-file-size")
    );
}

#[test]
fn a_100_mb_file_is_refused_from_its_metadata_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: 100 MiB of NUL bytes that would be an encoding error if anything read them.
    f.set_len(100 * 1024 * 1024).unwrap();
    drop(f);
    let small = dir.path().join("small.yaml");
    std::fs::write(&small, "apiVersion: v1\nkind: Pod\n").unwrap();
    let l = load_paths(&[&path, &small], &Limits::default());
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    let e = &l.errors[0];
    assert_eq!(e.kind, "limit");
    assert!(
        e.message.contains("104857600 bytes; it was not read"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("max_file_bytes = 67108864") && e.message.contains("--max-file-size")
    );
    assert!(e.file.ends_with("huge.yaml"));
    assert_eq!(l.documents.len(), 1);
    assert_eq!(l.bytes, 25, "the huge file was not read");
}

#[test]
fn a_large_generated_document_loads_within_limits() {
    // ~2 MB, 100k list entries: still one document, correct last line.
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\ndata:\n");
    for i in 0..100_000 {
        s.push_str(&format!("  k{i}: \"v{i}\"\n"));
    }
    let l = load(&s);
    assert!(l.errors.is_empty());
    let d = &l.documents[0];
    assert_eq!(d.value["data"].as_object().unwrap().len(), 100_000);
    assert_eq!(crate::line(d, "data.k99999"), 100_003);
}

#[test]
fn many_duplicate_keys_stay_linear_and_notes_are_capped() {
    // 20,000 keys, then the same 20,000 again: a quadratic duplicate search would take
    // minutes; notes are capped at 100 plus one summary.
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\ndata:\n");
    for round in 0..2 {
        for i in 0..20_000 {
            s.push_str(&format!("  k{i}: \"{round}\"\n"));
        }
    }
    let l = load(&s);
    assert!(l.errors.is_empty());
    assert_eq!(l.documents[0].value["data"]["k19999"], "1");
    assert_eq!(l.notes.len(), 101);
    assert!(
        l.notes[100].message.contains("19900 more notes"),
        "{}",
        l.notes[100].message
    );
    assert_eq!(crate::line(&l.documents[0], "data.k0"), 20_004);
}

#[test]
fn nested_anchors_over_a_big_subtree_are_bounded() {
    // 200 nested anchored sequences around a 10,000-item list: copying each anchored subtree
    // would be 2 million nodes; the anchor copies count against max_nodes.
    let limits = without_tree_share(Limits {
        max_nodes: 100_000,
        ..Limits::default()
    });
    let mut s = String::from("apiVersion: v1\nkind: X\na: ");
    for i in 0..200 {
        s.push_str(&format!("&a{i} ["));
    }
    // Entries of 10 bytes: a flow sequence of terse ones (`1,1,...`) is cut earlier, for
    // what the parser holds of it (events::HOLD_RATIO).
    s.push_str(&vec!["1000000000"; 10_000].join(","));
    s.push_str(&"]".repeat(200));
    s.push('\n');
    let l = load_str("t", &s, &limits);
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert!(
        l.errors[0].message.contains("max_nodes = 100000"),
        "{}",
        l.errors[0].message
    );
}

#[test]
fn a_million_document_markers_are_cut_off_by_the_document_limit() {
    let l = load(&"---\n".repeat(1_000_000));
    assert_eq!(l.errors.len(), 1);
    assert!(
        l.errors[0]
            .message
            .contains("max_documents_per_file = 10000")
    );
}
