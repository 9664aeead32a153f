//! ConstraintTemplate and Constraint documents -> typed policies (engines compiled here).

use palisade_core::{Document, FieldPath, Severity};
use serde_json::Value;

use crate::{PolicyError, cel::CelProgram, rego::RegoProgram};

/// Enforcement action as seen at gator's enforcement point (`gator.gatekeeper.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Deny,
    Dryrun,
    Warn,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Dryrun => "dryrun",
            Action::Warn => "warn",
        }
    }

    /// The severity of a violation whose policy sets none: high for deny, else medium.
    pub(crate) fn default_severity(self) -> Severity {
        match self {
            Action::Deny => Severity::High,
            Action::Warn | Action::Dryrun => Severity::Medium,
        }
    }

    fn parse(s: &str) -> Option<Action> {
        match s.to_ascii_lowercase().as_str() {
            "deny" => Some(Action::Deny),
            "dryrun" => Some(Action::Dryrun),
            "warn" => Some(Action::Warn),
            _ => None,
        }
    }
}

/// A loaded ConstraintTemplate. A template whose code did not compile keeps the error so that
/// its constraints report it instead of silently passing.
#[derive(Debug)]
pub struct Template {
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    pub file: String,
    pub line: u32,
    pub(crate) rego: Option<RegoProgram>,
    pub(crate) rego_error: Option<String>,
    pub(crate) cel: Option<CelProgram>,
    pub(crate) cel_error: Option<String>,
}

impl Template {
    pub fn has_rego(&self) -> bool {
        self.rego.is_some() || self.rego_error.is_some()
    }
    pub fn has_cel(&self) -> bool {
        self.cel.is_some() || self.cel_error.is_some()
    }
    /// Whether its Rego runs on regorus's VM (false: on the interpreter, or no Rego).
    pub fn rego_on_vm(&self) -> bool {
        self.rego.as_ref().is_some_and(RegoProgram::on_vm)
    }

    pub(crate) fn from_document(
        doc: &Document,
    ) -> Result<(Template, Vec<PolicyError>), PolicyError> {
        let v = &doc.value;
        let file = doc.file.to_string();
        let line_of = |path: &str| doc.spans.locate(&FieldPath::parse(path)).line;
        let invalid = |path: &str, message: String| PolicyError::Invalid {
            file: file.clone(),
            line: line_of(path),
            what: "ConstraintTemplate".into(),
            message,
        };
        let name = str_at(v, "/metadata/name").unwrap_or_default().to_owned();
        let kind = str_at(v, "/spec/crd/spec/names/kind")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                invalid(
                    "spec",
                    format!("{name}: spec.crd.spec.names.kind is missing"),
                )
            })?
            .to_owned();
        let targets = v.pointer("/spec/targets").and_then(Value::as_array);
        let target = match targets.map(Vec::as_slice) {
            Some([t]) => t,
            _ => {
                return Err(invalid(
                    "spec.targets",
                    format!("{name}: spec.targets must hold exactly one target"),
                ));
            }
        };
        let mut t = Template {
            name: name.clone(),
            kind,
            file: file.clone(),
            line: doc.spans.span.line,
            rego: None,
            rego_error: None,
            cel: None,
            cel_error: None,
        };
        let mut errors = Vec::new();
        // Legacy `rego` beats a code[] Rego entry (Gatekeeper's precedence).
        let code = target.get("code").and_then(Value::as_array);
        let mut rego_src: Option<(String, Vec<String>, bool, String)> = None;
        if let Some(r) = target.get("rego").and_then(Value::as_str) {
            let libs = strings(target.get("libs"));
            rego_src = Some((r.to_owned(), libs, false, "spec.targets[0].rego".into()));
        }
        for (i, entry) in code.into_iter().flatten().enumerate() {
            let engine = entry.get("engine").and_then(Value::as_str).unwrap_or("");
            let source = entry.get("source").unwrap_or(&Value::Null);
            match engine {
                "Rego" if rego_src.is_none() => {
                    let r = source.get("rego").and_then(Value::as_str).unwrap_or("");
                    let v1 = source.get("version").and_then(Value::as_str) == Some("v1");
                    rego_src = Some((
                        r.to_owned(),
                        strings(source.get("libs")),
                        v1,
                        format!("spec.targets[0].code[{i}].source.rego"),
                    ));
                }
                "K8sNativeValidation" => {
                    let path = format!("spec.targets[0].code[{i}].source");
                    match CelProgram::compile(source) {
                        Ok(p) => t.cel = Some(p),
                        Err((field, message)) => {
                            let at = if field.is_empty() {
                                path
                            } else {
                                format!("{path}.{field}")
                            };
                            errors.push(PolicyError::Compile {
                                file: file.clone(),
                                line: line_of(&at),
                                template: name.clone(),
                                engine: "CEL",
                                message: message.clone(),
                            });
                            t.cel_error = Some(format!("{at}: {message}"));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((rego, libs, v1, path)) = rego_src {
            match RegoProgram::compile(&name, &rego, &libs, v1) {
                Ok(p) => t.rego = Some(p),
                Err(message) => {
                    // A `rego: |` block starts on the line after its key; regorus names the
                    // line inside the module (`--> name.rego:L:C`).
                    let inner = module_line(&message).unwrap_or(0);
                    errors.push(PolicyError::Compile {
                        file: file.clone(),
                        line: line_of(&path) + inner,
                        template: name.clone(),
                        engine: "Rego",
                        message: message.clone(),
                    });
                    t.rego_error = Some(message);
                }
            }
        }
        if !t.has_rego() && !t.has_cel() {
            return Err(invalid(
                "spec.targets",
                format!("{name}: the target has neither Rego nor K8sNativeValidation code"),
            ));
        }
        Ok((t, errors))
    }
}

/// A loaded Constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub file: String,
    pub line: u32,
    /// `spec.match` (null when absent: everything matches).
    pub(crate) r#match: Value,
    /// `spec.parameters`, `{}` when absent (Gatekeeper's default for `input.parameters`).
    pub parameters: Value,
    /// The action at gator's enforcement point; None when a `scoped` constraint names other
    /// points only (it does not apply offline).
    pub action: Option<Action>,
    /// From the `palisade.dev/severity` annotation.
    pub severity: Option<Severity>,
    /// The whole constraint (CEL's top-level `params`).
    pub(crate) object: Value,
    /// `parameters` and `object` converted once for the engines.
    pub(crate) rego_parameters: regorus::Value,
    pub(crate) cel_object: kube_cel::cel::Value,
}

impl Constraint {
    /// The constraint as loaded.
    pub fn object(&self) -> &Value {
        &self.object
    }

    /// `KIND/NAME`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    pub(crate) fn from_document(doc: &Document) -> Result<Constraint, PolicyError> {
        let v = &doc.value;
        let file = doc.file.to_string();
        let kind = str_at(v, "/kind").unwrap_or_default().to_owned();
        let name = str_at(v, "/metadata/name").unwrap_or_default().to_owned();
        let invalid = |path: &str, message: String| PolicyError::Invalid {
            file: file.clone(),
            line: doc.spans.locate(&FieldPath::parse(path)).line,
            what: format!("constraint {kind}/{name}"),
            message,
        };
        if name.is_empty() {
            return Err(invalid("metadata", "metadata.name is missing".into()));
        }
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let action = match spec.get("enforcementAction") {
            None | Some(Value::Null) => Some(Action::Deny),
            Some(Value::String(s)) if s.is_empty() => Some(Action::Deny),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("scoped") => {
                scoped_action(spec).map_err(|m| invalid("spec.scopedEnforcementActions", m))?
            }
            Some(Value::String(s)) => Some(Action::parse(s).ok_or_else(|| {
                invalid(
                    "spec.enforcementAction",
                    format!("unknown enforcementAction {s:?} (deny, dryrun, warn or scoped)"),
                )
            })?),
            Some(other) => {
                return Err(invalid(
                    "spec.enforcementAction",
                    format!("enforcementAction must be a string, not {other}"),
                ));
            }
        };
        let severity = match v.pointer("/metadata/annotations/palisade.dev~1severity") {
            None => None,
            Some(s) => Some(s.as_str().and_then(Severity::parse).ok_or_else(|| {
                invalid(
                    "metadata.annotations",
                    format!("annotation palisade.dev/severity: {s} is not critical, high, medium, low or info"),
                )
            })?),
        };
        let m = spec.get("match").cloned().unwrap_or(Value::Null);
        if !(m.is_null() || m.is_object()) {
            return Err(invalid("spec.match", "spec.match must be a mapping".into()));
        }
        crate::matching::validate(&m).map_err(|msg| invalid("spec.match", msg))?;
        let parameters = match spec.get("parameters") {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(p) => p.clone(),
        };
        Ok(Constraint {
            kind,
            name,
            file,
            line: doc.spans.span.line,
            r#match: m,
            rego_parameters: regorus::Value::from(parameters.clone()),
            cel_object: crate::cel::to_cel(v),
            parameters,
            action,
            severity,
            object: v.clone(),
        })
    }
}

/// gator reviews as `gator.gatekeeper.sh`; a scoped constraint applies when an entry names it
/// or `*`. Several entries: the strictest action wins (deny over warn over dryrun).
fn scoped_action(spec: &Value) -> Result<Option<Action>, String> {
    let entries = spec
        .get("scopedEnforcementActions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("enforcementAction scoped needs a non-empty spec.scopedEnforcementActions")?;
    let mut best: Option<Action> = None;
    for e in entries {
        let a = e.get("action").and_then(Value::as_str).unwrap_or("");
        let action = Action::parse(a).ok_or_else(|| format!("unknown scoped action {a:?}"))?;
        let points = e
            .get("enforcementPoints")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
            .ok_or("each scopedEnforcementActions entry needs enforcementPoints")?;
        let here = points.iter().any(|p| {
            matches!(
                p.get("name").and_then(Value::as_str),
                Some("*" | "gator.gatekeeper.sh")
            )
        });
        if here {
            best = Some(best.map_or(action, |b| b.min(action)));
        }
    }
    Ok(best)
}

pub(crate) fn is_template(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("ConstraintTemplate")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("templates.gatekeeper.sh/"))
}

pub(crate) fn is_constraint(v: &Value) -> bool {
    v.get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/"))
}

pub(crate) fn str_at<'v>(v: &'v Value, ptr: &str) -> Option<&'v str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The line regorus reports inside a module: `--> file.rego:LINE:COL`.
fn module_line(message: &str) -> Option<u32> {
    let after = message.split_once(".rego:")?.1;
    after.split(':').next()?.trim().parse().ok()
}
