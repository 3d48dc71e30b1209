//! End to end through the built binary on temp trees: hostile inputs, incremental runs, pruning.

use crate::support;

use support::env::{TestEnv, files, jpeg, photo};

fn good_pair(env: &TestEnv, case: &str) {
    env.put(&format!("{case}/before.jpg"), &jpeg(&photo(800, 600, 1)));
    env.put(&format!("{case}/after.jpg"), &jpeg(&photo(1000, 700, 2)));
}

fn reasons(summary: &serde_json::Value, id: &str) -> String {
    let case = summary["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    assert_eq!(case["outcome"], "failed", "{case}");
    case["reasons"].to_string()
}

#[test]
fn hostile_inputs_fail_their_case_with_file_and_reason_while_others_publish() {
    let env = TestEnv::new();
    good_pair(&env, "good");
    let ok = jpeg(&photo(800, 600, 3));
    let full = jpeg(&photo(800, 600, 4));
    for case in ["truncated", "empty", "text", "bomb"] {
        env.put(&format!("{case}/before.jpg"), &ok);
    }
    env.put("truncated/after.jpg", &full[..full.len() / 2]);
    env.put("empty/after.jpg", b"");
    env.put("text/after.jpg", b"Sorry, the photo is on my phone.\n");
    env.put("bomb/after.png", &include_bomb());
    let (out, summary) = env.batch(&[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary["published"], 1);
    assert_eq!(summary["failed"], 4);
    assert!(reasons(&summary, "truncated").contains("truncated/after.jpg"));
    assert!(reasons(&summary, "truncated").contains("truncated"));
    assert!(
        reasons(&summary, "empty").contains("empty/after.jpg")
            && reasons(&summary, "empty").contains("0 bytes")
    );
    assert!(reasons(&summary, "text").contains("text file"));
    assert!(
        reasons(&summary, "bomb").contains("bomb/after.png")
            && reasons(&summary, "bomb").contains("60000×60000")
    );
    // Failed cases leave nothing behind; the good one is complete.
    let written = files(&env.out());
    assert!(
        written
            .iter()
            .all(|f| !["truncated/", "empty/", "text/", "bomb/"]
                .iter()
                .any(|p| f.starts_with(p))),
        "{written:?}"
    );
    assert!(
        written
            .iter()
            .any(|f| f.starts_with("good/") && f.ends_with(".webp"))
    );
}

fn include_bomb() -> Vec<u8> {
    // Same construction as tests/it/ingest.rs: a 60000×60000 header with a tiny body.
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&60000u32.to_be_bytes());
    chunk.extend_from_slice(&60000u32.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    push_chunk(&mut out, &chunk);
    push_chunk(&mut out, b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01");
    push_chunk(&mut out, b"IEND");
    out
}

fn push_chunk(out: &mut Vec<u8>, chunk: &[u8]) {
    out.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
    out.extend_from_slice(chunk);
    let mut crc = !0u32;
    for &b in chunk {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_be_bytes());
}

#[test]
fn changing_one_photo_redoes_only_its_case_and_removing_a_case_prunes_it() {
    let env = TestEnv::new();
    good_pair(&env, "one");
    good_pair(&env, "two");
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary["published"], 2);
    let before = files(&env.out());

    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["up_to_date"], 2);
    assert_eq!(summary["decoded"], 0, "a second run decodes nothing");
    assert_eq!(files(&env.out()), before);

    env.put("two/after.jpg", &jpeg(&photo(1000, 700, 9)));
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["published"], 1);
    assert_eq!(summary["up_to_date"], 1);
    assert_eq!(summary["decoded"], 2);
    let now = files(&env.out());
    let one = |v: &[String]| {
        v.iter()
            .filter(|f| f.starts_with("one/"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(one(&now), one(&before), "case one untouched");
    assert_eq!(now.len(), before.len(), "old outputs of case two pruned");

    std::fs::remove_dir_all(env.input().join("two")).unwrap();
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["up_to_date"], 1);
    assert!(files(&env.out()).iter().all(|f| !f.starts_with("two/")));
}

#[test]
fn caption_edit_keeps_images_and_updates_the_page() {
    let env = TestEnv::new();
    good_pair(&env, "one");
    env.put("one/case.toml", b"title = \"First title\"\n");
    env.batch(&[]);
    env.put("one/case.toml", b"title = \"<script>alert(1)</script>\"\n");
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["decoded"], 0);
    let page = std::fs::read_to_string(env.out().join("one/index.html")).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)"), "escaped");
    assert!(!page.contains("<script>alert"));
}

#[test]
fn bad_config_is_fatal_with_file_and_key() {
    let env = TestEnv::new();
    good_pair(&env, "one");
    let cfg = env.dir.path().join("clinic.toml");
    std::fs::write(&cfg, "[watermark]\nopacity = 3\n").unwrap();
    let (out, _) = env.batch(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("clinic.toml") && err.contains("watermark.opacity"),
        "{err}"
    );
    assert!(!env.out().exists(), "nothing written");
}

#[test]
fn unwritable_output_is_fatal() {
    let env = TestEnv::new();
    good_pair(&env, "one");
    std::fs::write(env.out(), b"a file, not a folder").unwrap();
    let (out, _) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn init_scaffolds_a_folder_that_checks_clean_and_never_overwrites() {
    let env = TestEnv::new();
    let dir = env.dir.path().join("clinic");
    let o = support::env::run(&["init", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    for f in ["beforeafter.toml", "README.md", "example-case/case.toml"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    std::fs::write(dir.join("beforeafter.toml"), "jobs = 1\n").unwrap();
    let o = support::env::run(&["init", dir.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("kept"));
    assert_eq!(
        std::fs::read_to_string(dir.join("beforeafter.toml")).unwrap(),
        "jobs = 1\n"
    );
    let o = support::env::run(&["check", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("beforeafter.toml"),
        "uses the folder's config: {text}"
    );
}

/// Issue 15: `init --clinic` names the clinic (and so the watermark); without it `check` warns.
#[test]
fn init_takes_the_clinics_name_and_check_warns_without_one() {
    let env = TestEnv::new();
    let named = env.dir.path().join("named");
    let o = support::env::run(&["init", named.to_str().unwrap(), "--clinic", "Hair \"Co\""]);
    assert_eq!(o.status.code(), Some(0));
    let toml = std::fs::read_to_string(named.join("beforeafter.toml")).unwrap();
    assert!(
        toml.contains(r#"clinic = 'Hair "Co"'"#) || toml.contains(r#"clinic = "Hair \"Co\"""#),
        "{toml}"
    );
    let o = support::env::run(&["check", named.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("warning:"));
    let plain = env.dir.path().join("plain");
    support::env::run(&["init", plain.to_str().unwrap()]);
    let o = support::env::run(&["check", plain.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("warning: [gallery] clinic is not set"),
        "{text}"
    );
}

#[test]
fn check_lists_cases_and_problems_and_writes_nothing() {
    let env = TestEnv::new();
    good_pair(&env, "one");
    env.put("stray_after.jpg", b"x");
    env.put("two/case.toml", b"consent = maybe\n");
    env.put("two/before.jpg", b"x");
    env.put("two/after.jpg", b"x");
    let o = support::env::run(&["check", env.input().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(
        text.contains("one") && text.contains("view main: before"),
        "{text}"
    );
    assert!(
        text.contains("stray_after.jpg") && text.contains("two/case.toml"),
        "{text}"
    );
    assert!(!env.out().exists());
}

/// The frame marker of a JPEG: SOF0 (sequential) or SOF2 (progressive).
fn frame_marker(jpeg: &[u8]) -> u8 {
    let mut at = 2;
    while at + 4 <= jpeg.len() {
        let marker = jpeg[at + 1];
        if matches!(marker, 0xC0..=0xC2) {
            return marker;
        }
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    panic!("no frame header");
}

#[test]
fn progressive_jpeg_setting_reaches_every_published_jpeg_with_the_same_pixels() {
    let mut runs = Vec::new();
    for (setting, marker) in [("", 0xC0), ("[outputs]\njpeg_progressive = true\n", 0xC2)] {
        let env = TestEnv::new();
        env.put(
            "beforeafter.toml",
            format!("{}{setting}", support::env::TEST_CLINIC).as_bytes(),
        );
        good_pair(&env, "one");
        let (out, _) = env.batch(&[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let jpegs: Vec<(String, Vec<u8>)> = files(&env.out())
            .into_iter()
            .filter(|f| f.ends_with(".jpg"))
            .map(|f| (f.clone(), std::fs::read(env.out().join(&f)).unwrap()))
            .collect();
        assert!(jpegs.len() >= 7, "photos and composites: {jpegs:?}");
        for (name, bytes) in &jpegs {
            assert_eq!(frame_marker(bytes), marker, "{name} with {setting:?}");
        }
        runs.push(jpegs);
    }
    // Progressive only codes the same pixels differently (the setting is in the file names' key,
    // so a browser fetches the new files).
    let [sequential, progressive] = [&runs[0], &runs[1]];
    assert_eq!(sequential.len(), progressive.len());
    for ((name, a), (other, b)) in sequential.iter().zip(progressive) {
        let stem = |n: &str| n.split('.').next().unwrap().to_owned();
        assert_eq!(stem(name), stem(other));
        assert_ne!(name, other, "the key names the setting");
        let a = image::load_from_memory(a).unwrap().to_rgb8();
        let b = image::load_from_memory(b).unwrap().to_rgb8();
        assert!(a == b, "{name}: the same pixels either way");
    }
}
