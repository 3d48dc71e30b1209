//! What rendering applies, resolved once from the configuration (`config/render.rs`) and
//! recorded as it is in the manifest, so `verify` renders every output again from the record
//! alone: sizes and formats, the encoders' settings, the labels, the watermark and the
//! composites. Rendering reads nothing else.

use serde::{Deserialize, Serialize};

use super::Format;
use super::composite::CompositeParams;
use super::encode::EncodeParams;
use super::watermark::WatermarkParams;

/// Every setting that decides a published image's pixels and bytes, besides the photos and their
/// per-stage records (matrix, crop, tone fit).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderParams {
    /// Output widths in pixels; each is capped at the crop's width (never upscaled).
    pub widths: Vec<u32>,
    /// The formats of every photo and thumbnail (downloadable composites are JPEG only).
    pub formats: Vec<Format>,
    /// The encoders' settings for photos and composites.
    pub encode: EncodeParams,
    /// The same for the index thumbnails, at their own quality.
    pub thumb_encode: EncodeParams,
    /// The words of the burnt-in labels (their size is the composites' `label_size`).
    pub labels: LabelParams,
    /// `None`: no watermark.
    pub watermark: Option<WatermarkParams>,
    /// `None`: no composites and no index thumbnails.
    pub composites: Option<CompositeParams>,
}

impl RenderParams {
    /// The encoders' settings for a picture: the thumbnails' own, or everyone else's.
    #[must_use]
    pub fn encode_for(&self, thumb: bool) -> &EncodeParams {
        if thumb {
            &self.thumb_encode
        } else {
            &self.encode
        }
    }
}

/// The labels' words (`[labels]`): "BEFORE", "AFTER", "SESSION {n}".
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelParams {
    pub before: String,
    pub after: String,
    /// `{n}` is replaced by the session's number.
    pub session: String,
}

impl LabelParams {
    /// A stage's burnt-in label: "BEFORE", "SESSION 2"; a stage of another name in capitals.
    #[must_use]
    pub fn tag(&self, stage: &str) -> String {
        match stage {
            "before" => self.before.clone(),
            "after" => self.after.clone(),
            other => match other.strip_prefix("session-") {
                Some(n) => self.session.replace("{n}", n),
                None => other.to_uppercase(),
            },
        }
    }
}
