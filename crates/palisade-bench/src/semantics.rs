//! kube-bench's test semantics (`check/test.go`, `check.execute`), port for port: how a test
//! item finds its value in an audit output (`flag`, `path`, `env`), the compare operators and
//! their expected-result texts, `set`, `use_multiple_values` and `bin_op`.

use crate::jsonpath::{self, Numbers};
use crate::model::{TestItem, Tests};
use regex::Regex;
use serde::Serialize;

/// Which audit output a test item was judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditUsed {
    /// `audit` (process flags, command output).
    Audit,
    /// `audit_config` (a config file, read through `path:`).
    AuditConfig,
    /// `audit_env` (the process environment).
    AuditEnv,
}

/// One test item's outcome (`testOutput`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOutput {
    pub test_result: bool,
    pub flag_found: bool,
    pub actual_result: String,
    pub expected_result: String,
    pub used: AuditUsed,
    /// The value found (flag value, path rendering, env value), when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The three audit outputs of a check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    pub audit: String,
    pub audit_config: String,
    pub audit_env: String,
}

/// The combined outcome of a check's tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Final {
    pub test_result: bool,
    pub actual_result: String,
    pub expected_result: String,
    pub items: Vec<ItemOutput>,
    /// `unknown binary operator` (kube-bench returns it as an error next to the output).
    pub error: Option<String>,
}

fn label(item: &TestItem, used: AuditUsed) -> &str {
    match used {
        AuditUsed::AuditConfig => &item.path,
        AuditUsed::AuditEnv => &item.env,
        AuditUsed::Audit => &item.flag,
    }
}

/// `testItem.findValue`: (found, value) or the error text kube-bench reports as the result.
pub fn find_value(item: &TestItem, used: AuditUsed, s: &str) -> Result<(bool, String), String> {
    match used {
        AuditUsed::AuditEnv => Ok(find_env(&item.env, s)),
        AuditUsed::AuditConfig => find_path(&item.path, s),
        AuditUsed::Audit => find_flag(&item.flag, s),
    }
}

fn find_flag(flag: &str, s: &str) -> Result<(bool, String), String> {
    if s.is_empty() || flag.is_empty() {
        return Ok((false, String::new()));
    }
    if !s.contains(flag) {
        return Ok((false, String::new()));
    }
    // The flag goes into the pattern unescaped, as kube-bench does; an invalid pattern is
    // an error for this item (kube-bench would panic in MustCompile).
    let re = Regex::new(&format!("({flag})(=|: *)*([^\\s]*) *"))
        .map_err(|e| format!("invalid flag in testItem definition: {flag}: {e}"))?;
    match re.captures(s) {
        Some(caps) => {
            let v = caps.get(3).map(|m| m.as_str()).unwrap_or_default();
            let value = if !v.is_empty() {
                v.to_string()
            } else if flag.starts_with("--") {
                "true".to_string()
            } else {
                caps.get(1)
                    .map(|m| m.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            Ok((true, value))
        }
        None => Err(format!("invalid flag in testItem definition: {s}")),
    }
}

fn find_path(path: &str, s: &str) -> Result<(bool, String), String> {
    let (data, numbers) =
        unmarshal(s).map_err(|e| format!("failed to load YAML or JSON from input \"{s}\": {e}"))?;
    let value = jsonpath::execute(path, &data, numbers)
        .map_err(|e| format!("unable to parse path expression \"{path}\": {e}"))?;
    Ok((!value.is_empty(), value))
}

/// kube-bench's `unmarshal`: JSON first, then YAML.
pub fn unmarshal(s: &str) -> Result<(serde_json::Value, Numbers), String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
        return Ok((v, Numbers::Json));
    }
    let loaded = palisade_yaml::load_mapping_bytes(
        "<audit output>",
        s.as_bytes(),
        &palisade_yaml::Limits::default(),
    );
    if let Some(e) = loaded.errors.first() {
        return Err(e.to_string());
    }
    let value = loaded
        .documents
        .into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(serde_json::Value::Null);
    Ok((value, Numbers::Yaml))
}

fn find_env(env: &str, s: &str) -> (bool, String) {
    if s.is_empty() || env.is_empty() {
        return (false, String::new());
    }
    let Ok(re) = Regex::new(&format!("{env}=.*(?:$|\\n)")) else {
        return (false, String::new());
    };
    let found = re.find(s).map(|m| m.as_str()).unwrap_or_default();
    let out = found
        .replacen('\n', "", 1)
        .replacen(&format!("{env}="), "", 1);
    if out.is_empty() {
        (false, String::new())
    } else {
        (true, out)
    }
}

/// `testItem.execute`: one item over one output (every line of it with `use_multiple_values`).
pub fn execute_item(item: &TestItem, used: AuditUsed, s: &str, multiple: bool) -> ItemOutput {
    let s = s.trim_end_matches([' ', '\n']);
    let lines: Vec<&str> = if multiple {
        s.split('\n').collect()
    } else {
        vec![s]
    };
    let mut result = evaluate(item, used, "");
    for line in lines {
        result = evaluate(item, used, line);
        if !result.test_result {
            break;
        }
    }
    result.actual_result = s.to_string();
    result
}

fn evaluate(item: &TestItem, used: AuditUsed, s: &str) -> ItemOutput {
    let (found, value) = match find_value(item, used, s) {
        Ok(x) => x,
        Err(e) => {
            return ItemOutput {
                test_result: false,
                flag_found: false,
                actual_result: e,
                expected_result: String::new(),
                used,
                value: None,
            };
        }
    };
    let name = label(item, used);
    let (expected, result) = if item.set {
        if found && !item.compare.op.is_empty() {
            compare_op(&item.compare.op, &value, &item.compare.value, name)
        } else {
            (format!("'{name}' is present"), found)
        }
    } else {
        (format!("'{name}' is not present"), !found)
    };
    ItemOutput {
        test_result: result,
        flag_found: found,
        actual_result: String::new(),
        expected_result: expected,
        used,
        value: found.then_some(value),
    }
}

/// `compareOp`: the expected-result text and the verdict.
pub fn compare_op(op: &str, flag_val: &str, value: &str, flag_name: &str) -> (String, bool) {
    let eq = || {
        let lower = flag_val.to_lowercase();
        // kube-bench compares booleans case-insensitively on the found side only.
        if lower == "false" || lower == "true" {
            lower == value
        } else {
            flag_val == value
        }
    };
    match op {
        "eq" => (format!("'{flag_name}' is equal to '{value}'"), eq()),
        "noteq" => (format!("'{flag_name}' is not equal to '{value}'"), !eq()),
        "gt" | "gte" | "lt" | "lte" => {
            let (Ok(a), Ok(b)) = (flag_val.trim().parse::<i64>(), value.trim().parse::<i64>())
            else {
                return (
                    format!("Invalid Number(s) used for comparison: '{flag_val}' '{value}'"),
                    false,
                );
            };
            match op {
                "gt" => (format!("'{flag_name}' is greater than {value}"), a > b),
                "gte" => (
                    format!("'{flag_name}' is greater or equal to {value}"),
                    a >= b,
                ),
                "lt" => (format!("'{flag_name}' is lower than {value}"), a < b),
                _ => (
                    format!("'{flag_name}' is lower or equal to {value}"),
                    a <= b,
                ),
            }
        }
        "has" => (
            format!("'{flag_name}' has '{value}'"),
            flag_val.contains(value),
        ),
        "nothave" => (
            format!("'{flag_name}' does not have '{value}'"),
            !flag_val.contains(value),
        ),
        "regex" => {
            let text = format!("'{flag_name}' matched by regex expression '{value}'");
            match Regex::new(value) {
                Ok(re) => (text, re.is_match(flag_val)),
                Err(e) => (format!("{text} (invalid regex: {e})"), false),
            }
        }
        "valid_elements" => {
            let s = split_remove_last_separator(flag_val, ",");
            let t = split_remove_last_separator(value, ",");
            (
                format!("'{flag_name}' contains valid elements from '{value}'"),
                all_elements_valid(&s, &t),
            )
        }
        "bitmask" => {
            let Ok(requested) = i64::from_str_radix(flag_val, 8) else {
                return (format!("Not numeric value - flag: {flag_val}"), false);
            };
            let Ok(max) = i64::from_str_radix(value, 8) else {
                return (format!("Not numeric value - flag: {value}"), false);
            };
            (
                format!(
                    "{flag_name} has permissions {flag_val}, expected {value} or more restrictive"
                ),
                (max & requested) == requested,
            )
        }
        _ => (String::new(), false),
    }
}

/// `splitAndRemoveLastSeparator`.
pub fn split_remove_last_separator(s: &str, sep: &str) -> Vec<String> {
    let clean = s.trim().trim_end_matches(sep);
    if clean.is_empty() {
        return Vec::new();
    }
    clean.split(sep).map(|x| x.trim().to_string()).collect()
}

/// `allElementsValid`: every element of `s` is in `t`; both empty is valid, one empty is not.
pub fn all_elements_valid(s: &[String], t: &[String]) -> bool {
    match (s.is_empty(), t.is_empty()) {
        (true, true) => true,
        (true, false) | (false, true) => false,
        _ => s.iter().all(|x| t.contains(x)),
    }
}

/// `Check.execute`: every item against the audit output, falling back to the config output
/// (only when `audit_config` is set and produced output) and then to the environment.
pub fn execute_check(
    tests: &Tests,
    has_audit_config: bool,
    multiple: bool,
    out: &Outputs,
) -> Final {
    let mut items = Vec::with_capacity(tests.test_items.len());
    for item in &tests.test_items {
        let mut result = execute_item(item, AuditUsed::Audit, &out.audit, multiple);
        if !result.flag_found && has_audit_config && !out.audit_config.is_empty() {
            result = execute_item(item, AuditUsed::AuditConfig, &out.audit_config, multiple);
            if !result.flag_found && !item.env.is_empty() {
                result = execute_item(item, AuditUsed::AuditEnv, &out.audit_env, multiple);
            }
        }
        if !result.flag_found && !item.env.is_empty() {
            result = execute_item(item, AuditUsed::AuditEnv, &out.audit_env, multiple);
        }
        items.push(result);
    }
    let expected: Vec<&str> = items.iter().map(|r| r.expected_result.as_str()).collect();
    let (test_result, expected_result) = match tests.bin_op.as_str() {
        "and" | "" => (items.iter().all(|r| r.test_result), expected.join(" AND ")),
        "or" => (items.iter().any(|r| r.test_result), expected.join(" OR ")),
        other => {
            return Final {
                test_result: false,
                actual_result: format!("unknown binary operator for tests {other}\n"),
                expected_result: String::new(),
                items,
                error: Some(format!("unknown binary operator for tests {other}")),
            };
        }
    };
    let actual_result = items
        .first()
        .map(|r| r.actual_result.clone())
        .unwrap_or_default();
    Final {
        test_result,
        actual_result,
        expected_result,
        items,
        error: None,
    }
}
