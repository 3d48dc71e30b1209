//! What a run needs from the configuration, resolved once: the cache key of everything that
//! shapes pixels, the decode limits, the watermark and composite parameters, and the render
//! record the manifest carries so `verify` can render every output again.

use serde::Serialize;

use crate::config::{Config, parse_hex_colour};
use crate::discover::Case;
use crate::ingest::IngestParams;
use crate::manifest::RenderRecord;
use crate::render::composite::CompositeParams;
use crate::render::watermark::Watermark;

use super::fit::FitParams;
use crate::render::outputs::{RenderParams, Renderer};
use super::source::Source;
use super::timings::Timings;

/// Everything a case needs from the configuration, resolved once per run.
pub struct Settings {
    pub config: Config,
    /// Hash of the settings that shape images, plus the tool version.
    pub key: String,
    pub ingest: IngestParams,
    pub fit: FitParams,
    pub render: RenderParams,
    /// The watermark logo as published (`assets/watermark.<hash>.png`, re-encoded from its
    /// pixels so no metadata of the clinic's file goes along), when a logo is used.
    pub watermark_asset: Option<(String, Vec<u8>)>,
    pub publish_review: bool,
    pub timings: Timings,
    /// Where the square and social images go for staff (`<input>/.beforeafter/social/`) when
    /// the public page does not offer them; set by runs that write.
    pub staff: Option<std::path::PathBuf>,
}

/// The parts of the configuration that change pixels, hashed into every case key.
#[derive(Serialize)]
struct ImageSettings<'a> {
    version: &'a str,
    /// How outputs are derived from the source (`render::RENDERER`).
    renderer: &'a str,
    /// How photos are decoded (`ingest::DECODER`).
    decoder: &'a str,
    /// How files are encoded (`render::encode::ENCODERS`).
    encoders: &'a str,
    /// How light is matched (`tone::MODEL`): a better fit re-renders what the last one made.
    tone_model: &'a str,
    outputs: &'a crate::config::OutputsConfig,
    watermark: &'a crate::config::WatermarkConfig,
    logo: Option<String>,
    labels: &'a crate::config::LabelsConfig,
    composites: &'a crate::config::CompositesConfig,
    align: &'a crate::config::AlignConfig,
    tone: &'a crate::config::ToneConfig,
    /// Not pixels, but the verdict: a policy change must re-decide held and published cases.
    quality: &'a crate::config::QualityConfig,
    /// The bars hand decisions and crops must meet: the verdict too.
    review: &'a crate::config::ReviewConfig,
    publish_review: bool,
}

impl Settings {
    pub fn new(config: &Config, publish_review: bool) -> Settings {
        let publish_review = publish_review || config.cases.publish_review;
        let watermark_asset = config.logo_png.as_deref().and_then(clean_png).map(|png| {
            let hash = blake3::hash(&png).to_hex();
            (format!("assets/watermark.{}.png", &hash[..8]), png)
        });
        let image_settings = ImageSettings {
            version: env!("CARGO_PKG_VERSION"),
            renderer: crate::render::RENDERER,
            decoder: crate::ingest::DECODER,
            encoders: crate::render::encode::ENCODERS,
            tone_model: crate::tone::MODEL,
            outputs: &config.outputs,
            watermark: &config.watermark,
            logo: watermark_asset.as_ref().map(|(path, _)| path.clone()),
            labels: &config.labels,
            composites: &config.composites,
            align: &config.align,
            tone: &config.tone,
            quality: &config.quality,
            review: &config.review,
            publish_review,
        };
        let json = serde_json::to_vec(&image_settings).expect("settings serialize");
        Settings {
            key: blake3::hash(&json).to_hex().to_string(),
            ingest: IngestParams {
                max_pixels: config.limits.max_pixels(),
                max_file_bytes: config.limits.max_file_bytes(),
            },
            fit: FitParams {
                align: config.align.clone(),
                tone: config.tone.clone(),
                review: config.review.clone(),
            },
            render: RenderParams {
                outputs: config.outputs.clone(),
                labels: config.labels.clone(),
                watermark: Watermark::new(
                    &config.watermark,
                    watermark_asset.as_ref().map(|(_, png)| png.as_slice()),
                ),
                composite: composite_params(config),
            },
            watermark_asset,
            publish_review,
            timings: Timings::default(),
            config: config.clone(),
            staff: None,
        }
    }

    /// The render stage's view of these settings.
    pub fn renderer(&self) -> Renderer<'_> {
        Renderer {
            params: &self.render,
            timings: &self.timings,
        }
    }

    /// The cache key of a case: settings, and every source's view, stage and content.
    pub fn case_key(&self, c: &Case, sources: &[Vec<Source>]) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.key.as_bytes());
        // Manual alignment shapes pixels; captions do not.
        h.update(&serde_json::to_vec(&c.meta.align).expect("serializes"));
        for (view, srcs) in c.views.iter().zip(sources) {
            for (stage, src) in view.stages.iter().zip(srcs) {
                h.update(format!("\n{}/{}/{}", view.name, stage.stage, src.hash).as_bytes());
            }
        }
        // Which files are made and where: the square and social images only with the
        // patient's consent to social media, public or for staff (`social_downloads`).
        if c.social {
            let public = self.config.gallery.social_downloads;
            h.update(format!("\nshare {public}").as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// What the manifest records of these settings for `verify`.
    pub fn render_record(&self) -> RenderRecord {
        let c = &self.config;
        let mut watermark = c.watermark.clone();
        watermark.logo = self
            .watermark_asset
            .as_ref()
            .map(|(path, _)| path.clone())
            .unwrap_or_default();
        RenderRecord {
            outputs: c.outputs.clone(),
            watermark,
            labels: c.labels.clone(),
            composites: c.composites.clone(),
        }
    }
}

fn composite_params(config: &Config) -> Option<CompositeParams> {
    let c = &config.composites;
    c.enabled.then(|| CompositeParams {
        width: c.width,
        thumb_widths: c.thumb_widths.clone(),
        thumb_aspect: f64::from(c.thumb_aspect),
        thumb_quality: c.thumb_quality,
        square: c.square,
        social: c.social,
        stack_above_aspect: f64::from(c.stack_above_aspect),
        gap: f64::from(c.gap),
        background: parse_hex_colour(&c.background).expect("validated"),
        label_size: config
            .labels
            .enabled
            .then_some(f64::from(config.labels.size)),
    })
}

/// An image file re-encoded as a PNG from its RGBA pixels: nothing but pixels.
pub fn clean_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let rgba = image::load_from_memory(bytes).ok()?.into_rgba8();
    let mut out = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .ok()?;
    Some(out)
}
