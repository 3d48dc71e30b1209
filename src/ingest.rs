//! Decode one photo into upright sRGB pixels: size and pixel limits checked before any pixel is
//! decoded, EXIF orientation applied exactly once, an embedded ICC profile converted to sRGB, and
//! the capture month read (for series order and captions only; nothing else leaves here).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use moxcms::{ColorProfile, Layout, TransformOptions};

use crate::error::PhotoError;

/// Limits that keep a hostile or huge file from taking the machine's memory.
#[derive(Clone, Copy, Debug)]
pub struct IngestParams {
    pub max_pixels: u64,
    pub max_file_bytes: u64,
}

/// An upright, sRGB photo.
#[derive(Debug)]
pub struct Photo {
    pub pixels: RgbImage,
    /// The EXIF orientation that was applied (1 when there was none).
    pub orientation: u8,
    /// What was done about colour management, for the manifest.
    pub colour: String,
    /// Capture day from EXIF, if present: used for checks, never published.
    pub captured: Option<crate::dates::Day>,
}

/// Read a file's bytes, refusing empty and over-sized files before reading them.
pub fn read_bytes(path: &Path, params: &IngestParams) -> Result<Vec<u8>, PhotoError> {
    let len = std::fs::metadata(path)
        .map_err(|e| PhotoError::new(path, format!("cannot read: {e}")))?
        .len();
    if len == 0 {
        return Err(PhotoError::new(
            path,
            "empty file (0 bytes): copy the photo again from the camera or phone",
        ));
    }
    if len > params.max_file_bytes {
        return Err(PhotoError::new(
            path,
            format!(
                "file is {:.1} MB, above limits.max_file_mb = {}: export a smaller JPEG or raise the limit",
                len as f64 / 1e6,
                params.max_file_bytes / 1_000_000
            ),
        ));
    }
    std::fs::read(path).map_err(|e| PhotoError::new(path, format!("cannot read: {e}")))
}

/// Decode `bytes` (read from `path`, which is only used in messages).
pub fn decode(bytes: &[u8], path: &Path, params: &IngestParams) -> Result<Photo, PhotoError> {
    let err = |reason: String| PhotoError::new(path, reason);
    let format = image::guess_format(bytes).map_err(|_| err(unknown_format_reason(bytes)))?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Tiff
    ) {
        return Err(err(format!(
            "{format:?} images are not read: export the photo as JPEG, PNG, WebP or TIFF"
        )));
    }
    check_dimensions(bytes, format, params).map_err(err)?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(err(
            "the JPEG is truncated (it ends before its last image data): copy it again; the copy was probably interrupted".into(),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(params));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| err(format!("cannot decode: {e}")))?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(|e| {
        err(format!(
            "cannot decode ({e}): the file is damaged or not really a {format:?}; export it again"
        ))
    })?;
    let is_grey = !image.color().has_color();
    let mut pixels = image.into_rgb8();
    let colour = match icc {
        Some(icc) if !is_grey => to_srgb(&mut pixels, &icc),
        _ => "sRGB assumed (no embedded profile)".to_owned(),
    };
    let (orientation, captured) = read_exif(bytes);
    let pixels = orient(pixels, orientation);
    Ok(Photo {
        pixels,
        orientation,
        colour,
        captured,
    })
}

/// Whether a file that stopped changing holds a whole photo, checked cheaply where the format
/// allows: the header reads, the pixel limit holds, and the file ends where the format says a
/// finished file ends (a JPEG with the end-of-image marker after its main scan, a PNG with its
/// IEND chunk). A file still being written, or pre-sized and still being filled, fails that.
/// Other files, and a JPEG with data after its image (a phone's motion-photo video, say), are
/// decoded in full. Watch mode uses this so that a new photo is decoded once, by the pipeline.
pub fn check_complete(bytes: &[u8], path: &Path, params: &IngestParams) -> Result<(), PhotoError> {
    let format = image::guess_format(bytes).ok();
    let ends_whole = match format {
        Some(ImageFormat::Jpeg) => jpeg_main_scan(bytes)
            .is_some_and(|sos| bytes.len() > sos + 4 && bytes.ends_with(&[0xFF, 0xD9])),
        Some(ImageFormat::Png) => bytes.ends_with(&PNG_IEND),
        _ => false,
    };
    match format {
        Some(format) if ends_whole => {
            check_dimensions(bytes, format, params).map_err(|reason| PhotoError::new(path, reason))
        }
        _ => decode(bytes, path, params).map(|_| ()),
    }
}

/// The last 12 bytes of every complete PNG: an empty IEND chunk and its CRC.
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// Where the main image's first start-of-scan marker is, found by walking the marker segments
/// from the start (so an EXIF thumbnail, which sits inside APP1, is skipped as a whole).
fn jpeg_main_scan(bytes: &[u8]) -> Option<usize> {
    let mut at = 2;
    loop {
        let marker = *bytes.get(at + 1)?;
        if bytes[at] != 0xFF {
            return None;
        }
        match marker {
            0xDA => return Some(at),
            // Fill bytes and markers without a length.
            0xFF => at += 1,
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let len = u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]);
                at += 2 + usize::from(len);
            }
        }
    }
}

fn limits(params: &IngestParams) -> image::Limits {
    let mut limits = image::Limits::default();
    // The worst decoded layout is 16-bit RGBA: 8 bytes per pixel, plus the RGB copy.
    limits.max_alloc = Some(params.max_pixels.saturating_mul(11));
    limits
}

/// Read only the header and refuse images above the pixel limit before any pixel is decoded.
fn check_dimensions(
    bytes: &[u8],
    format: ImageFormat,
    params: &IngestParams,
) -> Result<(), String> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(params));
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("cannot read the image header ({e}): the file is damaged or not a photo; export it again"))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > params.max_pixels || w == 0 || h == 0 {
        return Err(format!(
            "image is {w}×{h} ({:.0} MP), outside limits.max_megapixels = {}: resize it or raise the limit",
            pixels as f64 / 1e6,
            params.max_pixels / 1_000_000
        ));
    }
    Ok(())
}

fn unknown_format_reason(bytes: &[u8]) -> String {
    if bytes.len() > 12 && &bytes[4..8] == b"ftyp" && is_heif_brand(&bytes[8..12]) {
        return "HEIC/HEIF photos are not supported by this build: set the phone to \"Most Compatible\" (JPEG) or export the photo as JPEG".into();
    }
    let text_like = bytes
        .iter()
        .take(512)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if text_like {
        "this is a text file, not a photo: replace it with the real photo".into()
    } else {
        "not a JPEG, PNG, WebP or TIFF image: replace it with the real photo".into()
    }
}

fn is_heif_brand(brand: &[u8]) -> bool {
    matches!(
        brand,
        b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"hevc"
    )
}

/// A complete JPEG has an end-of-image marker after its last start-of-scan marker.
/// (Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so these byte
/// pairs can only be real markers.)
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(sos) => bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// Convert pixels described by an embedded ICC profile to sRGB, in place.
fn to_srgb(pixels: &mut RgbImage, icc: &[u8]) -> String {
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return "sRGB assumed (embedded ICC profile unreadable)".to_owned();
    };
    let name = profile_name(&profile);
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return format!("sRGB assumed (cannot convert from ICC profile {name})");
    };
    let src = pixels.as_raw().clone();
    if transform.transform(&src, pixels.as_mut()).is_err() {
        return format!("sRGB assumed (conversion from ICC profile {name} failed)");
    }
    format!("converted to sRGB from embedded ICC profile {name}")
}

fn profile_name(profile: &ColorProfile) -> String {
    match &profile.description {
        Some(moxcms::ProfileText::PlainString(s)) => format!("\"{}\"", s.trim()),
        Some(moxcms::ProfileText::Localizable(list)) => list.first().map_or_else(
            || "(unnamed)".to_owned(),
            |l| format!("\"{}\"", l.value.trim()),
        ),
        _ => "(unnamed)".to_owned(),
    }
}

/// EXIF orientation (1 when absent or invalid) and capture day (kept private; see `dates`).
fn read_exif(bytes: &[u8]) -> (u8, Option<crate::dates::Day>) {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return (1, None);
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|o| (1..=8).contains(o))
        .map_or(1, |o| o as u8);
    let captured = [exif::Tag::DateTimeOriginal, exif::Tag::DateTime]
        .iter()
        .find_map(|&tag| {
            let field = exif.get_field(tag, exif::In::PRIMARY)?;
            let exif::Value::Ascii(ref parts) = field.value else {
                return None;
            };
            let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
            (dt.year > 1900)
                .then(|| crate::dates::Day::new(dt.year, dt.month, dt.day))
                .flatten()
        });
    (orientation, captured)
}

/// Apply EXIF orientation `o` (1–8) so the pixels are upright.
#[must_use]
pub fn orient(pixels: RgbImage, o: u8) -> RgbImage {
    let Some(orientation) = image::metadata::Orientation::from_exif(o) else {
        return pixels;
    };
    let mut image = DynamicImage::ImageRgb8(pixels);
    image.apply_orientation(orientation);
    image.into_rgb8()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> IngestParams {
        IngestParams {
            max_pixels: 100_000_000,
            max_file_bytes: 100_000_000,
        }
    }

    #[test]
    fn text_file_named_jpg_says_so() {
        let e = decode(
            b"hello, this is not a photo\n",
            Path::new("x.jpg"),
            &params(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("x.jpg") && e.reason.contains("text file"),
            "{e}"
        );
    }

    #[test]
    fn heic_says_how_to_get_jpeg() {
        let mut bytes = vec![0, 0, 0, 24];
        bytes.extend_from_slice(b"ftypheic");
        bytes.extend_from_slice(&[0; 32]);
        let e = decode(&bytes, Path::new("x.heic"), &params()).unwrap_err();
        assert!(
            e.reason.contains("HEIC") && e.reason.contains("JPEG"),
            "{e}"
        );
    }

    #[test]
    fn truncation_detector_needs_eoi_after_last_scan() {
        assert!(jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9
        ]));
        assert!(!jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2
        ]));
    }
}
