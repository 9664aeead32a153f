//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`), here so that the saved
//! regression inputs (`testdata/audit/fuzz-regressions/`) are replayed by the ordinary test
//! suite through exactly the code the fuzzer ran. Each returns a summary the replay test
//! checks for consistency.

use crate::{Engine, Event, RuleSet, RuleSetBuilder};
use std::sync::OnceLock;

const EVENT: &str = r#"{"kind":"Event","stage":"ResponseComplete","verb":"create","user":{"username":"u","groups":["g"]},"objectRef":{"resource":"pods","namespace":"ns"},"responseStatus":{"code":201},"requestObject":{"spec":{"containers":[{"image":"a:b","securityContext":{"privileged":true}}]}}}"#;

/// What one condition input did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConditionOutcome {
    pub parsed: bool,
    pub compiled: bool,
    pub matched: bool,
}

/// Arbitrary text as a Falco condition (parser), then as a rule in a rules file (loader,
/// compiler), evaluated with and without the macro memo and rendered against a fixed event.
pub fn condition(data: &[u8]) -> Option<ConditionOutcome> {
    let text = std::str::from_utf8(data).ok()?;
    let parsed = crate::cond::parse(text).is_ok();
    let yaml = format!(
        "- list: l\n  items: [a, b]\n- macro: m\n  condition: ka.verb=create\n- rule: R\n  desc: d\n  condition: {}\n  output: \"%ka.user.name %ka.verb\"\n  priority: INFO\n",
        yaml_quote(text)
    );
    let mut b = RuleSetBuilder::new();
    let mut out = ConditionOutcome {
        parsed,
        compiled: false,
        matched: false,
    };
    if b.add_str("fuzz.yaml", &yaml).is_ok()
        && let Ok(rs) = b.build()
        && let Ok(ev) = Event::parse(EVENT)
    {
        out.compiled = !rs.rules.is_empty();
        let mut memo = crate::cond::Memo::new(rs.memo_slots);
        for r in &rs.rules {
            let m = r.cond.eval(&ev);
            // The memo must never change a result.
            if m != r.cond.eval_memo(&ev, &mut memo) {
                return None;
            }
            if m {
                out.matched = true;
                let _ = r.output.render(&ev);
            }
        }
    }
    Some(out)
}

/// A YAML double-quoted scalar holding `s`.
fn yaml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What one log input did: (events, bad lines, alerts).
pub type DecodeOutcome = (u64, u64, u64);

/// Arbitrary bytes as an audit log (gzip detection, JSON Lines, EventList, AKS wrappers)
/// through the reader and the built-in rules, with a 64 KiB line limit.
pub fn decode(data: &[u8]) -> Option<DecodeOutcome> {
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    let engine = ENGINE
        .get_or_init(|| RuleSet::builtin().ok().map(Engine::new))
        .as_ref()?;
    let reader = crate::maybe_gunzip(data).ok()?;
    let mut alerts = 0u64;
    let stats = engine.scan(
        reader,
        "fuzz",
        64 * 1024,
        |a| {
            alerts += 1;
            let _ = serde_json::to_string(a);
        },
        |_| {},
    );
    Some((stats.events, stats.bad_lines, alerts))
}
