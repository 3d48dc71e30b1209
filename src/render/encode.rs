//! Encoders for published files. They are fed pixels only, so no EXIF, XMP, ICC or comment from
//! the source can reach an output; browsers read untagged images as sRGB, which they are.

use image::RgbImage;

use serde::{Deserialize, Serialize};

use super::Format;

/// Names the encoders, hashed into every case key like `render::RENDERER`: a gallery written by
/// another encoder (jpeg-encoder before mozjpeg-rs) is encoded again, for the smaller files,
/// rather than reused.
pub const ENCODERS: &str = "mozjpeg-rs-0.9-annex-k-no-trellis+libwebp+ravif";

/// Encoder settings, as applied (and recorded in the manifest).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct EncodeParams {
    pub jpeg_quality: u8,
    /// Progressive JPEG (smaller, slower) rather than sequential.
    pub jpeg_progressive: bool,
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
        Format::Jpeg => encode_jpeg(img, p.jpeg_quality, p.jpeg_progressive),
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

/// JPEG from mozjpeg-rs (a pure-Rust port of mozjpeg, byte-identical to it): the standard
/// (Annex K) quantisation tables, so a quality number means what it meant with the encoder before
/// and what most tools mean by it; 4:2:0 chroma averaged over each 2×2 block; Huffman tables
/// fitted to the image; all three components in each sequential scan, so every decoder reads it
/// (`image`'s turns a colour-by-colour sequential file green). Progressive uses mozjpeg's scans
/// with end-of-band runs: 3.4% fewer bytes for the same pixels, 2.3–3.3× the time. Trellis
/// quantisation is off: on SSIM it did not pay for its time (`benches/jpeg_bytes.rs`;
/// docs/performance.md).
fn encode_jpeg(img: &RgbImage, quality: u8, progressive: bool) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(format!("{w}×{h} is too large for JPEG"));
    }
    let encoder = if progressive {
        mozjpeg_rs::Encoder::progressive_balanced()
    } else {
        mozjpeg_rs::Encoder::baseline_optimized()
    };
    encoder
        .quality(quality)
        .quant_tables(mozjpeg_rs::QuantTableIdx::JpegAnnexK)
        .trellis(mozjpeg_rs::TrellisConfig::disabled())
        .encode_rgb(img.as_raw(), w, h)
        .map_err(|e| format!("JPEG encoding failed: {e}"))
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
            jpeg_progressive: false,
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

    /// The markers of a JPEG up to its first scan: (marker, segment length).
    fn header_markers(jpeg: &[u8]) -> Vec<u8> {
        let mut at = 2;
        let mut markers = Vec::new();
        while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
            let marker = jpeg[at + 1];
            markers.push(marker);
            if marker == 0xDA {
                break;
            }
            at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        }
        markers
    }

    #[test]
    fn jpeg_in_both_modes_is_interleaved_carries_no_metadata_and_reads_alike_everywhere() {
        // A textured photo-sized frame with odd dimensions (partial MCUs at both edges).
        let img = RgbImage::from_fn(301, 203, |x, y| {
            let t = (x as f32 * 0.3).sin() * (y as f32 * 0.2).cos();
            let v = (x / 3 + y / 2) as f32 + 20.0 * t;
            image::Rgb([
                (40.0 + v) as u8,
                (90.0 + v / 2.0) as u8,
                (200.0 - v / 2.0) as u8,
            ])
        });
        let mut decoded = Vec::new();
        for (progressive, frame) in [(false, 0xC0), (true, 0xC2)] {
            let p = EncodeParams {
                jpeg_quality: 82,
                jpeg_progressive: progressive,
                webp_quality: 80,
                webp_effort: 2,
                avif_quality: 70,
                avif_speed: 10,
            };
            let jpeg = encode(&img, Format::Jpeg, &p).unwrap();
            let markers = header_markers(&jpeg);
            assert!(markers.contains(&frame), "SOF {frame:02X}: {markers:02X?}");
            assert!(
                markers
                    .iter()
                    .all(|&m| !(0xE1..=0xEF).contains(&m) && m != 0xFE),
                "no APP1-APP15 or comment segment: {markers:02X?}"
            );
            // The first scan holds all three components: `image`'s decoder (zune-jpeg) turns a
            // sequential file coded colour by colour green.
            let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
            assert_eq!(jpeg[sos + 4], 3, "three components in the first scan");
            let by_image = image::load_from_memory(&jpeg).unwrap().to_rgb8();
            let by_jpeg_decoder = jpeg_decoder::Decoder::new(jpeg.as_slice())
                .decode()
                .unwrap();
            assert_eq!(by_image.as_raw().len(), by_jpeg_decoder.len());
            let mean = by_image
                .as_raw()
                .iter()
                .zip(img.as_raw())
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / img.as_raw().len() as f64;
            let between = by_image
                .as_raw()
                .iter()
                .zip(&by_jpeg_decoder)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(
                mean < 3.0,
                "the decoded frame is the photo: {mean:.2} levels off"
            );
            assert!(between <= 4, "both decoders agree: {between}");
            decoded.push(by_image);
        }
        // The same pixels either way: progressive only codes them differently (its bytes are
        // measured by `benches/jpeg_bytes.rs`; on a frame this small it can be the larger).
        assert_eq!(decoded[0], decoded[1], "the same decoded pixels");
    }
}
