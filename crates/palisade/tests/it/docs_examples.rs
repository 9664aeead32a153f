//! The JSON examples in README.md and docs/output-formats.md are real output: each is
//! preceded by a marker naming the command that produces it (`<!-- example: palisade ... -->`,
//! or `<!-- example (first finding): palisade ... -->` for the first finding alone), and this
//! test runs the command and compares. A changed rule ID, message or field fails here instead
//! of drifting in the docs.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;

/// (marker line, what to compare, command words after `palisade`, the JSON block after it).
fn examples(doc: &str) -> Vec<(String, bool, Vec<String>, String)> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix("<!-- example") else {
            continue;
        };
        let (first_finding, cmd) = match rest.strip_prefix(" (first finding):") {
            Some(c) => (true, c),
            None => (false, rest.strip_prefix(':').unwrap()),
        };
        let cmd = cmd.trim().strip_suffix("-->").unwrap().trim();
        let mut words: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
        assert_eq!(words.remove(0), "palisade", "{doc}: {line}");
        assert_eq!(
            lines.next().map(str::trim),
            Some("```json"),
            "{doc}: {line}"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        out.push((line.to_owned(), first_finding, words, block.join("\n")));
    }
    out
}

#[test]
fn json_examples_in_the_docs_are_real_output() {
    let mut seen = 0;
    for doc in ["README.md", "docs/output-formats.md"] {
        let found = examples(doc);
        assert!(!found.is_empty(), "{doc} has no generated example");
        for (marker, first_finding, words, block) in found {
            let out = Command::cargo_bin("palisade")
                .unwrap()
                .current_dir(root())
                .args(&words)
                .output()
                .unwrap();
            let real: Value = serde_json::from_slice(&out.stdout).unwrap();
            let real = if first_finding {
                real["findings"][0].clone()
            } else {
                real
            };
            let shown: Value = serde_json::from_str(&block)
                .unwrap_or_else(|e| panic!("{doc}: block after {marker} is not JSON: {e}"));
            assert_eq!(
                shown,
                real,
                "{doc}: the example after {marker} differs from the command's output; replace it with:\n{}",
                serde_json::to_string_pretty(&real).unwrap()
            );
            seen += 1;
        }
    }
    assert!(seen >= 2);
}
