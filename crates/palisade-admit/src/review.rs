//! `admission.k8s.io/v1` AdmissionReview, field for field as `k8s.io/api/admission/v1`
//! declares it. Own serde structs rather than `kube-core`: they are a few dozen lines, keep
//! `k8s-openapi` out of the server's compile, and let the object stay a raw JSON value (the
//! rules read raw JSON so that they report field paths and tolerate partial objects).

use std::collections::BTreeMap;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only review version served (PSA's webhook also declares only `v1`).
pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";

/// The envelope, as received or sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<AdmissionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<AdmissionResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub resource: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// What the API server asks about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub resource: GroupVersionResource,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub request_sub_resource: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub operation: String,
    #[serde(default)]
    pub user_info: UserInfo,
    /// `null` for DELETE; kept as `Value::Null` when absent. `metadata.managedFields` is
    /// not kept (see [`object_without_managed_fields`]).
    #[serde(
        default,
        skip_serializing_if = "Value::is_null",
        deserialize_with = "object_without_managed_fields"
    )]
    pub object: Value,
    #[serde(
        default,
        skip_serializing_if = "Value::is_null",
        deserialize_with = "object_without_managed_fields"
    )]
    pub old_object: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub options: Value,
}

/// `meta/v1` Status as carried in `response.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_after_seconds: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default, rename = "reason", skip_serializing_if = "String::is_empty")]
    pub cause_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// The verdict. `patch`/`patchType` exist only so that a fixture round-trips: a validating
/// webhook that sets either is treated by the API server as a failed call, so this crate
/// never does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AdmissionResponse {
    pub fn allowed() -> AdmissionResponse {
        AdmissionResponse {
            allowed: true,
            ..AdmissionResponse::default()
        }
    }

    /// Wraps the response in a review envelope with the request's uid.
    pub fn into_review(mut self, uid: &str) -> AdmissionReview {
        uid.clone_into(&mut self.uid);
        AdmissionReview {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            request: None,
            response: Some(self),
        }
    }
}

/// Why a body is not a usable AdmissionReview request (answered with HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("request body is not a valid AdmissionReview: {reason} (line {line}, column {column})")]
    Json {
        reason: String,
        line: usize,
        column: usize,
    },
    #[error(
        "unsupported AdmissionReview apiVersion {found:?}: this webhook serves only \"admission.k8s.io/v1\" (set admissionReviewVersions: [\"v1\"])"
    )]
    ApiVersion { found: String },
    #[error("expected kind \"AdmissionReview\", got {found:?}")]
    Kind { found: String },
    #[error("AdmissionReview has no request")]
    MissingRequest,
    #[error("AdmissionReview request has no uid")]
    MissingUid,
}

/// Just the envelope, so that a wrong apiVersion or kind is reported as such even when
/// the request inside would not decode either.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    #[serde(default, borrow)]
    api_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    request: Option<&'a serde_json::value::RawValue>,
}

fn json_error(e: &serde_json::Error, what: &str) -> ReviewError {
    ReviewError::Json {
        reason: format!("{what}{e}"),
        line: e.line(),
        column: e.column(),
    }
}

/// Decodes and checks a review request body.
pub fn parse_request(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    // One pass for the common, well-formed case; a body that does not decode is parsed
    // again envelope first, so that the error names the right problem.
    let Ok(review) = serde_json::from_slice::<Incoming>(body) else {
        return parse_request_slow(body);
    };
    if review.api_version != API_VERSION {
        return Err(ReviewError::ApiVersion {
            found: review.api_version.into_owned(),
        });
    }
    if review.kind != KIND {
        return Err(ReviewError::Kind {
            found: review.kind.into_owned(),
        });
    }
    let request = review.request.ok_or(ReviewError::MissingRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::MissingUid);
    }
    Ok(request)
}

/// A request review in one pass (`response`, if any, is skipped).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming<'a> {
    #[serde(default, borrow)]
    api_version: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    request: Option<AdmissionRequest>,
}

fn parse_request_slow(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let env: Envelope<'_> = serde_json::from_slice(body).map_err(|e| json_error(&e, ""))?;
    let api_version = env.api_version.unwrap_or_default();
    if api_version != API_VERSION {
        return Err(ReviewError::ApiVersion {
            found: api_version.into_owned(),
        });
    }
    let kind = env.kind.unwrap_or_default();
    if kind != KIND {
        return Err(ReviewError::Kind {
            found: kind.into_owned(),
        });
    }
    let raw = env
        .request
        .filter(|r| r.get() != "null")
        .ok_or(ReviewError::MissingRequest)?;
    let request: AdmissionRequest =
        serde_json::from_str(raw.get()).map_err(|e| json_error(&e, "request: "))?;
    if request.uid.is_empty() {
        return Err(ReviewError::MissingUid);
    }
    Ok(request)
}

/// Decodes an object as a JSON value without `metadata.managedFields`: no rule reads it,
/// the response never echoes the object, and in real requests it is the bulk of the
/// metadata (hundreds of small maps to allocate and free). Everything else is kept as is.
pub fn object_without_managed_fields<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    d.deserialize_any(ValueVisitor {
        skip: Skip::Metadata,
    })
}

/// Which key of the map being visited is dropped or descended into specially.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// The object: its `metadata` is visited with [`Skip::ManagedFields`].
    Metadata,
    /// `metadata`: its `managedFields` is skipped.
    ManagedFields,
}

struct ValueVisitor {
    skip: Skip,
}

impl<'de> DeserializeSeed<'de> for ValueVisitor {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match (self.skip, key.as_str()) {
                (Skip::Metadata, "metadata") => map.next_value_seed(ValueVisitor {
                    skip: Skip::ManagedFields,
                })?,
                (Skip::ManagedFields, "managedFields") => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                _ => map.next_value::<Value>()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rejects_bad_envelopes() {
        let err = |s: &str| parse_request(s.as_bytes()).unwrap_err();
        assert!(matches!(err("{\"apiVersion\":"), ReviewError::Json { .. }));
        assert!(matches!(
            err(r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}"#),
            ReviewError::ApiVersion { .. }
        ));
        assert!(matches!(
            err(r#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#),
            ReviewError::Kind { .. }
        ));
        assert_eq!(
            err(r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#),
            ReviewError::MissingRequest
        );
        let no_uid = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","kind":{},"resource":{},"operation":"CREATE"}}"#;
        assert_eq!(err(no_uid), ReviewError::MissingUid);
        // Deep nesting is refused by serde_json's recursion limit, not a stack overflow.
        let deep = format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{}},"resource":{{}},"operation":"CREATE","object":{}1{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(matches!(err(&deep), ReviewError::Json { .. }));
    }

    #[test]
    fn objects_keep_everything_but_managed_fields() {
        let body = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"resource":{},"operation":"UPDATE",
            "object":{"kind":"Pod","metadata":{"name":"p","managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{}}}],"labels":{"a":"b"}},
                      "spec":{"managedFields":1,"containers":[{"name":"c","n":-1,"f":1.5,"t":true,"x":null}]}},
            "oldObject":{"metadata":{"managedFields":[]}}}}"#;
        let req = parse_request(body.as_bytes()).unwrap();
        assert_eq!(
            req.object,
            serde_json::json!({"kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},
                "spec":{"managedFields":1,"containers":[{"name":"c","n":-1,"f":1.5,"t":true,"x":null}]}})
        );
        assert_eq!(req.old_object, serde_json::json!({"metadata":{}}));
        // Not an object: kept as it came, for the decision to refuse.
        let body = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"resource":{},"operation":"CREATE","object":[1,"x"]}}"#;
        assert_eq!(
            parse_request(body.as_bytes()).unwrap().object,
            serde_json::json!([1, "x"])
        );
        // A bad request with a wrong apiVersion is reported as the wrong apiVersion.
        let body = r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":7}}"#;
        assert!(matches!(
            parse_request(body.as_bytes()).unwrap_err(),
            ReviewError::ApiVersion { .. }
        ));
    }

    #[test]
    fn response_serializes_like_the_api_type() {
        let r = AdmissionResponse::allowed().into_review("abc");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"abc","allowed":true}}"#
        );
    }
}
