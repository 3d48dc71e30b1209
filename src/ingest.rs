//! Decode one photo into upright sRGB pixels: size and pixel limits checked before any pixel is
//! decoded, the file checked strictly (a damaged or cut-off photo is refused, never decoded into
//! grey or garbage the way decoders recover), EXIF orientation applied exactly once, an embedded
//! ICC profile converted to sRGB, and the capture month read (for series order and captions
//! only; nothing else leaves here).

pub mod buffer;
pub mod capture;
pub mod formats;
pub mod heif;
mod isobmff;
mod jpeg;

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use moxcms::{ColorProfile, Layout, TransformOptions};

use crate::error::PhotoError;

/// The shortest side a photo may have, in pixels. Anything smaller is a thumbnail or an icon,
/// not a clinical photo: nothing useful can be registered or shown from it.
pub const MIN_SIDE_PX: u32 = 64;

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

/// Names the way photos are decoded, hashed into every case key like `render::RENDERER`: a
/// change that decodes some photo differently re-decides the cases made before it (a JPEG with
/// a scan per colour component used to decode green and be held as a mismatch).
/// The one-pass JPEG decoder (`jpeg::decode`) gives zune-jpeg's pixels exactly (docs/decoding.md),
/// so it did not change this name.
pub const DECODER: &str = "zune-jpeg+jpeg-decoder-for-separate-scans";

/// Decode `bytes` (read from `path`, which is only used in messages).
pub fn decode(bytes: &[u8], path: &Path, params: &IngestParams) -> Result<Photo, PhotoError> {
    decode_checked(bytes, path, params, false)
}

/// [`decode`], told whether these bytes were already checked whole by [`check_complete`] (the
/// watcher checks each photo as it settles): then the strict walk of the JPEG data, about half
/// the cost of decoding a 12-MP photo, is not done twice.
pub fn decode_checked(
    bytes: &[u8],
    path: &Path,
    params: &IngestParams,
    checked: bool,
) -> Result<Photo, PhotoError> {
    decode_with(bytes, path, params, (checked, true))
}

/// [`decode`] as it was before the one-pass JPEG decoder (strict check, then zune-jpeg): for
/// `benches/decode_cost.rs`, which compares the two decoders' time and pixels in one process.
#[doc(hidden)]
pub fn decode_two_pass(
    bytes: &[u8],
    path: &Path,
    params: &IngestParams,
) -> Result<Photo, PhotoError> {
    decode_with(bytes, path, params, (false, false))
}

fn decode_with(
    bytes: &[u8],
    path: &Path,
    params: &IngestParams,
    (checked, one_pass): (bool, bool),
) -> Result<Photo, PhotoError> {
    let err = |reason: String| PhotoError::new(path, reason);
    if formats::is_heif(bytes) {
        return formats::decode_heif(bytes, path, params);
    }
    let raw = formats::is_raw_name(&path.to_string_lossy()) || formats::is_dng(bytes);
    if raw {
        return Err(err(formats::RAW_ADVICE.to_owned()));
    }
    let format = image::guess_format(bytes).map_err(|_| err(unknown_format_reason(bytes)))?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Tiff
    ) {
        return Err(err(format!(
            "{format:?} images are not read: export the photo as JPEG, HEIC, PNG, WebP or TIFF"
        )));
    }
    check_dimensions(bytes, format, params).map_err(err)?;
    // A JPEG is checked and decoded in one pass where the one-pass decoder takes it (nearly
    // every camera's and phone's); a checked file is read again all the same, as decoding it
    // costs no more than a check and another decoder would.
    let decoded = match format {
        ImageFormat::Jpeg if one_pass => jpeg::decode(bytes).map_err(|d| err(jpeg_damage(d)))?,
        _ => None,
    };
    let (image, icc) = match decoded {
        Some(decoded) => one_pass_image(decoded),
        None => {
            if !(checked || format == ImageFormat::Jpeg && one_pass) {
                check_whole(bytes, format).map_err(err)?;
            }
            decode_pixels(bytes, format, params).map_err(err)?
        }
    };
    if icc.as_ref().is_some_and(|p| p.len() > MAX_ICC_BYTES) {
        return Err(err(too_large_icc()));
    }
    let is_grey = !image.color().has_color();
    let mut pixels = formats::flatten_on_white(image);
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

/// The pixels of a checked photo and its embedded ICC profile. A JPEG with subsampled chroma
/// whose colour components sit in separate scans goes to jpeg-decoder: the decoder `image` runs
/// returns it green without an error ([`jpeg::separate_scans`]).
fn decode_pixels(
    bytes: &[u8],
    format: ImageFormat,
    params: &IngestParams,
) -> Result<(DynamicImage, Option<Vec<u8>>), String> {
    let damaged = |e: &dyn std::fmt::Display| {
        format!(
            "cannot decode ({e}): the file is damaged or not really a {format:?}; export it again"
        )
    };
    if format == ImageFormat::Jpeg && jpeg::separate_scans(bytes) {
        return decode_separate_scans(bytes, damaged);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(params));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("cannot decode: {e}"))?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = read_pixels(decoder).map_err(|e| damaged(&e))?;
    Ok((image, icc))
}

/// The decoder's pixels; 8-bit RGB and grey (every JPEG) go into a [`buffer::zeroed`] one.
fn read_pixels(decoder: impl ImageDecoder) -> image::ImageResult<DynamicImage> {
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    if !matches!(color, image::ColorType::Rgb8 | image::ColorType::L8) {
        return DynamicImage::from_decoder(decoder);
    }
    let len = usize::try_from(decoder.total_bytes()).unwrap_or(usize::MAX);
    if len > isize::MAX as usize {
        return DynamicImage::from_decoder(decoder);
    }
    let mut pixels = buffer::zeroed(len);
    decoder.read_image(&mut pixels)?;
    let image = if color == image::ColorType::Rgb8 {
        RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    } else {
        image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
    };
    Ok(image.expect("total_bytes is width × height × channels"))
}

/// [`decode_pixels`] for a JPEG with separate scans (its size limits already checked).
fn decode_separate_scans(
    bytes: &[u8],
    damaged: impl Fn(&dyn std::fmt::Display) -> String,
) -> Result<(DynamicImage, Option<Vec<u8>>), String> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    let data = decoder.decode().map_err(|e| damaged(&e))?;
    let info = decoder.info().ok_or_else(|| damaged(&"no frame header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let image = match info.pixel_format {
        PixelFormat::RGB24 => image::RgbImage::from_raw(w, h, data).map(DynamicImage::ImageRgb8),
        PixelFormat::L8 => image::GrayImage::from_raw(w, h, data).map(DynamicImage::ImageLuma8),
        PixelFormat::CMYK32 | PixelFormat::L16 => {
            return Err(
                "a CMYK or 12-bit JPEG with its colours in separate scans is not read: save it \
                 again as an ordinary (RGB) JPEG"
                    .to_owned(),
            );
        }
    };
    let image = image.ok_or_else(|| damaged(&"fewer pixels than the frame header says"))?;
    Ok((image, decoder.icc_profile()))
}

/// Whether a file that stopped changing holds a whole, undamaged photo, checked without
/// decoding pixels where the format allows: the header reads, the size limits hold, and the
/// file passes [`check_whole`] (for a JPEG every scan's data is walked, so one still being
/// written, pre-sized and still being filled, or overwritten in the middle fails; for a PNG every
/// chunk's CRC holds up to the end chunk; for a HEIC every box and every image extent lies inside
/// the file, and libheif reads its header). Other files are decoded in full. Watch mode uses
/// this so that a new photo is decoded once, by the pipeline.
pub fn check_complete(bytes: &[u8], path: &Path, params: &IngestParams) -> Result<(), PhotoError> {
    if formats::is_heif(bytes) {
        return formats::open_heif(bytes, params)
            .map(drop)
            .map_err(|reason| PhotoError::new(path, reason));
    }
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png)) => {
            check_dimensions(bytes, format, params)
                .and_then(|()| check_whole(bytes, format))
                .map_err(|reason| PhotoError::new(path, reason))
        }
        _ => decode(bytes, path, params).map(|_| ()),
    }
}

/// What decoders let pass: a JPEG whose entropy-coded data is damaged or cut short (they fill or
/// guess and return an image), a PNG whose ancillary chunk fails its CRC (skipped silently) or
/// that ends before its end chunk, a WebP shorter than its RIFF header says. TIFF decoding fails
/// by itself on a cut-off file.
fn check_whole(bytes: &[u8], format: ImageFormat) -> Result<(), String> {
    const AGAIN: &str = "copy it again; the copy was probably interrupted";
    match format {
        ImageFormat::Jpeg => jpeg::check(bytes).map_err(jpeg_damage),
        ImageFormat::Png => png_chunks(bytes),
        ImageFormat::WebP => {
            let riff = bytes
                .get(4..8)
                .map_or(u32::MAX, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            if u64::from(riff) + 8 > bytes.len() as u64 {
                return Err(format!(
                    "the WebP is truncated (it is shorter than its header says): {AGAIN}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// What a user is told about a JPEG the strict check refuses.
fn jpeg_damage(damage: jpeg::Damage) -> String {
    match damage {
        jpeg::Damage::Truncated => "the JPEG is truncated (it ends before its last image data): \
                                    copy it again; the copy was probably interrupted"
            .to_owned(),
        jpeg::Damage::Corrupt(why) => format!(
            "the JPEG's image data is damaged ({why}), so it would show wrong pixels: copy it again from the camera or phone, or export it again"
        ),
    }
}

/// The one-pass decoder's pixels as the image `decode_pixels` would have returned.
fn one_pass_image(d: jpeg::Decoded) -> (DynamicImage, Option<Vec<u8>>) {
    let image = if d.grey {
        image::GrayImage::from_raw(d.width, d.height, d.pixels).map(DynamicImage::ImageLuma8)
    } else {
        RgbImage::from_raw(d.width, d.height, d.pixels).map(DynamicImage::ImageRgb8)
    };
    (
        image.expect("the decoder fills width × height pixels"),
        d.icc,
    )
}

/// Every chunk of a PNG up to its end chunk, each with its CRC checked.
fn png_chunks(bytes: &[u8]) -> Result<(), String> {
    let cut = |place: &str| {
        format!(
            "the PNG is truncated (it ends {place}): copy it again; the copy was probably interrupted"
        )
    };
    let mut at = 8;
    loop {
        let Some(head) = bytes.get(at..at + 8) else {
            return Err(cut("before its end chunk"));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = String::from_utf8_lossy(&head[4..8]).into_owned();
        let (Some(body), Some(stored)) = (
            bytes.get(at + 4..at + 8 + len),
            bytes.get(at + 8 + len..at + 12 + len),
        ) else {
            return Err(cut(&format!("inside its {kind} chunk")));
        };
        if crc32(body) != u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]) {
            return Err(format!(
                "the PNG is damaged (its {kind} chunk fails its checksum): copy it again from the original, or export it again"
            ));
        }
        if kind == "IEND" {
            return Ok(());
        }
        if kind == "iCCP" {
            icc_within_limit(&body[4..])?;
        }
        at += 12 + len;
    }
}

/// The largest embedded colour profile read, unpacked. Real ones are a few hundred bytes to a
/// few hundred kilobytes (a printer's, rarely over 1 MB); a PNG's is compressed, and a few
/// kilobytes can unpack to gigabytes, so it is measured against this before any decoder
/// inflates it.
pub const MAX_ICC_BYTES: usize = 4_000_000;

/// A PNG `iCCP` chunk's data (name, 0, method, zlib stream) unpacks to at most
/// [`MAX_ICC_BYTES`]; it is inflated into a buffer that stops growing there. A stream that
/// does not inflate is left to the decoder, which says what is wrong.
fn icc_within_limit(data: &[u8]) -> Result<(), String> {
    use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_zlib_with_limit};
    let Some(zero) = data.iter().take(80).position(|&b| b == 0) else {
        return Ok(());
    };
    let stream = data.get(zero + 2..).unwrap_or_default();
    match decompress_to_vec_zlib_with_limit(stream, MAX_ICC_BYTES) {
        Err(e) if e.status == TINFLStatus::HasMoreOutput => Err(too_large_icc()),
        _ => Ok(()),
    }
}

fn too_large_icc() -> String {
    format!(
        "its embedded colour profile is larger than {} MB, far beyond any real one, so it is not \
         read: export the photo again as sRGB, or from another program",
        MAX_ICC_BYTES / 1_000_000
    )
}

/// CRC-32 (ISO-HDLC, as PNG uses) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
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
    check_size(w, h, params)
}

/// Refuse a `w`×`h` photo that is a thumbnail or above the pixel limit.
fn check_size(w: u32, h: u32, params: &IngestParams) -> Result<(), String> {
    if w.min(h) < MIN_SIDE_PX {
        return Err(format!(
            "the photo is {w}×{h} pixels; photos must be at least {MIN_SIDE_PX} px on each side: use the original photo, not a thumbnail"
        ));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > params.max_pixels {
        return Err(format!(
            "image is {w}×{h} ({:.0} MP), outside limits.max_megapixels = {}: resize it or raise the limit",
            pixels as f64 / 1e6,
            params.max_pixels / 1_000_000
        ));
    }
    Ok(())
}

fn unknown_format_reason(bytes: &[u8]) -> String {
    let text_like = bytes
        .iter()
        .take(512)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if text_like {
        "this is a text file, not a photo: replace it with the real photo".into()
    } else {
        "not a JPEG, HEIC, PNG, WebP or TIFF image: replace it with the real photo".into()
    }
}

/// Convert pixels described by an embedded ICC profile to sRGB, in place.
fn to_srgb(pixels: &mut RgbImage, icc: &[u8]) -> String {
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return "sRGB assumed (embedded ICC profile unreadable)".to_owned();
    };
    let name = format!("ICC profile {}", profile_name(&profile));
    convert_to_srgb(pixels, &profile, &name)
}

/// Convert pixels in `profile` (named `name` in the manifest: "ICC profile …") to sRGB, in place.
fn convert_to_srgb(pixels: &mut RgbImage, profile: &ColorProfile, name: &str) -> String {
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return format!("sRGB assumed (cannot convert from {name})");
    };
    // In place, a slice at a time through a small copy: a copy of the whole photo (36 MB at
    // 12 MP) costs more in fresh pages than the conversion itself.
    let mut scratch = vec![0u8; 3 * 16_384];
    for chunk in pixels.chunks_mut(scratch.len()) {
        let src = &mut scratch[..chunk.len()];
        src.copy_from_slice(chunk);
        if transform.transform(src, chunk).is_err() {
            return format!("sRGB assumed (conversion from {name} failed)");
        }
    }
    format!("converted to sRGB from embedded {name}")
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

/// The capture day of the photo at `path`, read as a run reads it (private; see `dates`).
#[must_use]
pub fn capture_day(path: &Path) -> Option<crate::dates::Day> {
    read_exif(&std::fs::read(path).ok()?).1
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
    fn a_damaged_heic_is_refused_before_libheif_sees_it() {
        let mut bytes = vec![0, 0, 0, 24];
        bytes.extend_from_slice(b"ftypheic");
        bytes.extend_from_slice(&[0; 32]);
        let e = decode(&bytes, Path::new("x.heic"), &params()).unwrap_err();
        assert!(
            e.to_string().contains("x.heic")
                && e.reason.contains("HEIC is damaged")
                && e.reason.contains("copy it again"),
            "{e}"
        );
    }

    #[test]
    fn crc32_matches_the_png_end_chunk() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
