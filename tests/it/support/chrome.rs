//! Headless Chromium for the browser tests of the gallery (`tests/it/browser.rs`) and of the
//! review app: a fresh profile, no background traffic, and helpers to evaluate script and click
//! at page points.

use std::ffi::OsStr;
use std::path::PathBuf;

use std::sync::{Arc, Mutex};

use headless_chrome::browser::tab::point::Point;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Input, Log, Network, Page, Runtime};
use headless_chrome::{Browser, LaunchOptions, Tab};

use crate::support::sample;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BEFOREAFTER_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let names = ["chromium", "chromium-browser", "google-chrome"];
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| names.map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A fresh headless Chromium, or `None` (said loudly) when there is none outside CI.
pub fn browser(name: &str) -> Option<(Browser, tempfile::TempDir)> {
    let Some(path) = chromium() else {
        sample::skip_or_fail(&format!(
            "{name}: browser test SKIPPED: no Chromium found (apt-get install chromium, or set \
             BEFOREAFTER_CHROMIUM)"
        ));
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let args: Vec<&OsStr> = [
        "--disable-component-update",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(path))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 1000)))
        .user_data_dir(Some(profile.path().to_owned()))
        .args(args)
        .build()
        .unwrap();
    Some((Browser::new(options).expect("Chromium starts"), profile))
}

/// The value of `js`, awaited when it is a promise; a script error fails the test.
pub fn eval(tab: &Tab, js: &str) -> serde_json::Value {
    let reply = tab
        .call_method(Runtime::Evaluate {
            expression: js.to_owned(),
            return_by_value: Some(true),
            await_promise: Some(true),
            generate_preview: None,
            silent: None,
            include_command_line_api: None,
            user_gesture: Some(true),
            object_group: None,
            context_id: None,
            throw_on_side_effect: None,
            timeout: None,
            disable_breaks: None,
            repl_mode: None,
            allow_unsafe_eval_blocked_by_csp: None,
            unique_context_id: None,
            serialization_options: None,
        })
        .unwrap_or_else(|e| panic!("{js}: {e}"));
    if let Some(e) = reply.exception_details {
        panic!(
            "{js}: {} {:?}",
            e.text,
            e.exception.and_then(|x| x.description)
        );
    }
    reply.result.value.unwrap_or(serde_json::Value::Null)
}

/// Open `url` and wait until every image has loaded.
pub fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    eval(
        tab,
        "Promise.all([...document.images].map(i => i.complete ? 0 : \
         new Promise(r => { i.onload = r; i.onerror = r; })))",
    );
}

/// Click the page at image pixel `p` (pixel centres at integers) of the `<img>` `selector`,
/// scrolled into view first.
pub fn click_image(tab: &Tab, selector: &str, p: [f64; 2]) {
    let js = format!(
        "(() => {{ const i = document.querySelector({selector:?}); i.scrollIntoView({{block: 'center'}}); \
         const r = i.getBoundingClientRect(); \
         return [r.left + ({x} + 0.5) * r.width / i.naturalWidth, r.top + ({y} + 0.5) * r.height / i.naturalHeight]; }})()",
        x = p[0],
        y = p[1]
    );
    let at = eval(tab, &js);
    let point = Point {
        x: at[0].as_f64().unwrap(),
        y: at[1].as_f64().unwrap(),
    };
    tab.click_point(point).unwrap();
}

pub fn screenshot(tab: &Tab, path: &std::path::Path) {
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// What a tab saw: console errors (a CSP violation is one) and every request URL.
#[derive(Default)]
pub struct Seen {
    pub errors: Vec<String>,
    pub requests: Vec<String>,
}

pub fn watch(tab: &Arc<Tab>) -> Arc<Mutex<Seen>> {
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

/// One left-button mouse event (press, move or release) at a point of the page.
pub fn mouse(tab: &Tab, kind: Input::DispatchMouseEventTypeOption, x: f64, y: f64) {
    tab.call_method(Input::DispatchMouseEvent {
        Type: kind,
        x,
        y,
        modifiers: None,
        timestamp: None,
        button: Some(Input::MouseButton::Left),
        buttons: Some(1),
        click_count: Some(1),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    })
    .unwrap();
}
