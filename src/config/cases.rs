//! `[cases]`: which cases may be published and how their public ids are made.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    pub default_consent: bool,
    pub publish_review: bool,
    /// Public ids of cases without a `slug`: opaque, or the folder names.
    pub ids: crate::ids::PublicIds,
    /// Read photos and case folders linked in from outside the input folder.
    pub follow_symlinks: bool,
}
