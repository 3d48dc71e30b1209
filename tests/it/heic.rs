//! HEIC photos through the system's libheif, on files made here with `heif-enc` from JPEG and PNG
//! fixtures, checked against the JPEG path: colours (median CIEDE2000), orientation (`irot` plus
//! an EXIF Orientation: applied once), 10-bit, alpha, the primary image only, the capture date,
//! cut-off copies, a missing libheif, and a folder mixing HEIC and JPEG published end to end.
//!
//! Without heif-enc or libheif these tests print SKIPPED; under CI they fail (see support/heif.rs).

use crate::support::{self, heif};

use std::path::Path;
use std::process::Command;

use beforeafter::ingest::{IngestParams, Photo, check_complete, decode};
use beforeafter::tone::{delta_e2000, srgb_to_lab};
use image::{ImageEncoder, RgbImage};
use support::env::TestEnv;

const PARAMS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};

fn real(name: &str) -> Vec<u8> {
    std::fs::read(Path::new("tests/fixtures/real").join(name)).unwrap()
}

fn read(bytes: &[u8], name: &str) -> Photo {
    decode(bytes, Path::new(name), &PARAMS).unwrap_or_else(|e| panic!("{e}"))
}

/// `bytes` written as `name` in `dir`, then through heif-enc with `args`.
fn to_heic(dir: &Path, name: &str, bytes: &[u8], args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    heif::heif_enc(&path, args)
}

/// Median CIEDE2000 between two images of the same size.
fn median_delta_e(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let mut d: Vec<f64> = a
        .pixels()
        .zip(b.pixels())
        .step_by(7)
        .map(|(p, q)| delta_e2000(srgb_to_lab(p.0), srgb_to_lab(q.0)))
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// A JPEG whose pixels are the fixture's, declared Display P3 by an embedded ICC profile.
fn p3_jpeg(pixels: &RgbImage) -> Vec<u8> {
    let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
    enc.add_icc_profile(&icc).unwrap();
    let (w, h) = (pixels.width() as u16, pixels.height() as u16);
    enc.encode(pixels.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn plain_heic_matches_its_jpeg() {
    if !heif::tools("plain_heic_matches_its_jpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jpeg = real("coffee.jpg");
    let heic = to_heic(dir.path(), "coffee.jpg", &jpeg, &["-q", "92"]);
    let (want, got) = (read(&jpeg, "coffee.jpg"), read(&heic, "coffee.heic"));
    let de = median_delta_e(&want.pixels, &got.pixels);
    eprintln!("plain photo: median ΔE2000 HEIC vs JPEG = {de:.3}");
    assert!(de <= 1.5, "median ΔE2000 {de:.2}");
}

#[test]
fn heic_with_a_display_p3_icc_profile_is_converted_like_the_jpeg() {
    if !heif::tools("heic_with_a_display_p3_icc_profile") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pixels = read(&real("chelsea.jpg"), "chelsea.jpg").pixels;
    let jpeg = p3_jpeg(&pixels);
    let heic = to_heic(dir.path(), "p3.jpg", &jpeg, &["-q", "92"]);
    let (want, got) = (read(&jpeg, "p3.jpg"), read(&heic, "p3.heic"));
    assert!(got.colour.contains("converted to sRGB"), "{}", got.colour);
    let de = median_delta_e(&want.pixels, &got.pixels);
    eprintln!("wide-gamut (P3 ICC): median ΔE2000 HEIC vs JPEG = {de:.3}");
    assert!(de <= 1.5, "median ΔE2000 {de:.2}");
    // The conversion matters: unconverted pixels are far off.
    assert!(median_delta_e(&pixels, &want.pixels) > 1.0);
}

#[test]
fn heic_with_nclx_display_p3_is_converted_like_an_icc_tagged_jpeg() {
    if !heif::tools("heic_with_nclx_display_p3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = real("chelsea.jpg");
    let pixels = read(&plain, "chelsea.jpg").pixels;
    // Display P3 primaries (12), sRGB transfer (13), as iPhones describe their photos.
    let heic = heif::add_nclx(
        &to_heic(dir.path(), "nclx.jpg", &plain, &["-q", "92"]),
        12,
        13,
    );
    let got = read(&heic, "nclx.heic");
    assert!(got.colour.contains("Display P3 nclx"), "{}", got.colour);
    let want = read(&p3_jpeg(&pixels), "p3.jpg");
    let de = median_delta_e(&want.pixels, &got.pixels);
    eprintln!("nclx P3: median ΔE2000 HEIC vs P3 JPEG = {de:.3}");
    assert!(de <= 1.5, "median ΔE2000 {de:.2}");
}

/// A portrait photo stored sideways as iPhones store it: `irot` and an EXIF Orientation of 6.
fn iphone_portrait(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let upright = read(&real("astronaut.jpg"), "astronaut.jpg").pixels;
    let upright = image::imageops::crop_imm(&upright, 0, 0, 400, 512).to_image();
    let date = beforeafter::synth::DEFAULT_DATE_TIME_ORIGINAL;
    let jpeg = beforeafter::synth::jpeg_with_exif(&upright, 6, 95, Some(date));
    let sideways = to_heic(dir, "portrait.jpg", &jpeg, &["-q", "92"]);
    // irot angle 3: 270° anticlockwise, the turn EXIF Orientation 6 asks for.
    (jpeg, heif::add_irot(&sideways, 3))
}

#[test]
fn heic_irot_is_applied_once_and_its_exif_orientation_is_not() {
    if !heif::tools("heic_irot_is_applied_once") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (jpeg, heic) = iphone_portrait(dir.path());
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(&heic))
        .expect("the HEIC carries EXIF");
    let o = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY);
    assert_eq!(
        o.and_then(|f| f.value.get_uint(0)),
        Some(6),
        "fixture has both"
    );
    let (want, got) = (read(&jpeg, "portrait.jpg"), read(&heic, "portrait.heic"));
    assert_eq!(got.pixels.dimensions(), (400, 512));
    let de = median_delta_e(&want.pixels, &got.pixels);
    assert!(
        de <= 1.5,
        "median ΔE2000 {de:.2}: turned twice, or not at all"
    );
    assert_eq!(got.captured, want.captured);
    assert!(
        got.captured.is_some(),
        "capture date read from the HEIC's EXIF"
    );
}

#[test]
fn ten_bit_heic_reads_at_full_range() {
    if !heif::tools("ten_bit_heic_reads_at_full_range") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = image::ImageBuffer::from_fn(256, 192, |x, y| {
        image::Rgb([(x * 256) as u16, (y * 340) as u16, 40_000u16])
    });
    let mut png = Vec::new();
    let raw: Vec<u8> = img
        .as_raw()
        .iter()
        .flat_map(|v: &u16| v.to_ne_bytes())
        .collect();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&raw, 256, 192, image::ExtendedColorType::Rgb16)
        .unwrap();
    let args = ["-q", "95", "-b", "10"];
    let heic = to_heic(dir.path(), "ten.png", &png, &args);
    assert!(heic.windows(4).any(|w| w == b"pixi"));
    let de = median_delta_e(
        &read(&png, "ten.png").pixels,
        &read(&heic, "ten.heic").pixels,
    );
    assert!(de <= 1.5, "median ΔE2000 {de:.2}");
}

#[test]
fn heic_with_alpha_lands_on_white() {
    if !heif::tools("heic_with_alpha_lands_on_white") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbaImage::from_fn(128, 96, |x, _| {
        if x < 64 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([20, 90, 200, 255])
        }
    });
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(img.as_raw(), 128, 96, image::ExtendedColorType::Rgba8)
        .unwrap();
    let got = read(
        &to_heic(dir.path(), "alpha.png", &png, &["-q", "95"]),
        "a.heic",
    )
    .pixels;
    let p = got.get_pixel(20, 48).0;
    assert!(p.iter().all(|&c| c >= 250), "transparent area reads {p:?}");
    let q = got.get_pixel(100, 48).0;
    assert!(q[2] > 150 && q[0] < 60, "opaque area reads {q:?}");
}

#[test]
fn only_the_primary_image_is_read() {
    if !heif::tools("only_the_primary_image_is_read") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.jpg");
    std::fs::write(&first, real("coffee.jpg")).unwrap();
    std::fs::write(dir.path().join("second.jpg"), real("astronaut.jpg")).unwrap();
    // Two images and a thumbnail in one file: the first is the primary.
    let out = dir.path().join("multi.heic");
    let status = Command::new("heif-enc")
        .args(["-q", "80", "-t", "96"])
        .arg(&first)
        .arg(dir.path().join("second.jpg"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let got = read(&std::fs::read(out).unwrap(), "multi.heic");
    let want = read(&real("coffee.jpg"), "coffee.jpg");
    assert_eq!(got.pixels.dimensions(), want.pixels.dimensions());
}

#[test]
fn a_cut_off_heic_is_never_complete() {
    if !heif::tools("a_cut_off_heic_is_never_complete") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let heic = to_heic(dir.path(), "c.jpg", &real("coffee.jpg"), &["-q", "80"]);
    check_complete(&heic, Path::new("c.heic"), &PARAMS).unwrap();
    let cuts = (1..16).map(|i| heic.len() * i / 16).chain([heic.len() - 1]);
    for len in cuts {
        let part = &heic[..len];
        let e = check_complete(part, Path::new("c.heic"), &PARAMS).unwrap_err();
        assert!(e.reason.contains("copy it again"), "cut at {len}: {e}");
        assert!(
            decode(part, Path::new("c.heic"), &PARAMS).is_err(),
            "cut at {len}"
        );
    }
}

/// A real iPhone HEIC from tests/fixtures/heic (BSD-3, see the licence there) and the JPEG
/// heif-convert makes of it, both read by `decode`.
fn iphone(name: &str) -> (Photo, Photo) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(Path::new("tests/fixtures/heic").join(name), &path).unwrap();
    let heic = read(&std::fs::read(&path).unwrap(), name);
    let jpeg = read(&heif::heif_convert(&path), "same.jpg");
    (heic, jpeg)
}

#[test]
fn an_iphone_13_grid_with_gain_and_depth_maps_reads_as_its_primary_image_in_srgb() {
    if !heif::tools("an_iphone_13_grid_with_gain_and_depth_maps") {
        return;
    }
    // 48 tiles of 512×512, a Display P3 profile, an HDR gain map and a depth map.
    let (heic, jpeg) = iphone("pug.heic");
    assert_eq!(
        heic.pixels.dimensions(),
        (4032, 3024),
        "the primary image, whole"
    );
    assert!(
        heic.colour.contains("converted to sRGB") && heic.colour.contains("P3"),
        "{}",
        heic.colour
    );
    assert_eq!(heic.orientation, 1);
    let de = median_delta_e(&jpeg.pixels, &heic.pixels);
    eprintln!("iPhone 13 Pro grid: median ΔE2000 HEIC vs its JPEG = {de:.3}");
    assert!(de <= 1.5, "median ΔE2000 {de:.2}");
    assert!(heic.captured.is_some(), "capture date from the HEIC's EXIF");
}

#[test]
fn an_iphone_8_grid_with_irot_is_turned_once() {
    if !heif::tools("an_iphone_8_grid_with_irot_is_turned_once") {
        return;
    }
    // Stored 4032×3024 with an irot box and an EXIF Orientation of 6: upright it is portrait,
    // and turned twice it would be landscape again.
    let (heic, jpeg) = iphone("arrow.heic");
    assert_eq!(heic.pixels.dimensions(), (3024, 4032));
    assert_eq!(jpeg.pixels.dimensions(), (3024, 4032));
    let de = median_delta_e(&jpeg.pixels, &heic.pixels);
    eprintln!("iPhone 8 Plus grid with irot: median ΔE2000 HEIC vs its JPEG = {de:.3}");
    assert!(de <= 1.5, "median ΔE2000 {de:.2}: turned the wrong way");
}

#[test]
fn a_cut_off_iphone_grid_heic_is_never_complete() {
    if !heif::tools("a_cut_off_iphone_grid_heic_is_never_complete") {
        return;
    }
    let heic = std::fs::read("tests/fixtures/heic/pug.heic").unwrap();
    check_complete(&heic, Path::new("pug.heic"), &PARAMS).unwrap();
    // Cuts inside the header boxes, among the 48 tiles, and one byte short of the end.
    let cuts = (1..40)
        .map(|i| heic.len() * i / 40)
        .chain([100, 2000, heic.len() - 1]);
    for len in cuts {
        let e = check_complete(&heic[..len], Path::new("pug.heic"), &PARAMS).unwrap_err();
        assert!(e.reason.contains("copy it again"), "cut at {len}: {e}");
    }
}

#[test]
fn a_folder_mixing_heic_and_jpeg_publishes_like_the_jpegs() {
    if !heif::tools("a_folder_mixing_heic_and_jpeg") {
        return;
    }
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new("samples/rotated-phone");
    let before = std::fs::read(samples.join("before.jpg")).unwrap();
    let after = std::fs::read(samples.join("after.jpg")).unwrap();
    let after_heic = to_heic(dir.path(), "after.jpg", &after, &["-q", "92"]);
    env.put("jpeg/before.jpg", &before);
    env.put("jpeg/after.jpg", &after);
    env.put(
        "heic/before.HEIC",
        &to_heic(dir.path(), "before.jpg", &before, &["-q", "92"]),
    );
    // The after is stored sideways with EXIF 6: as an iPhone HEIC it also carries irot.
    env.put("heic/after.heic", &heif::add_irot(&after_heic, 3));
    let (out, summary) = env.batch(&[]);
    assert_eq!(
        summary["published"],
        2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for stage in ["before", "after"] {
        let pick = |case: &str| published(&env.out().join(case), &format!("main-{stage}-480."));
        let (want, got) = (pick("jpeg"), pick("heic"));
        let de = median_delta_e(&want, &got);
        eprintln!("published {stage}: median ΔE2000 HEIC case vs JPEG case = {de:.3}");
        assert!(de <= 1.5, "{stage}: median ΔE2000 {de:.2}");
    }
}

/// The published JPEG of `case_dir` whose name starts with `prefix`.
fn published(case_dir: &Path, prefix: &str) -> RgbImage {
    let path = std::fs::read_dir(case_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(".jpg")
        })
        .unwrap_or_else(|| panic!("no {prefix}*.jpg in {}", case_dir.display()));
    image::open(path).unwrap().into_rgb8()
}

/// Structurally whole (ftyp, meta with iloc, mdat), so only libheif can refuse it.
fn minimal_heif() -> Vec<u8> {
    let boxed = |kind: &[u8; 4], body: &[u8]| {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    };
    let mut file = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
    let iloc = boxed(b"iloc", &[0, 0, 0, 0, 0x44, 0, 0, 0]);
    let mut meta = vec![0; 4];
    meta.extend(iloc);
    file.extend(boxed(b"meta", &meta));
    file.extend(boxed(b"mdat", &[0; 64]));
    file
}

#[test]
fn without_libheif_check_names_the_file_and_the_install_command() {
    let env = TestEnv::new();
    env.put("c/before.heic", &minimal_heif());
    env.put("c/after.jpg", &real("coffee.jpg"));
    let out = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(["check", env.input().to_str().unwrap()])
        .env("BEFOREAFTER_LIBHEIF", "/nonexistent/libheif.so.1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let hint = beforeafter::ingest::heif::install_hint();
    assert!(
        text.contains("c/before.heic") && text.contains(hint),
        "{text}"
    );
}
