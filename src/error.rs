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
