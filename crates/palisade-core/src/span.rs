//! Source positions for every node of a loaded document.

use crate::path::{FieldPath, PathSeg};

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

/// Source positions of a value and, recursively, of its children; same shape as the
/// `serde_json::Value` it describes. For a mapping entry the span is the position of the
/// entry's *key* (that is the line a reader looks for: `privileged: true`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanTree {
    pub span: Span,
    pub children: SpanChildren,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SpanChildren {
    /// A scalar, or a node whose children carry no position of their own.
    #[default]
    Leaf,
    /// Mapping entries in source order (later duplicates replace earlier ones in the value,
    /// so lookups take the last match).
    Map(Vec<(String, SpanTree)>),
    Seq(Vec<SpanTree>),
}

impl SpanTree {
    pub fn leaf(span: Span) -> SpanTree {
        SpanTree {
            span,
            children: SpanChildren::Leaf,
        }
    }

    /// The child at one path step, if present in the source.
    pub fn child(&self, seg: &PathSeg) -> Option<&SpanTree> {
        match (&self.children, seg) {
            (SpanChildren::Map(entries), PathSeg::Key(k)) => entries
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, t)| t),
            (SpanChildren::Seq(items), PathSeg::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// Subtree at `path`, if every step is present.
    pub fn get(&self, path: &FieldPath) -> Option<&SpanTree> {
        path.segments()
            .iter()
            .try_fold(self, |node, seg| node.child(seg))
    }

    /// Span of `path`, or of its deepest ancestor present in the source.
    pub fn locate(&self, path: &FieldPath) -> Span {
        let mut node = self;
        for seg in path.segments() {
            match node.child(seg) {
                Some(next) => node = next,
                None => break,
            }
        }
        node.span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_falls_back_to_deepest_present_ancestor() {
        let sp = |line| Span { line, column: 1 };
        let tree = SpanTree {
            span: sp(1),
            children: SpanChildren::Map(vec![(
                "spec".into(),
                SpanTree {
                    span: sp(2),
                    children: SpanChildren::Map(vec![(
                        "containers".into(),
                        SpanTree {
                            span: sp(3),
                            children: SpanChildren::Seq(vec![SpanTree::leaf(sp(4))]),
                        },
                    )]),
                },
            )]),
        };
        assert_eq!(tree.locate(&FieldPath::parse("spec.containers[0]")).line, 4);
        assert_eq!(
            tree.locate(&FieldPath::parse(
                "spec.containers[0].securityContext.privileged"
            ))
            .line,
            4
        );
        assert_eq!(tree.locate(&FieldPath::parse("spec.volumes[2]")).line, 2);
        assert_eq!(tree.locate(&FieldPath::parse("kind")).line, 1);
    }
}
