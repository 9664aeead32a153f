//! Glob patterns for waiver exceptions: `*` matches any run of characters except `/`, `**`
//! any run including `/` (`**/` also matches no directory at all), `?` one character other
//! than `/`; everything else is literal.

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    Lit(char),
    One,
    Star,
    /// `**`: anything, `/` included.
    Any,
    /// `**/`: empty, or anything ending in `/`.
    Dirs,
}

fn tokens(pattern: &str) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push(Tok::Dirs);
                    i += 3;
                } else {
                    out.push(Tok::Any);
                    i += 2;
                }
            }
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '?' => {
                out.push(Tok::One);
                i += 1;
            }
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    out
}

/// Whether `text` matches `pattern` in full. Dynamic programming over (token, position):
/// O(pattern x text) time, no recursion, so hostile patterns cannot blow up.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let toks = tokens(pattern);
    let t: Vec<char> = text.chars().collect();
    // reach[j]: the tokens seen so far can match exactly t[..j].
    let mut reach = vec![false; t.len() + 1];
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    for tok in toks {
        let mut next = vec![false; t.len() + 1];
        // `seen`: some reachable position at or before j with no `/` since (for `*`), or
        // any reachable position at or before j (for `**`, `**/`). One pass per token keeps
        // the whole match O(pattern x text) even for `*a*a*a...` against a long text.
        let mut seen = false;
        for (j, slot) in next.iter_mut().enumerate() {
            let here = reach.get(j).copied().unwrap_or(false);
            let prev = j.checked_sub(1).and_then(|p| t.get(p).map(|&c| (p, c)));
            *slot =
                match tok {
                    Tok::Lit(c) => prev
                        .is_some_and(|(p, pc)| pc == c && reach.get(p).copied().unwrap_or(false)),
                    Tok::One => prev
                        .is_some_and(|(p, pc)| pc != '/' && reach.get(p).copied().unwrap_or(false)),
                    Tok::Star => {
                        if prev.is_some_and(|(_, pc)| pc == '/') {
                            seen = false;
                        }
                        seen |= here;
                        seen
                    }
                    Tok::Any => {
                        seen |= here;
                        seen
                    }
                    Tok::Dirs => {
                        // Empty, or anything up to and including a `/`.
                        let through_slash = seen && prev.is_some_and(|(_, pc)| pc == '/');
                        seen |= here;
                        here || through_slash
                    }
                };
        }
        reach = next;
    }
    reach.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("calico-*", "calico-node"));
        assert!(!matches("calico-*", "flannel"));
        assert!(matches("*", "anything"));
        assert!(!matches("*", "a/b"));
        assert!(matches("deploy/*.yaml", "deploy/a.yaml"));
        assert!(!matches("deploy/*.yaml", "deploy/x/a.yaml"));
        assert!(matches("deploy/**", "deploy/x/y/a.yaml"));
        assert!(matches(
            "**/calico/*.yaml",
            "testdata/corpus/calico/calico.yaml"
        ));
        assert!(matches("**/calico.yaml", "calico.yaml"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "a/c"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
        assert!(matches("*-*-*", "a-b-c"));
        let long = "a".repeat(5000);
        let hostile = format!("{}b", "*a".repeat(200));
        assert!(!matches(&hostile, &long));
        assert!(matches(&"*a".repeat(200), &long));
    }
}
