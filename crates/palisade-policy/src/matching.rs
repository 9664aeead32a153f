//! Gatekeeper's `spec.match` (pkg/mutation/match): kinds, scope, namespaces,
//! excludedNamespaces, labelSelector, namespaceSelector, name. A review matches when its object
//! or its oldObject matches every matcher.

use serde_json::Value;

use crate::{Constraint, Inventory, PolicyError, Review};

/// Load-time checks of the parts whose errors would otherwise only show per object.
pub(crate) fn validate(m: &Value) -> Result<(), String> {
    for key in ["labelSelector", "namespaceSelector"] {
        if let Some(sel) = m.get(key) {
            for e in sel
                .get("matchExpressions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let op = e.get("operator").and_then(Value::as_str).unwrap_or("");
                if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                    return Err(format!(
                        "{key}: unknown operator {op:?} (In, NotIn, Exists, DoesNotExist)"
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn matches(
    c: &Constraint,
    review: &Review,
    inv: &Inventory,
) -> Result<bool, PolicyError> {
    let m = &c.r#match;
    let (obj, old) = (review.object(), review.old_object());
    if obj.is_null() && old.is_null() {
        return Err(PolicyError::Match {
            policy: c.id(),
            message: "the review has neither object nor oldObject".into(),
        });
    }
    if m.is_null() {
        return Ok(true);
    }
    for o in [obj, old] {
        if !o.is_null() && one(c, m, o, review, inv)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn one(
    c: &Constraint,
    m: &Value,
    o: &Value,
    review: &Review,
    inv: &Inventory,
) -> Result<bool, PolicyError> {
    let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_ns = kind == "Namespace" && group.is_empty();
    let obj_ns = o
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    // The namespace a matcher sees: a Namespace's own name, else the object's namespace.
    let ns: Option<&str> = if is_ns { Some(name) } else { obj_ns };

    if let Some(kinds) = m
        .get("kinds")
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty())
    {
        let hit = kinds
            .iter()
            .any(|k| list_has(k.get("kinds"), kind) && list_has(k.get("apiGroups"), group));
        if !hit {
            return Ok(false);
        }
    }
    match m.get("scope").and_then(Value::as_str) {
        Some("Cluster") if !(is_ns || obj_ns.is_none()) => return Ok(false),
        Some("Namespaced") if is_ns || obj_ns.is_none() => return Ok(false),
        _ => {}
    }
    if let Some(list) = m
        .get("namespaces")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        && let Some(ns) = ns
        && !list
            .iter()
            .filter_map(Value::as_str)
            .any(|p| wildcard(p, ns))
    {
        return Ok(false);
    }
    if let Some(list) = m.get("excludedNamespaces").and_then(Value::as_array)
        && let Some(ns) = ns
        && list
            .iter()
            .filter_map(Value::as_str)
            .any(|p| wildcard(p, ns))
    {
        return Ok(false);
    }
    if let Some(sel) = m.get("labelSelector")
        && !selector(sel, o.pointer("/metadata/labels"))
    {
        return Ok(false);
    }
    if let Some(sel) = m.get("namespaceSelector") {
        let labels = if is_ns {
            o.pointer("/metadata/labels").cloned()
        } else if let Some(ns) = obj_ns {
            let nsobj = review
                .namespace_object
                .as_ref()
                .filter(|n| n.pointer("/metadata/name").and_then(Value::as_str) == Some(ns))
                .or_else(|| inv.namespace(ns))
                .ok_or_else(|| PolicyError::Match {
                    policy: c.id(),
                    message: format!(
                        "namespaceSelector needs Namespace {ns:?}, which is not among the loaded objects"
                    ),
                })?;
            nsobj.pointer("/metadata/labels").cloned()
        } else {
            // Cluster-scoped objects other than Namespaces always pass.
            return name_ok(m, o, name);
        };
        if !selector(sel, labels.as_ref()) {
            return Ok(false);
        }
    }
    name_ok(m, o, name)
}

fn name_ok(m: &Value, o: &Value, name: &str) -> Result<bool, PolicyError> {
    let Some(p) = m
        .get("name")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    else {
        return Ok(true);
    };
    if !name.is_empty() {
        return Ok(wildcard(p, name));
    }
    // generateName is matched by prefix (`x*`) and contains (`*x*`) patterns only.
    let gen_name = o
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(p.ends_with('*') && wildcard(p, gen_name))
}

fn list_has(list: Option<&Value>, want: &str) -> bool {
    match list.and_then(Value::as_array) {
        None => true,
        Some(a) if a.is_empty() => true,
        Some(a) => a
            .iter()
            .filter_map(Value::as_str)
            .any(|s| s == "*" || s == want),
    }
}

/// Gatekeeper's wildcard: `*x*` contains, `*x` suffix, `x*` prefix, otherwise exact.
pub(crate) fn wildcard(pattern: &str, s: &str) -> bool {
    let (lead, trail) = (
        pattern.starts_with('*'),
        pattern.len() > 1 && pattern.ends_with('*'),
    );
    let core = pattern.trim_start_matches('*').trim_end_matches('*');
    match (lead, trail) {
        _ if pattern == "*" => true,
        (true, true) => s.contains(core),
        (true, false) => s.ends_with(core),
        (false, true) => s.starts_with(core),
        (false, false) => s == pattern,
    }
}

/// `metav1.LabelSelector`: matchLabels and matchExpressions, all must hold; `{}` matches all.
pub(crate) fn selector(sel: &Value, labels: Option<&Value>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_follow_gatekeeper() {
        assert!(wildcard("kube-*", "kube-system"));
        assert!(!wildcard("kube-*", "my-kube"));
        assert!(wildcard("*-system", "kube-system"));
        assert!(wildcard("*ube*", "kube-system"));
        assert!(!wildcard("kube", "kube-system"));
        assert!(wildcard("*", "anything"));
    }

    #[test]
    fn selectors() {
        let labels = json!({"env": "prod", "team": "a"});
        assert!(selector(&json!({}), Some(&labels)));
        assert!(selector(
            &json!({"matchLabels": {"env": "prod"}}),
            Some(&labels)
        ));
        assert!(!selector(
            &json!({"matchLabels": {"env": "dev"}}),
            Some(&labels)
        ));
        let notin =
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]});
        assert!(!selector(&notin, Some(&labels)));
        assert!(selector(&notin, None));
        let dne = json!({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]});
        assert!(selector(&dne, Some(&labels)));
    }
}
