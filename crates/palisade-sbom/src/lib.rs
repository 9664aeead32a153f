//! SBOMs in and out of Palisade's inventory model ([`palisade_core::inventory`]).
//!
//! Reading ([`read`], [`read_path`]): CycloneDX 1.4–1.6 JSON (1.2, 1.3 and 1.7 too), SPDX
//! 2.2/2.3 JSON and SPDX tag-value, the format sniffed from the bytes (an in-toto statement
//! whose predicate is one of them, bare or in a DSSE envelope, is unwrapped). JSON is held as
//! raw text and built one component/package at a time, so memory stays near the input's size. Every package gets its [`PackageKind`](palisade_core::inventory::PackageKind)
//! from its purl; the document's subject (CycloneDX `metadata.component`, the SPDX package a
//! document describes that holds the others) and operating-system components are not
//! packages. Wrong types or missing required fields are errors naming the input and the
//! field; oddities a reader can live with (a malformed purl) become inventory notes.
//!
//! Writing: [`cyclonedx`] (CycloneDX 1.6 JSON, with vulnerabilities) and [`spdx`] (SPDX 2.3
//! JSON). Both are reproducible: identifiers derive from the content, the timestamp from
//! `SOURCE_DATE_EPOCH` when set (or pass one to [`cyclonedx_at`]/[`spdx_at`]).

mod cyclonedx_read;
mod cyclonedx_write;
mod ids;
mod json;
pub mod purl;
mod spdx_read;
mod spdx_write;
mod time;

pub use cyclonedx_write::{cyclonedx, cyclonedx_at};
pub use spdx_write::{spdx, spdx_at};

use palisade_core::inventory::Inventory;
use serde_json::Value;

/// Property / annotation names Palisade writes and reads back, so a written SBOM reads back
/// to the same packages.
pub mod names {
    pub const LAYER: &str = "palisade:layer";
    pub const PATH: &str = "palisade:path";
    pub const SOURCE_NAME: &str = "palisade:sourceName";
    pub const SOURCE_VERSION: &str = "palisade:sourceVersion";
    pub const ARCH: &str = "palisade:arch";
    /// Written only when the purl does not say it (no purl, or a purl of another type).
    pub const KIND: &str = "palisade:kind";
    /// Marks a subject component/package (the input an inventory came from).
    pub const SOURCE: &str = "palisade:source";
}

/// Default for [`Limits::max_bytes`]: 128 MiB. Real SBOMs are a few MB (Trivy's of a large
/// image, the Kubernetes release SBOM). JSON is read one component/package tree at a time
/// (`files` never), so a read peaks at 2-3 times the input (measured, debug build: 36 MB
/// CycloneDX of 50,000 packages 77 MB peak; 71 MB SPDX of 50,000 packages 195 MB).
pub const DEFAULT_MAX_BYTES: usize = 128 << 20;

/// Bounds on what [`read_with`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// The JSON formats a document's top level is sniffed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    CycloneDxJson,
    SpdxJson,
}

/// Why an SBOM could not be read. `input` is the name the caller passed (usually the path).
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error(
        "{input}: {size} bytes is over the SBOM size limit of {limit} bytes (raise the limit to read it)"
    )]
    TooLarge {
        input: String,
        size: usize,
        limit: usize,
    },
    #[error("{input}: {message}")]
    Io { input: String, message: String },
    #[error("{input}: not a supported SBOM: {reason}")]
    UnknownFormat { input: String, reason: String },
    #[error("{input}: invalid JSON at line {line} column {column}: {message}")]
    Json {
        input: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{input}: field `{field}`: {message}")]
    Field {
        input: String,
        field: String,
        message: String,
    },
    #[error("{input}:{line}: {message}")]
    TagValue {
        input: String,
        line: usize,
        message: String,
    },
}

/// Reads an SBOM of any supported format (sniffed) with the default [`Limits`].
pub fn read(bytes: &[u8], source: &str) -> Result<Inventory, SbomError> {
    read_with(bytes, source, &Limits::default())
}

/// Reads the SBOM in file `path` (`-`: standard input), never holding more than
/// `limits.max_bytes + 1` bytes of it: a larger input is [`SbomError::TooLarge`] without being
/// read to the end.
pub fn read_path(path: &std::path::Path, limits: &Limits) -> Result<Inventory, SbomError> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let io = |e: std::io::Error| SbomError::Io {
        input: name.clone(),
        message: e.to_string(),
    };
    let cap = u64::try_from(limits.max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    if path == std::path::Path::new("-") {
        std::io::stdin()
            .lock()
            .take(cap)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        std::fs::File::open(path)
            .map_err(io)?
            .take(cap)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    read_with(&bytes, &name, limits)
}

/// Reads an SBOM of any supported format (sniffed from the content).
pub fn read_with(bytes: &[u8], source: &str, limits: &Limits) -> Result<Inventory, SbomError> {
    if bytes.len() > limits.max_bytes {
        return Err(SbomError::TooLarge {
            input: source.to_string(),
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let unknown = |reason: &str| SbomError::UnknownFormat {
        input: source.to_string(),
        reason: reason.to_string(),
    };
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| unknown("the input is empty"))?;
    match bytes.get(start) {
        Some(b'{') => read_json(&parse_top(bytes, source)?, source),
        Some(b'<') => Err(unknown(
            "XML (CycloneDX XML and SPDX RDF/XML are not read; use the JSON form)",
        )),
        _ => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| unknown(&format!("neither JSON nor UTF-8 text ({e})")))?;
            if spdx_read::looks_like_tag_value(text) {
                spdx_read::read_tag_value(text, source)
            } else {
                Err(unknown(
                    "expected a JSON object (CycloneDX, SPDX) or SPDX tag-value starting with `SPDXVersion:`",
                ))
            }
        }
    }
}

/// The top level of a JSON document, its members left as raw text.
fn parse_top<'a>(bytes: &'a [u8], source: &str) -> Result<json::Top<'a>, SbomError> {
    serde_json::from_slice(bytes).map_err(|e| SbomError::Json {
        input: source.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// A DSSE envelope (`cosign attest` output): its base64 payload is an in-toto statement.
fn read_dsse(top: &json::Top<'_>, source: &str) -> Result<Inventory, SbomError> {
    use base64::Engine as _;
    let cx = json::Ctx { input: source };
    let text = cx.top_str(top, "payload", "")?;
    let field = |message: String| cx.err("payload", message);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| field(format!("not base64: {e}")))?;
    let statement = serde_json::from_slice::<json::Top<'_>>(&bytes)
        .map_err(|e| field(format!("the decoded payload is not a JSON object: {e}")))?;
    if statement.contains_key("payload") {
        // An envelope inside an envelope: refuse rather than recurse without bound.
        return Err(field("a DSSE envelope inside a DSSE envelope".to_string()));
    }
    read_json(&statement, source)
}

/// Which format a top level is, if any.
fn sniff_json(top: &json::Top<'_>) -> Option<Format> {
    if top.contains_key("bomFormat") {
        Some(Format::CycloneDxJson)
    } else if top.contains_key("spdxVersion") {
        Some(Format::SpdxJson)
    } else {
        None
    }
}

fn read_json(top: &json::Top<'_>, source: &str) -> Result<Inventory, SbomError> {
    let cx = json::Ctx { input: source };
    let unknown = |reason: String| SbomError::UnknownFormat {
        input: source.to_string(),
        reason,
    };
    match sniff_json(top) {
        Some(Format::CycloneDxJson) => return cyclonedx_read::read(top, source, ""),
        Some(Format::SpdxJson) => return spdx_read::read_json(top, source, ""),
        _ => {}
    }
    // An in-toto statement (`cosign attest --type spdxjson|cyclonedx`) carries the SBOM as
    // its predicate.
    if top.contains_key("_type")
        && let Some(raw) = top.get("predicate")
    {
        let predicate = cx.top(raw);
        return match predicate
            .as_ref()
            .and_then(|p| sniff_json(p).map(|f| (p, f)))
        {
            Some((p, Format::CycloneDxJson)) => cyclonedx_read::read(p, source, "predicate"),
            Some((p, _)) => spdx_read::read_json(p, source, "predicate"),
            None => {
                let ty = match cx.member(top, "predicateType", "")? {
                    Some(Value::String(s)) => s,
                    _ => "no predicateType".to_string(),
                };
                Err(unknown(format!(
                    "an in-toto statement whose predicate ({ty}) is not a CycloneDX or SPDX document"
                )))
            }
        };
    }
    if top.contains_key("payload") && top.contains_key("payloadType") {
        return read_dsse(top, source);
    }
    Err(unknown(if top.contains_key("@context") {
        "JSON-LD (SPDX 3 is not read; use SPDX 2.3 or CycloneDX)".to_string()
    } else {
        "a JSON object with neither `bomFormat` (CycloneDX) nor `spdxVersion` (SPDX)".to_string()
    }))
}
