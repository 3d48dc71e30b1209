//! Issue 36 in a real Chromium, as a visitor sees the sample gallery at 1280×800, 390×844 and
//! 320×640: no label or text clipped, index cards all equally high, the filters behind one
//! button on a phone (at most a third of its first screen), the first screenful of thumbnails
//! not lazy, the series picker and the case's facts in reach, and zoom with +/− buttons, a
//! hint, steps of 1.25× and a stop at two screen pixels per pixel of the file. Called from
//! `fit.rs`'s tests, which hold the one Chromium.

use headless_chrome::Tab;

use super::eval;
use super::fit::{numbers, viewport};

pub const SMALL_PHONE: (u32, u32) = (320, 640);

/// Elements holding text of their own whose content is wider than their box (clipped, cut
/// with an ellipsis or spilling out), and the page's width beyond the screen's.
fn clipped(tab: &Tab) -> serde_json::Value {
    eval(
        tab,
        "(() => { const bad = [...document.querySelectorAll('body *')].filter(e => \
           e.clientWidth > 0 && getComputedStyle(e).visibility !== 'hidden' && \
           [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && \
           e.scrollWidth > e.clientWidth + 0.5).map(e => e.tagName + '.' + e.className + ' ' + \
           e.scrollWidth + '>' + e.clientWidth + ': ' + e.textContent.trim().slice(0, 30)); \
         const wide = document.documentElement.scrollWidth - innerWidth; \
         if (wide > 0.5) bad.push('page ' + wide + ' px wider than the screen'); return bad; })()",
    )
}

/// No text or label on the page at `url` is clipped at `size`.
pub fn nothing_clipped(tab: &Tab, url: &str, size: (u32, u32)) {
    viewport(tab, size, 1.0);
    super::open(tab, url);
    let bad = clipped(tab);
    assert_eq!(bad, serde_json::json!([]), "{size:?} {url}: clipped text");
}

/// The index at `size`: every card equally high, the cards on the first screen not lazy, and
/// on a phone the filters behind one "Filter" button that opens them.
pub fn index_cards_and_filters(tab: &Tab, url: &str, size: (u32, u32)) {
    viewport(tab, size, 1.0);
    super::open(tab, url);
    let v = eval(
        tab,
        "[...document.querySelectorAll('.card')].map(c => { const r = c.getBoundingClientRect(); \
         return [r.top, r.height, c.querySelector('img').getAttribute('loading') === 'lazy' ? 1 : 0]; })",
    );
    let cards: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(numbers).collect();
    assert!(cards.len() >= 3, "{cards:?}");
    for c in &cards {
        assert!(
            (c[1] - cards[0][1]).abs() < 1.0,
            "{size:?}: cards equally high: {cards:?}"
        );
        assert!(
            c[0] >= f64::from(size.1) || c[2] == 0.0,
            "{size:?}: a card on the first screen loads lazily: {cards:?}"
        );
    }
    let v = eval(
        tab,
        "(() => { const t = document.querySelector('[data-filter-toggle]'); \
         const box = document.querySelector('[data-filters]'); \
         const room = () => { const a = document.querySelector('.bar').getBoundingClientRect(); \
           const f = box.getBoundingClientRect(); return Math.max(a.bottom, f.bottom) - a.top; }; \
         const shut = [room(), t.offsetParent ? 1 : 0, box.offsetParent ? 1 : 0]; \
         if (t.offsetParent) t.click(); \
         return shut.concat([box.offsetParent ? 1 : 0, t.getAttribute('aria-expanded') === 'true' ? 1 : 0]); })()",
    );
    let [room, toggle, shown, opened, expanded] = numbers(&v)[..] else {
        unreachable!()
    };
    eprintln!("{size:?}: filters take {room:.0} px of {}", size.1);
    if size.0 < 600 {
        assert_eq!((toggle, shown), (1.0, 0.0), "{size:?}: one Filter button");
        assert!(
            room <= f64::from(size.1) / 3.0,
            "{size:?}: filters take {room} px"
        );
        assert_eq!((opened, expanded), (1.0, 1.0), "{size:?}: the button opens");
    } else {
        assert_eq!((toggle, shown), (0.0, 1.0), "{size:?}: filters in view");
    }
}

/// A series case at 1280×800: the whole picker on the first screen, and the case's facts and
/// honesty note right after the first view.
pub fn series_and_facts_in_reach(tab: &Tab, url: &str) {
    viewport(tab, (1280, 800), 1.0);
    super::open(tab, url);
    let v = eval(
        tab,
        "(() => { const s = document.querySelector('.series').getBoundingClientRect(); \
         const about = document.querySelector('.about'); \
         const prev = about.previousElementSibling; \
         return [s.bottom, innerHeight, prev === document.querySelector('section.view') ? 1 : 0, \
           about.textContent.includes('Scalp micropigmentation') ? 1 : 0]; })()",
    );
    let [bottom, screen, after_first, treatment] = numbers(&v)[..] else {
        unreachable!()
    };
    assert!(
        bottom <= screen,
        "series picker on the first screen: {bottom}"
    );
    assert_eq!(after_first, 1.0, "the facts follow the first view");
    assert_eq!(treatment, 1.0, "the treatment is among them");
}

/// Zoom at `size`: buttons with names and a hint; "+" steps of 1.25×; it stops at two CSS
/// pixels per pixel of the largest file; the divider runs over the photo, not the bars.
pub fn zoom_buttons_and_cap(tab: &Tab, url: &str, size: (u32, u32)) {
    viewport(tab, size, 1.0);
    super::open(tab, url);
    let v = eval(
        tab,
        "(async () => { const f = document.querySelector('.frame'); f.querySelector('[data-zoom]').click(); \
         await new Promise(r => setTimeout(r, 200)); \
         const names = [...f.querySelectorAll('.zoombar button')].filter(b => b.offsetParent) \
           .map(b => b.getAttribute('aria-label')).join(','); \
         const hint = f.querySelector('.zoomhint'); \
         const scale = () => new DOMMatrix(getComputedStyle(f.querySelector('.is-b picture')).transform).a; \
         const r = f.getBoundingClientRect(); const aspect = f.style.getPropertyValue('--w') / f.style.getPropertyValue('--h'); \
         const shown = Math.min(r.width, r.height * aspect); const top = r.top + (r.height - shown / aspect) / 2; \
         const h = f.querySelector('.handle').getBoundingClientRect(); \
         const inside = h.top >= top - 1 && h.bottom <= top + shown / aspect + 1 ? 1 : 0; \
         const zin = f.querySelector('.zoombar button[aria-label=\"Zoom in\"]'); \
         zin.click(); const first = scale(); \
         for (let i = 0; i < 40; i++) zin.click(); \
         const most = scale(); const stopped = zin.disabled ? 1 : 0; \
         f.dispatchEvent(new WheelEvent('wheel', {deltaY: 500, clientX: 10, clientY: 10, bubbles: true, cancelable: true})); \
         const wheel = most / scale(); \
         return [names === 'Zoom out,Zoom in,Show the whole photo' ? 1 : 0, hint.offsetParent && hint.textContent.length > 10 ? 1 : 0, \
           inside, first, most * shown, Number(f.style.getPropertyValue('--w')), wheel, stopped]; })()",
    );
    let [names, hint, inside, first, widest, pixels, wheel, stopped] = numbers(&v)[..] else {
        unreachable!()
    };
    eprintln!(
        "{size:?}: first step {first:.3}×, widest {widest:.0} px for {pixels} px, wheel notch {wheel:.3}×"
    );
    assert_eq!(names, 1.0, "{size:?}: zoom out, in and reset buttons");
    assert_eq!(hint, 1.0, "{size:?}: a one-line hint");
    assert_eq!(
        inside, 1.0,
        "{size:?}: the divider runs over the photo only"
    );
    assert!((first - 1.25).abs() < 0.01, "{size:?}: a step is 1.25×");
    assert!(
        (widest - 2.0 * pixels).abs() <= 1.0 && stopped == 1.0,
        "{size:?}: zoom stops at {widest} px wide for a {pixels} px file"
    );
    assert!(
        (wheel - 1.25).abs() < 0.01,
        "{size:?}: a wheel notch is one step"
    );
    tab.press_key("Escape").unwrap();
}
