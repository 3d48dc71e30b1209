//! Every published image of a view, from one plan: each stage at every width and format, and
//! the before|after composites. The batch writes what this renders; `verify` renders it again
//! from the manifest and compares. Both go through [`render_view`], so what is checked is what
//! is published.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

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

use crate::pipeline::timings::{Stage as Timed, Timings};

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
    /// `"<case id>/<view>"`: every output path starts with it.
    pub prefix: String,
    /// The case key; its first 8 hex digits go into every file name.
    pub key: &'a str,
    /// `[x, y, w, h]` in before pixels: the framing every photo of the view shares.
    pub crop: [u32; 4],
    /// In series order; the first is the before photo.
    pub stages: Vec<PlannedStage<'a>>,
    /// Make the square and social images: only when the patient's consent covers social media.
    pub share: bool,
}

/// The composites made for posting (social media), only with the patient's consent to it.
pub const SHARE_KINDS: [&str; 2] = ["square", "social"];

/// Where rendered files go: written into the output folder by a run, compared by `verify`.
pub trait Sink: Sync {
    /// `kind` is the composite kind ("side", "social", ...), `None` for a photo.
    fn accept(&self, rel: &str, kind: Option<&str>, bytes: &[u8]) -> Result<(), Fatal>;
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
    // Every picture derived (cheap), then every file encoded as its own task, largest first, so
    // both cores stay busy to the last file of a lone pair (encoding is most of the time).
    let (stages, composites) = rayon::join(
        || stage_pictures(plan, &masters, &sizes, r),
        || match &r.params.composite {
            Some(params) => {
                let (mut all, thumbs) = rayon::join(
                    || composite_pictures(plan, &masters, params, r),
                    || thumb_pictures(plan, &masters, params, r),
                );
                all.extend(thumbs);
                all
            }
            None => Vec::new(),
        },
    );
    let per_stage: Vec<usize> = stages.iter().map(Vec::len).collect();
    let pictures: Vec<Picture> = stages.into_iter().flatten().chain(composites).collect();
    let mut files = encode_all(&pictures, r, sink)?.into_iter();
    let stages = per_stage
        .iter()
        .map(|&n| files.by_ref().take(n).flatten().collect())
        .collect();
    Ok(ViewOutputs {
        stages,
        composites: files.flatten().collect(),
    })
}

/// An output image ready to encode: watermarked where it applies, with its path (without
/// extension) and what it is.
struct Picture {
    img: RgbImage,
    rel: String,
    /// `None` for a single photo; else the composite kind ("side", "thumb", ...).
    kind: Option<&'static str>,
    watermarked: bool,
}

/// Each stage at every width, derived from its master; per stage, in plan order.
fn stage_pictures(
    plan: &ViewPlan,
    masters: &[Master],
    sizes: &[(u32, u32)],
    r: Renderer,
) -> Vec<Vec<Picture>> {
    let region = Region::from_crop(plan.crop);
    let key8 = &plan.key[..8];
    plan.stages
        .par_iter()
        .zip(masters)
        .map(|(s, master)| {
            sizes
                .par_iter()
                .map(|&(w, h)| {
                    let img = r.timings.time(Timed::Resample, || {
                        master
                            .derive(&region, w, h)
                            .expect("smaller than the master")
                    });
                    let rel = format!("{}-{}-{w}.{key8}", plan.prefix, s.stage);
                    picture(img, rel, None, r)
                })
                .collect()
        })
        .collect()
}

/// Before | last stage, in every composite kind; each panel derived from its photo's master, or
/// resampled from the source when it needs more pixels than the master has.
fn composite_pictures(
    plan: &ViewPlan,
    masters: &[Master],
    params: &CompositeParams,
    r: Renderer,
) -> Vec<Picture> {
    let region = Region::from_crop(plan.crop);
    let pair = ends(plan, masters);
    let labels = pair.map(|(s, _)| crate::gallery::stage_tag(&s.stage, &r.params.labels));
    let kinds = composite::Kind::ALL
        .iter()
        .filter(|k| plan.share || !SHARE_KINDS.contains(&k.name()));
    kinds
        .collect::<Vec<_>>()
        .par_iter()
        .map(|&&kind| {
            let layout = composite::layout(kind, &region, params);
            let panels: Vec<RgbImage> = pair
                .iter()
                .zip(&layout.panels)
                .map(|(&(s, master), &(_, _, pw, ph))| panel(s, master, &layout.region, pw, ph, r))
                .collect();
            let img = composite::assemble(
                &layout,
                [&panels[0], &panels[1]],
                [&labels[0], &labels[1]],
                params,
            );
            let rel = format!("{}-{}.{}", plan.prefix, kind.name(), &plan.key[..8]);
            picture(img, rel, Some(kind.name()), r)
        })
        .collect()
}

/// The index thumbnails at every thumbnail width: before | last stage, split at the middle.
fn thumb_pictures(
    plan: &ViewPlan,
    masters: &[Master],
    params: &CompositeParams,
    r: Renderer,
) -> Vec<Picture> {
    let pair = ends(plan, masters);
    let (shown, sizes) = composite::thumb_layouts(&Region::from_crop(plan.crop), params);
    sizes
        .par_iter()
        .map(|&(w, h)| {
            let [before, after] = pair.map(|(s, master)| panel(s, master, &shown, w, h, r));
            let img = composite::split(&before, &after, params);
            let rel = format!("{}-thumb-{w}.{}", plan.prefix, &plan.key[..8]);
            picture(img, rel, Some("thumb"), r)
        })
        .collect()
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

/// Watermark `img` when it is wide enough (never the index's thumbnails).
fn picture(mut img: RgbImage, rel: String, kind: Option<&'static str>, r: Renderer) -> Picture {
    let watermarked = match &r.params.watermark {
        Some(wm) if kind != Some("thumb") && wm.applies_to(img.width()) => {
            r.timings.time(Timed::Watermark, || wm.apply_mut(&mut img));
            true
        }
        _ => false,
    };
    Picture {
        img,
        rel,
        kind,
        watermarked,
    }
}

/// The formats a picture is written in: every configured one, but JPEG only for the
/// downloadable composites.
fn formats_of<'a>(p: &Picture, r: Renderer<'a>) -> &'a [Format] {
    if p.kind.is_some_and(|k| k != "thumb") {
        &[Format::Jpeg]
    } else {
        &r.params.outputs.formats
    }
}

/// Encode every picture in each of its formats and hand each file to the sink; per picture, in
/// order. The files are encoded as separate tasks, the costliest first (longest processing time
/// first): a 2048 px WebP started last would otherwise run alone on one core at the end. The
/// sink (a synced write: about 8 ms of waiting on this project's disk per file) runs on a thread
/// of its own, so the encoders never wait for the disk.
fn encode_all(
    pictures: &[Picture],
    r: Renderer,
    sink: &dyn Sink,
) -> Result<Vec<Vec<OutputEntry>>, Fatal> {
    let jobs: Vec<(usize, Format)> = pictures
        .iter()
        .enumerate()
        .flat_map(|(i, p)| formats_of(p, r).iter().map(move |&f| (i, f)))
        .collect();
    let cost = |&(i, f): &(usize, Format)| {
        let px = u64::from(pictures[i].img.width()) * u64::from(pictures[i].img.height());
        // Per pixel, as measured at 2048 px (docs/performance.md): JPEG 31 ms sequential, 101 ms
        // progressive; WebP effort 2 96 ms; AVIF 3.5 s.
        px * match f {
            Format::Jpeg if r.params.outputs.jpeg_progressive => 10,
            Format::Jpeg => 3,
            Format::Webp => 9,
            Format::Avif => 350,
        }
    };
    let (files, written) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<Encoded>();
        let writer = scope.spawn(move || write_all(&rx, sink, r.timings));
        let files = largest_first(&jobs, cost, |&(i, f)| encode_one(&pictures[i], f, r, &tx));
        drop(tx);
        (files, writer.join())
    });
    written.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let mut per_picture: Vec<Vec<OutputEntry>> = pictures.iter().map(|_| Vec::new()).collect();
    for (&(i, _), entry) in jobs.iter().zip(files) {
        per_picture[i].push(entry?);
    }
    Ok(per_picture)
}

/// Hand every encoded file to `sink` as it arrives; after a failure the rest are dropped and the
/// first error returned.
fn write_all(
    files: &std::sync::mpsc::Receiver<Encoded>,
    sink: &dyn Sink,
    timings: &Timings,
) -> Result<(), Fatal> {
    let mut result = Ok(());
    for (path, kind, bytes) in files {
        if result.is_ok() {
            result = timings.time(Timed::Write, || sink.accept(&path, kind, &bytes));
        }
    }
    result
}

/// An encoded file on its way to the sink: path, composite kind, bytes.
type Encoded = (String, Option<&'static str>, Vec<u8>);

/// `run` over every job in parallel, handed out costliest first from one queue; the results in
/// job order.
fn largest_first<J: Sync, T: Send>(
    jobs: &[J],
    cost: impl Fn(&J) -> u64,
    run: impl Fn(&J) -> T + Sync,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&jobs[i])));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().min(jobs.len());
    (0..workers).into_par_iter().for_each(|_| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let out = run(&jobs[i]);
            *slots[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
        }
    });
    slots
        .into_iter()
        .map(|s| {
            let out = s.into_inner().unwrap_or_else(PoisonError::into_inner);
            out.expect("every job ran")
        })
        .collect()
}

/// One file: `p` encoded as `format`, handed to the writer.
fn encode_one(
    p: &Picture,
    format: Format,
    r: Renderer,
    writer: &std::sync::mpsc::Sender<Encoded>,
) -> Result<OutputEntry, Fatal> {
    let o = &r.params.outputs;
    let thumb_quality = (r.params.composite.as_ref())
        .map(|c| c.thumb_quality)
        .filter(|_| p.kind == Some("thumb"));
    let params = encode::EncodeParams {
        jpeg_quality: thumb_quality.unwrap_or(o.jpeg_quality),
        jpeg_progressive: o.jpeg_progressive,
        webp_quality: thumb_quality.unwrap_or(o.webp_quality),
        webp_effort: o.webp_effort,
        avif_quality: o.avif_quality,
        avif_speed: o.avif_speed,
    };
    let (rel, img) = (&p.rel, &p.img);
    let path = format!("{rel}.{}", format.extension());
    let split = match p.kind {
        None => 0,
        Some("social") => 2,
        Some("thumb") => 3,
        Some(_) => 1,
    };
    let bytes = r
        .timings
        .time_encode(split, format, || encode::encode(img, format, &params))
        .map_err(|e| Fatal::Other(format!("cannot encode {rel}: {e}")))?;
    let len = bytes.len() as u64;
    // The writer only stops early by panicking, which `encode_all` passes on.
    let _ = writer.send((path.clone(), p.kind, bytes));
    Ok(OutputEntry {
        path,
        width: img.width(),
        height: img.height(),
        bytes: len,
        format: format!("{format:?}").to_lowercase(),
        watermarked: p.watermarked,
        kind: p.kind.map(str::to_owned),
    })
}
