//! Errors of the audit crate.

use thiserror::Error;

/// A rules file could not be loaded or compiled.
#[derive(Debug, Error)]
pub enum RulesError {
    #[error("{file}: cannot read rules file: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}:{line}: {item}: {message}")]
    Item {
        file: String,
        line: usize,
        item: String,
        message: String,
    },
    #[error(
        "{file}:{line}: {item}: condition error at byte {position}: {message}\n{snippet}\nFix the condition; docs/audit.md lists the supported fields and operators."
    )]
    Condition {
        file: String,
        line: usize,
        item: String,
        position: usize,
        message: String,
        snippet: String,
    },
    #[error("{file}: cannot read rules file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}
