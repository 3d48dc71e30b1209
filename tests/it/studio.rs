//! `beforeafter studio` as staff use it, in real Chromium (`CI` set: a missing Chromium or
//! axe-core fails): three phone photos of a new case are chosen on the board's "New case"
//! screen, the proposed stages (from capture times) shown and one fixed, the case saved under
//! an opaque folder name, its details and consent filled in, its public page previewed, the
//! gallery updated by keyboard, and the case found in `--out`'s index; a caption edited shows
//! on the page. A non-photo and an oversized file dropped on the page are refused with a
//! message; axe-core finds nothing on any screen at 1280×800 and 1024×768. Without a browser:
//! a request without the token, a change from another site, and a `../` name are refused and
//! nothing is written outside INPUT. Screenshots go to `target/studio-screenshots/`.

mod app;
use crate::support;

use std::time::{Duration, Instant};

use crate::support::screen::viewport;
use app::{Studio, wait_for};
use beforeafter::synth;
use headless_chrome::Tab;
use headless_chrome::protocol::cdp::DOM;
use support::chrome::{self, eval, open};
use support::env::{TestEnv, jpeg, photo};

/// The shipped defaults (no consent, opaque ids) with the test clinic's small-photo allowances,
/// one output width, and photos up to 1 MB, so an oversized one is small to send.
const CLINIC: &str = "[review]\nmin_crop = 64\n[quality]\ntone = \"warn\"\n\
                      [outputs]\nwidths = [320]\nformats = [\"jpeg\"]\n[composites]\nenabled = false\n\
                      [limits]\nmax_file_mb = 1\n[watch]\nquiet_ms = 150\n";

fn no_violations(tab: &Tab, screen: &str) {
    if let Some(v) = crate::support::screen::axe(tab, screen) {
        assert!(v.is_empty(), "axe-core on {screen}: {v:#?}");
    }
}

/// Three phone photos (camera names, capture times in March, April and June) on disk.
fn phone_photos(dir: &std::path::Path) -> Vec<String> {
    let when = [
        "2026:03:03 10:15:00",
        "2026:04:02 11:00:00",
        "2026:06:14 16:40:00",
    ];
    (0..3)
        .map(|i| {
            let path = dir.join(format!("IMG_010{}.JPG", i + 1));
            let bytes = synth::jpeg_with_exif(&photo(400, 300, 1 + i as u32), 1, 90, Some(when[i]));
            std::fs::write(&path, bytes).unwrap();
            path.to_str().unwrap().to_owned()
        })
        .collect()
}

fn choose_files(tab: &Tab, selector: &str, files: Vec<String>) {
    let input = tab.wait_for_element(selector).unwrap();
    tab.call_method(DOM::SetFileInputFiles {
        files,
        node_id: Some(input.node_id),
        backend_node_id: None,
        object_id: None,
    })
    .unwrap();
}

/// Drop files made in the page (a DataTransfer, as a drag from the desktop brings).
fn drop_made_files(tab: &Tab) {
    eval(
        tab,
        "(() => { const dt = new DataTransfer(); \
         dt.items.add(new File(['Dear patient, your appointment'], 'letter.jpg', { type: 'image/jpeg' })); \
         const big = new Uint8Array(1200000); big.set([0xff, 0xd8, 0xff, 0xe0]); \
         dt.items.add(new File([big], 'huge.jpg', { type: 'image/jpeg' })); \
         document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })); })()",
    );
}

fn text(tab: &Tab, js: &str) -> String {
    eval(tab, js).as_str().unwrap_or_default().to_owned()
}

#[test]
fn staff_make_a_case_from_phone_photos_give_consent_preview_and_publish_it() {
    let Some((browser, _profile)) = chrome::browser("studio") else {
        return;
    };
    let started = Instant::now();
    let env = TestEnv::with_defaults();
    env.put("beforeafter.toml", CLINIC.as_bytes());
    let studio = Studio::start(&env);
    let shots = support::sample::target_dir("studio-screenshots");
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(30));
    let seen = chrome::watch(&tab);
    viewport(&tab, 1280, 800, false);
    open(&tab, &studio.url("/"));
    assert_eq!(
        text(&tab, "document.getElementById('headline').textContent"),
        "No case needs you"
    );

    eprintln!("start: {:.1} s", started.elapsed().as_secs_f64());
    // New case: three photos chosen at once; stages proposed from capture times.
    open(&tab, &studio.url("/new"));
    let photos = tempfile::tempdir().unwrap();
    choose_files(&tab, "#files", phone_photos(photos.path()));
    wait_for(
        &tab,
        "three photos listed",
        "document.querySelectorAll('#photos li').length === 3",
    );
    let stages = eval(
        &tab,
        "[...document.querySelectorAll('#photos li')].map(li => li.dataset.file + '=' + li.querySelector('select.stage').value)",
    );
    assert_eq!(
        stages,
        serde_json::json!([
            "IMG_0101.jpg=before",
            "IMG_0102.jpg=session-1",
            "IMG_0103.jpg=after"
        ])
    );
    drop_made_files(&tab);
    let refused = wait_for(
        &tab,
        "two refusals",
        "document.querySelectorAll('#refused li').length === 2 && document.getElementById('refused').textContent",
    );
    let refused = refused.as_str().unwrap();
    assert!(
        refused.contains("letter.jpg\u{201d} is not a photo"),
        "{refused}"
    );
    assert!(
        refused
            .contains("huge.jpg\u{201d} is 1.2 MB; the largest photo the clinic accepts is 1 MB"),
        "{refused}"
    );
    no_violations(&tab, "new case");
    chrome::screenshot(&tab, &shots.join("new-case.png"));
    // Staff know the middle photo is from the second session.
    eval(
        &tab,
        "(() => { const s = document.querySelector('#photos li[data-file=\"IMG_0102.jpg\"] select.stage'); s.value = 'session-2'; s.dispatchEvent(new Event('change')); })()",
    );
    eval(&tab, "document.getElementById('save').click()");
    wait_for(
        &tab,
        "the details page",
        "location.pathname === '/details' && document.readyState === 'complete'",
    );
    let folder = text(&tab, "document.getElementById('details').dataset.case");
    assert!(folder.starts_with("case-"), "{folder}");
    let case_dir = env.input().join(&folder);
    let mut names: Vec<String> = std::fs::read_dir(&case_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["after.jpg", "before.jpg", "case.toml", "session-2.jpg"]
    );
    assert!(
        text(&tab, "document.querySelector('.state').textContent")
            .contains("Waiting for the patient's consent")
    );

    eprintln!("new case saved: {:.1} s", started.elapsed().as_secs_f64());
    // Details and consent.
    fill_and_save(&tab, "First caption from the front desk", true);
    no_violations(&tab, "details");
    let toml = std::fs::read_to_string(case_dir.join("case.toml")).unwrap();
    assert!(
        toml.starts_with("# Made in the studio."),
        "comments kept: {toml}"
    );
    assert!(
        toml.contains("[consent]") && toml.contains("signed = \"2026-03-03\""),
        "{toml}"
    );

    eprintln!("details saved: {:.1} s", started.elapsed().as_secs_f64());
    // The watch publishes it; the preview is the gallery's own page.
    let page = wait_published(&tab, &studio, &folder, "First caption from the front desk");
    no_violations(&tab, "preview");
    chrome::screenshot(&tab, &shots.join("preview.png"));

    eprintln!("preview shown: {:.1} s", started.elapsed().as_secs_f64());
    // "Update the gallery now", by keyboard.
    let rounds = eval(&tab, "Number(document.body.dataset.rounds)")
        .as_u64()
        .unwrap();
    eval(&tab, "document.getElementById('run-now').focus()");
    tab.press_key("Enter").unwrap();
    let said = wait_for(
        &tab,
        "a round after the button",
        &format!(
            "Number(document.body.dataset.rounds) > {rounds} && document.body.dataset.running === 'false' && document.getElementById('run-status').textContent"
        ),
    );
    assert!(
        said.as_str().unwrap().starts_with("Gallery updated at"),
        "{said}"
    );
    let index = std::fs::read_to_string(env.out().join("index.html")).unwrap();
    assert!(
        index.contains("Crown, three sessions"),
        "the case is in the gallery's index"
    );
    assert!(
        std::fs::read_to_string(env.out().join(&page))
            .unwrap()
            .contains("First caption")
    );

    eprintln!("updated now: {:.1} s", started.elapsed().as_secs_f64());
    // A caption edited shows on the page.
    open(&tab, &studio.url(&format!("/details?c={folder}")));
    fill_and_save(&tab, "Second caption, after healing", false);
    wait_published(&tab, &studio, &folder, "Second caption, after healing");
    let public = std::fs::read_to_string(env.out().join(&page)).unwrap();
    assert!(public.contains("Second caption, after healing") && !public.contains("First caption"));

    eprintln!("caption shown: {:.1} s", started.elapsed().as_secs_f64());
    // The board at a laptop's and a tablet's size.
    for (w, h) in [(1280, 800), (1024, 768)] {
        viewport(&tab, w, h, w == 1024); // the tablet with touch
        open(&tab, &studio.url("/"));
        let fits = eval(
            &tab,
            "document.documentElement.scrollWidth <= innerWidth && document.getElementById('run-now').getBoundingClientRect().bottom <= innerHeight",
        );
        assert_eq!(fits, true, "the board fits {w}x{h}");
        assert_eq!(
            text(&tab, "document.querySelector('.card .state').textContent"),
            "On the website"
        );
        if w == 1280 {
            // One layout of the same page is enough for axe-core's rules.
            no_violations(&tab, "board");
            chrome::screenshot(&tab, &shots.join("board.png"));
        }
    }
    let seen = seen.lock().unwrap();
    // The two refusals above are answered 400, which the console reports; nothing else.
    let errors: Vec<_> = (seen.errors.iter())
        .filter(|e| {
            !(e.contains("status of 400")
                && (e.contains("name=letter.jpg") || e.contains("name=huge.jpg")))
        })
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let outside: Vec<_> = seen
        .requests
        .iter()
        .filter(|u| !u.starts_with(&studio.base) && !u.starts_with("data:"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    eprintln!("studio test: {:.1} s", started.elapsed().as_secs_f64());
}

/// Fill the details form (consent the first time) and save it.
fn fill_and_save(tab: &Tab, notes: &str, consent: bool) {
    let set = |id: &str, v: &str| {
        eval(
            tab,
            &format!("document.getElementById({id:?}).value = {v:?}"),
        );
    };
    set("title", "Crown, three sessions");
    set("treatment", "Scalp micropigmentation");
    set("notes", notes);
    if consent {
        eval(tab, "document.getElementById('website').checked = true");
        set("signed", "2026-03-03");
    }
    let saved = eval(
        tab,
        "Number(document.getElementById('details').dataset.saved || 0)",
    )
    .as_u64()
    .unwrap();
    eval(tab, "document.getElementById('save-details').click()");
    let answer = wait_for(
        tab,
        "saved",
        &format!(
            "Number(document.getElementById('details').dataset.saved || 0) > {saved} && document.getElementById('answer').textContent"
        ),
    );
    assert!(answer.as_str().unwrap().starts_with("Saved"), "{answer}");
}

/// Open the case's preview until it shows the gallery's page holding `words`; the page's path
/// in `--out`.
fn wait_published(tab: &Tab, studio: &Studio, folder: &str, words: &str) -> String {
    let start = Instant::now();
    loop {
        open(tab, &studio.url(&format!("/preview?c={folder}")));
        let body = eval(
            tab,
            "(() => { const f = document.getElementById('page'); return f && f.contentDocument && f.contentDocument.readyState === 'complete' ? f.contentDocument.body.textContent : ''; })()",
        );
        if body.as_str().unwrap_or_default().contains(words) {
            let src = text(tab, "document.getElementById('page').getAttribute('src')");
            return src.trim_start_matches("/site/").to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the preview never showed {words:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn requests_without_the_token_from_elsewhere_or_naming_a_folder_are_refused() {
    let env = TestEnv::with_defaults();
    env.put("beforeafter.toml", CLINIC.as_bytes());
    let studio = Studio::start(&env);
    let photo = jpeg(&photo(400, 300, 1));
    let token = format!("X-Review-Token: {}", studio.token);
    let (status, _) = studio.send("GET / HTTP/1.1", b"");
    assert_eq!(status, 403, "the board without the token");
    let (status, _) = studio.send("GET /?t=0123 HTTP/1.1", b"");
    assert_eq!(status, 403, "a wrong token");
    // The board's menu leads to the clinic settings, answered by the same app under its token.
    let (status, board) = studio.send(&format!("GET /?t={} HTTP/1.1", studio.token), b"");
    assert_eq!(status, 200, "{board}");
    assert!(
        board.contains("/settings?t="),
        "no Clinic settings link: {board}"
    );
    let settings = format!("GET /settings?t={} HTTP/1.1", studio.token);
    let (status, page) = studio.send(&settings, b"");
    assert!(
        status == 200 && page.contains("Watermark"),
        "{status}: {page}"
    );
    let (status, _) = studio.send("GET /settings HTTP/1.1", b"");
    assert_eq!(status, 403, "the settings without the token");
    let (status, _) = studio.send("POST /api/upload?name=a.jpg HTTP/1.1", &photo);
    assert_eq!(status, 403, "an upload without the token header");
    let from = format!("POST /api/run HTTP/1.1\r\n{token}\r\nOrigin: http://evil.example");
    let (status, body) = studio.send(&from, b"{}");
    assert_eq!(status, 403, "{body}");
    for name in [
        "..%2F..%2Fevil.jpg",
        "..%2Fbefore.jpg",
        "a%2F..%2F..%2Fx.jpg",
        "..%5Cx.jpg",
    ] {
        let (status, body) = studio.send(
            &format!("POST /api/upload?name={name} HTTP/1.1\r\n{token}"),
            &photo,
        );
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body.contains("is not a plain file name"), "{body}");
    }
    let (status, body) = studio.send(
        &format!("POST /api/upload?name=IMG_1.jpg&batch=..%2F..%2Fx HTTP/1.1\r\n{token}"),
        &photo,
    );
    assert_eq!(
        (status, body.contains("reload the page")),
        (400, true),
        "{body}"
    );
    // A good photo is taken, and kept inside INPUT's own folder until the case is saved.
    let (status, body) = studio.send(
        &format!("POST /api/upload?name=IMG_1.JPG HTTP/1.1\r\n{token}"),
        &photo,
    );
    assert_eq!(status, 200, "{body}");
    let outside: Vec<_> = support::env::files(env.dir.path())
        .into_iter()
        .filter(|f| !f.starts_with("in/"))
        .collect();
    assert!(outside.iter().all(|f| f.starts_with("out/")), "{outside:?}");
    let staged = support::env::files(&env.input());
    assert!(
        staged
            .iter()
            .any(|f| f.starts_with(".beforeafter/studio/uploads/")
                && f.ends_with("/photos/IMG_1.jpg")),
        "{staged:?}"
    );
}
