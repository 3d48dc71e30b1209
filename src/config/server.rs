//! `[server]`: what the HTTP server of `watch --serve` and `review` tolerates.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Allowed::Int;
use super::Bounds;
use crate::http::Limits;

/// The server's limits (see `config/default.toml`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Connections open at once; more are closed unanswered.
    pub max_connections: u32,
    /// A request's line, headers and body must have arrived within this many ms.
    pub read_ms: u64,
    /// One connection (a request and its answer) ends after this many ms.
    pub request_ms: u64,
    /// Larger request bodies are refused, in bytes.
    pub max_body_bytes: u32,
}

impl ServerConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("max_connections", Int(8, 100_000)),
        ("read_ms", Int(100, 600_000)),
        ("request_ms", Int(1_000, 3_600_000)),
        ("max_body_bytes", Int(1_024, 100_000_000)),
    ];

    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections as usize,
            read_timeout: Duration::from_millis(self.read_ms),
            request_timeout: Duration::from_millis(self.request_ms),
            max_body_bytes: self.max_body_bytes as usize,
        }
    }
}
