//! `--resync-interval`: `0` (off), a number of seconds, or units `s`, `m`, `h`, `d`, combined
//! (`1h30m`).

use std::time::Duration;

/// `None` means polling is disabled.
pub fn parse(text: &str) -> Result<Option<Duration>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration; use e.g. `15m`, `1h`, or `0` to disable".to_owned());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok((n > 0).then(|| Duration::from_secs(n)));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("`{t}`: unknown unit `{c}` (use s, m, h or d)")),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{t}`: a number must come before `{c}`"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("`{t}`: too large"))?;
    }
    if !digits.is_empty() {
        return Err(format!("`{t}`: `{digits}` has no unit (use s, m, h or d)"));
    }
    Ok((total > 0).then(|| Duration::from_secs(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse("0"), Ok(None));
        assert_eq!(parse("0s"), Ok(None));
        assert_eq!(parse("90"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse("15m"), Ok(Some(Duration::from_secs(900))));
        assert_eq!(parse("1h30m"), Ok(Some(Duration::from_secs(5400))));
        assert_eq!(parse("2d"), Ok(Some(Duration::from_secs(172_800))));
        assert!(parse("").is_err());
        assert!(parse("5x").unwrap_err().contains("unknown unit"));
        assert!(parse("1h5").unwrap_err().contains("no unit"));
        assert!(parse("m").is_err());
        assert!(parse("99999999999999999999d").is_err());
    }
}
