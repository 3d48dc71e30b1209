//! Encoders for published files. They are fed pixels only, so no EXIF, XMP, ICC or comment from
//! the source can reach an output; browsers read untagged images as sRGB, which they are.

use image::RgbImage;

use crate::config::Format;

/// Encoder settings.
#[derive(Clone, Copy, Debug)]
pub struct EncodeParams {
    pub jpeg_quality: u8,
    pub webp_quality: u8,
    /// libwebp's `method`: 0 (fastest) to 6 (smallest files).
    pub webp_effort: u8,
}

/// Encode `img` as `format`.
pub fn encode(img: &RgbImage, format: Format, p: &EncodeParams) -> Result<Vec<u8>, String> {
    match format {
        Format::Jpeg => encode_jpeg(img, p.jpeg_quality),
        Format::Webp => {
            let encoder = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height());
            let mut config = webp::WebPConfig::new().map_err(|()| "libwebp config".to_owned())?;
            config.quality = f32::from(p.webp_quality);
            config.method = i32::from(p.webp_effort);
            let bytes = encoder
                .encode_advanced(&config)
                .map_err(|e| format!("WebP encoding failed: {e:?}"))?;
            Ok(bytes.to_vec())
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
