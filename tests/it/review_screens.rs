//! The review app's staff screens as staff meet them, in real Chromium (`CI` set: a missing
//! Chromium fails): a held case's decision, both photos and the reasons fit one laptop screen
//! (1280×800) and one tablet screen (1024×768), the reasons in plain words with the most useful
//! first and no engineer's word outside the details disclosure; HEIC photos show (through the
//! app's JPEG previews); the decision is reached by keyboard; axe-core finds nothing. The clinic
//! settings screen: a new watermark, previewed by the real watermark code, saved, then carried by
//! every published photo in `--out`; a bad setting refused with the CLI's own words.
//! Screenshots go to `target/review-screenshots/` (`held-heic.png`, `settings.png`).

use crate::review_app::app;
use crate::support;
use crate::support::chrome;

use std::time::Duration;

use app::App;
use beforeafter::synth::{self, Light, Scene, Shot, View};
use chrome::{eval, open};
use headless_chrome::Tab;
use support::env::{TestEnv, jpeg, png};
use support::screen::{axe, off_screen, viewport};

/// Words an engineer uses and staff should not have to read.
const TECHNICAL: [&str; 7] = [
    "similarity",
    "affine",
    "residual",
    "onion skin",
    "confidence",
    "blake3",
    "exceeds",
];

/// What the first screen must hold: the decision, both photos, the reasons.
const FIRST_SCREEN: [&str; 6] = [
    "#reasons",
    "#approve",
    "#private",
    "#save",
    "#pane-before img",
    "#pane-later img",
];

fn case_page(tab: &Tab, app: &App, case: &str) {
    open(tab, &format!("{}/case?c={case}&t={}", app.base, app.token));
}

/// The case page's first screen at `w`×`h`: everything there, nothing technical on screen.
fn first_screen_holds_it_all(tab: &Tab, app: &App, (w, h): (u32, u32)) {
    viewport(tab, w, h, w < 1200);
    case_page(tab, app, "c");
    let missed: Vec<String> = FIRST_SCREEN
        .iter()
        .filter_map(|s| off_screen(tab, s))
        .collect();
    assert!(missed.is_empty(), "{missed:?}");
    let shown = eval(tab, "document.body.innerText.toLowerCase()");
    for word in TECHNICAL {
        assert!(
            !shown.as_str().unwrap().contains(word),
            "{word} on screen at {w}×{h}"
        );
    }
}

#[test]
fn a_held_heic_case_shows_its_photos_and_decision_on_one_screen_in_plain_words() {
    if !support::heif::tools("review_screens") {
        return;
    }
    let Some((browser, _profile)) = chrome::browser("review_screens") else {
        return;
    };
    let env = TestEnv::new();
    let pair = support::registration::make(&support::registration::unrelated_spec(3, 640));
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in [("before", &pair.before), ("after", &pair.after)] {
        let src = dir.path().join(format!("{name}.png"));
        std::fs::write(&src, png(img)).unwrap();
        let heic = support::heif::heif_enc(&src, &["-q", "80"]);
        env.put(&format!("c/{name}.heic"), &heic);
    }
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["review"], 1, "{summary}");
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    let seen = chrome::watch(&tab);
    first_screen_holds_it_all(&tab, &app, (1280, 800));
    // The HEIC photos show: decoded by the app, sent as JPEG at their full size.
    let sizes = eval(
        &tab,
        "[...document.querySelectorAll('.pane img')].map(i => [i.naturalWidth, i.naturalHeight])",
    );
    let stages = &env.held()["cases"][0]["views"][0]["stages"];
    let recorded = [&stages[0]["oriented_size"], &stages[1]["oriented_size"]];
    assert_eq!(sizes, serde_json::json!(recorded), "{sizes}");
    // Said once, most useful first, in plain words; the run's own words in the details only.
    let reasons = eval(
        &tab,
        "[...document.querySelectorAll('#reasons li')].map(l => l.textContent)",
    );
    let first = reasons[0].as_str().unwrap();
    assert!(
        first.starts_with("The after photo may not show the same area"),
        "{reasons}"
    );
    let said = eval(&tab, "document.getElementById('reasons').textContent");
    assert_eq!(
        said.as_str().unwrap().matches("same area").count(),
        1,
        "{said}"
    );
    let recorded = eval(
        &tab,
        "document.querySelector('details #run-reasons').textContent",
    );
    assert!(
        recorded.as_str().unwrap().contains("confidence"),
        "{recorded}"
    );
    let shot = support::sample::target_dir("review-screenshots").join("held-heic.png");
    chrome::screenshot(&tab, &shot);
    // The decision by keyboard: Tab from the top of the page reaches "Publish as shown".
    let mut reached = false;
    for _ in 0..8 {
        tab.press_key("Tab").unwrap();
        if eval(&tab, "document.activeElement.id") == "approve" {
            reached = true;
            break;
        }
    }
    assert!(
        reached,
        "Publish as shown is not among the first 8 Tab stops"
    );
    if let Some(found) = axe(&tab, "held case page") {
        assert!(found.is_empty(), "axe-core: {found:?}");
    }
    first_screen_holds_it_all(&tab, &app, (1024, 768));
    if let Some(found) = axe(&tab, "held case page on a tablet") {
        assert!(found.is_empty(), "axe-core: {found:?}");
    }
    let seen = seen.lock().unwrap();
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert!(seen.requests.iter().all(|u| u.starts_with(&app.base)));
}

/// A case that publishes: a treated crown, the later photo slightly moved.
fn published_case(env: &TestEnv) {
    let scene = Scene::new(View::Crown, 5);
    let mut after = Shot::moved(&scene, 480, 360, 3.0, 1.03, [0.01, 0.02]);
    after.treated = true;
    after.light = Light {
        gain: [1.05, 1.0, 0.95],
        gamma: 1.02,
    };
    let before = Shot::reference(&scene, 480);
    env.put("c/before.jpg", &jpeg(&synth::render(&scene, &before)));
    env.put("c/after.jpg", &jpeg(&synth::render(&scene, &after)));
}

/// Every watermarked photo the gallery publishes: (case, view, stage or composite kind, width,
/// format) → its file, from manifest.json.
fn marked(env: &TestEnv) -> std::collections::BTreeMap<String, String> {
    let manifest = env.manifest();
    let mut out = std::collections::BTreeMap::new();
    for case in manifest["cases"].as_array().unwrap() {
        for view in case["views"].as_array().unwrap() {
            let stages = view["stages"].as_array().unwrap().iter();
            let each = stages.flat_map(|s| {
                let outputs = s["outputs"].as_array().unwrap().iter();
                outputs.map(move |o| (s["stage"].to_string(), o))
            });
            let composites = view["composites"].as_array().unwrap().iter();
            let all = each.chain(composites.map(|o| (o["kind"].to_string(), o)));
            for (what, o) in all.filter(|(_, o)| o["watermarked"] == true) {
                let key = format!(
                    "{} {} {what} {} {}",
                    case["id"], view["view"], o["width"], o["format"]
                );
                out.insert(key, o["path"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// Mean absolute difference of two same-size photos over a box given in fractions.
fn differ(a: &image::RgbImage, b: &image::RgbImage, area: [f32; 4]) -> f64 {
    let (w, h) = (a.width() as f32, a.height() as f32);
    let [x0, y0, x1, y1] = [area[0] * w, area[1] * h, area[2] * w, area[3] * h].map(|v| v as u32);
    let mut sum = 0.0;
    let mut n = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            sum += (0..3).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>() / 3.0;
            n += 1.0;
        }
    }
    sum / n
}

/// Set a field as staff would (typing fires `input`, a list fires `change`).
fn set(tab: &Tab, id: &str, value: &str) {
    let js = format!(
        "(() => {{ const e = document.getElementById({id:?}); e.value = {value:?}; \
         e.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         e.dispatchEvent(new Event('change', {{ bubbles: true }})); }})()"
    );
    eval(tab, &js);
}

/// Wait until the page's `data-KEY` counter reaches `n`.
fn wait_count(tab: &Tab, key: &str, n: u32) {
    let js = format!(
        "new Promise(r => {{ const t = setInterval(() => {{ if (Number(document.body.dataset.{key} || 0) >= {n}) \
         {{ clearInterval(t); r(true); }} }}, 50); }})"
    );
    eval(tab, &js);
}

#[test]
fn a_watermark_changed_in_settings_is_on_every_published_photo_and_a_bad_setting_is_refused() {
    let Some((browser, _profile)) = chrome::browser("review_screens") else {
        return;
    };
    let env = TestEnv::new();
    published_case(&env);
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let old = marked(&env);
    assert!(old.len() >= 2, "{old:?}");
    let read = |rel: &str| image::open(env.out().join(rel)).unwrap().to_rgb8();
    let old_photos: Vec<_> = old.iter().map(|(k, p)| (k.clone(), read(p))).collect();
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    viewport(&tab, 1280, 800, false);
    open(&tab, &format!("{}/settings?t={}", app.base, app.token));
    wait_count(&tab, "previews", 1);
    // The new mark, solid, top left: previewed by the server on the clinic's photo.
    // The preview's top-left corner, pixel by pixel (red channel).
    let corner = |tab: &Tab| -> Vec<f64> {
        let js = "(() => { const i = document.getElementById('mark-preview'); const c = document.createElement('canvas'); \
                  c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0); \
                  const d = g.getImageData(0, 0, Math.round(c.width * 0.3), Math.round(c.height * 0.15)).data; \
                  const out = []; for (let k = 0; k < d.length; k += 4) out.push(d[k]); return out; })()";
        let v = eval(tab, js);
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let before_mark = corner(&tab);
    set(&tab, "watermark.text", "NEW MARK");
    set(&tab, "watermark.position", "top-left");
    set(&tab, "watermark.opacity", "1");
    wait_count(&tab, "previews", 2);
    let after_mark = corner(&tab);
    assert_eq!(before_mark.len(), after_mark.len());
    let changed = before_mark
        .iter()
        .zip(&after_mark)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / before_mark.len() as f64;
    assert!(
        changed > 8.0,
        "the preview's top-left corner changed by {changed:.1} on average"
    );
    if let Some(found) = axe(&tab, "settings page") {
        assert!(found.is_empty(), "axe-core: {found:?}");
    }
    let shot = support::sample::target_dir("review-screenshots").join("settings.png");
    chrome::screenshot(&tab, &shot);
    eval(&tab, "document.getElementById('save-settings').click()");
    wait_count(&tab, "saved", 1);
    let toml = std::fs::read_to_string(env.input().join("beforeafter.toml")).unwrap();
    assert!(
        toml.starts_with(support::env::TEST_CLINIC),
        "comments and keys kept: {toml}"
    );
    assert!(toml.contains("text = \"NEW MARK\""), "{toml}");

    // A bad booking address: refused with the words `beforeafter check` says, nothing written.
    set(&tab, "gallery.contact_url", "javascript:alert(1)");
    eval(&tab, "document.getElementById('save-settings').click()");
    wait_count(&tab, "refused", 1);
    let refusal = eval(
        &tab,
        "document.getElementById('settings-answer').textContent",
    );
    let refusal = refusal.as_str().unwrap().trim().to_owned();
    assert_eq!(
        std::fs::read_to_string(env.input().join("beforeafter.toml")).unwrap(),
        toml
    );
    let bad = format!("{toml}\n[gallery]\ncontact_url = \"javascript:alert(1)\"\n");
    env.put("beforeafter.toml", bad.as_bytes());
    let check = support::env::run(&["check", env.input().to_str().unwrap()]);
    let said = String::from_utf8_lossy(&[check.stdout, check.stderr].concat()).into_owned();
    assert!(refusal.contains("gallery.contact_url"), "{refusal}");
    assert!(
        said.contains(&refusal),
        "check said {said:?}, the page {refusal:?}"
    );
    env.put("beforeafter.toml", toml.as_bytes());

    // The next run marks every published photo anew: the top-left corner changed, the middle not.
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let new = marked(&env);
    assert_eq!(
        new.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>()
    );
    for (key, was) in &old_photos {
        let now = read(&new[key]);
        let corner = differ(was, &now, [0.02, 0.02, 0.2, 0.1]);
        let middle = differ(was, &now, [0.4, 0.4, 0.6, 0.6]);
        eprintln!("{key}: corner changed {corner:.1}, middle {middle:.1}");
        assert!(
            corner > 6.0 && corner > 4.0 * middle,
            "{key}: corner {corner:.1}, middle {middle:.1}"
        );
    }
}
