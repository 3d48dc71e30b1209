//! What the pages are made with: `[gallery]` and the label words, resolved once per run, so the
//! page model never reads the raw configuration.

use crate::config::{Config, GalleryConfig};
use crate::render::params::LabelParams;

/// What the pages are made with, resolved once from `[gallery]` and `[labels]` (the label words
/// name the stages in text as on the photos).
#[derive(Clone, Debug)]
pub struct GalleryParams {
    pub gallery: GalleryConfig,
    pub labels: LabelParams,
}

impl GalleryParams {
    #[must_use]
    pub fn resolve(config: &Config) -> GalleryParams {
        GalleryParams {
            gallery: config.gallery.clone(),
            labels: config.labels.params(),
        }
    }
}
