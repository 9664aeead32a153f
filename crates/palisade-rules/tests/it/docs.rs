//! `docs/rules.md` must equal `render_docs()`; `UPDATE_DOCS=1` rewrites it.

use std::path::PathBuf;

#[test]
fn rules_md_is_up_to_date() {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md"));
    let generated = palisade_rules::render_docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_DOCS=1 cargo test -p palisade-rules --test it rules_md` and commit it",
        path.display()
    );
    for rule in palisade_rules::catalog() {
        assert!(
            generated.contains(&format!("### {}", rule.id)),
            "{}",
            rule.id
        );
    }
}
