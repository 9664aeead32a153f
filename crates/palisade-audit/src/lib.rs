//! Detection over Kubernetes API audit logs, compatible with Falco's k8saudit rules.
//!
//! The crate reads audit events (JSON Lines, gzip, `EventList` batches, AKS wrappers; see
//! [`input`]), loads Falco rules files (`rule`/`macro`/`list`, append and override,
//! exceptions; see [`rules`]) into a [`RuleSet`] whose conditions are parsed once into an
//! AST ([`cond`]) over the `ka.*`/`jevt.*` fields ([`fields`]), and turns matching events
//! into Falco-compatible [`Alert`]s. Falco's own `k8s_audit_rules.yaml` is built in, next
//! to Palisade's extra rules for the gaps Falco's file leaves. Each event is parsed once
//! into a `serde_json::Value` because Falco fields need general access (JSON pointers,
//! arbitrary paths); field extraction then borrows from it.

pub mod cond;
mod error;
pub mod event;
pub mod fields;
pub mod follow;
pub mod forward;
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod json;
pub mod prefilter;
pub mod rules;
pub mod serve;

pub use error::RulesError;
pub use event::Event;
pub use input::{AuditEvent, EventReader, ReadItem, ReadStats, decode_events, maybe_gunzip};
pub use palisade_core::InputError;
pub use rules::{Priority, Rule, RuleSet, RuleSetBuilder};

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

/// The `source` Falco reports for these alerts.
pub const SOURCE: &str = "k8s_audit";

/// One rule match, shaped like Falco's JSON output plus the input position.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    /// Event time, RFC 3339 with nanoseconds (Falco's `time`).
    pub time: String,
    pub rule: Arc<str>,
    pub priority: &'static str,
    /// `HH:MM:SS.nnnnnnnnn: Priority message`, as Falco prints it.
    pub output: String,
    pub output_fields: BTreeMap<Arc<str>, Option<String>>,
    pub source: &'static str,
    pub tags: Arc<[String]>,
    /// `auditID` of the event.
    pub audit_id: Option<String>,
    /// Input the event came from and its 1-based line.
    pub file: Arc<str>,
    pub line: u64,
    /// The rendered message alone (without Falco's time/priority prefix).
    #[serde(skip)]
    pub message: String,
    #[serde(skip)]
    pub priority_level: Priority,
}

impl Alert {
    /// Appends the alert as one JSON line (with the newline) to `out`: the same bytes as
    /// `serde_json::to_writer(alert)` + `\n`, without serde's per-field calls through the
    /// writer and with a word-at-a-time string escaper (the alert path of a whole-log run
    /// is mostly output).
    pub fn write_json_line(&self, out: &mut Vec<u8>) {
        let s = json::write_str;
        out.extend_from_slice(b"{\"time\":");
        s(out, &self.time);
        out.extend_from_slice(b",\"rule\":");
        s(out, &self.rule);
        out.extend_from_slice(b",\"priority\":");
        s(out, self.priority);
        out.extend_from_slice(b",\"output\":");
        s(out, &self.output);
        out.extend_from_slice(b",\"output_fields\":{");
        for (i, (k, v)) in self.output_fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            s(out, k);
            out.push(b':');
            match v {
                Some(v) => s(out, v),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b"},\"source\":");
        s(out, self.source);
        out.extend_from_slice(b",\"tags\":[");
        for (i, t) in self.tags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            s(out, t);
        }
        out.extend_from_slice(b"],\"audit_id\":");
        match &self.audit_id {
            Some(id) => s(out, id),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"file\":");
        s(out, &self.file);
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(self.line.to_string().as_bytes());
        out.extend_from_slice(b"}\n");
    }
}

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    pub bad_lines: u64,
    pub alerts: u64,
    pub alerts_by_rule: BTreeMap<String, u64>,
}

impl Summary {
    pub fn add_read(&mut self, s: &ReadStats) {
        self.lines += s.lines;
        self.bytes += s.bytes;
        self.events += s.events;
        self.bad_lines += s.bad_lines;
    }

    pub fn add_alert(&mut self, a: &Alert) {
        self.alerts += 1;
        // Look up before inserting: `entry` would allocate the key for every alert.
        match self.alerts_by_rule.get_mut(&*a.rule) {
            Some(n) => *n += 1,
            None => {
                self.alerts_by_rule.insert(a.rule.to_string(), 1);
            }
        }
    }
}

/// Evaluates a [`RuleSet`] over events.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The rules (change them only through `Engine` methods: the prefilter indexes them).
    pub rules: RuleSet,
    pub min_priority: Priority,
    prefilter: prefilter::Prefilter,
}

impl Engine {
    pub fn new(rules: RuleSet) -> Self {
        Engine {
            prefilter: prefilter::Prefilter::new(&rules.rules),
            rules,
            min_priority: Priority::Debug,
        }
    }

    /// Keeps only rules at or above `p` (decided once, not per event).
    pub fn with_min_priority(mut self, p: Priority) -> Self {
        self.min_priority = p;
        self.rules.rules.retain(|r| r.priority >= p);
        self.prefilter = prefilter::Prefilter::new(&self.rules.rules);
        self
    }

    /// The rules that may match `ev` after the prefilter, in rule order.
    fn candidates<'a>(&'a self, ev: &'a Event) -> impl Iterator<Item = &'a Rule> + 'a {
        self.prefilter
            .candidates(keys(ev))
            .filter_map(|i| self.rules.rules.get(i))
    }

    /// Runs every rule on one event, appending alerts to `out`.
    pub fn process(&self, ev: &AuditEvent, out: &mut Vec<Alert>) {
        self.process_memo(ev, out, &mut cond::Memo::new(self.rules.memo_slots));
    }

    /// [`Engine::process`] with a caller-owned memo (reset here), so a stream of events
    /// allocates it once.
    pub fn process_memo(&self, ev: &AuditEvent, out: &mut Vec<Alert>, memo: &mut cond::Memo) {
        memo.reset();
        // The alert time is the same for every alert of the event: computed on first use.
        let mut time: Option<String> = None;
        for rule in self.candidates(&ev.event) {
            if rule.cond.eval_memo(&ev.event, memo) {
                let t = time.get_or_insert_with(|| alert_time(ev)).clone();
                out.push(self.alert(rule, ev, t));
            }
        }
    }

    /// Names of the rules that match (no rendering), for tests and benchmarks.
    pub fn matching<'a>(&'a self, ev: &'a Event) -> impl Iterator<Item = &'a Arc<str>> + 'a {
        let mut memo = cond::Memo::new(self.rules.memo_slots);
        self.candidates(ev)
            .filter(move |r| r.cond.eval_memo(ev, &mut memo))
            .map(|r| &r.name)
    }

    fn alert(&self, rule: &Rule, ev: &AuditEvent, time: String) -> Alert {
        let redacted;
        let value = if rule.output.reads_body() && needs_redaction(&ev.event) {
            redacted = Event::from_value(&redact(&ev.event.to_value()));
            &redacted
        } else {
            &ev.event
        };
        let (message, used) = rule.output.render(value);
        let clock = time.get(11..29).unwrap_or("00:00:00.000000000");
        let prio = rule.priority.as_str();
        // Falco's `output`: the clock, the priority, the message (sized once, no format!).
        let mut output = String::with_capacity(clock.len() + prio.len() + message.len() + 3);
        output.push_str(clock);
        output.push_str(": ");
        output.push_str(prio);
        output.push(' ');
        output.push_str(&message);
        Alert {
            output,
            time,
            rule: rule.name.clone(),
            priority: rule.priority.as_str(),
            output_fields: used.into_iter().collect(),
            source: SOURCE,
            tags: rule.tags.clone(),
            audit_id: ev.audit_id().map(str::to_string),
            file: ev.file.clone(),
            line: ev.line,
            message,
            priority_level: rule.priority,
        }
    }

    /// Reads a whole JSON Lines stream, calling `on_alert` for each alert and `on_bad`
    /// for each bad line. Returns the read counters.
    pub fn scan<R: BufRead>(
        &self,
        reader: R,
        name: &str,
        max_line: usize,
        mut on_alert: impl FnMut(&Alert),
        mut on_bad: impl FnMut(&InputError),
    ) -> ReadStats {
        let mut rd = EventReader::new(reader, name).with_max_line(max_line);
        let mut buf = Vec::new();
        let mut memo = cond::Memo::new(self.rules.memo_slots);
        for item in &mut rd {
            match item {
                ReadItem::Event(ev) => {
                    buf.clear();
                    self.process_memo(&ev, &mut buf, &mut memo);
                    for a in &buf {
                        on_alert(a);
                    }
                }
                ReadItem::Bad(e) => on_bad(&e),
            }
        }
        rd.stats
    }
}

/// Falco's `time` of an event: RFC 3339 with nanoseconds (the text as is if unparsable).
fn alert_time(ev: &AuditEvent) -> String {
    match ev.time().and_then(fields::parse_rfc3339_ns) {
        Some(ns) => format_rfc3339_ns(ns),
        None => ev.time().unwrap_or_default().to_string(),
    }
}

fn key(v: Option<json::J<'_>>) -> rules::Key<'_> {
    match v {
        None => rules::Key::Missing,
        Some(v) if v.is_object() || v.is_array() => rules::Key::Other,
        Some(v) => match v.as_str() {
            Some(s) => rules::Key::Text(s),
            // Numbers and literals: their JSON text, as field extraction gives it.
            None => match v.raw() {
                std::borrow::Cow::Borrowed(s) => rules::Key::Text(s),
                std::borrow::Cow::Owned(_) => rules::Key::Other,
            },
        },
    }
}

fn keys(ev: &Event) -> rules::Keys<'_> {
    rules::Keys {
        stage: key(ev.get("stage")),
        resource: key(ev.get("objectRef").and_then(|o| o.get("resource"))),
        verb: key(ev.get("verb")),
    }
}

fn resource(ev: &Event) -> Option<&str> {
    ev.get("objectRef")
        .and_then(|o| o.get("resource"))
        .and_then(|r| r.as_str())
}

fn needs_redaction(ev: &Event) -> bool {
    resource(ev) == Some("secrets")
}

/// Secret payloads must never reach alert output: blank `data`/`stringData` of the
/// request and response objects (and of list items in responses).
pub fn redact(ev: &Value) -> Value {
    let mut v = ev.clone();
    for key in ["requestObject", "responseObject"] {
        if let Some(obj) = v.get_mut(key) {
            redact_obj(obj);
            if let Some(Value::Array(items)) = obj.get_mut("items") {
                items.iter_mut().for_each(redact_obj);
            }
        }
    }
    v
}

fn redact_obj(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        for k in ["data", "stringData"] {
            if let Some(Value::Object(d)) = m.get_mut(k) {
                for val in d.values_mut() {
                    *val = Value::String("<redacted>".into());
                }
            }
        }
    }
}

/// Nanoseconds since the epoch → `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn format_rfc3339_ns(ns: i128) -> String {
    // i64 arithmetic: i128 division is a slow library call (covers ±292 years around 1970
    // in ns; anything outside is clamped).
    let secs = i64::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(0);
    let frac = i64::try_from(ns.rem_euclid(1_000_000_000)).unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // Digit by digit: `format!` with i128 arguments is slow, and this runs for every alert.
    let mut out = String::with_capacity(30);
    let mut num = |v: i64, width: u32, sep: char| {
        let mut div = 10i64.pow(width.saturating_sub(1));
        let v = v.rem_euclid(10i64.pow(width));
        while div > 0 {
            out.push(char::from(b'0' + u8::try_from((v / div) % 10).unwrap_or(0)));
            div /= 10;
        }
        out.push(sep);
    };
    num(y, 4, '-');
    num(m, 2, '-');
    num(d, 2, 'T');
    num(sod / 3600, 2, ':');
    num((sod / 60) % 60, 2, ':');
    num(sod % 60, 2, '.');
    num(frac, 9, 'Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_round_trip() {
        for t in [
            "2018-10-25T14:09:12.123456789Z",
            "1970-01-01T00:00:00.000000000Z",
            "2024-02-29T23:59:59.000000001Z",
        ] {
            assert_eq!(format_rfc3339_ns(fields::parse_rfc3339_ns(t).unwrap()), t);
        }
    }

    #[test]
    fn secrets_are_redacted_in_outputs() {
        let rules = r#"
- rule: S
  desc: d
  condition: ka.target.resource=secrets
  output: "obj=%jevt.obj"
  priority: ERROR
"#;
        let mut b = RuleSetBuilder::new();
        b.add_str("s.yaml", rules).unwrap();
        let engine = Engine::new(b.build().unwrap());
        let ev = AuditEvent {
            event: Event::from_value(
                &json!({"kind":"Event","objectRef":{"resource":"secrets"},"stageTimestamp":"2020-01-01T00:00:00Z",
                "requestObject":{"data":{"password":"c2VjcmV0"}},"responseObject":{"stringData":{"k":"plain"}}}),
            ),
            file: Arc::from("t"),
            line: 3,
        };
        let mut out = Vec::new();
        engine.process(&ev, &mut out);
        let a = out.first().unwrap();
        assert!(
            !a.output.contains("c2VjcmV0") && !a.output.contains("plain"),
            "{}",
            a.output
        );
        assert!(a.output.starts_with("00:00:00.000000000: Error obj="));
        assert_eq!(a.time, "2020-01-01T00:00:00.000000000Z");
        assert_eq!(a.line, 3);
    }

    /// The hand-written JSON line is byte for byte serde's, escapes and nulls included.
    #[test]
    fn json_line_equals_serde() {
        let mut a = Alert {
            time: "2020-01-01T00:00:00.000000000Z".into(),
            rule: Arc::from("R \"q\" \\ é"),
            priority: "Warning",
            output: "00:00:00: Warning x=\u{1}\n\t<NA>".into(),
            output_fields: [
                (Arc::from("ka.user.name"), Some("a\"b".to_string())),
                (Arc::from("ka.target.name"), None),
            ]
            .into_iter()
            .collect(),
            source: SOURCE,
            tags: Arc::from(vec!["k8s".to_string(), "t\u{7f}".to_string()]),
            audit_id: None,
            file: Arc::from("/tmp/a b.log"),
            line: 18_446_744_073_709_551_615,
            message: String::new(),
            priority_level: Priority::Warning,
        };
        for _ in 0..2 {
            let mut want = serde_json::to_vec(&a).unwrap();
            want.push(b'\n');
            let mut got = Vec::new();
            a.write_json_line(&mut got);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
            a.audit_id = Some("id".into());
            a.output_fields.clear();
            a.tags = Arc::from(Vec::<String>::new());
        }
    }

    #[test]
    fn min_priority_filters_rules() {
        let e = Engine::new(RuleSet::builtin().unwrap()).with_min_priority(Priority::Error);
        assert!(e.rules.rules.iter().all(|r| r.priority >= Priority::Error));
        assert!(!e.rules.rules.is_empty());
    }
}
