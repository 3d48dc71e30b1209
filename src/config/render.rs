//! `[outputs]`, `[watermark]`, `[labels]` and `[composites]` turned into what rendering applies
//! ([`RenderParams`]): the one place those sections become the renderer's parameters. A run
//! resolves them from its configuration; `verify` from a manifest of schema 2, which recorded
//! the four sections themselves rather than the parameters.

use serde::Deserialize;

use super::{CompositesConfig, LabelsConfig, OutputsConfig, WatermarkConfig, parse_hex_colour};
use crate::render::composite::CompositeParams;
use crate::render::encode::EncodeParams;
use crate::render::params::RenderParams;
use crate::render::watermark::WatermarkParams;

/// The four sections a render depends on, as a configuration holds them and as a manifest of
/// schema 2 recorded them (`render` there; `watermark.logo` is then the published copy).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSections {
    pub outputs: OutputsConfig,
    pub watermark: WatermarkConfig,
    pub labels: LabelsConfig,
    pub composites: CompositesConfig,
}

impl OutputsConfig {
    /// The encoder settings `[outputs]` gives the photos (thumbnails take the composites'
    /// quality on top): for a run, and for the tests that encode as a run does.
    #[must_use]
    pub fn encode_params(&self) -> EncodeParams {
        EncodeParams {
            jpeg_quality: self.jpeg_quality,
            jpeg_progressive: self.jpeg_progressive,
            webp_quality: self.webp_quality,
            webp_effort: self.webp_effort,
            avif_quality: self.avif_quality,
            avif_speed: self.avif_speed,
        }
    }
}

impl RenderSections {
    /// What rendering applies. `logo` is the published copy of the watermark's logo
    /// (`assets/watermark.<hash>.png`), when the mark is a logo.
    #[must_use]
    pub fn params(&self, logo: Option<&str>) -> RenderParams {
        let o = &self.outputs;
        let encode = o.encode_params();
        let thumb = self.composites.thumb_quality;
        RenderParams {
            widths: o.widths.clone(),
            formats: o.formats.clone(),
            encode,
            thumb_encode: EncodeParams {
                jpeg_quality: thumb,
                webp_quality: thumb,
                ..encode
            },
            labels: self.labels.params(),
            watermark: self.watermark_params(logo),
            composites: self.composite_params(),
        }
    }

    fn watermark_params(&self, logo: Option<&str>) -> Option<WatermarkParams> {
        let w = &self.watermark;
        w.enabled.then(|| WatermarkParams {
            logo: logo.unwrap_or_default().to_owned(),
            text: w.text.clone(),
            anchor: w.position,
            opacity: w.opacity,
            size: w.size,
            margin: w.margin,
            min_width: w.min_width,
        })
    }

    fn composite_params(&self) -> Option<CompositeParams> {
        let c = &self.composites;
        c.enabled.then(|| CompositeParams {
            width: c.width,
            thumb_widths: c.thumb_widths.clone(),
            thumb_aspect: f64::from(c.thumb_aspect),
            square: c.square,
            social: c.social,
            stack_above_aspect: f64::from(c.stack_above_aspect),
            gap: f64::from(c.gap),
            // Validated in a configuration; a tampered manifest renders black and `verify` says so.
            background: parse_hex_colour(&c.background).unwrap_or_default(),
            label_size: (self.labels.enabled).then_some(f64::from(self.labels.size)),
        })
    }
}
