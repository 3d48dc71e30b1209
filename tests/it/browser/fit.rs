//! Issue 15 in a real Chromium, at a 1280×800 laptop and a 390×844 phone: the comparison frame
//! fits the screen and is never shown larger than its pixels, the series picker sits right
//! under it, the two labels never collide (down to 320 px), index cards in a row are equally
//! high, thumbnails are chosen for their shown size, nothing shifts (CLS), filters live in the
//! address, and a 500-case index stays light before the visitor scrolls. One Chromium and the
//! one sample gallery serve every check.

use std::path::Path;

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Emulation;

use super::{browser, eval, file_url, open, screenshot, server, visible_cards, visitor};
use crate::support::sample::{self, sample_gallery};

const LAPTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

pub(super) fn viewport(tab: &Tab, (width, height): (u32, u32), scale: f64) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: scale,
        mobile: width < 600,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
}

pub(super) fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Layout shift so far (CLS without session windows: every shift counts, so it is an upper bound).
fn layout_shift(tab: &Tab) -> f64 {
    eval(
        tab,
        "new Promise(r => { let s = 0; new PerformanceObserver(l => { for (const e of \
         l.getEntries()) if (!e.hadRecentInput) s += e.value; }).observe({type: 'layout-shift', \
         buffered: true}); setTimeout(() => r(s), 600); })",
    )
    .as_f64()
    .unwrap()
}

/// Case page: the frame with its labels wholly on screen as the page opens, no photo larger
/// than its pixels, the series picker right under the frame.
fn case_page_fits(tab: &Tab, url: &str, size: (u32, u32)) {
    viewport(tab, size, 1.0);
    open(tab, url);
    let v = eval(
        tab,
        "(() => { const frame = document.querySelector('.frame'); \
         const f = frame.getBoundingClientRect(); \
         const tags = [...frame.querySelectorAll('.is-a .tag, .is-b .tag')]\
           .map(t => t.getBoundingClientRect()); \
         const s = document.querySelector('.series').getBoundingClientRect(); \
         const img = frame.querySelector('.is-b img'); \
         const most = Math.max(...img.getAttribute('srcset').split(', ').map(x => parseInt(x.split(' ')[1]))); \
         return [f.top, f.bottom, f.height, Math.min(...tags.map(t => t.top)), \
                 Math.max(...tags.map(t => t.bottom)), s.top, img.getBoundingClientRect().width, most, \
                 innerHeight, scrollY]; })()",
    );
    let [
        top,
        bottom,
        height,
        tags_top,
        tags_bottom,
        series,
        shown,
        most,
        screen,
        scrolled,
    ] = numbers(&v)[..]
    else {
        unreachable!()
    };
    eprintln!(
        "{size:?}: frame {top:.0}..{bottom:.0} ({height:.0} px) of {screen}, labels \
         {tags_top:.0}..{tags_bottom:.0}, series at {series:.0}, photo {shown:.0} px of {most} px"
    );
    assert_eq!(scrolled, 0.0);
    if size == LAPTOP {
        assert!(
            top >= 0.0 && bottom <= screen,
            "frame on screen: {top}..{bottom}"
        );
    }
    assert!(
        height <= screen,
        "frame no taller than the screen: {height}"
    );
    assert!(
        tags_top >= top && tags_bottom <= bottom,
        "labels inside the frame"
    );
    assert!(
        series >= bottom && series - bottom < 24.0,
        "series picker right under the frame"
    );
    assert!(
        shown <= most + 0.5,
        "never larger than its pixels: {shown} > {most}"
    );
    screenshot(tab, &format!("fit-case-{}.png", size.0));
}

/// The two labels stay apart at `width` even with the longest texts a label can carry.
fn labels_apart(tab: &Tab, url: &str, width: u32) {
    viewport(tab, (width, 700), 1.0);
    open(tab, url);
    let v = eval(
        tab,
        "(() => { const [a, b] = ['.is-a', '.is-b'].map(s => document.querySelector('.frame ' + s + ' .tag')); \
         a.innerHTML = 'SESSION 2 <span class=\"month\">Sep 2026, +10 weeks</span>'; \
         b.innerHTML = 'AFTER <span class=\"month\">Nov 2026, +14 months</span>'; \
         const [ra, rb] = [a, b].map(t => t.getBoundingClientRect()); \
         return [ra.right, rb.left, ra.bottom, rb.top]; })()",
    );
    let n = numbers(&v);
    eprintln!(
        "{width} px: left label ends at {:.0}, right starts at {:.0}",
        n[0], n[1]
    );
    assert!(n[0] <= n[1], "labels overlap at {width} px: {n:?}");
    screenshot(tab, &format!("fit-labels-{width}.png"));
}

/// Index: cards in a row equally high, thumbnails loaded for their shown size, the first row
/// eager, no layout shift.
fn index_is_even(tab: &Tab, url: &str, size: (u32, u32)) {
    viewport(tab, size, 1.0);
    open(tab, url);
    let v = eval(
        tab,
        "[...document.querySelectorAll('.card')].map(c => { const r = c.getBoundingClientRect(); \
         const i = c.querySelector('img'); return [r.top, r.height, i.getBoundingClientRect().width, \
         parseInt(i.currentSrc.match(/-thumb-(\\d+)\\./)[1]), i.getAttribute('fetchpriority') === 'high' ? 1 : 0, \
         i.getAttribute('loading') === 'lazy' ? 1 : 0]; })",
    );
    let cards: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(numbers).collect();
    for c in &cards {
        let row: Vec<&Vec<f64>> = cards.iter().filter(|o| (o[0] - c[0]).abs() < 1.0).collect();
        for o in &row {
            assert!(
                (o[1] - c[1]).abs() < 1.0,
                "{size:?}: cards in a row {c:?} {o:?}"
            );
        }
        eprintln!(
            "{size:?}: card {:.0} px high, thumbnail {} px shown {:.0} px",
            c[1], c[3], c[2]
        );
        // The smaller file (360 px) unless the card is shown wider than 240 px.
        let fits = c[3] <= (1.5 * c[2]).max(360.0);
        assert!(fits, "{size:?}: {} px file shown {} px", c[3], c[2]);
    }
    // The first screenful loads at once (`visitor::index_cards_and_filters`); the first
    // card with high priority, as the largest paint.
    assert_eq!(
        cards[0][4], 1.0,
        "{size:?}: the first card has high priority"
    );
    for c in &cards {
        assert!(
            c[4] == 0.0 || c[5] == 0.0,
            "{size:?}: high priority and lazy"
        );
    }
    let cls = layout_shift(tab);
    eprintln!("{size:?}: CLS {cls:.4}");
    assert!(cls < 0.1, "{size:?}: CLS {cls}");
    screenshot(tab, &format!("fit-index-{}.png", size.0));
}

/// Filters in the address: shareable, undone by the back button, cleared by one control,
/// counts that follow the other groups, a message when nothing matches.
fn filters_live_in_the_address(tab: &Tab, base: &str) {
    viewport(tab, LAPTOP, 1.0);
    let all = visible_cards_at(tab, &format!("{base}index.html"));
    super::click(
        tab,
        r#"button[data-group="tag"][data-value="diffuse-thinning"]"#,
    );
    assert_eq!(eval(tab, "location.search"), "?tag=diffuse-thinning");
    assert_eq!(visible_cards(tab), ["smp-crown-series"]);
    super::click(tab, r#"button[data-group="view"][data-value="crown"]"#);
    assert_eq!(
        eval(tab, "location.search"),
        "?tag=diffuse-thinning&view=crown"
    );
    assert_eq!(visible_cards(tab), ["smp-crown-series"]);
    let count = |group: &str, value: &str| {
        eval(
            tab,
            &format!(
                "document.querySelector('button[data-group=\"{group}\"][data-value=\"{value}\"] .n').textContent"
            ),
        )
    };
    // Without a choice, two cases each: the top view (one by its tag) and the treatment.
    assert_eq!(
        count("view", "top"),
        "1",
        "view counts follow the chosen tag"
    );
    assert_eq!(
        count("treatment", "scalp-micropigmentation"),
        "1",
        "treatment counts follow the chosen tag and view"
    );
    eval(tab, "history.back()");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(eval(tab, "location.search"), "?tag=diffuse-thinning");
    assert_eq!(visible_cards(tab), ["smp-crown-series"]);
    let shared = visible_cards_at(tab, &format!("{base}index.html?tag=crown&view=top"));
    assert!(shared.is_empty(), "{shared:?}");
    let none = eval(tab, "document.querySelector('[data-none]').hidden");
    assert_eq!(none, false, "says nothing matches");
    super::click(tab, "[data-clear]");
    assert_eq!(visible_cards(tab), all);
    assert_eq!(eval(tab, "location.search"), "");
    assert_eq!(
        eval(tab, "document.querySelector('[data-clear]').hidden"),
        true
    );
}

fn visible_cards_at(tab: &Tab, url: &str) -> Vec<String> {
    open(tab, url);
    visible_cards(tab)
}

/// Zoom: full screen, both photos zoom and pan together, the divider still works, and the
/// larger file loads only once zoomed.
fn zoom_keeps_the_photos_in_sync(tab: &Tab, url: &str) {
    viewport(tab, PHONE, 1.0);
    open(tab, url);
    let src = "document.querySelector('.frame .is-b img').currentSrc";
    let before = eval(tab, src).as_str().unwrap().to_owned();
    assert!(
        before.contains("-480."),
        "a phone loads the small file first: {before}"
    );
    eval(tab, "document.querySelector('[data-zoom]').click()");
    let transforms = "[...document.querySelectorAll('.frame .is-a picture, .frame .is-b picture')]\
                      .map(p => getComputedStyle(p).transform)";
    eval(
        tab,
        "(() => { const f = document.querySelector('.frame'); const r = f.getBoundingClientRect(); \
         f.dispatchEvent(new WheelEvent('wheel', {deltaY: -400, clientX: r.left + r.width / 3, \
         clientY: r.top + r.height / 3, bubbles: true, cancelable: true})); })()",
    );
    tab.press_key("+").unwrap();
    let t = eval(tab, transforms);
    eprintln!("zoomed: {t}");
    assert_eq!(t[0], t[1], "both photos zoom together");
    assert_ne!(t[0], "none", "zoomed");
    let frame = eval(
        tab,
        "(() => { const r = document.querySelector('.frame').getBoundingClientRect(); \
         return [r.width, r.height, innerWidth, innerHeight]; })()",
    );
    let f = numbers(&frame);
    assert!(
        f[0] >= f[2] - 1.0 && f[1] >= f[3] - 1.0,
        "full screen: {f:?}"
    );
    let (start, _) = super::revealed(tab);
    tab.press_key("ArrowLeft").unwrap();
    let (moved, _) = super::revealed(tab);
    assert!(moved > start, "the divider still moves: {start} -> {moved}");
    eval(
        tab,
        "new Promise(r => { const i = document.querySelector('.frame .is-b img'); \
         const w = () => i.complete && !i.currentSrc.includes('-480.') ? r() : setTimeout(w, 50); \
         w(); })",
    );
    let after = eval(tab, src).as_str().unwrap().to_owned();
    assert!(
        !after.contains("-480."),
        "the large file once zoomed: {after}"
    );
    screenshot(tab, "fit-zoom.png");
    tab.press_key("Escape").unwrap();
    assert_eq!(
        eval(tab, "document.querySelector('.frame.zoomed') === null"),
        true
    );
}

#[test]
fn pages_fit_laptop_and_phone_screens_and_the_index_is_even_and_steady() {
    let Some((browser, _profile)) = browser("fit") else {
        return;
    };
    let out = sample_gallery("browser-sample");
    let server = server::serve(out);
    let base = server.base_url();
    let case = format!("{base}{}", super::CASE);
    // First, in its own tab, so no larger file is in the cache yet.
    zoom_keeps_the_photos_in_sync(&browser.new_tab().unwrap(), &case);
    let tab = browser.new_tab().unwrap();
    for size in [LAPTOP, PHONE] {
        visitor::zoom_buttons_and_cap(&tab, &case, size);
    }
    let index = format!("{base}index.html");
    let flat = format!("{base}{}/index.html", sample::FLAT_PAIR_ID);
    for size in [LAPTOP, PHONE, visitor::SMALL_PHONE] {
        if size != visitor::SMALL_PHONE {
            case_page_fits(&tab, &case, size);
            index_is_even(&tab, &index, size);
        }
        for url in [&index, &case, &flat] {
            visitor::nothing_clipped(&tab, url, size);
        }
        visitor::index_cards_and_filters(&tab, &index, size);
    }
    visitor::series_and_facts_in_reach(&tab, &case);
    for width in [320, 390] {
        labels_apart(&tab, &case, width);
    }
    filters_live_in_the_address(&tab, &base);
    let _ = file_url(out);
}

/// A gallery of 500 cases from the samples' manifest: every case a copy of a sample case under
/// its own id, its thumbnails hard-linked, so each card loads its own files.
fn gallery_of_500(out: &Path) -> std::path::PathBuf {
    use beforeafter::manifest::Manifest;
    let big = sample::target_dir("tmp/browser-500");
    let _ = std::fs::remove_dir_all(&big);
    std::fs::create_dir_all(&big).unwrap();
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let manifest: Manifest = serde_json::from_str(&text).unwrap();
    let published: Vec<_> = manifest.cases.iter().filter(|c| c.published).collect();
    let mut cases = Vec::new();
    for i in 0..500 {
        let mut c = published[i % published.len()].clone();
        let id = format!("case-{i:03}");
        for v in &mut c.views {
            let files = v.stages.iter_mut().flat_map(|s| s.outputs.iter_mut());
            for o in files.chain(v.composites.iter_mut()) {
                let rel = o.path.replacen(&format!("{}/", c.id), &format!("{id}/"), 1);
                if o.kind.as_deref() == Some("thumb") {
                    let to = big.join(&rel);
                    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                    std::fs::hard_link(out.join(&o.path), to).unwrap();
                }
                o.path = rel;
            }
        }
        c.id = id;
        cases.push(c);
    }
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let config = beforeafter::config::Config::for_input(&samples, None).unwrap();
    let params = beforeafter::gallery::GalleryParams::resolve(&config);
    beforeafter::gallery::write(&big, &Manifest::new(cases), &params).unwrap();
    big
}

#[test]
fn an_index_of_500_cases_stays_light_before_the_visitor_scrolls() {
    let Some((browser, _profile)) = browser("500") else {
        return;
    };
    let big = gallery_of_500(sample_gallery("browser-sample"));
    let server = server::serve(&big);
    let tab = browser.new_tab().unwrap();
    for (size, scale) in [(PHONE, 2.0), (LAPTOP, 1.0)] {
        viewport(&tab, size, scale);
        tab.call_method(headless_chrome::protocol::cdp::Network::SetCacheDisabled {
            cache_disabled: true,
        })
        .unwrap();
        open(&tab, &format!("{}index.html", server.base_url()));
        let v = eval(
            &tab,
            "new Promise(r => setTimeout(() => r([performance.getEntriesByType('navigation')\
             .concat(performance.getEntriesByType('resource')).reduce((s, e) => s + e.transferSize, 0), \
             document.querySelectorAll('.card').length, \
             performance.getEntriesByType('resource').filter(e => e.initiatorType === 'img').length]), 1500))",
        );
        let n = numbers(&v);
        let big = eval(
            &tab,
            "performance.getEntriesByType('resource').map(e => e.name.split('/').slice(-2).join('/') + ' ' + e.transferSize).join(', ')",
        );
        eprintln!("resources: {big}");
        eprintln!(
            "500 cases at {size:?}×{scale}: {:.0} KB transferred before scrolling, {} cards, {} images",
            n[0] / 1000.0,
            n[1],
            n[2]
        );
        assert!(n[0] <= 300_000.0, "{size:?}: {} bytes", n[0]);
        assert!(
            n[1] < 100.0,
            "{size:?}: the first page only: {} cards",
            n[1]
        );
        let cls = layout_shift(&tab);
        assert!(cls < 0.1, "{size:?}: CLS {cls}");
    }
    super::click(&tab, "[data-more]");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let cards = eval(&tab, "document.querySelectorAll('.card').length");
    assert_eq!(cards, 32, "Show more adds the next page");
    let count = eval(&tab, "document.querySelector('[data-count]').textContent");
    assert_eq!(count, "Cases 1–32 of 500", "the count follows");
    let focus = eval(
        &tab,
        "document.activeElement === document.querySelectorAll('.card a')[16]",
    );
    assert_eq!(focus, true, "focus on the first new card");
    let href = eval(
        &tab,
        "document.querySelector('[data-more]').getAttribute('href')",
    );
    assert!(href.as_str().unwrap().ends_with("page-3.html"), "{href}");
}
