//! The configuration and the command line turned once into what each stage applies
//! ([`Settings::resolve`], as fd's `construct_config`): the decode limits, fitting's and the
//! quality gate's parameters, the render parameters the manifest records, the gallery's, and the
//! cache key of everything that shapes pixels. No stage reads the raw configuration.

use serde::Serialize;

use crate::config::{CasesConfig, Config, LimitsConfig, QualityConfig};
use crate::dates::DateStyle;
use crate::discover::Case;
use crate::gallery::GalleryParams;
use crate::ingest::IngestParams;
use crate::render::outputs::Renderer;
use crate::render::params::RenderParams;
use crate::render::watermark::Watermark;

use super::fit::FitParams;
use super::source::Source;
use super::timings::Timings;

/// What the command line sets over the configuration file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    /// `--publish-review`: publish cases flagged for review anyway.
    pub publish_review: bool,
    /// `--jobs`: cases processed at once, over `jobs` in the file.
    pub jobs: Option<usize>,
}

/// Everything a case needs, resolved once per run from the configuration and the command line.
pub struct Settings {
    /// Hash of the settings that shape images, plus the tool version.
    pub key: String,
    pub ingest: IngestParams,
    /// `[limits] case_seconds`: a case that takes longer fails.
    pub case_seconds: u32,
    /// Worker threads (`jobs`, `--jobs`; 0 in the file = one per core).
    pub threads: usize,
    pub fit: FitParams,
    /// The `[quality]` policy: each finding's severity, and the date checks' day count.
    pub quality: QualityConfig,
    /// Rendering's parameters, recorded as they are in the manifest.
    pub render: RenderParams,
    /// The mark `render.watermark` describes, loaded once.
    pub watermark: Option<Watermark>,
    /// The watermark logo as published (`assets/watermark.<hash>.png`, re-encoded from its
    /// pixels so no metadata of the clinic's file goes along), when a logo is used.
    pub watermark_asset: Option<(String, Vec<u8>)>,
    pub gallery: GalleryParams,
    /// `[cases]`: how cases are found, and the expiry warning.
    pub cases: CasesConfig,
    /// `[limits]` as the file says, for a shard record's key.
    pub limits: LimitsConfig,
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
    /// The one place the configuration and the command line become what the stages apply.
    pub fn resolve(config: &Config, cli: Overrides) -> Settings {
        let publish_review = cli.publish_review || config.cases.publish_review;
        let watermark_asset = config.logo_png.as_deref().and_then(clean_png).map(|png| {
            let hash = blake3::hash(&png).to_hex();
            (format!("assets/watermark.{}.png", &hash[..8]), png)
        });
        let logo = watermark_asset.as_ref().map(|(path, _)| path.as_str());
        let render = config.render_sections().params(logo);
        let watermark = (render.watermark.as_ref()).and_then(|w| {
            Watermark::new(w, watermark_asset.as_ref().map(|(_, png)| png.as_slice()))
        });
        let threads = match cli.jobs.unwrap_or(config.jobs) {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            jobs => jobs,
        };
        Settings {
            key: image_key(config, logo, publish_review),
            ingest: IngestParams {
                max_pixels: config.limits.max_pixels(),
                max_file_bytes: config.limits.max_file_bytes(),
            },
            case_seconds: config.limits.case_seconds,
            threads,
            fit: FitParams::resolve(&config.align, &config.tone, &config.review),
            quality: config.quality.clone(),
            render,
            watermark,
            watermark_asset,
            gallery: GalleryParams::resolve(config),
            cases: config.cases.clone(),
            limits: config.limits.clone(),
            publish_review,
            timings: Timings::default(),
            staff: None,
        }
    }

    /// The settings of a run whose command line sets only `--publish-review`.
    pub fn new(config: &Config, publish_review: bool) -> Settings {
        let cli = Overrides {
            publish_review,
            jobs: None,
        };
        Settings::resolve(config, cli)
    }

    /// The render stage's view of these settings.
    pub fn renderer(&self) -> Renderer<'_> {
        Renderer {
            params: &self.render,
            watermark: self.watermark.as_ref(),
            clock: &self.timings,
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
            let public = self.gallery.gallery.social_downloads;
            h.update(format!("\nshare {public}").as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// How dates are shown in public (`[gallery] dates`).
    pub fn dates(&self) -> DateStyle {
        self.gallery.gallery.dates
    }
}

/// The cache key's settings part: every config value that shapes pixels or the verdict, hashed
/// as the config sections (so a key stays what it was for the same settings).
fn image_key(config: &Config, logo: Option<&str>, publish_review: bool) -> String {
    let image_settings = ImageSettings {
        version: env!("CARGO_PKG_VERSION"),
        renderer: crate::render::RENDERER,
        decoder: crate::ingest::DECODER,
        encoders: crate::render::encode::ENCODERS,
        tone_model: crate::tone::MODEL,
        outputs: &config.outputs,
        watermark: &config.watermark,
        logo: logo.map(str::to_owned),
        labels: &config.labels,
        composites: &config.composites,
        align: &config.align,
        tone: &config.tone,
        quality: &config.quality,
        review: &config.review,
        publish_review,
    };
    let json = serde_json::to_vec(&image_settings).expect("settings serialize");
    blake3::hash(&json).to_hex().to_string()
}

/// An image file re-encoded as a PNG from its RGBA pixels: nothing but pixels.
pub fn clean_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let rgba = image::load_from_memory(bytes).ok()?.into_rgba8();
    let mut out = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .ok()?;
    Some(out)
}
