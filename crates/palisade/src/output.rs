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
