//! `beforeafter review`'s two ways of keeping something off the website, in real Chromium (`CI`
//! set: a missing Chromium fails), checked on the files the binary writes into `--out`:
//! "Keep private" (consent) takes the whole case off and the case stays listed, in words, with
//! an undo that publishes it again; "Don't publish this photo" (a photo problem) leaves that
//! one photo out while the rest of the case stays published, and its undo brings it back. Each
//! is recorded differently in case.toml (staff's `keep_private = true`, which never edits the
//! patient's consent record, and `[[withhold]]`).

use crate::review_app::app;
use crate::support;
use crate::support::chrome;

use std::time::Duration;

use app::{App, wait_verdict};
use beforeafter::synth::{self, Light, Scene, Shot, View};
use chrome::{eval, open};
use headless_chrome::Tab;
use support::env::{TestEnv, files, jpeg};

fn render(scene: &Scene, shot: &Shot, treated: bool) -> Vec<u8> {
    let mut s = shot.clone();
    s.treated = treated;
    if treated {
        s.light = Light {
            gain: [1.1, 1.0, 0.92],
            gamma: 1.04,
        };
    }
    jpeg(&synth::render(scene, &s))
}

/// A true series that publishes: before, session-1 and after, slightly moved. Returns the
/// session photo's bytes.
fn published_series(env: &TestEnv, name: &str) -> Vec<u8> {
    let scene = Scene::new(View::Crown, 5);
    let session = render(
        &scene,
        &Shot::moved(&scene, 800, 600, 3.0, 1.03, [0.01, 0.02]),
        true,
    );
    env.put(
        &format!("{name}/before.jpg"),
        &render(&scene, &Shot::reference(&scene, 800), false),
    );
    env.put(&format!("{name}/session-1.jpg"), &session);
    let after = Shot::moved(&scene, 800, 600, 5.0, 1.06, [0.03, -0.02]);
    env.put(&format!("{name}/after.jpg"), &render(&scene, &after, true));
    env.put(
        &format!("{name}/case.toml"),
        b"# Front desk\ntitle = \"Crown\"\n",
    );
    session
}

/// (stage, source hash) of every photo the output folder's manifest publishes for case `id`.
fn published(env: &TestEnv, id: &str) -> Vec<(String, String)> {
    let manifest = env.manifest();
    let cases = manifest["cases"].as_array().unwrap();
    let Some(case) = cases.iter().find(|c| c["id"] == id) else {
        return Vec::new();
    };
    let stages = case["views"][0]["stages"].as_array().unwrap();
    let text = |s: &serde_json::Value, k: &str| s[k].as_str().unwrap().to_owned();
    stages
        .iter()
        .map(|s| (text(s, "stage"), text(s, "source_hash")))
        .collect()
}

fn page(tab: &Tab, app: &App, case: &str) {
    open(tab, &format!("{}/case?c={case}&t={}", app.base, app.token));
}

/// Wait until the list's undo answered; the answer's text.
fn wait_answer(tab: &Tab) -> String {
    let js = "new Promise(r => { const t = setInterval(() => { if (document.body.dataset.outcome) \
              { clearInterval(t); r(document.querySelector('#kept .answer:not(:empty)').textContent); } }, 100); })";
    eval(tab, js).as_str().unwrap_or_default().to_owned()
}

#[test]
fn keep_private_takes_the_case_off_stays_listed_and_undo_publishes_it_again() {
    let Some((browser, _profile)) = chrome::browser("review_kept_off") else {
        return;
    };
    let env = TestEnv::new();
    published_series(&env, "c");
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!(published(&env, "c").len(), 3);
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    page(&tab, &app, "c");
    eval(&tab, "document.getElementById('private').click()");
    let verdict = wait_verdict(&tab, "\u{0}");
    assert_eq!(verdict, "Kept private \u{2014} not on the website.");
    assert_eq!(
        eval(&tab, "document.getElementById('private-note').hidden"),
        false
    );
    // Off the website: no record, no file of it in --out.
    assert!(published(&env, "c").is_empty());
    assert!(
        files(&env.out()).iter().all(|f| !f.starts_with("c/")),
        "{:?}",
        files(&env.out())
    );
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert!(
        toml.contains("keep_private = true")
            && !toml.contains("consent")
            && !toml.contains("withhold"),
        "{toml}"
    );

    // Still in the app's list, saying so in words, with the undo.
    open(&tab, &app.url());
    let row = eval(&tab, "document.querySelector('#kept li').textContent");
    assert!(
        row.as_str()
            .unwrap()
            .contains("Kept private \u{2014} not on the website"),
        "{row}"
    );
    let shot = support::sample::target_dir("review-screenshots").join("kept.png");
    chrome::screenshot(&tab, &shot);
    eval(
        &tab,
        "document.querySelector('#kept button[data-undo=\"publish-again\"]').click()",
    );
    let answer = wait_answer(&tab);
    assert!(answer.starts_with("Published"), "{answer}");
    assert_eq!(published(&env, "c").len(), 3);
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert_eq!(
        toml, "# Front desk\ntitle = \"Crown\"\n",
        "the record removed"
    );
    assert_eq!(env.verify().0, 0);
}

#[test]
fn dont_publish_this_photo_leaves_it_out_and_undo_brings_it_back() {
    let Some((browser, _profile)) = chrome::browser("review_kept_off") else {
        return;
    };
    let env = TestEnv::new();
    let session = published_series(&env, "c");
    let session_hash = blake3::hash(&session).to_hex().to_string();
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let all = published(&env, "c");
    assert!(all.iter().any(|s| s.1 == session_hash), "{all:?}");
    let files_before = files(&env.out());
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    page(&tab, &app, "c");
    // The page shows the before photo and the first later one: session-1.
    let caption = eval(&tab, "document.getElementById('later-caption').textContent");
    assert_eq!(caption, "Later: session-1");
    eval(
        &tab,
        "document.getElementById('withhold-reason').selectedIndex = 0",
    );
    eval(&tab, "document.getElementById('withhold-later').click()");
    let verdict = wait_verdict(&tab, "\u{0}");
    assert!(verdict.starts_with("Published"), "{verdict}");
    // The rest of the case is published; that photo is not, in the record or as a file.
    let now = published(&env, "c");
    let stages: Vec<&str> = now.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(stages, ["before", "after"], "{now:?}");
    assert!(now.iter().all(|s| s.1 != session_hash));
    let gone: Vec<_> = files_before
        .iter()
        .filter(|f| !env.out().join(f).exists())
        .collect();
    assert!(gone.iter().any(|f| f.contains("session-1")), "{gone:?}");
    assert!(files(&env.out()).iter().all(|f| !f.contains("session-1")));
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert!(
        toml.contains(
            "[[withhold]]\nfile = \"session-1.jpg\"\nreason = \"It is blurred or badly lit\""
        ) && !toml.contains("consent"),
        "{toml}"
    );
    assert_eq!(env.verify().0, 0);

    // Listed on the case page with its undo; the undo publishes it again.
    let listed = eval(&tab, "document.getElementById('withheld-list').textContent");
    assert!(
        listed
            .as_str()
            .unwrap()
            .contains("session-1.jpg is not on the website"),
        "{listed}"
    );
    eval(&tab, "delete document.body.dataset.outcome");
    eval(
        &tab,
        "document.querySelector('#withheld-list button').click()",
    );
    let verdict = wait_verdict(&tab, "\u{0}");
    assert!(verdict.starts_with("Published"), "{verdict}");
    assert!(published(&env, "c").iter().any(|s| s.1 == session_hash));
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert_eq!(
        toml, "# Front desk\ntitle = \"Crown\"\n",
        "the record removed"
    );
}
