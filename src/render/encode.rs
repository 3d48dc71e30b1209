//! Encoders for published files. They are fed pixels only, so no EXIF, XMP, ICC or comment from
//! the source can reach an output; browsers read untagged images as sRGB, which they are.

use image::RgbImage;

use crate::config::Format;

/// Encode `img` as `format` at `quality` (1–100).
pub fn encode(img: &RgbImage, format: Format, quality: u8) -> Result<Vec<u8>, String> {
    match format {
        Format::Jpeg => encode_jpeg(img, quality),
        Format::Webp => {
            let encoder = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height());
            Ok(encoder.encode(f32::from(quality)).to_vec())
        }
    }
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(format!("{w}×{h} is too large for JPEG"));
    }
    let mut bytes = Vec::with_capacity((w * h / 4) as usize);
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_progressive(true);
    encoder
        .encode(
            img.as_raw(),
            w as u16,
            h as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}
