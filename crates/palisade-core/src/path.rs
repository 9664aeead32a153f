//! Field paths: what rules return to say which field is at fault.

use std::fmt;

/// One step in a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A path into a Kubernetes object, displayed the way `kubectl explain` users read it:
/// `spec.containers[0].securityContext.privileged`. Keys containing `.`, `[`, `]` or `/`
/// (annotation keys) are shown bracketed and quoted: `metadata.annotations["a.b/c"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<PathSeg>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// Builds a path from dotted segments, e.g. `FieldPath::parse("spec.hostPID")`.
    /// Only plain keys and `[N]` indices are understood (enough for rule code).
    pub fn parse(s: &str) -> FieldPath {
        let mut segs = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(open) = rest.find('[') {
                let (key, idx) = rest.split_at(open);
                if !key.is_empty() {
                    segs.push(PathSeg::Key(key.to_owned()));
                }
                rest = idx;
                while let Some(stripped) = rest.strip_prefix('[') {
                    let close = stripped.find(']').unwrap_or(stripped.len());
                    let (num, after) = stripped.split_at(close);
                    match num.parse::<usize>() {
                        Ok(n) => segs.push(PathSeg::Index(n)),
                        Err(_) => segs.push(PathSeg::Key(num.to_owned())),
                    }
                    rest = after.strip_prefix(']').unwrap_or(after);
                }
            } else {
                segs.push(PathSeg::Key(rest.to_owned()));
            }
        }
        FieldPath(segs)
    }

    pub fn key(mut self, k: impl Into<String>) -> FieldPath {
        self.0.push(PathSeg::Key(k.into()));
        self
    }

    pub fn index(mut self, i: usize) -> FieldPath {
        self.0.push(PathSeg::Index(i));
        self
    }

    /// `self` followed by every segment of `other`.
    pub fn join(&self, other: &FieldPath) -> FieldPath {
        let mut segs = self.0.clone();
        segs.extend(other.0.iter().cloned());
        FieldPath(segs)
    }

    pub fn segments(&self) -> &[PathSeg] {
        &self.0
    }

    /// RFC 6901 JSON Pointer form, e.g. `/spec/containers/0/image`.
    pub fn to_pointer(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            out.push('/');
            match seg {
                PathSeg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                PathSeg::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) if k.contains(['.', '[', ']', '/', '"']) || k.is_empty() => {
                    write!(f, "[{k:?}]")?;
                }
                PathSeg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let p = FieldPath::parse("spec.containers[0].securityContext.privileged");
        assert_eq!(
            p.to_string(),
            "spec.containers[0].securityContext.privileged"
        );
        assert_eq!(
            p.to_pointer(),
            "/spec/containers/0/securityContext/privileged"
        );
        let a = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("container.apparmor.security.beta.kubernetes.io/x");
        assert_eq!(
            a.to_string(),
            "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/x\"]"
        );
    }
}
