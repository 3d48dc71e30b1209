//! The gallery's HTML and feed: snapshots of the sample gallery, the rules every page keeps
//! (alt and size on every image, relative links that resolve, no request leaving the gallery,
//! weight), escaping, no trace of unpublished cases, share URLs, clinic templates, config checks.
//!
//! Snapshots: `cargo insta review` (or `INSTA_UPDATE=always cargo test --release`) updates them.

use crate::support;
use support::sample;

use std::path::Path;

use beforeafter::config::Config;
use beforeafter::gallery::{self, GalleryParams};
use beforeafter::manifest::{CaseEntry, Manifest};
use sample::{FLAT_PAIR_ID, attr, normalise, sample_gallery, tags};
use serde_json::json;

const PAGES: [&str; 4] = [
    "index.html",
    "smp-crown-series/index.html",
    "case-644c32/index.html",
    "rotated-phone/index.html",
];

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn sample_gallery_pages_match_snapshots() {
    let out = sample_gallery("gallery-snapshots");
    for page in PAGES.iter().copied().chain(["gallery.json"]) {
        let name = page.replace('/', "_");
        insta::assert_snapshot!(name.as_str(), normalise(&read(&out.join(page))));
    }
}

#[test]
fn every_image_has_alt_and_size_and_every_link_resolves_inside_the_gallery() {
    let out = sample_gallery("gallery-snapshots");
    for page in PAGES {
        let html = read(&out.join(page));
        let dir = out.join(page).parent().unwrap().to_owned();
        let imgs = tags(&html, "img");
        assert!(!imgs.is_empty(), "{page}");
        for img in imgs {
            assert!(
                attr(img, "alt").is_some_and(|a| !a.trim().is_empty()),
                "{page}: {img}"
            );
            for size in ["width", "height"] {
                let v = attr(img, size).and_then(|v| v.parse::<u32>().ok());
                assert!(v.is_some_and(|v| v > 0), "{page}: {img} lacks {size}");
            }
        }
        for (tag, key) in [
            ("img", "src"),
            ("a", "href"),
            ("link", "href"),
            ("script", "src"),
        ] {
            for t in tags(&html, tag) {
                let Some(url) = attr(t, key) else { continue };
                assert_local_file(&dir, url, page);
            }
        }
        for t in tags(&html, "img").into_iter().chain(tags(&html, "source")) {
            for item in attr(t, "srcset")
                .unwrap_or("")
                .split(", ")
                .filter(|s| !s.is_empty())
            {
                assert_local_file(&dir, item.split(' ').next().unwrap(), page);
            }
        }
        for t in tags(&html, "meta") {
            let content = attr(t, "content").unwrap_or("");
            assert!(
                !content.contains("://"),
                "{page}: absolute URL without base_url: {t}"
            );
        }
    }
}

/// A relative URL (no scheme, no leading `/`) naming a file that exists.
fn assert_local_file(dir: &Path, url: &str, page: &str) {
    if url.starts_with('#') {
        return;
    }
    assert!(
        !url.contains("://") && !url.starts_with('/'),
        "{page}: {url} is not relative"
    );
    let path = url.split(['?', '#']).next().unwrap();
    assert!(dir.join(path).is_file(), "{page}: {url} does not exist");
}

#[test]
fn index_weight_without_images_is_under_100_kb_and_nothing_is_loaded_from_elsewhere() {
    let out = sample_gallery("gallery-snapshots");
    let mut bytes = 0;
    for file in ["index.html", "assets/style.css", "assets/gallery.js"] {
        let text = read(&out.join(file));
        for needle in ["://", "@import", "url(", "XMLHttpRequest", "@font-face"] {
            assert!(!text.contains(needle), "{file} contains {needle}");
        }
        // The one fetch is "Show more" reading the index's own next page (its link's href,
        // relative to the index); the browser tests check no request leaves the gallery.
        let fetches: Vec<&str> = text.split("fetch(").skip(1).collect();
        assert!(
            fetches.iter().all(|f| f.starts_with("link.href)")),
            "{file} fetches only the next page"
        );
        bytes += text.len();
    }
    eprintln!("index weight without images: {bytes} bytes");
    assert!(bytes < 100_000, "{bytes} bytes");
}

#[test]
fn the_case_without_consent_leaves_no_trace_in_pages_or_feed() {
    let out = sample_gallery("gallery-snapshots");
    let feed: serde_json::Value = serde_json::from_str(&read(&out.join("gallery.json"))).unwrap();
    let ids: Vec<&str> = feed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [FLAT_PAIR_ID, "rotated-phone", "smp-crown-series"]);
    for page in PAGES.iter().copied().chain(["gallery.json", "embed.js"]) {
        let text = read(&out.join(page)).to_lowercase();
        assert!(
            !text.contains("private") && !text.contains("temple"),
            "{page}"
        );
        // The flat pair's name (as a patient's would be) is not published either.
        assert!(!text.contains("hairline"), "{page}");
    }
    assert!(!out.join("private-case").exists());
}

// Fixtures: manifests written by hand, rendered with the library's `gallery::write`.

fn stage(
    case: &str,
    stage: &str,
    align: serde_json::Value,
    tone: serde_json::Value,
) -> serde_json::Value {
    let outputs: Vec<serde_json::Value> = [(480, 360), (1024, 768)]
        .iter()
        .flat_map(|&(w, h)| {
            ["jpeg", "webp"].map(|f| {
                let ext = if f == "jpeg" { "jpg" } else { f };
                json!({"path": format!("{case}/main-{stage}-{w}.0123abcd.{ext}"), "width": w,
                       "height": h, "format": f, "watermarked": w >= 1000})
            })
        })
        .collect();
    json!({"stage": stage, "source": format!("{case}/{stage}.jpg"), "source_hash": "00",
           "oriented_size": [1024, 768], "orientation": 1, "colour": "sRGB", "captured": "2026-02",
           "align": align, "tone": tone, "crop": [0, 0, 1024, 768], "outputs": outputs,
           "review": false, "reasons": []})
}

fn case(
    id: &str,
    status: &str,
    meta: serde_json::Value,
    stages: Vec<serde_json::Value>,
) -> CaseEntry {
    let composites: Vec<serde_json::Value> = [
        ("side", 2048, 768),
        ("social", 1200, 630),
        ("thumb", 640, 240),
    ]
    .iter()
    .map(|&(k, w, h)| {
        json!({"path": format!("{id}/main-{k}.0123abcd.jpg"), "width": w, "height": h,
                                 "format": "jpeg", "watermarked": true, "kind": k})
    })
    .collect();
    serde_json::from_value(json!({
        "id": id, "title": meta["title"].as_str().unwrap_or(id), "status": status,
        "published": status == "published", "review": status == "review", "reasons": [],
        "key": "k", "meta": meta,
        "views": [{"view": "main", "stages": stages, "composites": composites}],
    }))
    .unwrap()
}

pub(crate) fn pair(id: &str, status: &str, meta: serde_json::Value) -> CaseEntry {
    let null = serde_json::Value::Null;
    case(
        id,
        status,
        meta,
        vec![
            stage(id, "before", null.clone(), null.clone()),
            stage(id, "after", null.clone(), null),
        ],
    )
}

pub(crate) fn render(cases: Vec<CaseEntry>, config: &Config) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    gallery::write(
        dir.path(),
        &Manifest::new(cases),
        &GalleryParams::resolve(config),
    )
    .unwrap();
    dir
}

fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    text
}

#[test]
fn script_in_a_caption_shows_as_text_and_held_cases_leave_no_trace() {
    let evil = "<script>alert(1)</script>";
    let meta = json!({"title": evil, "treatment": evil, "technician": evil, "notes": evil,
                      "credit": evil, "tags": [evil], "date": "2026-05-14"});
    let cases = vec![
        pair("xss", "published", meta),
        pair("held-case", "review", json!({"title": "Held for review"})),
        pair("broken-case", "failed", json!({"title": "Broken"})),
    ];
    let mut config = Config::defaults();
    // By default no calendar date is shown at all; the month only when the clinic asks.
    let plain = render(cases.clone(), &config);
    assert!(
        !all_text(plain.path()).contains("May 2026"),
        "no month by default"
    );
    config.gallery.dates = beforeafter::dates::DateStyle::Month;
    let dir = render(cases, &config);
    let text = all_text(dir.path());
    let html: String = ["index.html", "xss/index.html"]
        .map(|p| read(&dir.path().join(p)))
        .concat();
    assert!(!html.contains(evil), "unescaped caption");
    let page = read(&dir.path().join("xss/index.html"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("May 2026") && !page.contains("2026-05-14"),
        "month and year only"
    );
    for trace in ["held", "Held", "broken", "Broken"] {
        assert!(!text.contains(trace), "{trace} appears in the gallery");
    }
    assert!(!dir.path().join("held-case").exists());
    let feed: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("gallery.json"))).unwrap();
    assert_eq!(feed["cases"].as_array().unwrap().len(), 1);
    assert_eq!(
        feed["cases"][0]["title"], evil,
        "JSON carries the text itself"
    );
    assert_eq!(feed["cases"][0]["date"], "2026-05");
}

#[test]
fn honesty_note_says_only_what_the_manifest_shows() {
    let null = serde_json::Value::Null;
    let align = json!({"method": "fourier-mellin+ecc",
                       "matrix": [[1.0, 0.0, 2.0], [0.0, 1.0, -3.0]], "confidence": 0.9});
    let tone = |gain: [f64; 3]| {
        json!({"mode": "match_before", "model": "gain + gamma", "gain": gain,
               "gamma": [1.0, 1.0, 1.0], "inlier_fraction": 0.9, "clamped": false})
    };
    let identity = tone([1.0, 1.0, 1.0]);
    let exposure = tone([1.2, 1.2, 1.2]);
    let colour = tone([1.2, 1.1, 1.0]);
    let rows = [
        (
            null.clone(),
            null.clone(),
            "Cropped and resized only; no retouching.",
        ),
        (align.clone(), null.clone(), "Aligned only; no retouching."),
        (align.clone(), identity, "Aligned only; no retouching."),
        (
            align.clone(),
            exposure,
            "Aligned and exposure-matched only; no retouching.",
        ),
        (
            null.clone(),
            colour.clone(),
            "Exposure- and colour-matched only; no retouching.",
        ),
        (
            align,
            colour,
            "Aligned and exposure- and colour-matched only; no retouching.",
        ),
    ];
    for (align, tone, want) in rows {
        let c = case(
            "c",
            "published",
            json!({}),
            vec![
                stage("c", "before", null.clone(), null.clone()),
                stage("c", "after", align.clone(), tone.clone()),
            ],
        );
        assert_eq!(gallery::honesty(&c), want, "align {align}, tone {tone}");
    }
}

/// `samples/logo.png` copied into `dir` as `logo.png`.
fn copy_sample_logo(dir: &Path) {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/logo.png"),
        dir.join("logo.png"),
    )
    .unwrap();
}

pub(crate) fn config_in(dir: &Path, toml: &str) -> Config {
    let path = dir.join("beforeafter.toml");
    std::fs::write(&path, toml).unwrap();
    Config::load(Some(&path)).unwrap()
}

#[test]
fn base_url_makes_only_share_urls_absolute() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = config_in(
        cfg_dir.path(),
        "[gallery]\nbase_url = \"https://clinic.example/results\"\n",
    );
    let dir = render(vec![pair("a", "published", json!({"title": "A"}))], &config);
    let page = read(&dir.path().join("a/index.html"));
    assert!(page.contains(r#"<meta property="og:image" content="https://clinic.example/results/a/main-social.0123abcd.jpg">"#), "{page}");
    assert!(page.contains(r#"<meta name="twitter:image" content="https://clinic.example/results/a/main-social.0123abcd.jpg">"#));
    assert!(page.contains(r#"<link rel="canonical" href="https://clinic.example/results/a/">"#));
    for (tag, key) in [("img", "src"), ("a", "href"), ("script", "src")] {
        for t in tags(&page, tag) {
            assert!(!attr(t, key).unwrap_or("").contains("://"), "{t}");
        }
    }
    let feed = read(&dir.path().join("gallery.json"));
    assert!(
        feed.contains(r#""base_url": "https://clinic.example/results/""#),
        "{feed}"
    );
}

#[test]
fn clinic_templates_theme_and_logo_replace_the_built_ins() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let templates = cfg_dir.path().join("my-templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("index.html"),
        "{% extends \"base.html\" %}{% block main %}<p class=\"mine\">{{ cards|length }} by {{ site.name }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::write(templates.join("style.css"), "body{color:red}").unwrap();
    copy_sample_logo(cfg_dir.path());
    let config = config_in(
        cfg_dir.path(),
        "[gallery]\ntemplates = \"my-templates\"\nlogo = \"logo.png\"\nclinic = \"Ink & Co\"\naccent = \"#aa0033\"\nfooter = \"\"\n",
    );
    let dir = render(vec![pair("a", "published", json!({"title": "A"}))], &config);
    let index = read(&dir.path().join("index.html"));
    assert!(
        index.contains("<p class=\"mine\">1 by Ink &amp; Co</p>"),
        "{index}"
    );
    assert!(index.contains("--accent:#aa0033"));
    assert!(!index.contains("<footer"), "empty footer is left out");
    assert_eq!(
        read(&dir.path().join("assets/style.css")),
        "body{color:red}"
    );
    let logo = tags(&index, "img")
        .into_iter()
        .find(|t| t.contains("logo"))
        .expect("logo");
    let src = attr(logo, "src").unwrap();
    assert!(
        src.starts_with("assets/logo.") && src.ends_with(".png"),
        "{src}"
    );
    assert!(dir.path().join(src).is_file());
    // The clinic's name is written beside the logo, so the image itself is decorative.
    assert_eq!(attr(logo, "alt"), Some(""));
    assert!(index.contains("<span>Ink &amp; Co</span>"), "{index}");
    let case_page = read(&dir.path().join("a/index.html"));
    assert!(
        case_page.contains("data-compare"),
        "case.html stays built in"
    );
}

#[test]
fn gallery_settings_are_checked_with_the_key_named() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let path = cfg_dir.path().join("c.toml");
    std::fs::write(cfg_dir.path().join("notes.txt"), "not an image").unwrap();
    let rows = [
        ("accent = \"blue\"", "gallery.accent"),
        ("base_url = \"clinic.example\"", "gallery.base_url"),
        (
            "base_url = \"https://x.example/\\\"><script>\"",
            "gallery.base_url",
        ),
        ("templates = \"missing\"", "gallery.templates"),
        ("logo = \"missing.png\"", "gallery.logo"),
        ("logo = \"notes.txt\"", "gallery.logo"),
        ("colour = \"#000000\"", "gallery.colour"),
    ];
    for (line, key) in rows {
        let e = Config::from_str_at(&format!("[gallery]\n{line}\n"), &path)
            .err()
            .unwrap_or_else(|| panic!("{line} accepted"))
            .to_string();
        assert!(e.contains(key) && e.contains("c.toml"), "{line}: {e}");
    }
}

#[test]
fn a_case_that_is_no_longer_published_loses_its_page_and_feed_entry() {
    let config = Config::defaults();
    let dir = render(
        vec![
            pair("a", "published", json!({})),
            pair("b", "published", json!({})),
        ],
        &config,
    );
    assert!(dir.path().join("b/index.html").is_file());
    let now = Manifest::new(vec![
        pair("a", "published", json!({})),
        pair("b", "review", json!({})),
    ]);
    gallery::write(dir.path(), &now, &GalleryParams::resolve(&config)).unwrap();
    gallery::remove_case_pages(dir.path(), "b");
    assert!(!dir.path().join("b").exists());
    let text = read(&dir.path().join("gallery.json"))
        + &read(&dir.path().join("index.html"))
        + &read(&dir.path().join("embed.js"));
    assert!(
        !text.contains("\"b\"") && !text.contains("b/index.html"),
        "{text}"
    );
}

/// The Nu HTML Checker (the W3C validator, `vnu.jar`) and a Java runtime to run it: from
/// `BEFOREAFTER_VNU`, or where `.ci/run` installs it (`target/vnu/`). `None`, said loudly, when
/// either is missing outside CI.
fn nu_validator() -> Option<std::path::PathBuf> {
    let jar = std::env::var_os("BEFOREAFTER_VNU")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
        });
    let java = std::process::Command::new("java").arg("-version").output();
    if jar.is_file() && java.is_ok_and(|o| o.status.success()) {
        return Some(jar);
    }
    sample::skip_or_fail(&format!(
        "HTML validation SKIPPED: needs java and {} (.ci/run installs both)",
        jar.display()
    ));
    None
}

#[test]
fn pages_are_valid_html_for_the_nu_validator_samples_themes_and_hostile_captions() {
    let Some(jar) = nu_validator() else {
        return;
    };
    let cfg_dir = tempfile::tempdir().unwrap();
    copy_sample_logo(cfg_dir.path());
    let config = config_in(
        cfg_dir.path(),
        "[gallery]\nlogo = \"logo.png\"\nclinic = \"Ink & Co <b>\"\nbase_url = \"https://clinic.example/results\"\n",
    );
    let evil = "<script>alert(1)</script>\" onload=\"x";
    let meta = json!({"title": evil, "treatment": evil, "technician": evil, "notes": evil,
                      "credit": evil, "tags": [evil, "crown"], "date": "2026-05"});
    let themed = render(vec![pair("xss", "published", meta)], &config);
    let sample = sample_gallery("gallery-snapshots");
    let o = std::process::Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--also-check-css", "--skip-non-html"])
        .args([sample, themed.path()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && report.trim().is_empty(),
        "the Nu validator found problems:\n{report}"
    );
}

/// Issue 15: the order a clinic asks for, then newest first.
#[test]
fn cases_go_by_order_then_featured_then_newest_first() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = config_in(cfg_dir.path(), "");
    let dir = render(
        vec![
            pair("old", "published", json!({"date": "2025-01"})),
            pair("new", "published", json!({"date": "2026-03"})),
            pair(
                "star",
                "published",
                json!({"date": "2024-01", "featured": true}),
            ),
            pair("second", "published", json!({"order": 2})),
            pair("first", "published", json!({"order": 1, "date": "2020-01"})),
        ],
        &config,
    );
    let index = read(&dir.path().join("index.html"));
    let hrefs: Vec<&str> = tags(&index, "a")
        .into_iter()
        .filter_map(|a| attr(a, "href"))
        .filter(|h| h.ends_with("/index.html"))
        .map(|h| h.split('/').next().unwrap())
        .collect();
    assert_eq!(hrefs, ["first", "second", "star", "new", "old"]);
}

/// Issue 15: the call to action and `noindex` on every page, the title once per page, the
/// divider's start, and downloads named by what they are.
#[test]
fn contact_noindex_start_and_title_once_on_every_page() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = config_in(
        cfg_dir.path(),
        "[gallery]\ntitle = \"Results\"\ncontact_url = \"https://clinic.example/book\"\n\
         start = 30\nnoindex = true\n",
    );
    let dir = render(vec![pair("a", "published", json!({}))], &config);
    for page in ["index.html", "a/index.html"] {
        let html = read(&dir.path().join(page));
        assert!(
            html.contains(
                r#"<a class="contact" href="https://clinic.example/book">Book a consultation</a>"#
            ),
            "{page}"
        );
        assert!(
            html.contains(r#"<meta name="robots" content="noindex">"#),
            "{page}"
        );
        let body = &html[html.find("<body>").unwrap()..];
        // The index: its heading, not the header bar; a case page: the header bar (its
        // heading is the case's title).
        assert_eq!(body.matches("Results").count(), 1, "{page}: the title once");
    }
    let case = read(&dir.path().join("a/index.html"));
    assert!(case.contains(r#"value="30""#) && case.contains("--pos:30"));
    assert!(case.contains(r#"download="a-side-by-side.jpg""#), "{case}");
    let plain = render(
        vec![pair("a", "published", json!({}))],
        &config_in(cfg_dir.path(), ""),
    );
    assert!(!read(&plain.path().join("index.html")).contains("robots"));
    let e = Config::from_str_at(
        "[gallery]\ncontact_url = \"javascript:alert(1)\"\n",
        Path::new("x.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("gallery.contact_url"), "{e}");
}

/// Issue 15: hundreds of cases are split into pages linked by "Show more", which works
/// without JavaScript; stale pages go when the gallery shrinks.
#[test]
fn a_long_gallery_is_split_into_pages_with_show_more_links() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = config_in(cfg_dir.path(), "[gallery]\npage_size = 2\n");
    let cases = |n: usize| {
        (0..n)
            .map(|i| pair(&format!("c{i}"), "published", json!({})))
            .collect::<Vec<_>>()
    };
    let dir = render(cases(5), &config);
    let first = read(&dir.path().join("index.html"));
    assert!(first.contains(r#"<a href="page-2.html" rel="next" data-more>Show more</a>"#));
    assert!(first.contains("Cases 1–2 of 5"));
    assert_eq!(tags(&first, "li").len(), 2);
    let last = read(&dir.path().join("page-3.html"));
    assert!(last.contains(r#"href="page-2.html" rel="prev""#) && !last.contains("data-more"));
    assert_eq!(tags(&last, "li").len(), 1);
    gallery::write(
        dir.path(),
        &Manifest::new(cases(3)),
        &GalleryParams::resolve(&config),
    )
    .unwrap();
    assert!(
        !dir.path().join("page-3.html").exists(),
        "stale page removed"
    );
    assert!(dir.path().join("page-2.html").exists());
}

/// Issue 15: the watermark names the clinic, never the sample clinic.
#[test]
fn the_watermark_defaults_to_the_clinics_name_then_the_title() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let c = config_in(
        cfg_dir.path(),
        "[gallery]\nclinic = \"Hair Clinic Leeds\"\n",
    );
    assert_eq!(c.watermark.text, "Hair Clinic Leeds");
    assert!(c.publishing_warnings().is_empty());
    let c = config_in(cfg_dir.path(), "");
    assert_eq!(c.watermark.text, "Before and after");
    assert!(c.publishing_warnings()[0].contains("[gallery] clinic"));
    let c = config_in(
        cfg_dir.path(),
        "[watermark]\ntext = \"beforeafter sample clinic\"\n",
    );
    assert!(c.publishing_warnings()[0].contains("sample"));
    assert_eq!(
        Config::defaults().watermark.min_width,
        0,
        "every size marked"
    );
}
