//! Markdown (the generated rule pages) for a terminal: headings bold, paragraphs and list
//! items wrapped to the width, tables as aligned columns, code blocks indented, links as
//! `text (url)`, HTML comments dropped. Parsed with pulldown-cmark; only the layout is ours.

use crate::Style;
use owo_colors::OwoColorize;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

const CODE_INDENT: &str = "    ";

/// Renders `md` for a terminal `width` columns wide.
pub fn render_markdown(md: &str, style: Style, width: usize) -> String {
    let mut r = Renderer {
        out: String::new(),
        style,
        width: width.max(40),
        text: String::new(),
        heading: None,
        list_depth: 0,
        item_start: false,
        in_code: false,
        table: None,
        link: Vec::new(),
    };
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        r.event(event);
    }
    r.flush_paragraph();
    while r.out.ends_with("\n\n") {
        r.out.pop();
    }
    r.out
}

struct Table {
    rows: Vec<Vec<String>>,
    cell: String,
}

struct Renderer {
    out: String,
    style: Style,
    width: usize,
    /// Text of the paragraph, heading or list item being read.
    text: String,
    heading: Option<HeadingLevel>,
    list_depth: usize,
    /// The next flushed text starts a list item (gets the bullet).
    item_start: bool,
    in_code: bool,
    table: Option<Table>,
    /// Destinations of the links being read.
    link: Vec<String>,
}

impl Renderer {
    fn push_text(&mut self, s: &str) {
        match &mut self.table {
            Some(t) => t.cell.push_str(s),
            None => self.text.push_str(s),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.flush_paragraph();
                self.heading = Some(level);
            }
            Event::End(TagEnd::Heading(_)) => {
                let title = std::mem::take(&mut self.text);
                let level = self.heading.take();
                if self.style.color {
                    self.out.push_str(&title.bold().to_string());
                } else {
                    self.out.push_str(&title);
                }
                self.out.push('\n');
                if level == Some(HeadingLevel::H1) {
                    self.out
                        .push_str(&"=".repeat(title.chars().count().min(self.width)));
                    self.out.push('\n');
                }
                self.out.push('\n');
            }
            Event::Start(Tag::List(_)) => {
                self.flush_paragraph();
                self.list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                self.flush_paragraph();
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                self.flush_paragraph();
                self.item_start = true;
            }
            Event::End(TagEnd::Item) => self.flush_paragraph(),
            Event::End(TagEnd::Paragraph) => {
                self.flush_paragraph();
                if self.list_depth == 0 {
                    self.out.push('\n');
                }
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.flush_paragraph();
                self.in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                self.out.push('\n');
            }
            Event::Start(Tag::Table(_)) => {
                self.flush_paragraph();
                self.table = Some(Table {
                    rows: Vec::new(),
                    cell: String::new(),
                });
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                if let Some(t) = &mut self.table {
                    t.rows.push(Vec::new());
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell).trim().to_owned();
                    if let Some(row) = t.rows.last_mut() {
                        row.push(cell);
                    }
                }
            }
            Event::End(TagEnd::Table) => {
                if let Some(t) = self.table.take() {
                    self.write_table(&t.rows);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => self.link.push(dest_url.into_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = self.link.pop() {
                    // Relative links point into the docs folder; absolute ones are shown.
                    if url.starts_with("http") {
                        self.push_text(&format!(" ({url})"));
                    }
                }
            }
            Event::Text(t) if self.in_code => {
                for line in t.lines() {
                    self.out.push_str(CODE_INDENT);
                    self.out.push_str(line);
                    self.out.push('\n');
                }
            }
            Event::Text(t) | Event::Code(t) => self.push_text(&t),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.push_text("\n"),
            // HTML comments (the "generated, do not edit" banner) and inline HTML are for the
            // web page only.
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::Rule => {
                self.flush_paragraph();
                self.out.push_str(&"-".repeat(self.width.min(40)));
                self.out.push_str("\n\n");
            }
            _ => {}
        }
    }

    /// Writes the pending text as a wrapped paragraph (or list item).
    fn flush_paragraph(&mut self) {
        let text = std::mem::take(&mut self.text);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let indent = if self.list_depth > 0 {
            2 * self.list_depth
        } else {
            0
        };
        let first = if self.list_depth > 0 && self.item_start {
            format!("{}- ", " ".repeat(indent.saturating_sub(2)))
        } else {
            " ".repeat(indent)
        };
        self.item_start = false;
        let lines = crate::table::wrap(text, self.width.saturating_sub(indent).max(20));
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                self.out.push_str(&first);
            } else {
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push_str(line);
            self.out.push('\n');
        }
    }

    /// Aligned columns when they fit the width, else one wrapped line per row.
    fn write_table(&mut self, rows: &[Vec<String>]) {
        let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 {
            return;
        }
        let mut widths = vec![0usize; cols];
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let total: usize = widths.iter().sum::<usize>() + 2 * (cols - 1);
        if total > self.width {
            // Too wide for columns: one wrapped line per row (header left out), `first: a - b`,
            // continuation lines indented.
            for row in rows.iter().skip(1) {
                let cells: Vec<&str> = row
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !c.is_empty())
                    .collect();
                let text = match cells.split_first() {
                    Some((first, rest)) if !rest.is_empty() => {
                        format!("{first}: {}", rest.join(" - "))
                    }
                    _ => cells.join(""),
                };
                let lines = crate::table::wrap(&text, self.width.saturating_sub(4));
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str("    ");
                    }
                    self.out.push_str(line);
                    self.out.push('\n');
                }
            }
            self.out.push('\n');
            return;
        }
        for (r, row) in rows.iter().enumerate() {
            let mut line = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                line.push_str(&format!("{cell:w$}  "));
            }
            let line = line.trim_end().to_owned();
            if r == 0 && self.style.color {
                self.out.push_str(&line.bold().to_string());
            } else {
                self.out.push_str(&line);
            }
            self.out.push('\n');
        }
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_rule_page_subset() {
        let md = "# HRD001: Title here\n\n<!-- Generated. Do not edit. -->\n\n| ID | Name |\n|---|---|\n| `HRD001` | `ro-root` |\n\n## Why\n\nA *long* paragraph with `code` and a [link](https://example.org/x) and a [relative](../config.md) one.\n\n```yaml\nsecurityContext:\n  readOnlyRootFilesystem: true\n```\n\n- first item\n- second item\n";
        let text = render_markdown(md, Style::default(), 80);
        assert!(
            text.starts_with("HRD001: Title here\n=================="),
            "{text}"
        );
        assert!(
            !text.contains("<!--") && !text.contains('`') && !text.contains('|'),
            "{text}"
        );
        assert!(text.contains("ID      Name\nHRD001  ro-root"), "{text}");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("a link (https://example.org/x) and a relative one."),
            "{text}"
        );
        assert!(
            text.contains("    securityContext:\n      readOnlyRootFilesystem: true"),
            "{text}"
        );
        assert!(text.contains("- first item\n- second item"), "{text}");
        for line in render_markdown(md, Style::default(), 40).lines() {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
    }
}
