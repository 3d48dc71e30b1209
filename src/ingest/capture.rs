//! What discovery needs to order photos straight off a phone or camera (`IMG_0412.JPG`,
//! `IMG_0957.HEIC`, `PXL_20260501_101500123.jpg`): whether a name is a camera's, and the EXIF
//! capture time read from the file's header (never its pixels). `discover::place_by_time` uses
//! them: per view, the earliest photo is the before, the latest the after.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

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
