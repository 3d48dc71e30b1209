//! End to end on the repo's `samples/` through the built binary.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use beforeafter::synth;
use support::env::{files, run};

fn batch(out: &Path) -> (i32, serde_json::Value) {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let o = run(&[
        "batch",
        samples.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    (
        o.status.code().unwrap(),
        serde_json::from_slice(&o.stdout).unwrap(),
    )
}

#[test]
fn sample_gallery_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gallery");
    let (code, summary) = batch(&out);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["published"], 3, "{summary}");
    assert_eq!(summary["no_consent"], 1);
    let unplaced = summary["unplaced"].to_string();
    assert!(
        unplaced.contains("stray_before.jpg") && unplaced.contains("unpaired"),
        "{unplaced}"
    );

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    clean_tree(&out, &manifest);
    equal_sizes_within_views(&out, &manifest);
    no_metadata_in_outputs(&out);
    no_trace_of_the_case_without_consent(&out);

    let before = files(&out);
    let (code, summary) = batch(&out);
    assert_eq!(code, 0);
    assert_eq!(
        summary["decoded"], 0,
        "second run decodes nothing: {summary}"
    );
    assert_eq!(summary["up_to_date"], 3);
    assert_eq!(files(&out), before);
}

/// Only pages, the manifest, assets and files the manifest lists; no temp files.
fn clean_tree(out: &Path, manifest: &serde_json::Value) {
    let mut listed: Vec<String> = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        assert_eq!(case["published"], true);
        listed.push(format!("{}/index.html", case["id"].as_str().unwrap()));
        for view in case["views"].as_array().unwrap() {
            for s in view["stages"].as_array().unwrap() {
                // Every photo is aligned (the before is the reference) and every later one
                // tone-matched, with the numbers recorded.
                let align = &s["align"];
                assert!(align["confidence"].as_f64().unwrap() >= 0.5, "{align}");
                assert!(align["matrix"].is_array(), "{align}");
                assert!(
                    s["stage"] == "before" || s["tone"]["gain"].is_array(),
                    "{s}"
                );
                for o in s["outputs"].as_array().unwrap() {
                    listed.push(o["path"].as_str().unwrap().to_owned());
                }
            }
            for o in view["composites"].as_array().unwrap() {
                listed.push(o["path"].as_str().unwrap().to_owned());
            }
        }
    }
    listed.extend(
        [
            "index.html",
            "manifest.json",
            "gallery.json",
            "embed.js",
            "assets/style.css",
            "assets/gallery.js",
            "assets/favicon.svg",
        ]
        .map(String::from),
    );
    // The watermark logo, published (re-encoded from its pixels) so `verify` can use it.
    let logo = manifest["render"]["watermark"]["logo"].as_str().unwrap();
    assert!(logo.starts_with("assets/watermark."), "{logo}");
    listed.push(logo.to_owned());
    listed.sort();
    // The output folder's own state: after a clean run the (empty) lock file and the
    // inventory of the tool's files, which lists exactly what is published.
    let (own, published): (Vec<String>, Vec<String>) = files(out)
        .into_iter()
        .partition(|f| f.starts_with(".beforeafter/"));
    assert_eq!(own, [".beforeafter/journal", ".beforeafter/lock"]);
    assert_eq!(published, listed);
    let journal = std::fs::read_to_string(out.join(".beforeafter/journal")).unwrap();
    let inventory: Vec<&str> = journal.lines().collect();
    assert_eq!(inventory, published, "the inventory is what is published");
}

fn equal_sizes_within_views(out: &Path, manifest: &serde_json::Value) {
    for case in manifest["cases"].as_array().unwrap() {
        for view in case["views"].as_array().unwrap() {
            let mut sizes: Vec<BTreeMap<(String, u64), u64>> = Vec::new();
            let mut crops = Vec::new();
            for s in view["stages"].as_array().unwrap() {
                crops.push(s["crop"].clone());
                let mut by_width = BTreeMap::new();
                for o in s["outputs"].as_array().unwrap() {
                    let (w, h) = (o["width"].as_u64().unwrap(), o["height"].as_u64().unwrap());
                    let img = image::open(out.join(o["path"].as_str().unwrap())).unwrap();
                    assert_eq!(
                        (u64::from(img.width()), u64::from(img.height())),
                        (w, h),
                        "{o}"
                    );
                    by_width.insert((o["format"].as_str().unwrap().to_owned(), w), h);
                }
                sizes.push(by_width);
            }
            assert!(
                sizes.windows(2).all(|p| p[0] == p[1]),
                "{}: {sizes:?}",
                view["view"]
            );
            assert!(
                crops.windows(2).all(|p| p[0] == p[1]),
                "{}: one crop per view",
                view["view"]
            );
        }
    }
}

/// The bytes before the image data: a JPEG's segments before its first scan (SOS), a WebP's
/// RIFF and chunk headers (our encoder writes a simple VP8 file: one chunk, no room for more).
fn outside_pixels(bytes: &[u8]) -> &[u8] {
    if bytes.starts_with(b"RIFF") {
        return &bytes[..bytes.len().min(20)];
    }
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]);
    &bytes[..sos.unwrap_or(bytes.len())]
}

fn no_metadata_in_outputs(out: &Path) {
    let needles: [&[u8]; 6] = [
        b"Exif",
        b"GPS",
        synth::EXIF_SERIAL.as_bytes(),
        synth::EXIF_MAKE.as_bytes(),
        synth::EXIF_ARTIST.as_bytes(),
        b"2026:0",
    ];
    let mut checked = 0;
    for f in files(out)
        .iter()
        .filter(|f| f.ends_with(".jpg") || f.ends_with(".webp"))
    {
        let bytes = std::fs::read(out.join(f)).unwrap();
        let parsed = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&bytes));
        assert!(parsed.is_err(), "{f} carries EXIF");
        for n in needles {
            // Three letters turn up by chance in compressed pixels (a 720-px WebP thumbnail
            // held "GPS"), so short needles are looked for outside the image data only.
            let hay = if n.len() < 4 {
                outside_pixels(&bytes)
            } else {
                &bytes[..]
            };
            assert!(
                !hay.windows(n.len()).any(|w| w == n),
                "{f} contains {:?}",
                String::from_utf8_lossy(n)
            );
        }
        checked += 1;
    }
    assert!(checked > 50, "checked {checked} outputs");
    // The sources really carry what must be stripped, so the test can fail.
    let src =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/hairline-07_before.jpg"))
            .unwrap();
    assert!(
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&src))
            .is_ok()
    );
}

fn no_trace_of_the_case_without_consent(out: &Path) {
    assert!(files(out).iter().all(|f| !f.contains("private")));
    for page in ["index.html", "manifest.json", "gallery.json"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(
            !text.contains("private"),
            "{page} mentions the case without consent"
        );
    }
}
