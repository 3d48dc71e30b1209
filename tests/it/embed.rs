//! `embed.js` in a real Chromium, as a clinic's site builder page would use it: a host page with
//! aggressive CSS of its own (rules on `*`, `img`, `input`, and on the very class names the
//! embed uses) served from one loopback port, the sample gallery from another. The case's
//! slider follows a mouse drag and the keyboard, the index shows its cards, neither page's
//! styles reach the other (the host page's own elements are compared with and without the
//! embed), nothing is requested outside the two origins, no console error, and an id the
//! gallery does not publish (a withdrawn case) leaves its box empty. One Chromium session.

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Input;
use serde_json::Value;

use crate::support;
use support::chrome::{browser, eval, mouse, open, watch};
use support::sample::{FLAT_PAIR_ID, sample_gallery};
use support::servers;

/// The host page's own styles: everything a careless theme might do, `!important` included.
const HOST_CSS: &str = "
:root { font-size: 40px; line-height: 3; }
* { font-family: 'Comic Sans MS', cursive !important; color: rgb(255, 0, 0) !important;
    letter-spacing: 3px !important; box-sizing: content-box !important; }
img { border: 7px solid lime !important; opacity: 0.5 !important; width: 50px !important; }
input { display: none !important; }
p, a, ul, li, span, figure { margin: 33px !important; padding: 21px !important;
    text-transform: uppercase !important; }
.frame, .title, .handle, .tag, .reveal, .ba, .card, .grid { display: none !important; }
";

/// The host page's own elements that share the embed's class names, to see that the embed's
/// style sheet does not reach them.
const DECOYS: &str = r#"<div id="decoys"><div class="ba"><div class="frame"><img class="right" alt="" width="10" height="10"
src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><span class="tag left">x</span></div></div>
<p class="note">A paragraph of the clinic's own.</p><figure class="case"><figcaption>Own</figcaption></figure></div>"#;

fn host_page(gallery: u16, embed: bool) -> String {
    let snippet = if embed {
        format!(
            "<div data-beforeafter-case=\"{FLAT_PAIR_ID}\"></div>\n\
             <div data-beforeafter-case=\"case-000000\"></div>\n\
             <div data-beforeafter-index></div>\n\
             <script src=\"http://127.0.0.1:{gallery}/embed.js\" async></script>"
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Clinic</title>\
         <link rel=\"icon\" href=\"data:,\"><style>{HOST_CSS}</style></head>\
         <body><h1>Our results</h1>{snippet}{DECOYS}</body></html>"
    )
}

/// The computed styles of the host page's own elements that the embed could disturb.
fn decoy_styles(tab: &Tab) -> Value {
    eval(
        tab,
        "[...document.querySelectorAll('#decoys *')].map(e => { const s = getComputedStyle(e); \
         return [e.tagName, s.display, s.position, s.overflow, s.clipPath, s.fontFamily, s.color, \
         s.margin, s.boxSizing, s.borderTopWidth, s.opacity]; })",
    )
}

/// Wait until the embeds are drawn and the slider's photos loaded (the index's load lazily).
fn wait_drawn(tab: &Tab) {
    let done = eval(
        tab,
        "new Promise(done => { const t0 = Date.now(); (function poll() { \
           const roots = ['[data-beforeafter-case]', '[data-beforeafter-index]'] \
             .map(s => document.querySelector(s).shadowRoot); \
           const imgs = roots[0] ? [...roots[0].querySelectorAll('img')] : []; \
           if (roots.every(r => r) && imgs.length && imgs.every(i => i.complete && i.naturalWidth)) \
             return done(true); \
           if (Date.now() - t0 > 10000) return done(false); setTimeout(poll, 25); })(); })",
    );
    assert_eq!(done, Value::Bool(true), "the embeds were not drawn");
}

/// In the case box's shadow root: `js` with `r` bound to it.
fn in_case(tab: &Tab, js: &str) -> Value {
    eval(
        tab,
        &format!(
            "(() => {{ const r = document.querySelector('[data-beforeafter-case]').shadowRoot; \
             return {js}; }})()"
        ),
    )
}

/// The divider's position: the input's value and the `--pos` the photos are clipped at.
fn divider(tab: &Tab) -> (f64, f64) {
    let v = in_case(
        tab,
        "[Number(r.querySelector('.reveal').value), \
          parseFloat(r.querySelector('.frame').style.getPropertyValue('--pos'))]",
    );
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

fn slider_by_mouse_and_keys(tab: &Tab) {
    let r = in_case(
        tab,
        "(() => { const f = r.querySelector('.frame'); f.scrollIntoView({block: 'center'}); \
         const b = f.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; })()",
    );
    let [x, y, w, h] = [0, 1, 2, 3].map(|i| r[i].as_f64().unwrap());
    use Input::DispatchMouseEventTypeOption::{MouseMoved, MousePressed, MouseReleased};
    mouse(tab, MousePressed, x + w * 0.5, y + h * 0.5);
    mouse(tab, MouseMoved, x + w * 0.4, y + h * 0.5);
    mouse(tab, MouseMoved, x + w * 0.25, y + h * 0.55);
    mouse(tab, MouseReleased, x + w * 0.25, y + h * 0.55);
    let (value, pos) = divider(tab);
    assert!(
        (value - 25.0).abs() <= 1.0 && pos == value,
        "drag: {value} {pos}"
    );
    let clip = in_case(
        tab,
        "getComputedStyle(r.querySelector('img.right')).clipPath",
    );
    assert!(
        clip.as_str().unwrap().contains(&format!("{value}%")),
        "{clip}"
    );

    // The keyboard: from the page's heading, Tab reaches the divider; arrows, Home and End move it.
    eval(tab, "document.activeElement.blur(); window.scrollTo(0, 0)");
    let h = eval(
        tab,
        "(() => { const b = document.querySelector('h1').getBoundingClientRect(); return [b.left + 5, b.top + b.height / 2]; })()",
    );
    let (hx, hy) = (h[0].as_f64().unwrap(), h[1].as_f64().unwrap());
    mouse(tab, MousePressed, hx, hy);
    mouse(tab, MouseReleased, hx, hy);
    tab.press_key("Tab").unwrap();
    let focused = in_case(tab, "r.activeElement && r.activeElement.className");
    assert_eq!(focused, "reveal", "Tab reaches the slider first");
    let ring = in_case(
        tab,
        "getComputedStyle(r.querySelector('.handle'), '::after').outlineStyle",
    );
    assert_eq!(ring, "solid", "a visible focus ring");
    tab.press_key("ArrowRight").unwrap();
    assert_eq!(divider(tab).0, value + 1.0);
    tab.press_key("End").unwrap();
    assert_eq!(divider(tab), (100.0, 100.0));
    tab.press_key("Home").unwrap();
    assert_eq!(divider(tab), (0.0, 0.0));
    let text = in_case(
        tab,
        "r.querySelector('.reveal').getAttribute('aria-valuetext')",
    );
    assert_eq!(text, "Before 0%, After 100%");
}

/// The host page's rules do not reach inside: photos, words and the slider look as the embed
/// says, whatever the page says about `*`, `img`, `input` and the class names.
fn host_styles_stay_out(tab: &Tab) {
    let s = in_case(
        tab,
        "(() => { const g = (sel, p) => getComputedStyle(r.querySelector(sel))[p]; \
         return [g('img.right', 'borderTopWidth'), g('img.right', 'opacity'), \
                 g('.reveal', 'display'), g('.frame', 'display'), g('.tag', 'display'), \
                 g('.title', 'fontFamily'), g('.title a', 'color'), g('.title', 'letterSpacing'), \
                 g('.title', 'marginTop'), g('.ba', 'fontSize')]; })()",
    );
    let s: Vec<&str> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&s[..2], ["0px", "1"], "{s:?}");
    assert!(s[2..5].iter().all(|d| *d != "none"), "{s:?}");
    assert!(!s[5].contains("Comic"), "{s:?}");
    assert_eq!(&s[6..8], ["rgb(11, 87, 208)", "normal"], "{s:?}");
    assert!(s[8] != "33px" && s[9] == "16px", "{s:?}");
    let w = in_case(
        tab,
        "[r.querySelector('img.right').getBoundingClientRect().width, \
          r.querySelector('.frame').getBoundingClientRect().width]",
    );
    assert_eq!(w[0], w[1], "the photo fills the frame, not the page's 50px");
}

#[test]
fn embed_in_a_host_page_slider_index_and_isolation() {
    let Some((browser, _profile)) = browser("embed") else {
        return;
    };
    let gallery = servers::static_site(sample_gallery("browser-sample"));
    let pages = tempfile::tempdir().unwrap();
    let write = |name: &str, embed| {
        std::fs::write(pages.path().join(name), host_page(gallery.port, embed)).unwrap();
    };
    write("with.html", true);
    write("without.html", false);
    let host = servers::static_site(pages.path());
    let (host_origin, gallery_origin) = (
        format!("http://127.0.0.1:{}/", host.port),
        format!("http://127.0.0.1:{}/", gallery.port),
    );
    let tab = browser.new_tab().unwrap();
    support::screen::viewport(&tab, 1024, 800, false);
    open(&tab, &format!("{host_origin}without.html"));
    let own_styles = decoy_styles(&tab);
    let seen = watch(&tab);
    open(&tab, &format!("{host_origin}with.html"));
    wait_drawn(&tab);

    slider_by_mouse_and_keys(&tab);
    host_styles_stay_out(&tab);
    assert_eq!(decoy_styles(&tab), own_styles, "the embed's styles leaked");

    let cards = eval(
        &tab,
        "[...document.querySelector('[data-beforeafter-index]').shadowRoot \
         .querySelectorAll('li.card a')].map(a => [a.href, a.getBoundingClientRect().left])",
    );
    let cards = cards.as_array().unwrap();
    assert_eq!(cards.len(), 3, "the sample's published cases: {cards:?}");
    assert!(cards.iter().all(|c| {
        let href = c[0].as_str().unwrap();
        href.starts_with(&gallery_origin) && href.ends_with("/index.html")
    }));
    let empty = eval(
        &tab,
        "document.querySelectorAll('[data-beforeafter-case]')[1].shadowRoot === null",
    );
    assert_eq!(
        empty, true,
        "an id the gallery does not publish shows nothing"
    );

    // A phone: the slider keeps to the page's width and the cards stack.
    support::screen::viewport(&tab, 360, 740, false);
    let narrow = eval(
        &tab,
        "(() => { const f = document.querySelector('[data-beforeafter-case]').shadowRoot \
           .querySelector('.frame').getBoundingClientRect(); \
         const xs = [...document.querySelector('[data-beforeafter-index]').shadowRoot \
           .querySelectorAll('li.card')].map(c => c.getBoundingClientRect().left); \
         return [f.right <= innerWidth, new Set(xs).size]; })()",
    );
    assert_eq!(narrow, serde_json::json!([true, 1]), "{narrow}");

    let seen = seen.lock().unwrap();
    assert!(seen.errors.is_empty(), "console errors: {:?}", seen.errors);
    let outside: Vec<&String> = (seen.requests.iter())
        .filter(|u| !u.starts_with("data:"))
        .filter(|u| !u.starts_with(&host_origin) && !u.starts_with(&gallery_origin))
        .collect();
    assert!(outside.is_empty(), "requests elsewhere: {outside:?}");
    assert!(
        seen.requests
            .iter()
            .any(|u| u.ends_with(".webp") || u.ends_with(".avif")),
        "photos came from the gallery: {:?}",
        seen.requests
    );
}
