//! The formats phones and editing apps actually produce, beyond a plain JPEG: HEIC/HEIF (through
//! the system's libheif, see `heif`), transparency flattened onto white, and camera RAW files
//! refused with what to export instead.

use std::path::Path;

use image::{DynamicImage, RgbImage};
use moxcms::TransferCharacteristics;
use moxcms::{CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients};

use super::heif::{Colour, OpenError, Primary};
use super::isobmff;
use super::{IngestParams, Photo};
use crate::error::PhotoError;

/// Camera RAW extensions: sensor data that needs a raw developer, not a photo to publish.
const RAW_EXTENSIONS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "rw2", "raf", "pef",
    "srw", "x3f", "3fr", "iiq", "rwl",
];

/// What to do with a RAW file.
pub const RAW_ADVICE: &str = "a camera RAW file is not read: export it as JPEG or HEIC from the camera app or raw developer (Lightroom, Photos, darktable) and use that";

/// Whether `name` has a camera RAW extension.
#[must_use]
pub fn is_raw_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RAW_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether `bytes` is a HEIF file (HEIC, HEIF or an image sequence of them) by its `ftyp` brand.
#[must_use]
pub fn is_heif(bytes: &[u8]) -> bool {
    bytes.len() > 12 && &bytes[4..8] == b"ftyp" && is_heif_brand(&bytes[8..12])
}

fn is_heif_brand(brand: &[u8]) -> bool {
    matches!(
        brand,
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
    )
}

/// Whether a TIFF is a DNG (it has the DNGVersion tag in its first directory).
#[must_use]
pub fn is_dng(bytes: &[u8]) -> bool {
    let le = match bytes.get(..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return false,
    };
    let u16_at = |at: usize| {
        let b = bytes.get(at..at + 2)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let Some(ifd) = u32_at(4).map(|o| o as usize) else {
        return false;
    };
    let count = usize::from(u16_at(ifd).unwrap_or(0));
    (0..count).any(|i| u16_at(ifd + 2 + 12 * i) == Some(0xC612))
}

/// Pixels without transparency: alpha composited onto white (a transparent screenshot or a cut
/// out photo shows on white, as a browser shows it on the gallery's page, never on black).
#[must_use]
pub fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba16();
    let (w, h) = rgba.dimensions();
    let raw: Vec<u8> = rgba
        .as_raw()
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u64::from(p[3]);
            let over = |c: u16| {
                // c·a + white·(1 − a), in 16 bits, then rounded to 8 bits.
                let v = (u64::from(c) * a + 65535 * (65535 - a) + 32767) / 65535;
                ((v * 255 + 32767) / 65535) as u8
            };
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect();
    RgbImage::from_raw(w, h, raw).expect("3 samples per pixel")
}

/// Decode the primary image of a HEIF file: checked whole, size limits before any pixel,
/// libheif's transforms applied once, colour converted to sRGB, capture day read from EXIF.
pub fn decode_heif(bytes: &[u8], path: &Path, params: &IngestParams) -> Result<Photo, PhotoError> {
    let err = |reason: String| PhotoError::new(path, reason);
    let primary = open_heif(bytes, params).map_err(err)?;
    let image = primary.decode().map_err(|e| {
        err(format!(
            "{e}: the file is damaged or uses a HEIF feature this libheif cannot decode; export it again as HEIC or JPEG"
        ))
    })?;
    let mut pixels = flatten_on_white(image);
    let colour = match primary.colour() {
        Colour::Icc(icc) => super::to_srgb(&mut pixels, &icc),
        Colour::Nclx {
            primaries,
            transfer,
        } => nclx_to_srgb(&mut pixels, primaries, transfer),
        Colour::None => "sRGB assumed (no embedded profile)".to_owned(),
    };
    // Kamadak reads the Exif item of a HEIF file itself. Its Orientation tag is ignored on
    // purpose: it describes the stored image, which libheif's transforms have already turned.
    let (_, captured) = super::read_exif(bytes);
    Ok(Photo {
        pixels,
        orientation: 1,
        colour,
        captured,
    })
}

/// A HEIF file checked whole (every box and image extent inside the file), opened by libheif
/// and its size checked against the limits; nothing is decoded.
pub fn open_heif<'a>(bytes: &'a [u8], params: &IngestParams) -> Result<Primary<'a>, String> {
    check_heif_whole(bytes)?;
    let primary = Primary::open(bytes).map_err(|e| match e {
        OpenError::Unavailable(how) => how,
        OpenError::Refused(e) => {
            format!("{e}: the file is damaged or not really a HEIC; copy or export it again")
        }
    })?;
    let (w, h) = primary.size();
    super::check_size(w, h, params)?;
    Ok(primary)
}

/// [`isobmff::check`] in the words of the other formats' messages.
pub fn check_heif_whole(bytes: &[u8]) -> Result<(), String> {
    isobmff::check(bytes).map_err(|d| match d {
        isobmff::Damage::Truncated(why) => format!(
            "the HEIC is truncated ({why}): copy it again; the copy was probably interrupted"
        ),
        isobmff::Damage::Corrupt(why) => {
            format!("the HEIC is damaged ({why}): copy it again from the phone, or export it again")
        }
    })
}

/// Convert pixels described by CICP code points (an `nclx` box) to sRGB, in place.
fn nclx_to_srgb(pixels: &mut RgbImage, primaries: u8, transfer: u8) -> String {
    // Unspecified primaries are BT.709's; an unspecified or video transfer is treated as sRGB's,
    // as phones and browsers do for still photos.
    let primaries = if primaries == 2 { 1 } else { primaries };
    let transfer = if matches!(transfer, 1 | 2 | 6 | 14 | 15) {
        13
    } else {
        transfer
    };
    if primaries == 1 && transfer == 13 {
        return "sRGB (nclx: BT.709 primaries, sRGB transfer)".to_owned();
    }
    let name = format!("nclx colour description (primaries {primaries}, transfer {transfer})");
    let (Ok(cp), Ok(tc)) = (
        CicpColorPrimaries::try_from(primaries),
        TransferCharacteristics::try_from(transfer),
    ) else {
        return format!("sRGB assumed (cannot convert from {name})");
    };
    let profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries: cp,
        transfer_characteristics: tc,
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    });
    let label = match primaries {
        12 => format!("Display P3 {name}"),
        9 => format!("BT.2020 {name}"),
        _ => name,
    };
    super::convert_to_srgb(pixels, &profile, &label)
}

/// Every photo of a case read as `batch` will read it, without decoding pixels where the format
/// allows (see [`super::check_complete`]): an unreadable format, a photo over the limits, a
/// damaged or cut-off file, or a missing libheif is found by `check`, not only by `batch`.
/// `files` are `(path, rel)`; each problem names `rel`.
#[must_use]
pub fn check_photos(files: &[(&Path, &str)], params: &IngestParams) -> Vec<String> {
    use rayon::prelude::*;
    files
        .par_iter()
        .filter_map(|&(path, rel)| {
            let rel = Path::new(rel);
            match super::read_bytes(path, params) {
                Ok(bytes) => super::check_complete(&bytes, rel, params).err(),
                Err(e) => Some(PhotoError::new(rel, e.reason)),
            }
        })
        .map(|e| e.to_string())
        .collect()
}
