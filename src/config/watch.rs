//! `[watch]`: timings of `beforeafter watch`.

use serde::{Deserialize, Serialize};

use super::Allowed::Int;
use super::Bounds;

/// `beforeafter watch` timing (see `config/default.toml`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// How long a photo's size and mtime must stay the same before it is read, in ms.
    pub quiet_ms: u64,
    /// `--poll` scan interval, in ms.
    pub poll_ms: u64,
    /// How long a photo that does not decode must stay unchanged before it is reported, in ms.
    pub broken_after_ms: u64,
}

impl WatchConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("quiet_ms", Int(50, 60_000)),
        ("poll_ms", Int(100, 600_000)),
        ("broken_after_ms", Int(100, 600_000)),
    ];
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn watch_timings_are_validated() {
        let c = Config::from_str_at("[watch]\nquiet_ms = 500\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.watch.quiet_ms, 500);
        let e = Config::from_str_at("[watch]\nquiet_ms = 0\n", Path::new("c.toml"));
        assert!(e.unwrap_err().to_string().contains("watch.quiet_ms"));
    }
}
