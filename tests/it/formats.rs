//! The files clinics actually have, beyond a plain baseline JPEG: each is made here from code
//! (no binary fixture), read through `ingest`, and its pixels checked against what the format
//! says they are.

use std::path::Path;

use beforeafter::ingest::{IngestParams, check_complete, decode};
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use jpeg_encoder::{ColorType, Encoder};

const PARAMS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};

/// A smooth colour gradient with no detail finer than JPEG's blocks.
fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (40 + x * 160 / w) as u8,
            (60 + y * 140 / h) as u8,
            (200 - (x + y) * 100 / (w + h)) as u8,
        ])
    })
}

fn jpeg(img: &RgbImage, progressive: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 92);
    enc.set_progressive(progressive);
    let (w, h) = (img.width() as u16, img.height() as u16);
    enc.encode(img.as_raw(), w, h, ColorType::Rgb).unwrap();
    out
}

fn read(bytes: &[u8], name: &str) -> RgbImage {
    let photo = decode(bytes, Path::new(name), &PARAMS).unwrap_or_else(|e| panic!("{e}"));
    check_complete(bytes, Path::new(name), &PARAMS).unwrap_or_else(|e| panic!("{e}"));
    photo.pixels
}

/// Largest difference of any channel of any pixel.
fn max_diff(a: &RgbImage, b: &RgbImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap()
}

fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn progressive_jpeg_reads_like_the_baseline_one() {
    let img = gradient(160, 120);
    let baseline = read(&jpeg(&img, false), "baseline.jpg");
    let progressive = read(&jpeg(&img, true), "progressive.jpg");
    assert!(mean_diff(&baseline, &progressive) < 1.0);
    assert!(mean_diff(&img, &progressive) < 2.0);
}

/// A sequential JPEG with subsampled chroma that codes luma, then each chroma component, in
/// scans of their own (what jpeg-encoder writes with optimised Huffman tables; allowed by the
/// standard). zune-jpeg decoded it green (chroma left at zero) with no error; it must read with
/// its colours.
#[test]
fn jpeg_with_a_scan_per_colour_component_reads_with_its_colours() {
    let img = gradient(160, 120);
    let mut bytes = Vec::new();
    let mut enc = Encoder::new(&mut bytes, 92);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.set_optimized_huffman_tables(true);
    enc.encode(img.as_raw(), 160, 120, ColorType::Rgb).unwrap();
    let scans = bytes.windows(2).filter(|w| w == &[0xFF, 0xDA]).count();
    assert_eq!(
        scans, 3,
        "the encoder no longer writes a scan per component"
    );
    let separate = read(&bytes, "separate-scans.jpg");
    assert!(
        mean_diff(&img, &separate) < 2.0,
        "{}",
        mean_diff(&img, &separate)
    );
    // Without subsampling the same layout goes to `image`'s decoder, which reads it right.
    let mut full = Vec::new();
    let mut enc = Encoder::new(&mut full, 92);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    enc.set_optimized_huffman_tables(true);
    enc.encode(img.as_raw(), 160, 120, ColorType::Rgb).unwrap();
    assert!(mean_diff(&img, &read(&full, "separate-444.jpg")) < 2.0);
}

/// An APP2 MPF segment (CIPA DC-007) listing a second image, as Ultra HDR and other multi-picture
/// JPEGs carry; only its header matters here.
fn mpf_segment() -> Vec<u8> {
    let mut s = b"MPF\0".to_vec();
    s.extend_from_slice(b"MM\0*\0\0\0\x08"); // TIFF header, first IFD at 8
    s.extend_from_slice(&[0, 1]); // one entry: MPFVersion "0100"
    s.extend_from_slice(&[0xB0, 0x00, 0, 7, 0, 0, 0, 4, b'0', b'1', b'0', b'0']);
    s.extend_from_slice(&[0, 0, 0, 0]);
    s
}

#[test]
fn ultra_hdr_jpeg_reads_its_sdr_base_image() {
    let img = gradient(160, 120);
    let mut base = Vec::new();
    let mut enc = Encoder::new(&mut base, 92);
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\" hdrgm:Version=\"1.0\"/></rdf:RDF></x:xmpmeta>";
    enc.add_app_segment(1, xmp.to_vec()).unwrap();
    enc.add_app_segment(2, mpf_segment()).unwrap();
    enc.encode(img.as_raw(), 160, 120, ColorType::Rgb).unwrap();
    // The gain map: a second, smaller, grey JPEG after the base image's end marker.
    let gain = image::GrayImage::from_fn(80, 60, |x, _| image::Luma([(x * 3) as u8]));
    let mut file = base.clone();
    Encoder::new(&mut file, 80)
        .encode(gain.as_raw(), 80, 60, ColorType::Luma)
        .unwrap();
    let got = read(&file, "PXL_20260501_ultra_hdr.jpg");
    assert_eq!(got.dimensions(), (160, 120));
    assert_eq!(max_diff(&got, &read(&base, "base.jpg")), 0);
}

#[test]
fn motion_photo_with_a_video_after_the_jpeg_reads_the_photo() {
    let img = gradient(160, 120);
    let photo = jpeg(&img, false);
    let mut file = photo.clone();
    // An MP4's opening boxes, as Samsung and Google motion photos append them.
    file.extend_from_slice(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom\0\0\0\x10mdat");
    file.extend_from_slice(&[0x5A; 4096]);
    assert_eq!(
        max_diff(&read(&file, "MVIMG_0001.jpg"), &read(&photo, "p.jpg")),
        0
    );
}

#[test]
fn greyscale_jpeg_reads_as_equal_channels() {
    let grey = image::GrayImage::from_fn(96, 80, |x, y| image::Luma([(30 + x + y) as u8]));
    let mut file = Vec::new();
    Encoder::new(&mut file, 95)
        .encode(grey.as_raw(), 96, 80, ColorType::Luma)
        .unwrap();
    let got = read(&file, "grey.jpg");
    for (p, g) in got.pixels().zip(grey.pixels()) {
        assert!(p[0] == p[1] && p[1] == p[2], "{p:?}");
        assert!(p[0].abs_diff(g[0]) <= 3, "{p:?} vs {g:?}");
    }
}

/// Four CMYK patches (white paper, full cyan, full magenta + yellow, full black), and the RGB
/// each must read as.
fn cmyk_patches() -> (Vec<u8>, [[u8; 3]; 4]) {
    let inks: [[u8; 4]; 4] = [
        [0, 0, 0, 0],
        [255, 0, 0, 0],
        [0, 255, 255, 0],
        [0, 0, 0, 255],
    ];
    let want = [[255, 255, 255], [0, 255, 255], [255, 0, 0], [0, 0, 0]];
    let mut raw = Vec::new();
    for y in 0..64 {
        for x in 0..128 {
            let _ = y;
            raw.extend_from_slice(&inks[x / 32]);
        }
    }
    (raw, want)
}

fn check_cmyk(kind: ColorType, name: &str) {
    let (raw, want) = cmyk_patches();
    let mut file = Vec::new();
    Encoder::new(&mut file, 95)
        .encode(&raw, 128, 64, kind)
        .unwrap();
    // jpeg-encoder writes Adobe's APP14 marker and stores the inks inverted, as Photoshop does.
    assert!(
        file.windows(5).any(|w| w == b"Adobe"),
        "{name}: no Adobe marker"
    );
    let got = read(&file, name);
    for (i, want) in want.iter().enumerate() {
        let p = got.get_pixel(i as u32 * 32 + 16, 32).0;
        let off = p
            .iter()
            .zip(want)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(off <= 12, "{name}: patch {i} reads {p:?}, want {want:?}");
    }
}

#[test]
fn adobe_inverted_cmyk_jpeg_reads_with_the_right_colours() {
    check_cmyk(ColorType::Cmyk, "adobe_cmyk.jpg");
}

#[test]
fn adobe_ycck_jpeg_reads_with_the_right_colours() {
    check_cmyk(ColorType::CmykAsYcck, "adobe_ycck.jpg");
}

/// A 16-bit gradient whose 8-bit rounding is known.
fn rgb16() -> image::ImageBuffer<Rgb<u16>, Vec<u16>> {
    image::ImageBuffer::from_fn(96, 72, |x, y| {
        Rgb([
            (x * 65535 / 95) as u16,
            (y * 900) as u16,
            65535 - (x * 300) as u16,
        ])
    })
}

fn check_16_bit(file: &[u8], name: &str) {
    let want = image::DynamicImage::ImageRgb16(rgb16()).into_rgb8();
    let got = read(file, name);
    assert!(max_diff(&got, &want) <= 1, "{name}");
    // Not a truncation to the high byte only, nor the low byte.
    assert_eq!(got.get_pixel(95, 71).0[0], 255);
}

#[test]
fn png_16_bit_reads_at_full_range() {
    let img = rgb16();
    let mut file = Vec::new();
    let bytes: Vec<u8> = img.as_raw().iter().flat_map(|v| v.to_ne_bytes()).collect();
    image::codecs::png::PngEncoder::new(&mut file)
        .write_image(&bytes, 96, 72, image::ExtendedColorType::Rgb16)
        .unwrap();
    check_16_bit(&file, "rgb_16_should_be_rgb_8.png");
}

#[test]
fn tiff_16_bit_reads_at_full_range() {
    let mut file = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb16(rgb16())
        .write_to(&mut file, image::ImageFormat::Tiff)
        .unwrap();
    check_16_bit(file.get_ref(), "rgb_16_should_be_rgb_8.tif");
}

#[test]
fn png_with_alpha_lands_on_white_never_black() {
    // Left: fully transparent black (what a screenshot's cut-out holds); middle: half-transparent
    // red; right: opaque blue.
    let img = RgbaImage::from_fn(96, 64, |x, _| match x / 32 {
        0 => Rgba([0, 0, 0, 0]),
        1 => Rgba([255, 0, 0, 128]),
        _ => Rgba([0, 0, 255, 255]),
    });
    let mut file = Vec::new();
    image::codecs::png::PngEncoder::new(&mut file)
        .write_image(img.as_raw(), 96, 64, image::ExtendedColorType::Rgba8)
        .unwrap();
    let got = read(&file, "screenshot_alpha_should_be_on_white.png");
    assert_eq!(got.get_pixel(10, 10).0, [255, 255, 255]);
    let half = got.get_pixel(48, 10).0;
    assert!(
        half[0] == 255 && half[1].abs_diff(127) <= 1 && half[1] == half[2],
        "{half:?}"
    );
    assert_eq!(got.get_pixel(80, 10).0, [0, 0, 255]);
}

/// A minimal little-endian TIFF whose first directory has the DNGVersion tag (1.4.0.0).
fn dng() -> Vec<u8> {
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0xC612u16.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes()); // BYTE
    t.extend_from_slice(&4u32.to_le_bytes());
    t.extend_from_slice(&[1, 4, 0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

#[test]
fn raw_and_dng_say_to_export_jpeg_or_heic() {
    for (bytes, name) in [
        (dng(), "before.dng"),
        (dng(), "renamed_dng.tif"),
        (b"II*\0\x10\0\0\0CR\x02\0".to_vec(), "IMG_0001.CR2"),
    ] {
        let e = decode(&bytes, Path::new(name), &PARAMS).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(name) && text.contains("RAW") && text.contains("JPEG or HEIC"),
            "{text}"
        );
    }
}
