//! Every published image of a view, from one plan: each stage at every width and format, and
//! the before|after composites. The batch writes what this renders; `verify` renders it again
//! from the manifest and compares. Both go through [`render_view`], so what is checked is what
//! is published.

use image::RgbImage;
use rayon::prelude::*;

use crate::align::Matrix;
use crate::config::{Format, LabelsConfig, OutputsConfig};
use crate::error::Fatal;
use crate::manifest::OutputEntry;
use crate::render::composite::{self, CompositeParams};
use crate::render::watermark::Watermark;
use crate::render::{self, Master, Region, encode};
use crate::tone::ToneFit;

use super::timings::{Stage as Timed, Timings};

/// What rendering needs from the configuration: sizes and encoders, labels, the watermark and
/// the composites.
pub struct RenderParams {
    pub outputs: OutputsConfig,
    pub labels: LabelsConfig,
    pub watermark: Option<Watermark>,
    pub composite: Option<CompositeParams>,
}

/// Where the time goes and what settings apply, for every image of a run.
#[derive(Clone, Copy)]
pub struct Renderer<'a> {
    pub params: &'a RenderParams,
    pub timings: &'a Timings,
}

/// One photo of a view, placed: its pixels and exactly what is applied to them.
pub struct PlannedStage<'a> {
    /// "before", "session-2", "after".
    pub stage: String,
    pub pixels: &'a RgbImage,
    /// This photo's pixels -> the before photo's.
    pub matrix: Matrix,
    pub tone: Option<ToneFit>,
}

/// What to render for one view.
pub struct ViewPlan<'a> {
    /// "<case id>/<view>": every output path starts with it.
    pub prefix: String,
    /// The case key; its first 8 hex digits go into every file name.
    pub key: &'a str,
    /// `[x, y, w, h]` in before pixels: the framing every photo of the view shares.
    pub crop: [u32; 4],
    /// In series order; the first is the before photo.
    pub stages: Vec<PlannedStage<'a>>,
}

/// Where rendered files go: written into the output folder by a run, compared by `verify`.
pub trait Sink: Sync {
    fn accept(&self, rel: &str, bytes: &[u8]) -> Result<(), Fatal>;
}

/// The files of a view, as recorded in the manifest.
pub struct ViewOutputs {
    /// Per stage, in plan order.
    pub stages: Vec<Vec<OutputEntry>>,
    pub composites: Vec<OutputEntry>,
}

/// Render, watermark and encode every output of `plan` and hand each file to `sink`.
pub fn render_view(plan: &ViewPlan, r: Renderer, sink: &dyn Sink) -> Result<ViewOutputs, Fatal> {
    let region = Region::from_crop(plan.crop);
    let sizes = render::output_sizes(plan.crop[2], plan.crop[3], &r.params.outputs.widths);
    let key8 = &plan.key[..8];
    // Each photo resampled from its source once, at the largest width; the rest derive from it.
    let &(mw, mh) = sizes.last().expect("at least one output width");
    let masters: Vec<Master> = plan
        .stages
        .par_iter()
        .map(|s| {
            r.timings.time(Timed::Resample, || {
                Master::render(s.pixels, &s.matrix, s.tone.as_ref(), &region, mw, mh)
            })
        })
        .collect();
    let stages = plan
        .stages
        .par_iter()
        .zip(&masters)
        .map(|(s, master)| {
            let mut written = Vec::new();
            for &(w, h) in &sizes {
                let mut img = r.timings.time(Timed::Resample, || {
                    master
                        .derive(&region, w, h)
                        .expect("smaller than the master")
                });
                let rel = format!("{}-{}-{w}.{key8}", plan.prefix, s.stage);
                written.extend(finish(&mut img, &rel, r, None, sink)?);
            }
            Ok(written)
        })
        .collect::<Result<_, Fatal>>()?;
    let composites = match &r.params.composite {
        Some(params) => {
            let mut all = render_composites(plan, &masters, params, r, sink)?;
            all.extend(render_thumbs(plan, &masters, params, r, sink)?);
            all
        }
        None => Vec::new(),
    };
    Ok(ViewOutputs { stages, composites })
}

/// Before | last stage, in every composite kind; each panel derived from its photo's master, or
/// resampled from the source when it needs more pixels than the master has.
fn render_composites(
    plan: &ViewPlan,
    masters: &[Master],
    params: &CompositeParams,
    r: Renderer,
    sink: &dyn Sink,
) -> Result<Vec<OutputEntry>, Fatal> {
    let region = Region::from_crop(plan.crop);
    let pair = ends(plan, masters);
    let labels = pair.map(|(s, _)| crate::gallery::stage_tag(&s.stage, &r.params.labels));
    composite::Kind::ALL
        .par_iter()
        .map(|&kind| {
            let layout = composite::layout(kind, &region, params);
            let panels: Vec<RgbImage> = pair
                .iter()
                .zip(&layout.panels)
                .map(|(&(s, master), &(_, _, pw, ph))| panel(s, master, &layout.region, pw, ph, r))
                .collect();
            let mut img = composite::assemble(
                &layout,
                [&panels[0], &panels[1]],
                [&labels[0], &labels[1]],
                params,
            );
            let rel = format!("{}-{}.{}", plan.prefix, kind.name(), &plan.key[..8]);
            finish(&mut img, &rel, r, Some(kind.name()), sink)
        })
        .collect::<Result<Vec<_>, Fatal>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// The index thumbnails at every thumbnail width: before | last stage, split at the middle.
fn render_thumbs(
    plan: &ViewPlan,
    masters: &[Master],
    params: &CompositeParams,
    r: Renderer,
    sink: &dyn Sink,
) -> Result<Vec<OutputEntry>, Fatal> {
    let pair = ends(plan, masters);
    let (shown, sizes) = composite::thumb_layouts(&Region::from_crop(plan.crop), params);
    sizes
        .par_iter()
        .map(|&(w, h)| {
            let [before, after] = pair.map(|(s, master)| panel(s, master, &shown, w, h, r));
            let mut img = composite::split(&before, &after, params);
            let rel = format!("{}-thumb-{w}.{}", plan.prefix, &plan.key[..8]);
            finish(&mut img, &rel, r, Some("thumb"), sink)
        })
        .collect::<Result<Vec<_>, Fatal>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// The before photo and the last stage, each with its master: what composites and thumbnails
/// show.
fn ends<'p, 'm>(
    plan: &'p ViewPlan<'p>,
    masters: &'m [Master],
) -> [(&'p PlannedStage<'p>, &'m Master); 2] {
    let last = plan.stages.len() - 1;
    [
        (&plan.stages[0], &masters[0]),
        (&plan.stages[last], &masters[last]),
    ]
}

/// `region` of a photo at `w`×`h`: derived from its master, or resampled from the source when
/// it needs more pixels than the master has.
fn panel(
    s: &PlannedStage,
    master: &Master,
    region: &Region,
    w: u32,
    h: u32,
    r: Renderer,
) -> RgbImage {
    r.timings.time(Timed::Resample, || {
        master.derive(region, w, h).unwrap_or_else(|| {
            render::render_photo(s.pixels, &s.matrix, s.tone.as_ref(), region, w, h)
        })
    })
}

/// Watermark (when wide enough; never the index's thumbnails), encode in every configured
/// format (downloadable composites: JPEG only) and hand each file to the sink. `rel` is the
/// path without extension.
fn finish(
    img: &mut RgbImage,
    rel: &str,
    r: Renderer,
    kind: Option<&str>,
    sink: &dyn Sink,
) -> Result<Vec<OutputEntry>, Fatal> {
    let watermarked = match &r.params.watermark {
        Some(wm) if kind != Some("thumb") && wm.applies_to(img.width()) => {
            r.timings.time(Timed::Watermark, || wm.apply_mut(img));
            true
        }
        _ => false,
    };
    let o = &r.params.outputs;
    let formats: &[Format] = if kind.is_some_and(|k| k != "thumb") {
        &[Format::Jpeg]
    } else {
        &o.formats
    };
    let thumb_quality = (r.params.composite.as_ref())
        .map(|c| c.thumb_quality)
        .filter(|_| kind == Some("thumb"));
    let params = encode::EncodeParams {
        jpeg_quality: thumb_quality.unwrap_or(o.jpeg_quality),
        webp_quality: thumb_quality.unwrap_or(o.webp_quality),
        webp_effort: o.webp_effort,
        avif_quality: o.avif_quality,
        avif_speed: o.avif_speed,
    };
    let mut written = Vec::new();
    for &format in formats {
        let path = format!("{rel}.{}", format.extension());
        let len = r.timings.time(Timed::Encode, || {
            let bytes = encode::encode(img, format, &params)
                .map_err(|e| Fatal::Other(format!("cannot encode {rel}: {e}")))?;
            sink.accept(&path, &bytes).map(|()| bytes.len() as u64)
        })?;
        written.push(OutputEntry {
            path,
            width: img.width(),
            height: img.height(),
            bytes: len,
            format: format!("{format:?}").to_lowercase(),
            watermarked,
            kind: kind.map(str::to_owned),
        });
    }
    Ok(written)
}
