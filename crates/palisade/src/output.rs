//! Where reports go (stdout or a file) and whether they get colour.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub struct Output {
    inner: BufWriter<Box<dyn Write>>,
    color: bool,
    path: Option<PathBuf>,
}

impl Output {
    /// Opens `path`, or stdout when `None`. Colour: never into files; `auto` follows
    /// <https://no-color.org> (`NO_COLOR` set and non-empty disables it) and terminal detection.
    pub fn open(path: Option<&Path>, choice: ColorChoice) -> Result<Output> {
        let (writer, tty): (Box<dyn Write>, bool) = match path {
            Some(p) => (
                Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
                false,
            ),
            None => {
                let stdout = std::io::stdout();
                let tty = stdout.is_terminal();
                (Box::new(stdout), tty)
            }
        };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => path.is_none(),
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Ok(Output {
            inner: BufWriter::new(writer),
            color,
            path: path.map(Path::to_path_buf),
        })
    }

    pub fn color(&self) -> bool {
        self.color
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.inner
    }

    pub fn finish(mut self) -> Result<()> {
        match self.inner.flush() {
            Ok(()) => Ok(()),
            // `palisade scan ... | head` closes the pipe early: not an error worth reporting.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(e).with_context(|| match &self.path {
                Some(p) => format!("writing {}", p.display()),
                None => "writing to standard output".to_owned(),
            }),
        }
    }
}

/// `--listen` for the three servers: `HOST:PORT` (a host name such as `localhost` is resolved, its
/// first address used), `[IPv6]:PORT`, or `:PORT` for every interface, as Go servers and
/// kubectl accept it.
pub fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{SocketAddr, ToSocketAddrs};
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| {
        format!("`{s}` is not a listen address ({why}): use HOST:PORT, [IPv6]:PORT or :PORT")
    };
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| bad("port is not a number".into()))?;
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port".into()))?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad("port is not a number".into()));
    }
    s.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad(format!("{host} has no address")))
}

/// `10s`, `500ms`, `2m`, `1h`, or a number of seconds; above 0 and at most a day (timeouts of
/// `scan --cluster`, `--render` and `feed affected --cluster`).
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (10s, 500ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{text:?}: must be more than 0 and at most 24h"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// `--fail-on` of `scan`, `image` and `sbom`: a severity, or `never`.
pub fn parse_fail_on(s: &str) -> std::result::Result<palisade_report::FailOn, String> {
    use palisade_report::FailOn;
    if s.eq_ignore_ascii_case("never") {
        return Ok(FailOn::Never);
    }
    palisade_core::Severity::parse(s)
        .map(FailOn::At)
        .ok_or_else(|| {
            format!("unknown severity {s:?}: use info, low, medium, high, critical or never")
        })
}

#[cfg(test)]
mod tests {
    use super::{parse_fail_on, parse_listen};
    use palisade_core::Severity;
    use palisade_report::FailOn;
    use std::net::SocketAddr;

    #[test]
    fn fail_on_is_a_severity_or_never() {
        assert_eq!(parse_fail_on("never"), Ok(FailOn::Never));
        assert_eq!(parse_fail_on("NEVER"), Ok(FailOn::Never));
        assert_eq!(parse_fail_on("high"), Ok(FailOn::At(Severity::High)));
        assert_eq!(parse_fail_on("info"), Ok(FailOn::At(Severity::Info)));
        let err = parse_fail_on("urgent").unwrap_err();
        assert!(err.contains("\"urgent\"") && err.contains("never"), "{err}");
    }

    #[test]
    fn listen_addresses_as_servers_accept_them() {
        let ok = |s: &str| parse_listen(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(
            ok("0.0.0.0:8443"),
            "0.0.0.0:8443".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            ok("[::1]:8443"),
            "[::1]:8443".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(ok(":8443"), "0.0.0.0:8443".parse::<SocketAddr>().unwrap());
        let local = ok("localhost:8443");
        assert!(local.ip().is_loopback() && local.port() == 8443, "{local}");
        for bad in [
            "8443",
            ":",
            ":port",
            "localhost:",
            "localhost:99999",
            "",
            "a b:1",
        ] {
            let e = parse_listen(bad).unwrap_err();
            assert!(e.contains("HOST:PORT"), "{bad}: {e}");
        }
    }
}
