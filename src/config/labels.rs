//! `[labels]`: the BEFORE / AFTER / session labels burnt into composites.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Number, Text};
use super::{Bounds, invalid};
use crate::error::ConfigError;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsConfig {
    pub enabled: bool,
    pub before: String,
    pub after: String,
    pub session: String,
    pub size: f32,
}

impl LabelsConfig {
    /// The labels' words as rendering and the pages use them.
    #[must_use]
    pub fn params(&self) -> crate::render::params::LabelParams {
        crate::render::params::LabelParams {
            before: self.before.clone(),
            after: self.after.clone(),
            session: self.session.clone(),
        }
    }

    pub(super) const BOUNDS: Bounds = &[
        ("before", Text(40)),
        ("after", Text(40)),
        ("session", Text(40)),
        ("size", Number(0.01, 0.2)),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let times = self.session.matches("{n}").count();
        if times > 1 {
            return Err(invalid(
                path,
                "labels.session",
                format!(
                    "{:?} has \"{{n}}\" {times} times: write it at most once",
                    self.session
                ),
            ));
        }
        Ok(())
    }
}
