//! Generated docs must equal what the catalog generates: `docs/rules.md` (the index) and
//! `docs/rules/<ID>.md` (one page per rule, no stale extras). `UPDATE_DOCS=1` rewrites them.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn docs() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs"))
}

const HOW: &str = "run `UPDATE_DOCS=1 cargo test -p palisade-rules --test it docs` (or `palisade rules --format markdown --out-dir docs/rules`) and commit the result";

#[test]
fn rules_md_is_up_to_date() {
    let path = docs().join("rules.md");
    let generated = palisade_rules::render_docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "{} is stale: {HOW}", path.display());
    for rule in palisade_rules::catalog() {
        assert!(
            generated.contains(&format!("[{}](rules/{}.md)", rule.id, rule.id)),
            "{} is not in the index",
            rule.id
        );
    }
}

#[test]
fn rule_pages_are_up_to_date() {
    let dir = docs().join("rules");
    let pages = palisade_rules::rule_pages();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    // One page per catalog rule, whatever its family.
    assert_eq!(pages.len(), palisade_rules::catalog().len());
    let expected: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    let missing: Vec<_> = expected.difference(&present).collect();
    let extra: Vec<_> = present.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/rules/ is stale (missing {missing:?}, extra {extra:?}): {HOW}"
    );
    for (name, text) in &pages {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(committed == *text, "docs/rules/{name} is stale: {HOW}");
    }
}

#[test]
fn explain_prints_the_page_by_id_or_name() {
    let by_id = palisade_rules::explain("hrd013").unwrap();
    let by_name = palisade_rules::explain("sensitive-host-path").unwrap();
    assert_eq!(by_id, by_name);
    assert!(by_id.starts_with("# HRD013: "));
    for section in [
        "## Why",
        "## Fix",
        "```yaml",
        "## References",
        "5.2.11",
        "palisade.dev/ignore",
    ] {
        assert!(by_id.contains(section), "{section}");
    }
    assert!(palisade_rules::explain("NOPE001").is_none());
}
