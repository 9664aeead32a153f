//! Which rules can match an event, decided from three cheap fields before any condition
//! runs. Most Falco rules start with `kevt and kcreate and pod ...`: for an event the
//! stage, `objectRef.resource` and verb rule most of them out. [`Rule::applies_to`] says
//! the same for one rule; this index answers for all rules at once with one bitset
//! lookup per field, so an event costs three short lookups instead of a scan over every
//! rule's value lists.

use crate::rules::{Key, Keys, Rule};

/// Allowed-rule bitsets for one field.
#[derive(Debug, Clone)]
struct Dim {
    /// The values some rule requires, in first-seen order.
    values: Vec<Box<str>>,
    /// Bitsets over rules, `words` u64s each: [missing, object/array, other text, values...].
    sets: Vec<u64>,
}

const MISSING: usize = 0;
const OTHER: usize = 1;
const UNLISTED: usize = 2;
const FIRST_VALUE: usize = 3;

impl Dim {
    fn new(rules: &[Rule], req: impl Fn(&Rule) -> Option<&Vec<String>>, words: usize) -> Dim {
        let mut values: Vec<Box<str>> = Vec::new();
        for r in rules {
            for v in req(r).into_iter().flatten() {
                if !values.iter().any(|x| **x == **v) {
                    values.push(v.as_str().into());
                }
            }
        }
        let mut sets = vec![0u64; (FIRST_VALUE + values.len()) * words];
        for (i, r) in rules.iter().enumerate() {
            let bit = 1u64 << (i % 64);
            let mut allow = |slot: usize| {
                if let Some(w) = sets.get_mut(slot * words + i / 64) {
                    *w |= bit;
                }
            };
            match req(r) {
                // Unconstrained: allowed whatever the event holds.
                None => (0..FIRST_VALUE + values.len()).for_each(&mut allow),
                // Same decision as `Rule::applies_to`: objects and arrays are not filtered,
                // a missing field or a value outside the list rules the rule out.
                Some(list) => {
                    allow(OTHER);
                    for v in list {
                        if let Some(j) = values.iter().position(|x| **x == **v) {
                            allow(FIRST_VALUE + j);
                        }
                    }
                }
            }
        }
        Dim { values, sets }
    }

    fn slot(&self, k: Key<'_>) -> usize {
        match k {
            Key::Missing => MISSING,
            Key::Other => OTHER,
            Key::Text(s) => self
                .values
                .iter()
                .position(|v| v.len() == s.len() && **v == *s)
                .map_or(UNLISTED, |j| FIRST_VALUE + j),
        }
    }

    fn set(&self, k: Key<'_>, words: usize) -> &[u64] {
        let s = self.slot(k) * words;
        self.sets.get(s..s + words).unwrap_or_default()
    }
}

/// The prefilter of a rule list (built again whenever the list changes).
#[derive(Debug, Clone)]
pub struct Prefilter {
    words: usize,
    stage: Dim,
    resource: Dim,
    verb: Dim,
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Prefilter {
        let words = rules.len().div_ceil(64).max(1);
        Prefilter {
            words,
            stage: Dim::new(rules, |r| r.stages.as_ref(), words),
            resource: Dim::new(rules, |r| r.resources.as_ref(), words),
            verb: Dim::new(rules, |r| r.verbs.as_ref(), words),
        }
    }

    /// Indices of the rules that may match an event with these keys, in rule order.
    pub fn candidates(&self, k: Keys<'_>) -> impl Iterator<Item = usize> + '_ {
        let (s, r, v) = (
            self.stage.set(k.stage, self.words),
            self.resource.set(k.resource, self.words),
            self.verb.set(k.verb, self.words),
        );
        s.iter()
            .zip(r)
            .zip(v)
            .enumerate()
            .flat_map(|(w, ((a, b), c))| Bits(a & b & c).map(move |bit| w * 64 + bit))
    }
}

/// Set bits of a word, lowest first.
struct Bits(u64);

impl Iterator for Bits {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    /// The index and `Rule::applies_to` agree for every rule on every key combination
    /// the built-in rules mention, plus missing, object and unlisted values.
    #[test]
    fn agrees_with_applies_to() {
        let rs = RuleSet::builtin().unwrap();
        let pf = Prefilter::new(&rs.rules);
        fn keys(d: &Dim) -> Vec<Key<'_>> {
            let mut k = vec![Key::Missing, Key::Other, Key::Text("no-such")];
            k.extend(d.values.iter().map(|v| Key::Text(v)));
            k
        }
        let mut checked = 0;
        for &stage in &keys(&pf.stage) {
            for &resource in &keys(&pf.resource) {
                for &verb in &keys(&pf.verb) {
                    let k = Keys {
                        stage,
                        resource,
                        verb,
                    };
                    let want: Vec<usize> = (0..rs.rules.len())
                        .filter(|&i| rs.rules[i].applies_to(&k))
                        .collect();
                    let got: Vec<usize> = pf.candidates(k).collect();
                    assert_eq!(got, want, "{k:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
        // The index really filters: a lease renewal leaves few rules to evaluate.
        let lease = Keys {
            stage: Key::Text("ResponseComplete"),
            resource: Key::Text("leases"),
            verb: Key::Text("update"),
        };
        let n = pf.candidates(lease).count();
        assert!(n < rs.rules.len() / 3, "{n} of {}", rs.rules.len());
    }

    #[test]
    fn more_than_64_rules() {
        let mut text = String::new();
        for i in 0..130 {
            let verb = if i % 2 == 0 { "create" } else { "delete" };
            text.push_str(&format!(
                "- rule: R{i}\n  desc: d\n  condition: ka.verb={verb}\n  output: o\n  priority: INFO\n"
            ));
        }
        let mut b = crate::RuleSetBuilder::new();
        b.add_str("many.yaml", &text).unwrap();
        let rs = b.build().unwrap();
        let pf = Prefilter::new(&rs.rules);
        let k = Keys {
            stage: Key::Missing,
            resource: Key::Missing,
            verb: Key::Text("delete"),
        };
        let got: Vec<usize> = pf.candidates(k).collect();
        assert_eq!(got, (0..130).filter(|i| i % 2 == 1).collect::<Vec<_>>());
    }
}
