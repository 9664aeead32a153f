//! The shell subset kube-bench's audit strings are written in: words with single/double
//! quotes, `$var`, `${var}`, `${var:-default}`, `$(...)`; pipelines, `;`/newline lists,
//! `&&`/`||`, `if/then/elif/else/fi`, `for NAME in ...; do ...; done`, `NAME=value`
//! assignments, `2>/dev/null`-style redirections and comments. Anything else is a parse
//! error, which makes the audit "not evaluated natively".

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String, bool),
    Var(String, Option<String>, bool),
    Subst(Vec<Stmt>, bool),
}

pub type Word = Vec<Part>;

#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    pub words: Vec<Word>,
    /// `2>/dev/null` (stderr dropped).
    pub stderr_null: bool,
    /// `2>&1`.
    pub stderr_to_stdout: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Pipeline(Vec<Cmd>),
    Assign(String, Word),
    And(Box<Stmt>, Box<Stmt>),
    Or(Box<Stmt>, Box<Stmt>),
    Not(Box<Stmt>),
    If(Vec<(Vec<Stmt>, Vec<Stmt>)>, Option<Vec<Stmt>>),
    For(String, Vec<Word>, Vec<Stmt>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Pipe,
    AndIf,
    OrIf,
    Sep,
    RedirErr(String),
}

pub fn parse(script: &str) -> Result<Vec<Stmt>, String> {
    let toks = tokenize(script)?;
    let mut p = Parser { toks, pos: 0 };
    let stmts = p.list(&[])?;
    if p.pos < p.toks.len() {
        return Err(format!("unexpected token {:?}", p.toks.get(p.pos)));
    }
    Ok(stmts)
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut word: Word = Vec::new();
    let mut in_word = false;
    let at = |i: usize| chars.get(i).copied();
    macro_rules! flush {
        () => {
            if in_word {
                toks.push(Tok::Word(std::mem::take(&mut word)));
                in_word = false;
            }
        };
    }
    while let Some(c) = at(i) {
        match c {
            ' ' | '\t' => {
                flush!();
                i += 1;
            }
            '\n' | ';' => {
                flush!();
                toks.push(Tok::Sep);
                i += 1;
            }
            '#' if !in_word => {
                while let Some(c) = at(i) {
                    if c == '\n' {
                        break;
                    }
                    i += 1;
                }
            }
            '|' => {
                flush!();
                if at(i + 1) == Some('|') {
                    toks.push(Tok::OrIf);
                    i += 2;
                } else {
                    toks.push(Tok::Pipe);
                    i += 1;
                }
            }
            '&' => {
                flush!();
                if at(i + 1) == Some('&') {
                    toks.push(Tok::AndIf);
                    i += 2;
                } else {
                    return Err("background jobs (&) are not supported".into());
                }
            }
            '2' if !in_word && at(i + 1) == Some('>') => {
                i += 2;
                if at(i) == Some('&') && at(i + 1) == Some('1') {
                    toks.push(Tok::RedirErr("&1".into()));
                    i += 2;
                    continue;
                }
                while at(i) == Some(' ') {
                    i += 1;
                }
                let start = i;
                while let Some(c) = at(i) {
                    if c.is_whitespace() || c == ';' || c == '|' {
                        break;
                    }
                    i += 1;
                }
                toks.push(Tok::RedirErr(
                    chars.get(start..i).unwrap_or_default().iter().collect(),
                ));
            }
            '>' | '<' | '(' | ')' | '`' => {
                return Err(format!("shell syntax {c:?} is not supported"));
            }
            '\'' => {
                in_word = true;
                let start = i + 1;
                let end = (start..chars.len())
                    .find(|&j| at(j) == Some('\''))
                    .ok_or("unterminated single quote")?;
                word.push(Part::Lit(
                    chars.get(start..end).unwrap_or_default().iter().collect(),
                    true,
                ));
                i = end + 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                let mut lit = String::new();
                loop {
                    match at(i) {
                        None => return Err("unterminated double quote".into()),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            match at(i + 1) {
                                Some(n @ ('"' | '\\' | '$' | '`')) => lit.push(n),
                                Some('\n') => {}
                                Some(n) => {
                                    lit.push('\\');
                                    lit.push(n);
                                }
                                None => lit.push('\\'),
                            }
                            i += 2;
                        }
                        Some('$') => {
                            if !lit.is_empty() {
                                word.push(Part::Lit(std::mem::take(&mut lit), true));
                            }
                            let (part, next) = dollar(&chars, i, true)?;
                            word.push(part);
                            i = next;
                        }
                        Some(c) => {
                            lit.push(c);
                            i += 1;
                        }
                    }
                }
                if !lit.is_empty() || word.is_empty() {
                    word.push(Part::Lit(lit, true));
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = at(i + 1)
                    && n != '\n'
                {
                    word.push(Part::Lit(n.to_string(), true));
                }
                i += 2;
            }
            '$' => {
                in_word = true;
                let (part, next) = dollar(&chars, i, false)?;
                word.push(part);
                i = next;
            }
            c => {
                in_word = true;
                match word.last_mut() {
                    Some(Part::Lit(s, false)) => s.push(c),
                    _ => word.push(Part::Lit(c.to_string(), false)),
                }
                i += 1;
            }
        }
    }
    if in_word {
        toks.push(Tok::Word(word));
    }
    Ok(toks)
}

/// `$...` at `i`: the part and the index after it.
fn dollar(chars: &[char], i: usize, quoted: bool) -> Result<(Part, usize), String> {
    let at = |j: usize| chars.get(j).copied();
    match at(i + 1) {
        Some('(') => {
            let mut depth = 1;
            let mut j = i + 2;
            let mut quote: Option<char> = None;
            while let Some(c) = at(j) {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '\'' | '"') => quote = Some(c),
                    (None, '(') => depth += 1,
                    (None, ')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if depth != 0 {
                return Err("unterminated $(".into());
            }
            let inner: String = chars.get(i + 2..j).unwrap_or_default().iter().collect();
            Ok((Part::Subst(parse(&inner)?, quoted), j + 1))
        }
        Some('{') => {
            let end = (i + 2..chars.len())
                .find(|&j| at(j) == Some('}'))
                .ok_or("unterminated ${")?;
            let inner: String = chars.get(i + 2..end).unwrap_or_default().iter().collect();
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (inner, None),
            };
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("unsupported parameter expansion ${{{name}}}"));
            }
            Ok((Part::Var(name, default, quoted), end + 1))
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let mut j = i + 1;
            while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                j += 1;
            }
            let name: String = chars.get(i + 1..j).unwrap_or_default().iter().collect();
            Ok((Part::Var(name, None, quoted), j))
        }
        Some(c) if c.is_ascii_digit() || c == '?' || c == '@' || c == '*' => {
            Err(format!("special parameter ${c} is not supported"))
        }
        _ => Ok((Part::Lit("$".into(), quoted), i + 1)),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn word_text(w: &Word) -> Option<String> {
    let mut s = String::new();
    for p in w {
        match p {
            Part::Lit(t, false) => s.push_str(t),
            _ => return None,
        }
    }
    Some(s)
}

impl Parser {
    fn peek_kw(&self) -> Option<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => word_text(w),
            _ => None,
        }
    }

    fn skip_seps(&mut self) {
        while matches!(self.toks.get(self.pos), Some(Tok::Sep)) {
            self.pos += 1;
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), String> {
        self.skip_seps();
        if self.peek_kw().as_deref() == Some(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{kw}`"))
        }
    }

    /// Statements until one of `stop` keywords (not consumed) or the end.
    fn list(&mut self, stop: &[&str]) -> Result<Vec<Stmt>, String> {
        let mut out = Vec::new();
        loop {
            self.skip_seps();
            if self.pos >= self.toks.len() {
                break;
            }
            if let Some(kw) = self.peek_kw()
                && stop.contains(&kw.as_str())
            {
                break;
            }
            out.push(self.and_or()?);
        }
        Ok(out)
    }

    fn and_or(&mut self) -> Result<Stmt, String> {
        let mut left = self.command()?;
        loop {
            match self.toks.get(self.pos) {
                Some(Tok::AndIf) => {
                    self.pos += 1;
                    let right = self.command()?;
                    left = Stmt::And(Box::new(left), Box::new(right));
                }
                Some(Tok::OrIf) => {
                    self.pos += 1;
                    let right = self.command()?;
                    left = Stmt::Or(Box::new(left), Box::new(right));
                }
                _ => return Ok(left),
            }
        }
    }

    fn command(&mut self) -> Result<Stmt, String> {
        match self.peek_kw().as_deref() {
            Some("if") => {
                self.pos += 1;
                let mut arms = Vec::new();
                let cond = self.list(&["then"])?;
                self.expect_kw("then")?;
                let body = self.list(&["elif", "else", "fi"])?;
                arms.push((cond, body));
                let mut else_ = None;
                loop {
                    match self.peek_kw().as_deref() {
                        Some("elif") => {
                            self.pos += 1;
                            let c = self.list(&["then"])?;
                            self.expect_kw("then")?;
                            let b = self.list(&["elif", "else", "fi"])?;
                            arms.push((c, b));
                        }
                        Some("else") => {
                            self.pos += 1;
                            else_ = Some(self.list(&["fi"])?);
                        }
                        Some("fi") => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err("expected `fi`".into()),
                    }
                }
                Ok(Stmt::If(arms, else_))
            }
            Some("for") => {
                self.pos += 1;
                let name = self.peek_kw().ok_or("expected a loop variable")?;
                self.pos += 1;
                self.expect_kw("in")?;
                let mut words = Vec::new();
                while let Some(Tok::Word(w)) = self.toks.get(self.pos) {
                    words.push(w.clone());
                    self.pos += 1;
                }
                self.expect_kw("do")?;
                let body = self.list(&["done"])?;
                self.expect_kw("done")?;
                Ok(Stmt::For(name, words, body))
            }
            Some("while") | Some("until") | Some("case") | Some("[[") | Some("{") => Err(format!(
                "`{}` is not supported",
                self.peek_kw().unwrap_or_default()
            )),
            Some("!") => {
                self.pos += 1;
                Ok(Stmt::Not(Box::new(self.command()?)))
            }
            _ => self.pipeline(),
        }
    }

    fn pipeline(&mut self) -> Result<Stmt, String> {
        let mut cmds = Vec::new();
        loop {
            let mut cmd = Cmd {
                words: Vec::new(),
                stderr_null: false,
                stderr_to_stdout: false,
            };
            loop {
                match self.toks.get(self.pos) {
                    Some(Tok::Word(w)) => {
                        cmd.words.push(w.clone());
                        self.pos += 1;
                    }
                    Some(Tok::RedirErr(t)) => {
                        match t.as_str() {
                            "/dev/null" => cmd.stderr_null = true,
                            "&1" => cmd.stderr_to_stdout = true,
                            other => {
                                return Err(format!("redirection to {other:?} is not supported"));
                            }
                        }
                        self.pos += 1;
                    }
                    _ => break,
                }
            }
            if cmd.words.is_empty() {
                return Err("empty command".into());
            }
            // `NAME=value` alone is an assignment.
            if cmds.is_empty()
                && cmd.words.len() == 1
                && let Some(Part::Lit(first, false)) = cmd.words.first().and_then(|w| w.first())
                && let Some((name, rest)) = first.split_once('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !matches!(self.toks.get(self.pos), Some(Tok::Pipe))
            {
                let mut value: Word = Vec::new();
                if !rest.is_empty() {
                    value.push(Part::Lit(rest.to_string(), false));
                }
                value.extend(
                    cmd.words
                        .first()
                        .map(|w| w.iter().skip(1).cloned().collect::<Vec<_>>())
                        .unwrap_or_default(),
                );
                return Ok(Stmt::Assign(name.to_string(), value));
            }
            cmds.push(cmd);
            if matches!(self.toks.get(self.pos), Some(Tok::Pipe)) {
                self.pos += 1;
                self.skip_seps();
            } else {
                break;
            }
        }
        Ok(Stmt::Pipeline(cmds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cfg_shapes() {
        for s in [
            "/bin/ps -ef | grep kube-apiserver | grep -v grep",
            "/bin/sh -c 'if test -e /a; then stat -c permissions=%a /a; fi'",
            "for adminconf in /a /b; do if test -e $adminconf; then stat -c \"permissions=%a %n\" $adminconf; fi; done",
            "CAFILE=$(ps -ef | grep kubelet | awk -F '--client-ca-file=' '{print $2}')\nif test -z $CAFILE; then CAFILE=/x; fi",
            "find /var/lib/cni/networks -type f 2> /dev/null | xargs --no-run-if-empty stat -c %U:%G",
        ] {
            parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        assert!(parse("diff <(echo a) b").is_err());
    }
}
