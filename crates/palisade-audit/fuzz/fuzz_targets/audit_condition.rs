//! Arbitrary text as a Falco condition, then as a one-rule rules file: parsing, compiling
//! and evaluating against a fixed event must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const EVENT: &str = r#"{"kind":"Event","stage":"ResponseComplete","verb":"create","user":{"username":"u","groups":["g"]},"objectRef":{"resource":"pods","namespace":"ns"},"responseStatus":{"code":201},"requestObject":{"spec":{"containers":[{"image":"a:b","securityContext":{"privileged":true}}]}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = palisade_audit::cond::parse(text);
    let yaml = format!(
        "- list: l\n  items: [a, b]\n- macro: m\n  condition: ka.verb=create\n- rule: R\n  desc: d\n  condition: {}\n  output: \"%ka.user.name %ka.verb\"\n  priority: INFO\n",
        serde_json_escape(text)
    );
    let mut b = palisade_audit::RuleSetBuilder::new();
    if b.add_str("fuzz.yaml", &yaml).is_ok()
        && let Ok(rs) = b.build()
        && let Ok(ev) = palisade_audit::Event::parse(EVENT)
    {
        for r in &rs.rules {
            if r.cond.eval(&ev) {
                let _ = r.output.render(&ev);
            }
        }
    }
});

/// A YAML double-quoted scalar holding `s`.
fn serde_json_escape(s: &str) -> String {
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
