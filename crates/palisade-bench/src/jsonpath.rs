//! The part of kubectl's JSONPath (client-go `util/jsonpath`, `AllowMissingKeys(true)`) that
//! kube-bench's `path:` items use: text outside `{}` is literal, `{.a.b}`, `['a']`, `[n]`,
//! `[*]`, `[a:b]`, `{range ...}...{end}`, quoted literals and `{}` (the current value).
//! Values print as Go's `fmt.Fprint` does; several results of one action are joined by a space;
//! lists and mappings print as JSON.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    All,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

/// How numbers print: JSON input decodes every number to float64 in Go (`1e+06`), YAML keeps
/// integers as int.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    Json,
    Yaml,
}

/// Evaluates `template` over `data`; `Err` is a parse error of the template.
pub fn execute(template: &str, data: &Value, numbers: Numbers) -> Result<String, String> {
    let nodes = parse(template)?;
    let mut out = String::new();
    render(&nodes, data, numbers, &mut out);
    Ok(out)
}

fn parse(template: &str) -> Result<Vec<Node>, String> {
    let mut flat = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            None => {
                flat.push(Flat::Text(rest.to_string()));
                break;
            }
            Some(open) => {
                if open > 0 {
                    flat.push(Flat::Text(rest.get(..open).unwrap_or_default().to_string()));
                }
                let after = rest.get(open + 1..).unwrap_or_default();
                let close =
                    action_end(after).ok_or_else(|| format!("unclosed action in {template:?}"))?;
                flat.push(parse_action(after.get(..close).unwrap_or_default())?);
                rest = after.get(close + 1..).unwrap_or_default();
            }
        }
    }
    let mut iter = flat.into_iter();
    let nodes = nest(&mut iter, false)?;
    Ok(nodes)
}

/// End of an action: the first `}` outside quotes.
fn action_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

enum Flat {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>),
    End,
}

fn nest(iter: &mut impl Iterator<Item = Flat>, in_range: bool) -> Result<Vec<Node>, String> {
    let mut out = Vec::new();
    while let Some(item) = iter.next() {
        match item {
            Flat::Text(t) => out.push(Node::Text(t)),
            Flat::Path(p) => out.push(Node::Path(p)),
            Flat::Range(p) => {
                let body = nest(iter, true)?;
                out.push(Node::Range(p, body));
            }
            Flat::End if in_range => return Ok(out),
            Flat::End => return Err("{end} without {range}".into()),
        }
    }
    if in_range {
        return Err("{range} without {end}".into());
    }
    Ok(out)
}

fn parse_action(inside: &str) -> Result<Flat, String> {
    let s = inside.trim();
    if s == "end" {
        return Ok(Flat::End);
    }
    if let Some(expr) = s.strip_prefix("range ") {
        return Ok(Flat::Range(parse_path(expr.trim())?));
    }
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return Ok(Flat::Text(
                s.get(1..s.len() - 1).unwrap_or_default().to_string(),
            ));
        }
    }
    Ok(Flat::Path(parse_path(s)?))
}

fn parse_path(expr: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut rest = expr.strip_prefix('$').unwrap_or(expr);
    rest = rest.strip_prefix('@').unwrap_or(rest);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = r.get(..end).unwrap_or_default();
            if name
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | ']' | '('))
            {
                return Err(format!("unsupported JSONPath field {name:?} in {expr:?}"));
            }
            if !name.is_empty() {
                steps.push(Step::Field(name.to_string()));
            }
            rest = r.get(end..).unwrap_or_default();
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("unterminated array notation in {expr:?}"))?;
            let inner = r.get(..end).unwrap_or_default().trim();
            steps.push(bracket(inner, expr)?);
            rest = r.get(end + 1..).unwrap_or_default();
        } else {
            return Err(format!("unrecognized character in action: {expr:?}"));
        }
    }
    Ok(steps)
}

fn bracket(inner: &str, expr: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::All);
    }
    for q in ['\'', '"'] {
        if inner.len() >= 2 && inner.starts_with(q) && inner.ends_with(q) {
            return Ok(Step::Field(
                inner
                    .get(1..inner.len() - 1)
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
    }
    let num = |s: &str| -> Result<Option<i64>, String> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<i64>()
                .map(Some)
                .map_err(|_| format!("unsupported array notation [{inner}] in {expr:?}"))
        }
    };
    match inner.split_once(':') {
        Some((a, b)) => Ok(Step::Slice(num(a)?, num(b)?)),
        None => match num(inner)? {
            Some(i) => Ok(Step::Index(i)),
            None => Err(format!("empty array notation in {expr:?}")),
        },
    }
}

fn eval<'a>(steps: &[Step], data: &'a Value) -> Vec<&'a Value> {
    let mut cur = vec![data];
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match (step, v) {
                (Step::Field(name), Value::Object(map)) => {
                    if let Some(x) = map.get(name)
                        && !x.is_null()
                    {
                        next.push(x);
                    }
                }
                (Step::All, Value::Array(items)) => next.extend(items.iter()),
                (Step::All, Value::Object(map)) => next.extend(map.values()),
                (Step::Index(i), Value::Array(items)) => {
                    let idx = if *i < 0 { items.len() as i64 + i } else { *i };
                    if let Some(x) = usize::try_from(idx).ok().and_then(|i| items.get(i)) {
                        next.push(x);
                    }
                }
                (Step::Slice(a, b), Value::Array(items)) => {
                    let len = items.len() as i64;
                    let fix = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                    let start = fix(a.unwrap_or(0));
                    let end = fix(b.unwrap_or(len));
                    if start < end {
                        let (s, e) = (start as usize, end as usize);
                        if let Some(slice) = items.get(s..e) {
                            next.extend(slice.iter());
                        }
                    }
                }
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

fn render(nodes: &[Node], data: &Value, numbers: Numbers, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let results = eval(steps, data);
                let texts: Vec<String> = results.iter().map(|v| print(v, numbers)).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for v in eval(steps, data) {
                    render(body, v, numbers, out);
                }
            }
        }
    }
}

fn print(v: &Value, numbers: Numbers) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Number(n) => match (numbers, n.as_i64(), n.as_u64()) {
            (Numbers::Yaml, Some(i), _) => i.to_string(),
            (Numbers::Yaml, None, Some(u)) => u.to_string(),
            _ => go_float(n.as_f64().unwrap_or(0.0)),
        },
        other => other.to_string(),
    }
}

/// Go's `%v` for a float64: shortest digits, exponent form when the exponent is < -4 or >= 21
/// digits... precisely strconv's 'g' with precision -1 (exponent < -4 or >= 6 -> `1e+06`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    // Plain decimal with the shortest digits.
    let s = format!("{f}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_float_matches_fmt_v() {
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(15000.0), "15000");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn range_with_literal_separator() {
        let data = json!({"tlsCipherSuites": ["A", "B"]});
        assert_eq!(
            execute(
                "{range .tlsCipherSuites[:]}{}{','}{end}",
                &data,
                Numbers::Yaml
            )
            .unwrap(),
            "A,B,"
        );
    }

    #[test]
    fn literal_text_outside_braces_always_renders() {
        let data = json!({});
        assert_eq!(
            execute(".streamingConnectionIdleTimeout", &data, Numbers::Yaml).unwrap(),
            ".streamingConnectionIdleTimeout"
        );
        assert_eq!(execute("{.missing.key}", &data, Numbers::Yaml).unwrap(), "");
    }

    #[test]
    fn hyphenated_fields_and_numbers() {
        let data = json!({"client-transport-security": {"auto-tls": false}, "n": 1000000});
        assert_eq!(
            execute(
                "{.client-transport-security.auto-tls}",
                &data,
                Numbers::Json
            )
            .unwrap(),
            "false"
        );
        assert_eq!(execute("{.n}", &data, Numbers::Json).unwrap(), "1e+06");
        assert_eq!(execute("{.n}", &data, Numbers::Yaml).unwrap(), "1000000");
    }
}
