//! Issue 36's words on the pages the gallery writes: times since the before photo as "9 weeks
//! later" or "Same day", downloads named by use (never by pixels) and only when large enough, a
//! small photo's labels set above it, tags that name a view not shown twice, and the header
//! falling back to the gallery's title.

use beforeafter::manifest::CaseEntry;
use serde_json::json;

use crate::gallery::{config_in, pair, read, render};

/// A published pair whose after photo was taken `since` after the before photo, its photos and
/// composites `scale` times the fixture's size.
fn timed_pair(id: &str, since: &str, scale: f64, meta: serde_json::Value) -> CaseEntry {
    let mut case = pair(id, "published", meta);
    let view = &mut case.views[0];
    view.stages[1].since_before = Some(since.to_owned());
    let shrink = |w: &mut u32, h: &mut u32| {
        *w = (f64::from(*w) * scale) as u32;
        *h = (f64::from(*h) * scale) as u32;
    };
    for o in view.stages.iter_mut().flat_map(|s| s.outputs.iter_mut()) {
        shrink(&mut o.width, &mut o.height);
    }
    for o in &mut view.composites {
        shrink(&mut o.width, &mut o.height);
    }
    case
}

fn crown(mut case: CaseEntry) -> CaseEntry {
    case.views[0].view = "crown".into();
    case
}

#[test]
fn pages_say_when_in_words_and_offer_downloads_by_use_when_large_enough() {
    let cfg = tempfile::tempdir().unwrap();
    let config = config_in(cfg.path(), "[gallery]\ntitle = \"Results\"\n");
    let dir = render(
        vec![
            crown(timed_pair(
                "weeks",
                "9 weeks",
                1.0,
                json!({"tags": ["crown", "Scar"]}),
            )),
            timed_pair("same", "the same day", 0.4, json!({})),
        ],
        &config,
    );
    let weeks = read(&dir.path().join("weeks/index.html"));
    assert!(weeks.contains(">9 weeks later</span>"), "{weeks}");
    assert!(
        !weeks.contains(">+") && !weeks.contains(" × "),
        "no +, no pixels"
    );
    assert!(weeks.contains("For web pages and print <small>side by side</small>"));
    assert!(weeks.contains("For link previews <small>wide</small>"));
    assert!(!weeks.contains(r#"<div class="compare small"#));
    // The view's heading says "Crown" already.
    assert!(weeks.contains("<li>Scar</li>") && !weeks.contains("<li>crown</li>"));
    let same = read(&dir.path().join("same/index.html"));
    assert!(same.contains(">Same day</span>"), "{same}");
    assert!(
        !same.contains("download="),
        "composites of 819×307 and 480×252 are not offered"
    );
    assert!(same.contains(r#"<div class="compare small" data-compare>"#));
    let index = read(&dir.path().join("index.html"));
    let body = &index[index.find("<body>").unwrap()..];
    assert!(
        body.contains(r#"<h1 class="brand"><span>Results</span></h1>"#),
        "without a clinic the header holds the title: {body}"
    );
}
