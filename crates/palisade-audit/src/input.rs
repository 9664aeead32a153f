//! Reading audit events: JSON Lines (plain or gzip), `EventList` batches, events with or
//! without `apiVersion`, and the AKS diagnostic-log wrapper. A bad line becomes an
//! [`InputError`] with its line number; reading goes on with the next line.

use crate::event::{Event, ParseFailure};
use palisade_core::InputError;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// Default maximum length of one input line (bytes). The API server's own limits are far
/// lower (Falco's receiver: 256 KiB per event, 12 MiB per batch), so a longer line is a
/// broken or hostile input.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How deep the AKS/`records` wrappers may nest before a line is rejected.
const MAX_WRAP_DEPTH: usize = 4;

/// One decoded audit event and where it came from.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// The event object (`kind: Event`), indexed once; rule fields are read from it.
    pub event: Event,
    /// Display name of the source (`<stdin>` for standard input).
    pub file: Arc<str>,
    /// 1-based line of the source that held the event.
    pub line: u64,
}

impl AuditEvent {
    /// `auditID`, when present.
    pub fn audit_id(&self) -> Option<&str> {
        self.event.get_str("auditID")
    }

    /// The event time: `stageTimestamp`, else `timestamp` (v1beta1), else
    /// `requestReceivedTimestamp`.
    pub fn time(&self) -> Option<&str> {
        ["stageTimestamp", "timestamp", "requestReceivedTimestamp"]
            .iter()
            .find_map(|k| self.event.get_str(k))
    }
}

/// Counters kept while reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    pub bad_lines: u64,
}

/// Decodes one JSON text (one line) into the audit events it holds.
///
/// Accepted shapes: an `Event` (any `audit.k8s.io/*` apiVersion or none), an `EventList`,
/// an AKS diagnostic record (`properties.log` holding the event as a JSON string), and an
/// Azure `{"records": [...]}` envelope of such records.
pub fn decode_events(text: &str) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    collect(text, 0, &mut out)?;
    Ok(out)
}

const NOT_EVENT: &str = "data not recognized as a k8s audit event";

fn collect(text: &str, depth: usize, out: &mut Vec<Event>) -> Result<(), String> {
    if depth > MAX_WRAP_DEPTH {
        return Err(format!(
            "wrappers nested deeper than {MAX_WRAP_DEPTH} levels (AKS properties.log / records)"
        ));
    }
    let ev = match Event::parse(text) {
        Ok(ev) => ev,
        Err(ParseFailure::Syntax(e)) => return Err(format!("invalid JSON: {e}")),
        Err(ParseFailure::NotObject) => return Err(format!("{NOT_EVENT}: not a JSON object")),
    };
    let kind = ev.get("kind");
    match kind.map(|k| k.as_str()) {
        Some(Some("Event")) => {
            check_api_version(&ev)?;
            out.push(ev);
            Ok(())
        }
        Some(Some("EventList")) => {
            check_api_version(&ev)?;
            // An empty batch serialises `items` as null or omits it: nothing to do.
            let Some(items) = ev.get("items").filter(|i| !i.is_null()) else {
                return Ok(());
            };
            if !items.is_array() {
                return Err("EventList items is not an array".to_string());
            }
            for (i, item) in items.items().enumerate() {
                let bad = || format!("EventList item {i} is not an audit Event");
                if !item.is_object() {
                    return Err(bad());
                }
                match item.get("kind") {
                    None => {}
                    Some(k) if k.as_str() == Some("Event") => {}
                    Some(_) => return Err(bad()),
                }
                out.push(Event::parse(&item.raw()).map_err(|_| bad())?);
            }
            Ok(())
        }
        Some(_) => Err(format!("{NOT_EVENT}: `kind` is not Event or EventList")),
        None => {
            if let Some(log) = ev
                .get("properties")
                .and_then(|p| p.get("log"))
                .and_then(|l| l.as_str())
            {
                return collect(log, depth + 1, out)
                    .map_err(|e| format!("AKS record, properties.log: {e}"));
            }
            if let Some(records) = ev.get("records").filter(|r| r.is_array()) {
                for rec in records.items() {
                    collect(&rec.raw(), depth + 1, out)?;
                }
                return Ok(());
            }
            Err(format!("{NOT_EVENT}: no `kind`"))
        }
    }
}

fn check_api_version(ev: &Event) -> Result<(), String> {
    match ev.get("apiVersion") {
        None => Ok(()),
        Some(v) if v.as_str().is_some_and(|v| v.starts_with("audit.k8s.io/")) => Ok(()),
        Some(other) => Err(format!(
            "{NOT_EVENT}: apiVersion {} is not audit.k8s.io/*",
            other.raw()
        )),
    }
}

/// Wraps a reader, transparently un-gzipping when the stream starts with the gzip magic.
pub fn maybe_gunzip<'a, R: Read + 'a>(reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let mut buf = BufReader::with_capacity(256 * 1024, reader);
    let head = buf.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let dec = flate2::bufread::MultiGzDecoder::new(buf);
        Ok(Box::new(BufReader::with_capacity(256 * 1024, dec)))
    } else {
        Ok(Box::new(buf))
    }
}

/// Streams audit events out of a JSON Lines source, one line at a time.
pub struct EventReader<R> {
    reader: R,
    file: Arc<str>,
    line: u64,
    max_line: usize,
    buf: Vec<u8>,
    pending: std::vec::IntoIter<Event>,
    pending_line: u64,
    pub stats: ReadStats,
    done: bool,
}

/// One item out of an [`EventReader`].
#[derive(Debug)]
pub enum ReadItem {
    Event(AuditEvent),
    Bad(InputError),
}

impl<R: BufRead> EventReader<R> {
    pub fn new(reader: R, file: impl Into<Arc<str>>) -> Self {
        EventReader {
            reader,
            file: file.into(),
            line: 0,
            max_line: DEFAULT_MAX_LINE_BYTES,
            buf: Vec::with_capacity(8192),
            pending: Vec::new().into_iter(),
            pending_line: 0,
            stats: ReadStats::default(),
            done: false,
        }
    }

    /// Sets the per-line limit (bytes).
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.max_line = max;
        self
    }

    fn bad(&mut self, line: u64, kind: &str, message: String) -> ReadItem {
        self.stats.bad_lines += 1;
        ReadItem::Bad(InputError {
            file: self.file.to_string(),
            document: None,
            line: Some(u32::try_from(line).unwrap_or(u32::MAX)),
            column: None,
            kind: kind.into(),
            message,
        })
    }

    /// Reads one line into `self.buf` without ever holding more than `max_line + 1` bytes.
    /// Returns `Ok(None)` at end of input, `Ok(Some(too_long))` otherwise.
    fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(if any { Some(too_long) } else { None });
            }
            any = true;
            let (take, found) = match memchr_nl(chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let body = chunk.get(..take).unwrap_or_default();
            self.stats.bytes += take as u64;
            if !too_long {
                if self.buf.len() + body.len() > self.max_line + 1 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(body);
                }
            }
            self.reader.consume(take);
            if found {
                return Ok(Some(too_long));
            }
        }
    }
}

fn memchr_nl(s: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', s)
}

impl<R: BufRead> Iterator for EventReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        loop {
            if let Some(event) = self.pending.next() {
                self.stats.events += 1;
                return Some(ReadItem::Event(AuditEvent {
                    event,
                    file: self.file.clone(),
                    line: self.pending_line,
                }));
            }
            if self.done {
                return None;
            }
            let too_long = match self.read_line() {
                Ok(Some(t)) => t,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    let line = self.line + 1;
                    return Some(self.bad(line, "io", format!("read error: {e}")));
                }
            };
            self.line += 1;
            self.stats.lines += 1;
            let line = self.line;
            if too_long {
                let max = self.max_line;
                return Some(self.bad(
                    line,
                    "limit",
                    format!("line longer than {max} bytes; raise the limit with --max-line-bytes"),
                ));
            }
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t.trim(),
                Err(e) => {
                    return Some(self.bad(line, "encoding", format!("line is not UTF-8: {e}")));
                }
            };
            if text.is_empty() {
                continue;
            }
            match decode_events(text) {
                Ok(events) => {
                    self.pending = events.into_iter();
                    self.pending_line = line;
                }
                Err(msg) => return Some(self.bad(line, "syntax", msg)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> (Vec<AuditEvent>, Vec<InputError>, ReadStats) {
        let mut r = EventReader::new(s.as_bytes(), "t");
        let mut ev = Vec::new();
        let mut bad = Vec::new();
        for item in &mut r {
            match item {
                ReadItem::Event(e) => ev.push(e),
                ReadItem::Bad(b) => bad.push(b),
            }
        }
        (ev, bad, r.stats)
    }

    #[test]
    fn accepts_v1_v1beta1_and_no_api_version() {
        let s = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"b"}
{"kind":"Event","auditID":"c"}"#;
        let (ev, bad, st) = read(s);
        assert!(bad.is_empty());
        let ids: Vec<_> = ev.iter().map(|e| e.audit_id().unwrap_or("")).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(st.lines, 3);
    }

    #[test]
    fn event_list_expands_with_same_line() {
        let s = "\n{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[{\"auditID\":\"x\"},{\"kind\":\"Event\",\"auditID\":\"y\"}]}\n";
        let (ev, bad, _) = read(s);
        assert!(bad.is_empty());
        assert_eq!(ev.len(), 2);
        assert!(ev.iter().all(|e| e.line == 2));
    }

    #[test]
    fn aks_wrapper_and_records() {
        let inner = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"aks"}"#;
        let rec = serde_json::json!({"category":"kube-audit","properties":{"log": inner}});
        let env = serde_json::json!({"records":[rec.clone(), rec.clone()]});
        let s = format!("{rec}\n{env}\n");
        let (ev, bad, _) = read(&s);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(ev.len(), 3);
        assert_eq!(ev.first().and_then(|e| e.audit_id()), Some("aks"));
    }

    #[test]
    fn bad_lines_counted_and_stream_continues() {
        let s = "{\"kind\": 0}\nnot json\n{\"kind\":\"Pod\"}\n{\"kind\":\"Event\",\"apiVersion\":\"v1\"}\n{\"kind\":\"Event\",\"auditID\":\"ok\"}";
        let (ev, bad, st) = read(s);
        assert_eq!(ev.len(), 1);
        let lines: Vec<_> = bad.iter().map(|b| b.line.unwrap_or(0)).collect();
        assert_eq!(lines, [1, 2, 3, 4]);
        assert_eq!(st.bad_lines, 4);
        assert!(bad.iter().all(|b| b.kind == "syntax"));
    }

    #[test]
    fn line_limit_is_enforced_and_named() {
        let long = format!(
            "{{\"kind\":\"Event\",\"x\":\"{}\"}}\n{{\"kind\":\"Event\"}}\n",
            "a".repeat(100)
        );
        let mut r = EventReader::new(long.as_bytes(), "t").with_max_line(50);
        let first = r.next();
        let Some(ReadItem::Bad(e)) = first else {
            panic!("expected limit error, got {first:?}")
        };
        assert_eq!(e.kind, "limit");
        assert!(e.message.contains("--max-line-bytes"));
        assert!(matches!(r.next(), Some(ReadItem::Event(_))));
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(b"{\"kind\":\"Event\",\"auditID\":\"gz\"}\n")
            .unwrap();
        let gz = enc.finish().unwrap();
        let r = maybe_gunzip(std::io::Cursor::new(gz)).unwrap();
        let ev: Vec<_> = EventReader::new(r, "t.gz").collect();
        assert!(matches!(ev.as_slice(), [ReadItem::Event(e)] if e.audit_id() == Some("gz")));
    }

    #[test]
    fn wrapper_depth_limit() {
        let mut s = r#"{"kind":"Event"}"#.to_string();
        for _ in 0..=MAX_WRAP_DEPTH {
            s = serde_json::json!({"properties": {"log": s}}).to_string();
        }
        let err = decode_events(&s).unwrap_err();
        assert!(err.contains("nested deeper"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn decoder_never_panics(s in "\\PC{0,200}") {
            let _ = decode_events(&s);
        }

        #[test]
        fn decoder_never_panics_on_jsonish(s in r#"[{}\[\]":,a-z0-9 \\]{0,80}"#) {
            let _ = decode_events(&s);
            let _ = EventReader::new(s.as_bytes(), "p").count();
        }
    }

    #[test]
    fn non_utf8_line_is_reported() {
        let bytes: &[u8] = b"\xff\xfe\n{\"kind\":\"Event\"}\n";
        let items: Vec<_> = EventReader::new(bytes, "t").collect();
        assert!(matches!(items.first(), Some(ReadItem::Bad(e)) if e.kind == "encoding"));
        assert!(matches!(items.get(1), Some(ReadItem::Event(_))));
    }
}
