//! `check` reads every photo's header as `batch` will, and orders photos straight off a phone
//! (`IMG_0412.JPG`) by capture time when no photo of the folder has a stage name.

use crate::support;

use std::process::{Command, Output};

use beforeafter::synth::jpeg_with_exif;
use image::RgbImage;
use support::env::TestEnv;

fn photo(date: Option<&str>) -> Vec<u8> {
    let img = RgbImage::from_fn(160, 120, |x, y| image::Rgb([(x + y) as u8, 90, 140]));
    jpeg_with_exif(&img, 1, 90, date)
}

fn check(env: &TestEnv) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(["check", env.input().to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap(), text)
}

#[test]
fn camera_named_photos_take_their_stages_from_capture_time() {
    let env = TestEnv::new();
    // File numbers disagree with capture order on purpose (a phone's counter wraps).
    env.put("c/IMG_0957.JPG", &photo(Some("2026:01:10 09:00:00")));
    env.put("c/IMG_0412.JPG", &photo(Some("2026:06:02 10:00:00")));
    env.put("c/IMG_0500.JPG", &photo(Some("2026:03:05 11:30:00")));
    let (code, text) = check(&env);
    assert_eq!(code, 0, "{text}");
    let want =
        "view main: before (c/IMG_0957.JPG), session-1 (c/IMG_0500.JPG), after (c/IMG_0412.JPG)";
    assert!(text.contains(want), "{text}");
    assert!(
        text.contains("order: view main: no stage names, so stages follow EXIF capture time"),
        "{text}"
    );
}

#[test]
fn camera_named_photos_keep_their_view_prefix() {
    let env = TestEnv::new();
    env.put("c/crown_IMG_0001.jpg", &photo(Some("2026:01:10 09:00:00")));
    env.put("c/crown_IMG_0002.jpg", &photo(Some("2026:05:10 09:00:00")));
    env.put("c/front_IMG_0003.jpg", &photo(Some("2026:05:10 09:00:05")));
    env.put("c/front_IMG_0004.jpg", &photo(Some("2026:01:10 09:00:05")));
    let (code, text) = check(&env);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("view crown: before (c/crown_IMG_0001.jpg), after (c/crown_IMG_0002.jpg)"),
        "{text}"
    );
    assert!(
        text.contains("view front: before (c/front_IMG_0004.jpg), after (c/front_IMG_0003.jpg)"),
        "{text}"
    );
}

#[test]
fn equal_capture_times_fail_the_case_rather_than_guess() {
    let env = TestEnv::new();
    env.put("c/IMG_0001.jpg", &photo(Some("2026:01:10 09:00:00")));
    env.put("c/IMG_0002.jpg", &photo(Some("2026:01:10 09:00:00")));
    let (code, text) = check(&env);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("same moment") && text.contains("c/IMG_0002.jpg"),
        "{text}"
    );
}

#[test]
fn a_missing_capture_date_fails_the_case_rather_than_guess() {
    let env = TestEnv::new();
    env.put("c/IMG_0001.jpg", &photo(Some("2026:01:10 09:00:00")));
    env.put("c/IMG_0002.jpg", &photo(None));
    let (code, text) = check(&env);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("c/IMG_0002.jpg has no stage in its name and no EXIF capture date"),
        "{text}"
    );
}

#[test]
fn a_folder_with_stage_names_does_not_order_camera_names_by_date() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &photo(Some("2026:01:10 09:00:00")));
    env.put("c/after.jpg", &photo(Some("2026:05:10 09:00:00")));
    env.put("c/IMG_0003.jpg", &photo(Some("2026:03:10 09:00:00")));
    let (code, text) = check(&env);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("c/IMG_0003.jpg: the name says no stage"),
        "{text}"
    );
    assert!(!text.contains("order:"), "{text}");
}

#[test]
fn check_reports_what_batch_would_refuse() {
    let env = TestEnv::new();
    let good = photo(Some("2026:01:10 09:00:00"));
    env.put("cut/before.jpg", &good);
    env.put("cut/after.jpg", &good[..good.len() / 2]);
    env.put("raw/before.jpg", &good);
    env.put("raw/after.dng", b"II*\0\x08\0\0\0\0\0\0\0\0\0");
    env.put("huge/before.jpg", &good);
    env.put("huge/after.png", &huge_png_header());
    let (code, text) = check(&env);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("cut/after.jpg: the JPEG is truncated"),
        "{text}"
    );
    assert!(
        text.contains("raw/after.dng: a camera RAW file is not read: export it as JPEG or HEIC"),
        "{text}"
    );
    assert!(
        text.contains("huge/after.png: image is 60000×60000"),
        "{text}"
    );
}

/// A PNG that claims 60000×60000 pixels (only its signature and header chunk).
fn huge_png_header() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&60000u32.to_be_bytes());
    ihdr.extend_from_slice(&60000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let crc = support::env::png_crc(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc.to_be_bytes());
    // A tiny IDAT (an empty zlib stream), then the end chunk.
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(idat);
    png.extend_from_slice(&support::env::png_crc(idat).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&support::env::png_crc(b"IEND").to_be_bytes());
    png
}
