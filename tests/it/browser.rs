//! The sample gallery in a real headless Chromium (Debian's `chromium`, driven over the
//! DevTools protocol by `headless_chrome`): pages load over `file://` and over a loopback HTTP
//! server with no console error and no request outside the gallery, filters hide and show the
//! right cards, the slider follows the keyboard and a pointer drag, and without JavaScript both
//! photos are shown. Screenshots go to `target/gallery-screenshots/`.
//!
//! Without Chromium these tests print that they were SKIPPED and pass, except under CI
//! (`CI` set), where they fail: `.ci/run` installs Chromium. `BEFOREAFTER_CHROMIUM` names
//! another binary.

use crate::support;
use support::sample;
mod fit;
mod server;
mod visitor;

use std::path::Path;
use std::sync::{Arc, Mutex};

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Input, Log, Network, Page, Runtime};
use sample::{sample_gallery, target_dir};
use support::chrome::{browser, eval, mouse};

const CASE: &str = "smp-crown-series/index.html";

/// What a tab saw: console errors and every request URL.
#[derive(Default)]
struct Seen {
    errors: Vec<String>,
    requests: Vec<String>,
}

fn watch(tab: &Arc<Tab>) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sink = Arc::clone(&seen);
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let mut s = sink.lock().unwrap();
        match event {
            Event::NetworkRequestWillBeSent(e) => s.requests.push(e.params.request.url.clone()),
            Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
                s.errors
                    .push(format!("{} {:?}", e.params.entry.text, e.params.entry.url));
            }
            Event::RuntimeExceptionThrown(e) => {
                s.errors.push(format!("{:?}", e.params.exception_details));
            }
            Event::RuntimeConsoleAPICalled(e)
                if e.params.Type == Runtime::ConsoleAPICalledEventTypeOption::Error =>
            {
                s.errors.push(format!("console.error {:?}", e.params.args));
            }
            _ => {}
        }
    }))
    .unwrap();
    tab.enable_log().unwrap();
    tab.enable_runtime().unwrap();
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .unwrap();
    seen
}

/// Open `url` and wait until the images in view have loaded.
fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    eval(
        tab,
        "Promise.all([...document.images].filter(i => i.offsetParent !== null && \
         i.getBoundingClientRect().top < innerHeight).map(i => i.complete ? 0 : \
         new Promise(r => { i.onload = r; i.onerror = r; })))",
    );
}

fn screenshot(tab: &Tab, name: &str) {
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let path = target_dir("gallery-screenshots").join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// The index and a case page, over `base`, with no console error and no request that leaves
/// `base`.
fn load_cleanly(tab: &Arc<Tab>, base: &str) {
    let seen = watch(tab);
    for page in ["index.html", CASE] {
        open(tab, &format!("{base}{page}"));
    }
    let seen = seen.lock().unwrap();
    assert!(
        seen.errors.is_empty(),
        "console errors over {base}: {:?}",
        seen.errors
    );
    assert!(
        seen.requests.len() > 5,
        "requests were seen: {:?}",
        seen.requests
    );
    let outside: Vec<&String> = seen
        .requests
        .iter()
        .filter(|u| !u.starts_with(base))
        .collect();
    assert!(
        outside.is_empty(),
        "requests outside the gallery: {outside:?}"
    );
}

#[test]
fn pages_load_over_file_and_http_with_no_error_and_no_outside_request() {
    let Some((browser, _profile)) = browser("load") else {
        return;
    };
    let out = sample_gallery("browser-sample");
    let tab = browser.new_tab().unwrap();
    load_cleanly(&tab, &format!("{}/", file_url(out)));
    let server = server::serve(out);
    let tab = browser.new_tab().unwrap();
    load_cleanly(&tab, &server.base_url());
    let served = server.requests();
    assert!(
        served.iter().any(|p| p.ends_with(".webp")),
        "WebP chosen: {served:?}"
    );
    assert!(served.iter().all(|p| !p.contains("private")), "{served:?}");
}

#[test]
fn with_avif_enabled_chromium_shows_the_avif_files() {
    let Some((browser, _profile)) = browser("avif") else {
        return;
    };
    let input = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for name in ["hairline-07_before.jpg", "hairline-07_after.jpg"] {
        std::fs::copy(samples.join(name), input.path().join(name)).unwrap();
    }
    std::fs::write(
        input.path().join("beforeafter.toml"),
        "[cases]\ndefault_consent = true\nids = \"folder\"\n\
         [outputs]\nwidths = [480, 800]\nformats = [\"jpeg\", \"webp\", \"avif\"]\n",
    )
    .unwrap();
    let out = sample::target_dir("tmp/browser-avif");
    let _ = std::fs::remove_dir_all(&out);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(["batch", input.path().to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let server = server::serve(&out);
    let tab = browser.new_tab().unwrap();
    let seen = watch(&tab);
    open(
        &tab,
        &format!("{}hairline-07/index.html", server.base_url()),
    );
    let shown = eval(
        &tab,
        "[...document.querySelectorAll('.stage img')].map(i => [i.currentSrc, i.naturalWidth])",
    );
    let shown: Vec<(String, u32)> = serde_json::from_value(shown).unwrap();
    assert_eq!(shown.len(), 2, "{shown:?}");
    for (src, width) in &shown {
        assert!(src.ends_with(".avif"), "AVIF chosen first: {src}");
        assert!(*width >= 480, "{src} decoded: {width} px wide");
    }
    assert!(seen.lock().unwrap().errors.is_empty());
}

/// Hrefs of the cards a visitor can see.
fn visible_cards(tab: &Tab) -> Vec<String> {
    let v = eval(
        tab,
        "[...document.querySelectorAll('.card')].filter(c => c.offsetParent !== null)\
         .map(c => c.querySelector('a').getAttribute('href').split('/')[0])",
    );
    serde_json::from_value(v).unwrap()
}

fn click(tab: &Tab, selector: &str) {
    tab.find_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .unwrap();
}

#[test]
fn filters_hide_and_show_the_right_cards() {
    let Some((browser, _profile)) = browser("filters") else {
        return;
    };
    let out = sample_gallery("browser-sample");
    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("{}/index.html", file_url(out)));
    screenshot(&tab, "index.png");
    // The featured case first (`featured = true` in its case.toml), then newest first.
    let all = ["smp-crown-series", sample::FLAT_PAIR_ID, "rotated-phone"];
    assert_eq!(visible_cards(&tab), all);
    click(
        &tab,
        r#"button[data-group="tag"][data-value="diffuse-thinning"]"#,
    );
    assert_eq!(visible_cards(&tab), ["smp-crown-series"]);
    assert_eq!(
        eval(&tab, "document.querySelector('[data-count]').textContent"),
        "Showing 1 of 3 cases"
    );
    click(&tab, r#"button[data-group="tag"][data-value=""]"#);
    assert_eq!(visible_cards(&tab), all);
    click(
        &tab,
        r#"button[data-group="treatment"][data-value="scalp-micropigmentation"]"#,
    );
    assert_eq!(visible_cards(&tab), ["smp-crown-series", "rotated-phone"]);
    // Tags that name a view ("crown", "top") are filed under View, not offered twice.
    let tags = eval(
        &tab,
        "[...document.querySelectorAll('button[data-group=\"tag\"]')].map(b => b.dataset.value).join(' ')",
    );
    assert_eq!(tags, " diffuse-thinning");
    click(&tab, r#"button[data-group="view"][data-value="top"]"#);
    assert_eq!(visible_cards(&tab), ["smp-crown-series", "rotated-phone"]);
    click(&tab, r#"button[data-group="view"][data-value="crown"]"#);
    assert_eq!(visible_cards(&tab), ["smp-crown-series"]);
    let pressed = eval(
        &tab,
        r#"document.querySelector('button[data-group="view"][data-value="crown"]').getAttribute('aria-pressed')"#,
    );
    assert_eq!(pressed, "true");
}

/// The width of the first slider's right-hand photo that is not clipped away, in CSS pixels,
/// and the frame's width.
fn revealed(tab: &Tab) -> (f64, f64) {
    let v = eval(
        tab,
        "(() => { const f = document.querySelector('.frame'); \
         const b = f.querySelector('.stage.is-b'); const w = b.getBoundingClientRect().width; \
         const left = getComputedStyle(b).clipPath.match(/inset\\(([^)]*)\\)/)[1].split(' ')[3] || '0px'; \
         const px = left.endsWith('%') ? parseFloat(left) / 100 * w : parseFloat(left); \
         return [w - px, f.getBoundingClientRect().width]; })()",
    );
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

/// One finger: down, moved to, or lifted (`None`).
fn touch(tab: &Tab, kind: Input::DispatchTouchEventTypeOption, at: Option<(f64, f64)>) {
    let touch_points = at
        .map(|(x, y)| Input::TouchPoint {
            x,
            y,
            radius_x: None,
            radius_y: None,
            rotation_angle: None,
            force: None,
            tangential_pressure: None,
            tilt_x: None,
            tilt_y: None,
            twist: None,
            id: Some(1.0),
        })
        .into_iter()
        .collect();
    tab.call_method(Input::DispatchTouchEvent {
        Type: kind,
        touch_points,
        modifiers: None,
        timestamp: None,
    })
    .unwrap();
}

#[test]
fn slider_follows_arrow_keys_home_end_a_pointer_and_a_touch_drag() {
    let Some((browser, _profile)) = browser("slider") else {
        return;
    };
    let out = sample_gallery("browser-sample");
    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("{}/{CASE}", file_url(out)));
    eval(
        &tab,
        "document.querySelector('.frame').scrollIntoView({block: 'center'})",
    );
    let (start, width) = revealed(&tab);
    assert!(
        (start - width / 2.0).abs() < 2.0,
        "starts at the middle: {start} of {width}"
    );

    eval(&tab, "document.querySelector('.reveal').focus()");
    tab.press_key("ArrowRight").unwrap();
    let (after_key, _) = revealed(&tab);
    assert!(
        after_key < start - 1.0,
        "ArrowRight moves the divider right: {start} -> {after_key}"
    );
    tab.press_key("Home").unwrap();
    assert!(
        (revealed(&tab).0 - width).abs() < 1.0,
        "Home shows all of the right-hand photo"
    );
    tab.press_key("End").unwrap();
    assert!(revealed(&tab).0 < 1.0, "End hides it");
    let text = eval(
        &tab,
        "document.querySelector('.reveal').getAttribute('aria-valuetext')",
    );
    assert_eq!(text, "Before 100%, After 0%");

    let r = eval(
        &tab,
        "(() => { const r = document.querySelector('.frame').getBoundingClientRect(); \
         return [r.left, r.top, r.width, r.height]; })()",
    );
    let [x, y, w, h] = [0, 1, 2, 3].map(|i| r[i].as_f64().unwrap());
    use Input::DispatchMouseEventTypeOption::{MouseMoved, MousePressed, MouseReleased};
    mouse(&tab, MousePressed, x + w * 0.5, y + h * 0.5);
    mouse(&tab, MouseMoved, x + w * 0.4, y + h * 0.5);
    mouse(&tab, MouseMoved, x + w * 0.25, y + h * 0.55);
    mouse(&tab, MouseReleased, x + w * 0.25, y + h * 0.55);
    let (dragged, _) = revealed(&tab);
    assert!(
        (dragged - w * 0.75).abs() < w * 0.02,
        "drag to a quarter: {dragged} of {w}"
    );

    tab.call_method(Emulation::SetTouchEmulationEnabled {
        enabled: true,
        max_touch_points: Some(1),
    })
    .unwrap();
    use Input::DispatchTouchEventTypeOption::{TouchEnd, TouchMove, TouchStart};
    touch(&tab, TouchStart, Some((x + w * 0.3, y + h * 0.5)));
    touch(&tab, TouchMove, Some((x + w * 0.5, y + h * 0.5)));
    touch(&tab, TouchMove, Some((x + w * 0.8, y + h * 0.52)));
    touch(&tab, TouchEnd, None);
    let (touched, _) = revealed(&tab);
    assert!(
        (touched - w * 0.2).abs() < w * 0.02,
        "touch drag to four fifths: {touched} of {w}"
    );

    eval(
        &tab,
        "(() => { const s = document.querySelector('.series select[name$=\"-b\"]'); s.value = '1'; \
         s.dispatchEvent(new Event('change', {bubbles: true})); })()",
    );
    let b = eval(
        &tab,
        "document.querySelector('.stage.is-b').getAttribute('data-name')",
    );
    assert_eq!(
        b, "Session 1",
        "the series strip picks the right-hand stage"
    );
    let label = eval(
        &tab,
        "document.querySelector('.reveal').getAttribute('aria-label')",
    );
    assert_eq!(
        label, "Crown divider: Before on the left, Session 1 on the right",
        "screen readers hear the new pair"
    );
    let tag = eval(
        &tab,
        "(() => { const t = document.querySelector('.stage.is-b .tag'); \
         return [t.textContent.trim(), t.getBoundingClientRect().width > 0]; })()",
    );
    assert_eq!(
        tag[0].as_str().unwrap().split_whitespace().next(),
        Some("SESSION"),
        "{tag}"
    );
    assert_eq!(tag[1], true, "the new stage's label is visible: {tag}");
    screenshot(&tab, "case.png");
}

#[test]
fn without_javascript_both_photos_show_side_by_side() {
    let Some((browser, _profile)) = browser("no-js") else {
        return;
    };
    let out = sample_gallery("browser-sample");
    let tab = browser.new_tab().unwrap();
    tab.call_method(Emulation::SetScriptExecutionDisabled { value: true })
        .unwrap();
    tab.navigate_to(&format!("{}/{CASE}", file_url(out)))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let first = tab
        .find_element(".view .stage.is-a img")
        .unwrap()
        .get_box_model()
        .unwrap();
    let last = tab
        .find_element(".view .stage.is-b img")
        .unwrap()
        .get_box_model()
        .unwrap();
    for (name, m) in [("before", &first), ("after", &last)] {
        assert!(
            m.width > 100.0 && m.height > 50.0,
            "{name} photo visible: {}x{}",
            m.width,
            m.height
        );
    }
    let (a, b) = (&first.border, &last.border);
    let apart = a.most_right() <= b.most_left() + 0.5 || a.below(b) || b.below(a);
    assert!(apart, "the photos do not overlap: {a:?} {b:?}");
    assert!(
        tab.find_element(".reveal")
            .unwrap()
            .get_box_model()
            .is_err(),
        "no slider without JavaScript"
    );
    screenshot(&tab, "case-no-js.png");
}
