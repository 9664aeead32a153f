use crate::fixtures::{Data, RULES};
use palisade_report::{Style, render_table};

fn table(data: &Data, width: usize, color: bool) -> String {
    let mut out = Vec::new();
    render_table(
        &data.report(),
        Style {
            color,
            quiet: false,
        },
        width,
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn realistic_table() {
    insta::assert_snapshot!(table(&Data::realistic(), 120, false));
}

#[test]
fn realistic_table_narrow_terminal() {
    let text = table(&Data::realistic(), 72, false);
    insta::assert_snapshot!(text);
    // Every line fits, at any width a terminal may have: heads too (the object and message go
    // below a head that would not fit), titles and the summary line. Only a single word longer
    // than the width (a long path) may not.
    for width in [60, 72, 80, 100] {
        let text = table(&Data::realistic(), width, false);
        for line in text.lines() {
            let words = line.split_whitespace().count();
            assert!(
                line.chars().count() <= width || words <= 1,
                "{width} columns: {line:?}\n{text}"
            );
        }
    }
}

#[test]
fn clean_table_says_no_findings() {
    let text = table(&Data::clean(), 120, false);
    assert!(text.starts_with("No findings.\n"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn colour_only_when_asked_and_never_changes_the_text() {
    let data = Data::realistic();
    let plain = table(&data, 120, false);
    let coloured = table(&data, 120, true);
    assert!(!plain.contains('\u{1b}'));
    assert!(coloured.contains("\u{1b}["));
    assert_eq!(strip_ansi(&coloured), plain);
}

#[test]
fn every_finding_and_input_error_is_listed() {
    let data = Data::realistic();
    let text = table(&data, 120, false);
    for f in &data.findings {
        let head = format!("{}:{}", f.file, f.line);
        assert!(
            text.lines().any(|l| l.starts_with(&head)
                && l.contains(&f.rule)
                && l.contains(&f.object.to_string())),
            "missing {head} {}",
            f.rule
        );
    }
    for e in data.errors.iter().chain(&data.notes) {
        assert!(text.contains(&e.file), "missing {}", e.file);
    }
    // The summary is the last line, wrapped to the width like every other line.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.ends_with(
        "6 findings (1 critical, 2 high, 1 medium, 1 low, 1 info) in 7 objects from 6 files; \
         2 input errors; 2 suppressed; 1 note (PSS restricted:latest)"
    ));
    for s in &data.suppressed {
        assert!(
            text.lines().any(
                |l| l.contains(&format!("{}:{}", s.finding.file, s.finding.line))
                    && l.contains(&s.finding.rule)
            ),
            "suppressed {} not listed",
            s.finding.rule
        );
    }
    assert!(text.contains("Suppressed by waivers (2):"));
    assert!(text.contains("FAIL  Host Namespaces"), "{text}");
    assert!(text.contains("SKIP  Volume Types"), "{text}");
    assert!(RULES.iter().all(|r| r.id.len() == 6));
}

#[test]
fn files_are_grouped_in_order_of_first_appearance() {
    let mut data = Data::realistic();
    // Interleave files: the table must still print each file's findings together.
    data.findings.swap(1, 3);
    let text = table(&data, 120, false);
    let files: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("examples/") || l.starts_with("./charts"))
        .filter_map(|l| l.split(':').next())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for f in files {
        if seen.last() != Some(&f) {
            assert!(!seen.contains(&f), "{f} printed in two groups:\n{text}");
            seen.push(f);
        }
    }
}
