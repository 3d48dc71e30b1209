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
    /// 1 to 100.
    pub avif_quality: u8,
    /// rav1e's speed preset: 1 (slowest, smallest) to 10 (fastest).
    pub avif_speed: u8,
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
        Format::Avif => encode_avif(img, p.avif_quality, p.avif_speed),
    }
}

/// AVIF in 8-bit YCbCr 4:4:4, with no colour-profile box: like the other formats, it is read
/// as sRGB.
fn encode_avif(img: &RgbImage, quality: u8, speed: u8) -> Result<Vec<u8>, String> {
    let pixels: Vec<ravif::RGB8> = img
        .pixels()
        .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
        .collect();
    let frame = ravif::Img::new(
        pixels.as_slice(),
        img.width() as usize,
        img.height() as usize,
    );
    let encoded = ravif::Encoder::new()
        .with_quality(f32::from(quality))
        .with_speed(speed)
        .with_bit_depth(ravif::BitDepth::Eight)
        .encode_rgb(frame)
        .map_err(|e| format!("AVIF encoding failed: {e}"))?;
    Ok(encoded.avif_file)
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(format!("{w}×{h} is too large for JPEG"));
    }
    let mut bytes = Vec::with_capacity((w * h / 4) as usize);
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_progressive(true);
    // Huffman tables fitted to the image: 3.5% fewer bytes at the same pixels (benches/jpeg_bytes.rs).
    encoder.set_optimized_huffman_tables(true);
    // Chroma averaged over each 2×2 block rather than taken from its top-left pixel.
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_writes_its_own_container_and_decodable_ones_round_trip() {
        let img = RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, 90])
        });
        let p = EncodeParams {
            jpeg_quality: 90,
            webp_quality: 90,
            webp_effort: 2,
            avif_quality: 80,
            avif_speed: 10,
        };
        let jpeg = encode(&img, Format::Jpeg, &p).unwrap();
        let webp = encode(&img, Format::Webp, &p).unwrap();
        let avif = encode(&img, Format::Avif, &p).unwrap();
        assert_eq!(&jpeg[..2], b"\xFF\xD8");
        assert!(webp.starts_with(b"RIFF") && &webp[8..12] == b"WEBP");
        // ISO-BMFF: a box size, then the `ftyp` box naming the AVIF brand.
        assert_eq!(&avif[4..12], b"ftypavif");
        for bytes in [&jpeg, &webp] {
            let back = image::load_from_memory(bytes).unwrap().to_rgb8();
            assert_eq!(back.dimensions(), (96, 64));
            let err = back
                .pixels()
                .zip(img.pixels())
                .map(|(a, b)| (i32::from(a[0]) - i32::from(b[0])).abs())
                .max()
                .unwrap();
            assert!(err < 24, "red channel within 24 levels: {err}");
        }
    }
}
