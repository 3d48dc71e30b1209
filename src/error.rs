//! Error types. Two kinds, kept apart on purpose: a [`Fatal`] error stops the run (bad config,
//! output folder unusable, exit 1); a [`PhotoError`] fails one case and the run goes on (exit 3).

use std::path::PathBuf;

use thiserror::Error;

/// A configuration problem: always names the file, and the key when there is one.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {} is not valid TOML here: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("config file {}: key `{key}`: {message}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// Errors that stop the whole run.
#[derive(Debug, Error)]
pub enum Fatal {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("input folder {}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// The cause is part of the message, not a `source`: printed with `{:#}` it would be said
    /// twice ("No space left on device ...; check ...: No space left on device").
    #[error("output folder {}: {cause}; check that it is writable and the disk has room", path.display())]
    Output {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// One photo (or one case file) could not be used: names the file and says how to fix it.
#[derive(Debug, Error, Clone)]
#[error("{}: {reason}", path.display())]
pub struct PhotoError {
    pub path: PathBuf,
    pub reason: String,
}

impl PhotoError {
    pub fn new(path: impl Into<PathBuf>, reason: impl Into<String>) -> PhotoError {
        PhotoError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// How a command ends: the process's exit status (oxipng's `Ok`/`Failed`/`Skipped` folded into
/// one code; docs/reference.md, "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: everything done (every case published; everything `verify` checked holds).
    Done = 0,
    /// 1: the run could not go on (configuration, output folder): a [`Fatal`] error.
    Fatal = 1,
    /// 3: done, but some cases failed or need review; for `verify` and `check`, something
    /// differs or waits.
    Attention = 3,
}

impl ExitCode {
    /// 0, 1 or 3.
    #[must_use]
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code a command that still returns a bare number (`publish`, whose storage layer is
    /// being replaced) ends with: 0 and 3 as they are, anything else fatal.
    #[must_use]
    pub fn from_code(code: i32) -> ExitCode {
        match code {
            0 => ExitCode::Done,
            3 => ExitCode::Attention,
            _ => ExitCode::Fatal,
        }
    }

    /// [`ExitCode::Attention`] when `attention`, else [`ExitCode::Done`].
    #[must_use]
    pub fn attention_if(attention: bool) -> ExitCode {
        if attention {
            ExitCode::Attention
        } else {
            ExitCode::Done
        }
    }
}
