//! The controls file schema (kube-bench `check/controls.go`, `check/check.go`, `check/test.go`)
//! read from [`Raw`] YAML with yaml.v2's rules: unknown keys ignored, scalars as text, fields
//! without a yaml tag under their lower-cased Go name, `set` true unless written.

use crate::BenchError;
use crate::raw::Raw;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Controls {
    pub id: String,
    pub version: String,
    pub text: String,
    /// `type`: the node type the file is for (`master`, `node`, `etcd`, ...).
    pub node_type: String,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub id: String,
    pub text: String,
    pub kind: String,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub audit: String,
    pub audit_env: String,
    pub audit_config: String,
    /// `type`: `manual`, `skip` or empty.
    pub kind: String,
    pub tests: Option<Tests>,
    pub remediation: String,
    pub scored: bool,
    /// `use_multiple_values`.
    pub is_multiple: bool,
    /// `disableenvtesting` (yaml.v2's name for the untagged Go field).
    pub disable_env_testing: bool,
    /// Line of the check in its file (for messages).
    pub line: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tests {
    pub bin_op: String,
    pub test_items: Vec<TestItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestItem {
    pub flag: String,
    pub path: String,
    pub env: String,
    pub set: bool,
    pub compare: Compare,
}

impl Default for TestItem {
    fn default() -> TestItem {
        TestItem {
            flag: String::new(),
            path: String::new(),
            env: String::new(),
            set: true,
            compare: Compare::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compare {
    pub op: String,
    pub value: String,
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, node: &Raw, field: &str, message: String) -> BenchError {
        BenchError::Cfg {
            file: self.file.to_string(),
            line: node.line(),
            field: field.to_string(),
            message,
        }
    }

    fn string(&self, parent: &Raw, key: &str) -> Result<String, BenchError> {
        match parent.get(key) {
            None | Some(Raw::Null(_)) => Ok(String::new()),
            Some(Raw::Str(s, _)) => Ok(s.clone()),
            Some(other) => Err(self.err(other, key, "expected a scalar".into())),
        }
    }

    fn boolean(&self, parent: &Raw, key: &str, default: bool) -> Result<bool, BenchError> {
        match parent.get(key) {
            None | Some(Raw::Null(_)) => Ok(default),
            Some(node @ Raw::Str(s, _)) => parse_bool(s)
                .ok_or_else(|| self.err(node, key, format!("cannot read {s:?} as a boolean"))),
            Some(other) => Err(self.err(other, key, "expected a boolean".into())),
        }
    }

    fn seq<'r>(&self, parent: &'r Raw, key: &str) -> Result<&'r [Raw], BenchError> {
        match parent.get(key) {
            None | Some(Raw::Null(_)) => Ok(&[]),
            Some(Raw::Seq(items, _)) => Ok(items),
            Some(other) => Err(self.err(other, key, "expected a sequence".into())),
        }
    }
}

/// YAML 1.1 booleans as yaml.v2 reads them into a bool field.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

/// Reads one controls file's text (already substituted) as kube-bench's `NewControls` does.
pub fn parse_controls(file: &str, text: &str) -> Result<Controls, BenchError> {
    let raw = crate::raw::parse(file, text)?;
    controls_from_raw(file, &raw)
}

pub fn controls_from_raw(file: &str, raw: &Raw) -> Result<Controls, BenchError> {
    let cx = Ctx { file };
    if !matches!(raw, Raw::Map(..) | Raw::Null(_)) {
        return Err(cx.err(raw, "", "a controls file must be a mapping".into()));
    }
    let mut groups = Vec::new();
    for g in cx.seq(raw, "groups")? {
        groups.push(group(&cx, g)?);
    }
    Ok(Controls {
        id: cx.string(raw, "id")?,
        version: cx.string(raw, "version")?,
        text: cx.string(raw, "text")?,
        node_type: cx.string(raw, "type")?,
        groups,
    })
}

fn group(cx: &Ctx<'_>, g: &Raw) -> Result<Group, BenchError> {
    if !matches!(g, Raw::Map(..)) {
        return Err(cx.err(g, "groups", "a group must be a mapping".into()));
    }
    let mut checks = Vec::new();
    for c in cx.seq(g, "checks")? {
        checks.push(check(cx, c)?);
    }
    Ok(Group {
        id: cx.string(g, "id")?,
        text: cx.string(g, "text")?,
        kind: cx.string(g, "type")?,
        checks,
    })
}

fn check(cx: &Ctx<'_>, c: &Raw) -> Result<Check, BenchError> {
    if !matches!(c, Raw::Map(..)) {
        return Err(cx.err(c, "checks", "a check must be a mapping".into()));
    }
    let tests = match c.get("tests") {
        None | Some(Raw::Null(_)) => None,
        Some(t @ Raw::Map(..)) => {
            let mut items = Vec::new();
            for item in cx.seq(t, "test_items")? {
                items.push(test_item(cx, item)?);
            }
            Some(Tests {
                bin_op: cx.string(t, "bin_op")?,
                test_items: items,
            })
        }
        Some(other) => return Err(cx.err(other, "tests", "expected a mapping".into())),
    };
    Ok(Check {
        id: cx.string(c, "id")?,
        text: cx.string(c, "text")?,
        audit: cx.string(c, "audit")?,
        audit_env: cx.string(c, "audit_env")?,
        audit_config: cx.string(c, "audit_config")?,
        kind: cx.string(c, "type")?,
        tests,
        remediation: cx.string(c, "remediation")?,
        scored: cx.boolean(c, "scored", false)?,
        is_multiple: cx.boolean(c, "use_multiple_values", false)?,
        disable_env_testing: cx.boolean(c, "disableenvtesting", false)?,
        line: c.line(),
    })
}

fn test_item(cx: &Ctx<'_>, t: &Raw) -> Result<TestItem, BenchError> {
    if !matches!(t, Raw::Map(..)) {
        return Err(cx.err(t, "test_items", "a test item must be a mapping".into()));
    }
    let compare = match t.get("compare") {
        None | Some(Raw::Null(_)) => Compare::default(),
        Some(cmp @ Raw::Map(..)) => Compare {
            op: cx.string(cmp, "op")?,
            value: cx.string(cmp, "value")?,
        },
        Some(other) => return Err(cx.err(other, "compare", "expected a mapping".into())),
    };
    Ok(TestItem {
        flag: cx.string(t, "flag")?,
        path: cx.string(t, "path")?,
        env: cx.string(t, "env")?,
        set: cx.boolean(t, "set", true)?,
        compare,
    })
}
