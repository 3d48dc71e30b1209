//! Stages from capture time, for photos straight off a phone or camera (`IMG_0412.JPG`,
//! `IMG_0957.HEIC`, `PXL_20260501_101500123.jpg`) in a case folder where no photo carries a stage
//! name: per view, the earliest is the before, the latest the after, those between are sessions
//! in order. The EXIF capture time is read from each file's header (never its pixels). A photo
//! without one, or two photos of a view taken at the same moment, fail the case with a message:
//! the order is never guessed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::discover::{Stage, StageFile};

/// File-name stems cameras and phones give photos, before their number.
const CAMERA_WORDS: &[&str] = &[
    "img", "pxl", "dsc", "dscf", "dscn", "mvimg", "photo", "image", "pict", "dcim", "p",
];

fn is_separator(c: char) -> bool {
    matches!(c, '_' | '-' | ' ')
}

/// If `stem` is a camera file name, the view prefix in front of it (`crown_IMG_0412` ->
/// `Some(Some("crown"))`, `IMG_0412` -> `Some(None)`); `None` for any other name.
#[must_use]
pub fn camera_name(stem: &str) -> Option<Option<&str>> {
    let tokens: Vec<(usize, &str)> = stem
        .split(is_separator)
        .scan(0, |at, t| {
            let start = *at;
            *at += t.len() + 1;
            Some((start, t))
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let start = (0..tokens.len()).find(|&i| {
        let t = tokens[i].1.to_ascii_lowercase();
        let rest = &tokens[i + 1..];
        let word = CAMERA_WORDS.contains(&t.as_str()) && !rest.is_empty();
        let glued = CAMERA_WORDS
            .iter()
            .any(|w| t.strip_prefix(w).is_some_and(digits));
        (word || glued) && rest.iter().all(|(_, t)| digits(t))
    })?;
    let prefix = stem[..tokens[start].0].trim_end_matches(is_separator);
    Some((!prefix.is_empty()).then_some(prefix))
}

/// A capture time from EXIF, to the second or finer: only used to order photos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaptureTime {
    /// (year, month, day, hour, minute, second).
    pub at: (u16, u8, u8, u8, u8, u8),
    /// Fraction of a second as written (`SubSecTimeOriginal`), scaled to nanoseconds.
    pub nanos: u32,
}

impl std::fmt::Display for CaptureTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, mo, d, h, mi, s) = self.at;
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// The EXIF capture time of the photo at `path` (DateTimeOriginal, else DateTimeDigitized,
/// with their sub-seconds), read from its header.
#[must_use]
pub fn capture_time(path: &Path) -> Option<CaptureTime> {
    let file = File::open(path).ok()?;
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .ok()?;
    let pairs = [
        (exif::Tag::DateTimeOriginal, exif::Tag::SubSecTimeOriginal),
        (exif::Tag::DateTimeDigitized, exif::Tag::SubSecTimeDigitized),
    ];
    pairs.iter().find_map(|&(tag, sub)| {
        let ascii = |tag| match &exif.get_field(tag, exif::In::PRIMARY)?.value {
            exif::Value::Ascii(parts) => parts.first().cloned(),
            _ => None,
        };
        let dt = exif::DateTime::from_ascii(&ascii(tag)?).ok()?;
        let frac = ascii(sub).unwrap_or_default();
        let frac: String = frac
            .iter()
            .map(|&b| b as char)
            .filter(char::is_ascii_digit)
            .take(9)
            .collect();
        let nanos = format!("{frac:0<9}").parse().unwrap_or(0);
        (dt.year > 1900).then_some(CaptureTime {
            at: (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second),
            nanos,
        })
    })
}

/// One camera-named photo of a case folder.
#[derive(Clone, Debug)]
pub struct Unnamed {
    pub path: PathBuf,
    pub rel: String,
}

/// Place the camera-named photos among `unnamed` (`(file name, path, rel)`, taken out of it) of
/// case folder `case`, whose photos carry no stage names, into `views` by capture time. Returns
/// what was inferred, per view, for `check`; a view that cannot be ordered adds to `errors`.
pub fn place(
    case: &str,
    unnamed: &mut Vec<(String, PathBuf, String)>,
    views: &mut BTreeMap<String, Vec<StageFile>>,
    errors: &mut Vec<String>,
) -> Vec<String> {
    let mut by_view: BTreeMap<String, Vec<Unnamed>> = BTreeMap::new();
    unnamed.retain(|(file, path, rel)| {
        let stem = Path::new(file).file_stem().and_then(|s| s.to_str());
        let Some(prefix) = stem.and_then(camera_name) else {
            return true;
        };
        let view = crate::discover::view_id(prefix, case);
        let (path, rel) = (path.clone(), rel.clone());
        by_view.entry(view).or_default().push(Unnamed { path, rel });
        false
    });
    let mut notes = Vec::new();
    for (view, photos) in by_view {
        match order_view(&view, &photos) {
            Ok((stages, note)) => {
                notes.push(note);
                let files = photos.into_iter().zip(stages);
                views
                    .entry(view)
                    .or_default()
                    .extend(files.map(|(p, stage)| StageFile {
                        stage,
                        path: p.path,
                        rel: p.rel,
                    }));
            }
            Err(e) => errors.push(e),
        }
    }
    notes
}

/// Stages for the photos of one view, by capture time, and a line saying what was inferred and
/// why; or why it cannot be done (a photo without a capture time, two taken at the same moment).
pub fn order_view(view: &str, photos: &[Unnamed]) -> Result<(Vec<Stage>, String), String> {
    let mut timed = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        let t = capture_time(&p.path).ok_or_else(|| {
            format!(
                "{} has no stage in its name and no EXIF capture date, so its place in the series is unknown: rename the photos of view {view} before, session-1, …, after",
                p.rel
            )
        })?;
        timed.push((t, i));
    }
    timed.sort_unstable();
    if let Some(w) = timed.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "{} and {} were taken at the same moment ({}), so which is earlier is unknown: rename the photos of view {view} before, session-1, …, after",
            photos[w[0].1].rel, photos[w[1].1].rel, w[0].0
        ));
    }
    let n = timed.len();
    let mut stages = vec![Stage::Before; n];
    let mut order = Vec::new();
    for (rank, &(t, i)) in timed.iter().enumerate() {
        stages[i] = match rank {
            0 => Stage::Before,
            r if r + 1 == n => Stage::After,
            r => Stage::Session(r as u32),
        };
        order.push(format!("{} = {} ({t})", stages[i], photos[i].rel));
    }
    let note = format!(
        "view {view}: no stage names, so stages follow EXIF capture time: {}",
        order.join(", ")
    );
    Ok((stages, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_names_table() {
        for (stem, want) in [
            ("IMG_0412", Some(None)),
            ("IMG_0957", Some(None)),
            ("img-0412", Some(None)),
            ("IMG_20260501_101500", Some(None)),
            ("PXL_20260501_101500123", Some(None)),
            ("DSCF0001", Some(None)),
            ("DSC_0001", Some(None)),
            ("crown_IMG_0412", Some(Some("crown"))),
            ("front IMG 0412", Some(Some("front"))),
            ("IMG", None),
            ("image", None),
            ("logo", None),
            ("IMG_0412_edited", None),
            ("before", None),
            ("imagine_0001", None),
        ] {
            assert_eq!(camera_name(stem), want, "{stem}");
        }
    }
}
