//! Ingest: colour management and hostile files, on fixtures made here.

use crate::support;

use std::path::Path;

use beforeafter::ingest::{IngestParams, check_complete, decode};
use image::{ImageEncoder, Rgb, RgbImage};

const PARAMS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};

fn srgb_decode(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn srgb_encode(v: f64) -> f64 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.0031308 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Display P3 -> sRGB by the published matrices (independent of the code under test).
fn p3_to_srgb(p: [u8; 3]) -> [f64; 3] {
    const P3_TO_XYZ: [[f64; 3]; 3] = [
        [0.4865709, 0.2656677, 0.1982173],
        [0.2289746, 0.6917385, 0.0792869],
        [0.0000000, 0.0451134, 1.0439444],
    ];
    const XYZ_TO_SRGB: [[f64; 3]; 3] = [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ];
    let lin = p.map(|v| srgb_decode(f64::from(v) / 255.0));
    let mul = |m: &[[f64; 3]; 3], v: [f64; 3]| {
        [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
    };
    mul(&XYZ_TO_SRGB, mul(&P3_TO_XYZ, lin)).map(|v| srgb_encode(v) * 255.0)
}

fn p3_png(img: &RgbImage) -> Vec<u8> {
    let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut bytes = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut bytes);
    enc.set_icc_profile(icc).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    bytes
}

#[test]
fn display_p3_photo_is_converted_to_srgb_without_colour_shift() {
    let colours = [
        [200u8, 100, 50],
        [90, 160, 210],
        [128, 128, 128],
        [230, 200, 180],
    ];
    // Photos under 64 px are refused, so each colour is a 64×64 block.
    let img = RgbImage::from_fn(256, 64, |x, _| Rgb(colours[(x / 64) as usize]));
    let photo = decode(&p3_png(&img), Path::new("p3.png"), &PARAMS).unwrap();
    assert!(photo.colour.contains("converted"), "{}", photo.colour);
    for (x, c) in colours.iter().enumerate() {
        let want = p3_to_srgb(*c);
        let got = photo.pixels.get_pixel(x as u32 * 64 + 32, 32).0;
        for k in 0..3 {
            assert!(
                (f64::from(got[k]) - want[k]).abs() <= 2.5,
                "{c:?}: got {got:?}, want {want:?}"
            );
        }
    }
    // Saturated P3 colours really move, so the test would catch a dropped profile.
    assert!((p3_to_srgb([200, 100, 50])[0] - 200.0).abs() > 10.0);
}

#[test]
fn untagged_photo_is_left_alone() {
    let img = support::env::photo(96, 72, 1);
    let photo = decode(&support::env::png(&img), Path::new("a.png"), &PARAMS).unwrap();
    assert_eq!(photo.pixels, img);
    assert!(photo.colour.contains("assumed"));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w`×`h` pixels, with a tiny body: a decompression-bomb stand-in.
pub fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&w.to_be_bytes());
    chunk.extend_from_slice(&h.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    // A tiny IDAT (an empty zlib stream): the body a bomb would inflate from.
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(idat);
    out.extend_from_slice(&crc32(idat).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    out
}

#[test]
fn bomb_header_is_refused_before_decoding() {
    let e = decode(
        &png_header_only(60000, 60000),
        Path::new("bomb.png"),
        &PARAMS,
    )
    .unwrap_err();
    assert!(
        e.reason.contains("60000×60000") && e.reason.contains("max_megapixels"),
        "{e}"
    );
}

#[test]
fn truncated_jpeg_is_refused() {
    let bytes = support::env::jpeg(&support::env::photo(128, 96, 2));
    let e = decode(&bytes[..bytes.len() * 2 / 3], Path::new("cut.jpg"), &PARAMS).unwrap_err();
    assert!(e.reason.contains("truncated"), "{e}");
}

/// Watch mode's cheap "is it whole?" check must refuse every cut of a file being written, even
/// one that ends right after an embedded thumbnail's own end-of-image marker, and a pre-sized
/// file whose end is still zeros; whole JPEGs (with data after the image too) and PNGs pass.
#[test]
fn check_complete_refuses_every_partial_write_and_passes_whole_files() {
    let main = support::env::jpeg(&support::env::photo(320, 240, 4));
    let thumb = support::env::jpeg(&support::env::photo(48, 36, 5));
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(thumb.len() + 8).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&thumb);
    let whole: Vec<u8> = [&main[..2], &app1, &main[2..]].concat();
    let path = Path::new("session-1.jpg");
    assert!(check_complete(&whole, path, &PARAMS).is_ok());
    assert!(decode(&whole, path, &PARAMS).is_ok());
    let thumb_end = 2 + app1.len();
    for cut in (1..whole.len())
        .step_by(97)
        .chain([thumb_end, whole.len() - 1])
    {
        assert!(
            check_complete(&whole[..cut], path, &PARAMS).is_err(),
            "a cut at {cut} of {} passed",
            whole.len()
        );
    }
    let mut presized = whole.clone();
    let n = presized.len();
    presized[n * 3 / 4..].fill(0);
    assert!(check_complete(&presized, path, &PARAMS).is_err());
    let motion_photo = [&whole[..], b"....ftypmp42 video data"].concat();
    assert!(check_complete(&motion_photo, path, &PARAMS).is_ok());
    let png = support::env::png(&support::env::photo(128, 96, 6));
    assert!(check_complete(&png, Path::new("a.png"), &PARAMS).is_ok());
    assert!(check_complete(&png[..png.len() - 5], Path::new("a.png"), &PARAMS).is_err());
}

/// EXIF orientations 1–8, each stored by a phone-like writer; ingest must give back the upright
/// image exactly once (a double application would rotate it again and fail).
#[test]
fn exif_orientations_1_to_8_are_applied_exactly_once() {
    // Asymmetric, non-square, big blocks so JPEG error stays small.
    let upright = RgbImage::from_fn(128, 80, |x, y| {
        let q = (x / 64) + 2 * (y / 40);
        Rgb([[230, 30, 30], [30, 200, 40], [40, 60, 220], [240, 220, 40]][q as usize])
    });
    for o in 1..=8u8 {
        let bytes =
            beforeafter::synth::jpeg_with_exif(&upright, o, 95, Some("2026:03:14 10:20:30"));
        let photo = decode(&bytes, Path::new(&format!("exif_{o}.jpg")), &PARAMS).unwrap();
        assert_eq!(photo.orientation, o);
        assert_eq!(photo.pixels.dimensions(), (128, 80), "orientation {o}");
        for (x, y) in [(16, 10), (112, 10), (16, 70), (112, 70)] {
            let got = photo.pixels.get_pixel(x, y).0;
            let want = upright.get_pixel(x, y).0;
            let err = (0..3)
                .map(|k| (i32::from(got[k]) - i32::from(want[k])).abs())
                .max()
                .unwrap();
            assert!(
                err < 24,
                "orientation {o} at ({x},{y}): {got:?} vs {want:?}"
            );
        }
        assert_eq!(photo.captured, beforeafter::dates::Day::new(2026, 3, 14));
    }
}

/// A PNG of `img` with an `iCCP` chunk whose profile unpacks to `unpacked` zero bytes, put right
/// after the header chunk, where the format wants it.
fn png_with_icc_of(img: &RgbImage, unpacked: usize) -> Vec<u8> {
    let plain = support::env::png(img);
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; unpacked], 9);
    let mut body = b"iCCPbomb\0\0".to_vec();
    body.extend_from_slice(&packed);
    let mut chunk = ((body.len() - 4) as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&support::env::png_crc(&body).to_be_bytes());
    let after_ihdr = 8 + 8 + 13 + 4;
    [&plain[..after_ihdr], &chunk, &plain[after_ihdr..]].concat()
}

/// Issue 31: a PNG whose colour profile inflates to gigabytes took 1.1 GB of memory to decode.
/// It is now refused, naming the file and the fix, before any decoder inflates the profile;
/// a profile under the limit is read as before.
#[test]
fn a_png_whose_colour_profile_unpacks_past_the_limit_is_refused_before_it_is_inflated() {
    let img = RgbImage::from_pixel(96, 96, Rgb([120, 90, 70]));
    let bomb = png_with_icc_of(&img, 64_000_000);
    assert!(bomb.len() < 200_000, "{} bytes on disk", bomb.len());
    let path = Path::new("crown/after.png");
    let e = decode(&bomb, path, &PARAMS).unwrap_err().to_string();
    assert!(
        e.contains("crown/after.png") && e.contains("colour profile"),
        "{e}"
    );
    assert!(e.contains("export the photo again"), "{e}");
    let e = check_complete(&bomb, path, &PARAMS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour profile"), "{e}");
    let small = png_with_icc_of(&img, 100_000);
    let photo = decode(&small, path, &PARAMS).unwrap();
    assert!(photo.colour.contains("sRGB assumed"), "{}", photo.colour);
}
