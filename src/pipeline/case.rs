//! One case from source bytes to published files: decode every stage of a view, fit each later
//! stage to the before photo's frame, crop, render every size once from its source, watermark,
//! encode, write; then the before|after composites.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::align::Matrix;
use crate::config::{Config, Format, parse_hex_colour};
use crate::discover::{AlignOverride, Case, Stage, View};
use crate::error::{Fatal, PhotoError};
use crate::ingest::{self, IngestParams, Photo};
use crate::manifest::{CaseEntry, CaseStatus, OutputEntry, StageEntry, ViewEntry};
use crate::output;
use crate::render::composite::{self, CompositeParams};
use crate::render::watermark::Watermark;
use crate::render::{self, Region, encode};

use super::fit;
use super::timings::{Stage as Timed, Timings};
use crate::tone::{self, ToneFit};

/// Everything a case needs from the configuration, resolved once per run.
pub struct Settings {
    pub config: Config,
    /// Hash of the settings that shape images, plus the tool version.
    pub key: String,
    pub ingest: IngestParams,
    pub watermark: Option<Watermark>,
    pub composite: Option<CompositeParams>,
    pub publish_review: bool,
    pub timings: Timings,
}

/// The parts of the configuration that change pixels, hashed into every case key.
#[derive(Serialize)]
struct ImageSettings<'a> {
    version: &'a str,
    outputs: &'a crate::config::OutputsConfig,
    watermark: &'a crate::config::WatermarkConfig,
    logo: Option<String>,
    labels: &'a crate::config::LabelsConfig,
    composites: &'a crate::config::CompositesConfig,
    align: &'a crate::config::AlignConfig,
    tone: &'a crate::config::ToneConfig,
    publish_review: bool,
}

impl Settings {
    pub fn new(config: &Config, options: &super::RunOptions) -> Settings {
        let publish_review = options.publish_review || config.cases.publish_review;
        let image_settings = ImageSettings {
            version: env!("CARGO_PKG_VERSION"),
            outputs: &config.outputs,
            watermark: &config.watermark,
            logo: config
                .logo_png
                .as_ref()
                .map(|b| blake3::hash(b).to_hex().to_string()),
            labels: &config.labels,
            composites: &config.composites,
            align: &config.align,
            tone: &config.tone,
            publish_review,
        };
        let json = serde_json::to_vec(&image_settings).expect("settings serialize");
        let c = &config.composites;
        let composite = c.enabled.then(|| CompositeParams {
            width: c.width,
            thumb_width: c.thumb_width,
            square: c.square,
            social: c.social,
            stack_above_aspect: f64::from(c.stack_above_aspect),
            gap: f64::from(c.gap),
            background: parse_hex_colour(&c.background).expect("validated"),
            label_size: config
                .labels
                .enabled
                .then_some(f64::from(config.labels.size)),
        });
        Settings {
            key: blake3::hash(&json).to_hex().to_string(),
            ingest: IngestParams {
                max_pixels: config.limits.max_pixels(),
                max_file_bytes: config.limits.max_file_bytes(),
            },
            watermark: Watermark::new(&config.watermark, config.logo_png.as_deref()),
            composite,
            publish_review,
            timings: Timings::default(),
            config: config.clone(),
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
        h.finalize().to_hex().to_string()
    }

    fn stage_label(&self, stage: Stage) -> String {
        let l = &self.config.labels;
        match stage {
            Stage::Before => l.before.clone(),
            Stage::After => l.after.clone(),
            Stage::Session(n) => l.session.replace("{n}", &n.to_string()),
        }
    }
}

/// A source file's bytes and content hash.
pub struct Source {
    pub bytes: Vec<u8>,
    pub hash: String,
}

/// Read (not decode) every photo of a case, per view and stage.
pub fn read_sources(c: &Case, settings: &Settings) -> Result<Vec<Vec<Source>>, PhotoError> {
    c.views
        .iter()
        .map(|v| {
            v.stages
                .iter()
                .map(|s| {
                    let bytes = ingest::read_bytes(&s.path, &settings.ingest)
                        .map_err(|e| PhotoError::new(&s.rel, e.reason))?;
                    let hash = blake3::hash(&bytes).to_hex().to_string();
                    Ok(Source { bytes, hash })
                })
                .collect()
        })
        .collect()
}

pub fn failed_entry(c: &Case, key: String, reasons: Vec<String>) -> CaseEntry {
    CaseEntry {
        id: c.id.clone(),
        title: title(c),
        status: CaseStatus::Failed,
        published: false,
        review: false,
        reasons,
        key,
        meta: c.meta.clone(),
        views: Vec::new(),
    }
}

/// A reused entry with captions from the current case.toml (text never needs a re-render).
pub fn refresh_meta(mut entry: CaseEntry, c: &Case) -> CaseEntry {
    entry.title = title(c);
    entry.meta = c.meta.clone();
    entry
}

fn title(c: &Case) -> String {
    c.meta.title.clone().unwrap_or_else(|| c.source.clone())
}

/// Decode, fit, render and write a whole case. Every view is decoded and checked before anything
/// is written, so a photo problem fails the case without leaving files; output-folder problems
/// stop the run.
pub fn render(
    c: &Case,
    _input: &Path,
    out: &Path,
    settings: &Settings,
    sources: Vec<Vec<Source>>,
    key: String,
) -> Result<CaseEntry, Fatal> {
    let mut views = Vec::new();
    let mut review = Vec::new();
    if let Err(e) = fit::check_overrides(&c.views, &c.meta.align) {
        return Ok(failed_entry(c, key, vec![e]));
    }
    for (view, srcs) in c.views.iter().zip(sources) {
        let prepared = match prepare_view(view, srcs, &c.meta.align, settings) {
            Ok(p) => p,
            Err(e) => return Ok(failed_entry(c, key, vec![e])),
        };
        review.extend(prepared.review_reasons(view));
        views.push(prepared);
    }
    let held = !review.is_empty() && !settings.publish_review;
    let mut entries = Vec::new();
    for (view, prepared) in c.views.iter().zip(views) {
        let entry = if held {
            prepared.into_entry(view, Vec::new())
        } else {
            write_view(c, view, prepared, out, settings, &key)?
        };
        entries.push(entry);
    }
    // Published anyway with --publish-review, a case still counts as needing review (exit 3).
    let status = if review.is_empty() {
        CaseStatus::Published
    } else {
        CaseStatus::Review
    };
    Ok(CaseEntry {
        id: c.id.clone(),
        title: title(c),
        status,
        published: !held,
        review: !review.is_empty(),
        reasons: review,
        key,
        meta: c.meta.clone(),
        views: entries,
    })
}

/// A view decoded and fitted, before anything is written.
struct Prepared {
    photos: Vec<Photo>,
    /// Per stage: the global tone fit applied to every output, if any.
    tones: Vec<Option<ToneFit>>,
    /// Per stage: this photo's pixels -> the before photo's pixels.
    matrices: Vec<Matrix>,
    crop: [u32; 4],
    stages: Vec<StageEntry>,
}

fn prepare_view(
    view: &View,
    sources: Vec<Source>,
    overrides: &[AlignOverride],
    settings: &Settings,
) -> Result<Prepared, String> {
    let decoded: Vec<(Photo, Source)> = view
        .stages
        .par_iter()
        .zip(sources)
        .map(|(s, src)| {
            let photo = settings.timings.time(Timed::Decode, || {
                ingest::decode(&src.bytes, Path::new(&s.rel), &settings.ingest)
            })?;
            Ok((
                photo,
                Source {
                    bytes: Vec::new(),
                    hash: src.hash,
                },
            ))
        })
        .collect::<Result<_, PhotoError>>()
        .map_err(|e| e.to_string())?;
    let (photos, hashes): (Vec<Photo>, Vec<Source>) = decoded.into_iter().unzip();
    let fitted = fit::fit_view(view, &photos, overrides, settings)?;
    let before_month = photos[0].captured;
    let mut stages = Vec::new();
    for (i, (s, photo)) in view.stages.iter().zip(&photos).enumerate() {
        let (w, h) = photo.pixels.dimensions();
        let mut reasons = fitted.reasons[i].clone();
        if let (Some(b), Some(this)) = (before_month, photo.captured)
            && s.stage != Stage::Before
            && this < b
        {
            reasons.push(format!(
                "{} was taken ({}) before the before photo ({}): check which photo is which",
                s.rel,
                month(this),
                month(b)
            ));
        }
        let aligned = settings.config.align.enabled;
        stages.push(StageEntry {
            stage: s.stage.to_string(),
            source: s.rel.clone(),
            source_hash: hashes[i].hash.clone(),
            oriented_size: [w, h],
            orientation: photo.orientation,
            colour: photo.colour.clone(),
            captured: photo.captured.map(month),
            align: fitted.align[i].clone(),
            tone: fitted.tone[i]
                .as_ref()
                .map(|t| serde_json::to_value(t).expect("serializes")),
            framing: (!aligned && i > 0).then_some(fitted.matrices[i]),
            crop: fitted.crop,
            outputs: Vec::new(),
            review: !reasons.is_empty(),
            reasons,
        });
    }
    Ok(Prepared {
        photos,
        tones: fitted.tone,
        matrices: fitted.matrices,
        crop: fitted.crop,
        stages,
    })
}

fn month((y, m): (u16, u8)) -> String {
    format!("{y:04}-{m:02}")
}

impl Prepared {
    fn review_reasons(&self, view: &View) -> Vec<String> {
        self.stages
            .iter()
            .flat_map(|s| {
                s.reasons
                    .iter()
                    .map(move |r| format!("{} {}: {r}", view.name, s.stage))
            })
            .collect()
    }

    fn into_entry(self, view: &View, composites: Vec<OutputEntry>) -> ViewEntry {
        ViewEntry {
            view: view.name.clone(),
            stages: self.stages,
            composites,
        }
    }
}

fn write_view(
    c: &Case,
    view: &View,
    mut prepared: Prepared,
    out: &Path,
    settings: &Settings,
    key: &str,
) -> Result<ViewEntry, Fatal> {
    let crop = prepared.crop;
    let region = Region::from_crop(crop);
    let sizes = render::output_sizes(crop[2], crop[3], &settings.config.outputs.widths);
    let prefix = format!("{}/{}", c.id, view.name);
    let outputs: Vec<Vec<OutputEntry>> = view
        .stages
        .par_iter()
        .zip(&prepared.photos)
        .zip(&prepared.matrices)
        .map(|((s, photo), m)| {
            let mut written = Vec::new();
            for &(w, h) in &sizes {
                let mut img = settings.timings.time(Timed::Resample, || {
                    render::resample(&photo.pixels, m, &region, w, h)
                });
                let rel = format!("{prefix}-{}-{w}.{}", s.stage, &key[..8]);
                written.extend(publish(&mut img, &rel, out, settings, None)?);
            }
            Ok(written)
        })
        .collect::<Result<_, Fatal>>()?;
    for (stage, outs) in prepared.stages.iter_mut().zip(outputs) {
        stage.outputs = outs;
    }
    let composites = match &settings.composite {
        Some(params) => write_composites(
            view, &prepared, &region, params, &prefix, out, settings, key,
        )?,
        None => Vec::new(),
    };
    Ok(prepared.into_entry(view, composites))
}

#[allow(clippy::too_many_arguments)]
fn write_composites(
    view: &View,
    prepared: &Prepared,
    region: &Region,
    params: &CompositeParams,
    prefix: &str,
    out: &Path,
    settings: &Settings,
    key: &str,
) -> Result<Vec<OutputEntry>, Fatal> {
    let last = prepared.photos.len() - 1;
    let labels = [
        settings.stage_label(view.stages[0].stage),
        settings.stage_label(view.stages[last].stage),
    ];
    composite::Kind::ALL
        .par_iter()
        .map(|&kind| {
            let layout = composite::layout(kind, region, params);
            let panels: Vec<_> = [0, last]
                .iter()
                .zip(&layout.panels)
                .map(|(&i, &(_, _, pw, ph))| {
                    let mut panel = render::resample(
                        &prepared.photos[i].pixels,
                        &prepared.matrices[i],
                        &layout.region,
                        pw,
                        ph,
                    );
                    if let Some(t) = &prepared.tones[i] {
                        tone::apply_mut(&mut panel, t);
                    }
                    panel
                })
                .collect();
            let mut img = composite::assemble(
                &layout,
                [&panels[0], &panels[1]],
                [&labels[0], &labels[1]],
                params,
            );
            let rel = format!("{prefix}-{}.{}", kind.name(), &key[..8]);
            publish(&mut img, &rel, out, settings, Some(kind.name()))
        })
        .collect::<Result<Vec<_>, Fatal>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// Watermark (when wide enough), encode in every configured format (composites: JPEG only) and
/// write atomically. `rel` is the path without extension.
fn publish(
    img: &mut image::RgbImage,
    rel: &str,
    out: &Path,
    settings: &Settings,
    kind: Option<&str>,
) -> Result<Vec<OutputEntry>, Fatal> {
    let watermarked = match &settings.watermark {
        Some(wm) if wm.applies_to(img.width()) => {
            settings
                .timings
                .time(Timed::Watermark, || wm.apply_mut(img));
            true
        }
        _ => false,
    };
    let o = &settings.config.outputs;
    let formats: &[Format] = if kind.is_some() {
        &[Format::Jpeg]
    } else {
        &o.formats
    };
    let params = encode::EncodeParams {
        jpeg_quality: o.jpeg_quality,
        webp_quality: o.webp_quality,
        webp_effort: o.webp_effort,
        avif_quality: o.avif_quality,
        avif_speed: o.avif_speed,
    };
    let mut written = Vec::new();
    for &format in formats {
        let path = format!("{rel}.{}", format.extension());
        settings.timings.time(Timed::Encode, || {
            let bytes = encode::encode(img, format, &params)
                .map_err(|e| Fatal::Other(format!("cannot encode {rel}: {e}")))?;
            output::write_atomic(out, &path, &bytes)
        })?;
        written.push(OutputEntry {
            path,
            width: img.width(),
            height: img.height(),
            format: format!("{format:?}").to_lowercase(),
            watermarked,
            kind: kind.map(str::to_owned),
        });
    }
    Ok(written)
}
