//! Photos as a browser can show them. JPEG, PNG and WebP files go out as they are; a HEIC (an
//! iPhone's photo) or TIFF, which Chromium, Firefox and Edge do not show, is decoded the way a
//! run decodes it (upright, sRGB, the same size limits) and sent as a JPEG made here, so a held
//! HEIC case shows its photos instead of two blank frames. Decoding a 12-MP HEIC takes about a
//! second, so the last few previews are kept in memory (keyed by path, size and modification
//! time: a replaced photo is decoded again).
//!
//! The settings screen's watermark preview ([`watermarked`]) is made here too: a clinic photo,
//! decoded the same way, made smaller, marked by the real watermark code
//! ([`crate::render::watermark`]) with the settings being edited.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use image::{ImageFormat, RgbImage};

use crate::config::{Config, Format};
use crate::http::Response;
use crate::ingest::IngestParams;
use crate::render::encode::{EncodeParams, encode};

/// Previews kept: a case page shows two photos, a series a few more.
const KEPT: usize = 8;
/// Quality of the JPEGs made for the screen (never published).
const SCREEN_QUALITY: u8 = 85;

type Key = (PathBuf, u64, Option<SystemTime>);
/// The previews made last, newest at the end.
type Kept = Mutex<Vec<(Key, Arc<Vec<u8>>)>>;

fn cache() -> &'static Kept {
    static CACHE: OnceLock<Kept> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

/// The photo at `path` (inside INPUT, already checked) as a browser shows it.
pub fn photo(path: &Path, config: &Result<Config, String>) -> Response {
    let Ok(bytes) = std::fs::read(path) else {
        return Response::text(404, "the photo could not be read\n");
    };
    let shown = matches!(
        image::guess_format(&bytes),
        Ok(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    );
    if shown && !crate::ingest::formats::is_heif(&bytes) {
        return Response::new(200, crate::http::content_type(path), bytes);
    }
    let meta = std::fs::metadata(path).ok();
    let key: Key = (
        path.to_owned(),
        bytes.len() as u64,
        meta.and_then(|m| m.modified().ok()),
    );
    let kept = cache().lock().ok().and_then(|c| {
        c.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, jpeg)| Arc::clone(jpeg))
    });
    if let Some(jpeg) = kept {
        return Response::new(200, "image/jpeg", jpeg.as_slice());
    }
    match decode(&bytes, path, config).and_then(|img| to_jpeg(&img)) {
        Ok(jpeg) => {
            let jpeg = Arc::new(jpeg);
            if let Ok(mut c) = cache().lock() {
                c.push((key, Arc::clone(&jpeg)));
                let extra = c.len().saturating_sub(KEPT);
                c.drain(..extra);
            }
            Response::new(200, "image/jpeg", jpeg.as_slice())
        }
        Err(e) => Response::text(422, &format!("{e}\n")),
    }
}

/// Decode a photo as a run does: upright, sRGB, within the clinic's limits.
pub fn decode(
    bytes: &[u8],
    path: &Path,
    config: &Result<Config, String>,
) -> Result<RgbImage, String> {
    let limits = match config {
        Ok(c) => &c.limits,
        Err(e) => return Err(e.clone()),
    };
    let params = IngestParams {
        max_pixels: limits.max_pixels(),
        max_file_bytes: limits.max_file_bytes(),
    };
    crate::ingest::decode(bytes, path, &params)
        .map(|p| p.pixels)
        .map_err(|e| e.to_string())
}

/// A JPEG for the screen.
pub fn to_jpeg(img: &RgbImage) -> Result<Vec<u8>, String> {
    let params = EncodeParams {
        jpeg_quality: SCREEN_QUALITY,
        jpeg_progressive: false,
        webp_quality: SCREEN_QUALITY,
        webp_effort: 0,
        avif_quality: SCREEN_QUALITY,
        avif_speed: 10,
    };
    encode(img, Format::Jpeg, &params)
}

/// `img` made `width` pixels wide (never wider than it is), marked as `config` says
/// (nothing when the watermark is off), as a JPEG.
pub fn watermarked(img: &RgbImage, width: u32, config: &Config) -> Result<Vec<u8>, String> {
    let w = width.min(img.width()).max(1);
    let h = ((u64::from(img.height()) * u64::from(w)) / u64::from(img.width().max(1))).max(1);
    let mut small = crate::render::resize_exact(img, w, h as u32);
    let params = config.render_sections().params(None);
    let mark = (params.watermark.as_ref())
        .and_then(|w| crate::render::watermark::Watermark::new(w, config.logo_png.as_deref()));
    if let Some(mark) = mark {
        mark.apply_mut(&mut small);
    }
    to_jpeg(&small)
}
