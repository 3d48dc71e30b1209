//! Every published image of a view, from one plan: each stage at every width and format, and
//! the before|after composites. The batch writes what this renders; `verify` renders it again
//! from the manifest and compares. Both go through [`render_view`], so what is checked is what
//! is published.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use image::RgbImage;
use rayon::prelude::*;

use crate::align::Matrix;
use crate::error::Fatal;
use crate::render::composite::{self, CompositeParams, Kind};
use crate::render::params::RenderParams;
use crate::render::watermark::Watermark;
use crate::render::{self, Format, Master, Region, encode};
use crate::tone::ToneFit;

/// What rendering applies, with the watermark's mark loaded and where its time is counted.
#[derive(Clone, Copy)]
pub struct Renderer<'a> {
    pub params: &'a RenderParams,
    /// The mark `params.watermark` describes, loaded (`None`: no watermark).
    pub watermark: Option<&'a Watermark>,
    pub clock: &'a dyn Clock,
}

/// Where rendering adds the time it spends, step by step (a run's `pipeline::timings`).
pub trait Clock: Sync {
    fn add(&self, step: Step, nanos: u64);
}

/// The steps of rendering whose time is counted.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    Resample,
    Watermark,
    /// Handing files to the sink (a synced write for a run).
    Write,
    /// Encoding a picture of this kind (`None`: a photo) in this format.
    Encode(Option<Kind>, Format),
}

/// Run `f`, adding its duration to `step`.
fn timed<T>(clock: &dyn Clock, step: Step, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    clock.add(step, start.elapsed().as_nanos() as u64);
    out
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

/// The composites made for posting (social media), only with the patient's consent to it, by
/// their names in the manifest ([`Kind::is_share`]).
pub const SHARE_KINDS: [&str; 2] = ["square", "social"];

/// Where rendered files go: written into the output folder by a run, compared by `verify`.
pub trait Sink: Sync {
    /// `kind` is the composite kind (side, social, ...), `None` for a photo.
    fn accept(&self, rel: &str, kind: Option<Kind>, bytes: &[u8]) -> Result<(), Fatal>;
}

/// One published file of a view, as the manifest lists it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct OutputEntry {
    /// Relative to the output folder, `/`-separated.
    pub path: String,
    pub width: u32,
    pub height: u32,
    /// File size in bytes.
    #[serde(default)]
    pub bytes: u64,
    pub format: String,
    pub watermarked: bool,
    /// For composites: "side", "square" or "social".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
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
    let sizes = render::output_sizes(plan.crop[2], plan.crop[3], &r.params.widths);
    // Each photo resampled from its source once, at the largest width; the rest derive from it.
    let &(mw, mh) = sizes.last().expect("at least one output width");
    let masters: Vec<Master> = plan
        .stages
        .par_iter()
        .map(|s| {
            timed(r.clock, Step::Resample, || {
                Master::render(s.pixels, &s.matrix, s.tone.as_ref(), &region, mw, mh)
            })
        })
        .collect();
    // Every picture derived (cheap), then every file encoded as its own task, largest first, so
    // both cores stay busy to the last file of a lone pair (encoding is most of the time).
    let (stages, composites) = rayon::join(
        || stage_pictures(plan, &masters, &sizes, r),
        || match &r.params.composites {
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
    /// `None` for a single photo; else the composite kind (side, thumb, ...).
    kind: Option<Kind>,
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
                    let img = timed(r.clock, Step::Resample, || {
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
    let labels = pair.map(|(s, _)| r.params.labels.tag(&s.stage));
    let kinds = composite::Kind::ALL
        .iter()
        .filter(|k| plan.share || !k.is_share());
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
            picture(img, rel, Some(kind), r)
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
            picture(img, rel, Some(Kind::Thumb), r)
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
    timed(r.clock, Step::Resample, || {
        master.derive(region, w, h).unwrap_or_else(|| {
            render::render_photo(s.pixels, &s.matrix, s.tone.as_ref(), region, w, h)
        })
    })
}

/// Watermark `img` when it is wide enough (never the index's thumbnails).
fn picture(mut img: RgbImage, rel: String, kind: Option<Kind>, r: Renderer) -> Picture {
    let watermarked = match r.watermark {
        Some(wm) if kind != Some(Kind::Thumb) && wm.applies_to(img.width()) => {
            timed(r.clock, Step::Watermark, || wm.apply_mut(&mut img));
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
    if p.kind.is_some_and(|k| k != Kind::Thumb) {
        &[Format::Jpeg]
    } else {
        &r.params.formats
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
            Format::Jpeg if r.params.encode.jpeg_progressive => 10,
            Format::Jpeg => 3,
            Format::Webp => 9,
            Format::Avif => 350,
        }
    };
    let (files, written) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<Encoded>();
        let writer = scope.spawn(move || write_all(&rx, sink, r.clock));
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
    clock: &dyn Clock,
) -> Result<(), Fatal> {
    let mut result = Ok(());
    for (path, kind, bytes) in files {
        if result.is_ok() {
            result = timed(clock, Step::Write, || sink.accept(&path, kind, &bytes));
        }
    }
    result
}

/// An encoded file on its way to the sink: path, composite kind, bytes.
type Encoded = (String, Option<Kind>, Vec<u8>);

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
    let params = r.params.encode_for(p.kind == Some(Kind::Thumb));
    let (rel, img) = (&p.rel, &p.img);
    let path = format!("{rel}.{}", format.extension());
    let bytes = timed(r.clock, Step::Encode(p.kind, format), || {
        encode::encode(img, format, params)
    })
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
        kind: p.kind.map(|k| k.name().to_owned()),
    })
}
