//! `admission.k8s.io/v1` AdmissionReview, field for field as `k8s.io/api/admission/v1`
//! declares it. Own serde structs rather than `kube-core`: they are a few dozen lines, keep
//! `k8s-openapi` out of the server's compile, and let the object stay a raw JSON value (the
//! rules read raw JSON so that they report field paths and tolerate partial objects).

use std::collections::BTreeMap;

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
    /// `null` for DELETE; kept as `Value::Null` when absent.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub object: Value,
    #[serde(default, skip_serializing_if = "Value::is_null")]
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
    fn response_serializes_like_the_api_type() {
        let r = AdmissionResponse::allowed().into_review("abc");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"abc","allowed":true}}"#
        );
    }
}
