//! Staff screens as a laptop (1280×800) and a tablet (1024×768) show them, and axe-core's
//! accessibility check on a page. axe-core comes from the npm registry, like vnu: `.ci/run`
//! installs it with `npm install --prefix target/axe --no-save axe-core@4.14.1`; the tests read
//! `BEFOREAFTER_AXE` (the path of `axe.min.js`), else that path. Without it they say SKIPPED,
//! or fail under CI.

use std::path::PathBuf;

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Emulation;

use crate::support::chrome::eval;
use crate::support::sample;

/// Make the page's window `width`×`height` CSS pixels (a tablet: with touch).
pub fn viewport(tab: &Tab, width: u32, height: u32, touch: bool) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 1.0,
        mobile: false,
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
    tab.call_method(Emulation::SetTouchEmulationEnabled {
        enabled: touch,
        max_touch_points: touch.then_some(5),
    })
    .unwrap();
}

/// Where `selector`'s first element lies past the first screen, in words (None: wholly on it).
pub fn off_screen(tab: &Tab, selector: &str) -> Option<String> {
    let js = format!(
        "(() => {{ const e = document.querySelector({selector:?}); if (!e) return 'missing'; \
         const r = e.getBoundingClientRect(); \
         if (r.width === 0 || r.height === 0) return 'not shown'; \
         if (r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5 || r.top < 0 || r.left < 0) \
         return 'at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','); return ''; }})()"
    );
    let said = eval(tab, &js);
    let said = said.as_str().unwrap_or("?");
    (!said.is_empty()).then(|| format!("{selector} {said} on {}", size(tab)))
}

fn size(tab: &Tab) -> String {
    eval(tab, "innerWidth + '×' + innerHeight")
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

fn axe_path() -> Option<PathBuf> {
    let given = std::env::var_os("BEFOREAFTER_AXE").map(PathBuf::from);
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/axe/node_modules/axe-core/axe.min.js");
    given.or(Some(local)).filter(|p| p.is_file())
}

/// axe-core's violations on the page as it stands ("rule: nodes"), or None when axe-core is
/// not installed (said loudly; a failure under CI).
pub fn axe(tab: &Tab, page: &str) -> Option<Vec<String>> {
    let Some(path) = axe_path() else {
        sample::skip_or_fail(&format!(
            "{page}: axe-core check SKIPPED: run `npm install --prefix target/axe --no-save \
             axe-core@4.14.1` or set BEFOREAFTER_AXE"
        ));
        return None;
    };
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    eval(tab, &std::fs::read_to_string(path).unwrap());
    let js = "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => \
              v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | ')))";
    let found = eval(tab, js);
    Some(
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
    )
}
