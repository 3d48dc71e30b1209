//! Tiny and degenerate photos: ingest refuses them with a message that says what to do, and
//! registration on any size (even one pixel, even a 1×N strip) finishes with a low-confidence
//! estimate instead of panicking or looping. Regression tests for photos under about 64 px that
//! crashed `imageproc::corners` (index out of bounds, empty range) or hung in `oriented_fast`.

use crate::support;

use std::path::Path;

use beforeafter::align::{self, AlignParams};
use beforeafter::ingest::{self, IngestParams, MIN_SIDE_PX};
use image::{Rgb, RgbImage};

const PARAMS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};

/// The sizes that crashed or hung before, plus empty images.
const SIZES: [(u32, u32); 11] = [
    (1, 1),
    (2, 2),
    (4, 4),
    (8, 8),
    (16, 16),
    (31, 31),
    (48, 48),
    (300, 1),
    (1, 300),
    (0, 0),
    (0, 7),
];

fn textured(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = (x * 37 + y * 11 + seed * 5) ^ (x * y);
        Rgb([v as u8, (v >> 2) as u8 ^ 0x55, (x * 7 + y * 3) as u8])
    })
}

fn assert_sane(est: &align::Estimate, what: &str) {
    assert!(
        est.matrix.iter().flatten().all(|v| v.is_finite()),
        "{what}: {est:?}"
    );
    assert!((0.0..=1.0).contains(&est.confidence), "{what}: {est:?}");
}

#[test]
fn estimate_on_photos_below_min_side_finishes_with_no_confidence() {
    let params = AlignParams::default();
    for (w, h) in SIZES {
        let est = align::estimate(&textured(w, h, 1), &textured(w, h, 2), &params);
        assert_sane(&est, &format!("{w}×{h}"));
        if w.min(h) < params.min_side {
            assert_eq!(est.confidence, 0.0, "{w}×{h}: {est:?}");
            assert!(!align::review_findings(&est, (w, h), &params).is_empty());
        }
    }
}

/// With no size floor, every stage (pyramid, Fourier–Mellin, refinement, the feature fallback,
/// confidence) runs on the tiny planes themselves.
#[test]
fn every_registration_stage_survives_tiny_photos() {
    let params = AlignParams {
        min_side: 0,
        ..AlignParams::default()
    };
    for (w, h) in SIZES {
        let est = align::estimate(&textured(w, h, 1), &textured(w, h, 2), &params);
        assert_sane(&est, &format!("{w}×{h}"));
    }
}

#[test]
fn estimate_between_a_tiny_and_a_normal_photo_finishes() {
    let params = AlignParams {
        min_side: 0,
        ..AlignParams::default()
    };
    let normal = textured(160, 120, 3);
    for (w, h) in SIZES {
        let tiny = textured(w, h, 4);
        assert_sane(&align::estimate(&normal, &tiny, &params), "normal←tiny");
        assert_sane(&align::estimate(&tiny, &normal, &params), "tiny←normal");
    }
}

#[test]
fn feature_baseline_on_tiny_photos_finishes() {
    let params = AlignParams::default();
    for (w, h) in SIZES {
        let est = align::baseline::estimate_features_only(
            &textured(w, h, 1),
            &textured(w, h, 2),
            &params,
        );
        assert_sane(&est, &format!("{w}×{h}"));
        // Too small for a single FAST corner with its descriptor patch.
        if w.min(h) <= 16 {
            assert_eq!(est.confidence, 0.0, "{w}×{h}: {est:?}");
        }
    }
}

#[test]
fn ingest_refuses_photos_below_the_minimum_size_naming_the_file() {
    for (w, h) in [(1, 1), (31, 31), (48, 48), (300, 1), (1, 300), (63, 400)] {
        let img = textured(w, h, 0);
        for (name, bytes) in [
            ("thumb.jpg", support::env::jpeg(&img)),
            ("thumb.png", support::env::png(&img)),
        ] {
            let e = ingest::decode(&bytes, Path::new(name), &PARAMS).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains(name)
                    && text.contains(&format!("{w}×{h} pixels"))
                    && text.contains(&format!("at least {MIN_SIDE_PX} px"))
                    && text.contains("not a thumbnail"),
                "{text}"
            );
            // The watcher's whole-file check refuses it the same way, before any decode.
            let e = ingest::check_complete(&bytes, Path::new(name), &PARAMS).unwrap_err();
            assert!(e.reason.contains("not a thumbnail"), "{e}");
        }
    }
}

#[test]
fn ingest_accepts_photos_of_exactly_the_minimum_size() {
    let img = textured(MIN_SIDE_PX, MIN_SIDE_PX + 1, 0);
    let photo = ingest::decode(&support::env::jpeg(&img), Path::new("min.jpg"), &PARAMS).unwrap();
    assert_eq!(photo.pixels.dimensions(), (MIN_SIDE_PX, MIN_SIDE_PX + 1));
}
