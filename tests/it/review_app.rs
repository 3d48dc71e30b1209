//! `beforeafter review` end to end, in real Chromium (`CI` set: a missing Chromium fails): a
//! pair held for review is fixed by clicking corresponding points, saved, run again and
//! published with method `landmarks` within 3 px per 1000 of the truth; "Approve as shown"
//! publishes a held case and a later photo swap voids it; a case.toml changed on disk since the
//! page loaded is not overwritten; requests without the token are refused; and the shared HTTP
//! server answers while 70 slow-byte and 200 idle connections are open. The screenshot of the
//! case page goes to `target/review-screenshots/` (`case.png`, `points.png`).

pub mod app;
use crate::support;
use support::chrome;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use app::{App, wait_verdict};
use beforeafter::synth::{self, Light, Scene, Shot, View};
use chrome::{click_image, eval, open};
use headless_chrome::Tab;
use support::env::{TestEnv, jpeg};
use support::http::{exchange, exits_within, get_as};
use support::registration::grid_error;

fn photo(scene: &Scene, shot: &Shot, treated: bool) -> Vec<u8> {
    let mut s = shot.clone();
    if treated {
        s.treated = true;
        s.light = Light {
            gain: [1.1, 1.0, 0.92],
            gamma: 1.04,
        };
    }
    jpeg(&synth::render(scene, &s))
}

/// A case whose later photo is turned `rotation` degrees: past `[align] max_rotation` (20°), so
/// the run holds it for review. Returns the true after → before matrix.
fn held_case(env: &TestEnv, name: &str, seed: u64, rotation: f64) -> [[f64; 3]; 2] {
    let scene = Scene::new(View::Crown, seed);
    let before = Shot::reference(&scene, 800);
    let after = Shot::moved(&scene, 800, 600, rotation, 1.1, [0.03, -0.02]);
    env.put(
        &format!("{name}/before.jpg"),
        &photo(&scene, &before, false),
    );
    env.put(&format!("{name}/after.jpg"), &photo(&scene, &after, true));
    synth::shot_to_shot(&after, &before)
}

fn case_page(tab: &Tab, app: &App) {
    open(tab, &app.url());
    let href = eval(tab, "document.querySelector('#held a').href");
    open(tab, href.as_str().unwrap());
}

/// After-photo points whose true place in the before photo is well inside it, far apart.
fn picks(truth: &[[f64; 3]; 2]) -> Vec<[f64; 2]> {
    let mut inside = Vec::new();
    for j in 0..=8 {
        for i in 0..=12 {
            let p = [60.0 + f64::from(i) * 55.0, 60.0 + f64::from(j) * 60.0];
            let b = synth::apply(truth, p);
            if (60.0..740.0).contains(&b[0]) && (60.0..540.0).contains(&b[1]) {
                inside.push(p);
            }
        }
    }
    let by = |f: fn(&[f64; 2]) -> f64| *inside.iter().max_by(|a, b| f(a).total_cmp(&f(b))).unwrap();
    vec![
        by(|p| p[0] + p[1]),
        by(|p| -p[0] - p[1]),
        by(|p| p[0] - p[1]),
        by(|p| p[1] - p[0]),
    ]
}

#[test]
fn points_placed_by_clicks_publish_a_held_pair_with_landmarks() {
    let Some((browser, _profile)) = chrome::browser("review_app") else {
        return;
    };
    let started = Instant::now();
    let env = TestEnv::new();
    let truth = held_case(&env, "c", 7, 32.0);
    let comments =
        "# Front desk: photos from the May visit\ntitle = \"Crown\" # shown on the page\n";
    env.put("c/case.toml", comments.as_bytes());
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["review"], 1, "{summary}");
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    let seen = chrome::watch(&tab);
    case_page(&tab, &app);
    let reasons = eval(&tab, "document.getElementById('reasons').textContent");
    // Turned 32°, the pair defeats the estimator: held, saying why.
    assert!(reasons.as_str().unwrap().contains("after"), "{reasons}");
    for p in picks(&truth) {
        click_image(&tab, "#pane-before img", synth::apply(&truth, p));
        click_image(&tab, "#pane-later img", p);
    }
    let residual = eval(&tab, "document.getElementById('residual').textContent");
    assert!(
        residual.as_str().unwrap().starts_with("4 pairs"),
        "{residual}"
    );
    // The residual, in words, only behind the details disclosure.
    let detail = eval(
        &tab,
        "document.querySelector('details #residual-detail').textContent",
    );
    assert!(
        detail
            .as_str()
            .unwrap()
            .starts_with("Points agree to within"),
        "{detail}"
    );
    let shot = support::sample::target_dir("review-screenshots").join("case.png");
    eval(&tab, "window.scrollTo(0, 0)");
    chrome::screenshot(&tab, &shot);
    eval(&tab, "document.getElementById('points').scrollIntoView()");
    chrome::screenshot(&tab, &shot.with_file_name("points.png"));
    eval(&tab, "document.getElementById('save').click()");
    let verdict = wait_verdict(&tab, "\u{0}");
    assert!(verdict.starts_with("Published"), "{verdict}");
    // No script error, no CSP violation, no request that leaves the app.
    let seen = seen.lock().unwrap();
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let outside: Vec<_> = seen
        .requests
        .iter()
        .filter(|u| !u.starts_with(&app.base))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    assert!(
        seen.requests.iter().any(|u| u.contains("/photo?")),
        "{:?}",
        seen.requests
    );
    drop(seen);

    // The next batch publishes it (nothing left to do), with the points as the method.
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let manifest = env.manifest();
    let align = &manifest["cases"][0]["views"][0]["stages"][1]["align"];
    assert!(
        align["method"].as_str().unwrap().starts_with("landmarks"),
        "{align}"
    );
    let m: [[f64; 3]; 2] = serde_json::from_value(align["matrix"].clone()).unwrap();
    let err = grid_error(&m, &truth, (800, 600));
    eprintln!("landmarks placed by clicks: {err:.2} px per 1000 from the truth");
    assert!(err < 3.0, "{err} px per 1000: {align}");
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert!(toml.starts_with(comments), "{toml}");
    assert!(
        toml.contains("[[align]]") && toml.contains("landmarks"),
        "{toml}"
    );
    eprintln!("landmark test: {:.1} s", started.elapsed().as_secs_f64());
}

/// Wait until the page has been refused `n` decisions in all; the verdict then.
fn wait_refused(tab: &Tab, n: u32) -> String {
    let js = format!(
        "new Promise(r => {{ const t = setInterval(() => {{ \
         if (Number(document.body.dataset.refused || 0) >= {n} || document.body.dataset.outcome) \
         {{ clearInterval(t); r(document.getElementById('verdict').textContent); }} }}, 100); }})"
    );
    eval(tab, &js).as_str().unwrap_or_default().to_owned()
}

/// Every file of the output folder with its bytes.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    support::env::files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn approving_or_placing_points_on_unrelated_photos_is_refused_and_publishes_nothing() {
    let Some((browser, _profile)) = chrome::browser("review_app") else {
        return;
    };
    let env = TestEnv::new();
    let pair = support::registration::make(&support::registration::unrelated_spec(3, 800));
    // Taken on 3 March and 14 June 2026, as the camera wrote it.
    let dated = |img, when| synth::jpeg_with_exif(img, 1, 90, Some(when));
    env.put("c/before.jpg", &dated(&pair.before, "2026:03:03 10:15:00"));
    env.put("c/after.jpg", &dated(&pair.after, "2026:06:14 16:40:00"));
    env.put("c/case.toml", b"# Front desk\ntitle = \"Crown\"\n");
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["review"], 1, "{summary}");
    let toml = || std::fs::read(env.input().join("c/case.toml")).unwrap();
    let (toml_before, out_before) = (toml(), snapshot(&env.out()));
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    case_page(&tab, &app);
    // Held as not matching: approving asks for the confirmation first.
    assert_eq!(
        eval(&tab, "document.getElementById('confirm-box').hidden"),
        false
    );
    // What is confirmed is named, with the days the photos were taken (private: this app only).
    let confirm = eval(&tab, "document.getElementById('confirm-text').textContent");
    let named = "the same person, the same area, photographed on 3 March 2026 and 14 June 2026";
    assert_eq!(confirm, named);
    eval(&tab, "document.getElementById('approve').click()");
    let verdict = wait_refused(&tab, 1);
    assert!(verdict.contains(named), "{verdict}");
    // Confirmed, it is still refused: the photos do not line up.
    eval(&tab, "document.getElementById('confirm').click()");
    eval(&tab, "document.getElementById('approve').click()");
    let verdict = wait_refused(&tab, 2);
    assert!(
        verdict.contains("do not line up outside the treated area"),
        "{verdict}"
    );
    // Three pairs of points spread over the photos: refused the same way.
    for (b, l) in [
        ([100.0, 100.0], [120.0, 90.0]),
        ([700.0, 120.0], [690.0, 140.0]),
        ([400.0, 500.0], [410.0, 480.0]),
    ] {
        click_image(&tab, "#pane-before img", b);
        click_image(&tab, "#pane-later img", l);
    }
    eval(&tab, "document.getElementById('save').click()");
    let verdict = wait_refused(&tab, 3);
    assert!(
        verdict.contains("do not line up outside the treated area"),
        "{verdict}"
    );
    assert_eq!(eval(&tab, "document.body.dataset.outcome || ''"), "");
    assert_eq!(toml(), toml_before, "case.toml changed");
    assert!(
        snapshot(&env.out()) == out_before,
        "the output folder changed"
    );
    // The capture days never reach the output folder, in any form.
    for (f, bytes) in snapshot(&env.out()) {
        let text = String::from_utf8_lossy(&bytes);
        for day in [
            "2026:03:03",
            "2026-03-03",
            "3 March",
            "2026:06:14",
            "2026-06-14",
            "14 June",
        ] {
            assert!(!text.contains(day), "{f} holds {day}");
        }
    }
}

#[test]
fn approve_as_shown_publishes_until_a_photo_is_swapped() {
    let Some((browser, _profile)) = chrome::browser("review_app") else {
        return;
    };
    let env = TestEnv::new();
    held_case(&env, "c", 8, 28.0);
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["review"], 1, "{summary}");
    let app = App::start(&env);
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    case_page(&tab, &app);
    // Someone edits case.toml meanwhile: the page's decision does not overwrite it.
    env.put("c/case.toml", b"title = \"Edited elsewhere\" # keep\n");
    eval(&tab, "document.getElementById('approve').click()");
    let verdict = wait_verdict(&tab, "changed on disk");
    assert!(verdict.contains("changed on disk"), "{verdict}");
    case_page(&tab, &app);
    eval(&tab, "document.getElementById('approve').click()");
    let verdict = wait_verdict(&tab, "\u{0}");
    assert!(verdict.starts_with("Published"), "{verdict}");
    let manifest = env.manifest();
    let align = &manifest["cases"][0]["views"][0]["stages"][1]["align"];
    assert_eq!(align["method"], "approved by hand (case.toml)", "{align}");
    // The public record says when to the month only.
    assert_eq!(align["approved"].as_str().unwrap().len(), 7, "{align}");
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert!(
        toml.starts_with("title = \"Edited elsewhere\" # keep\n"),
        "{toml}"
    );

    // A new later photo voids the approval: held again, saying why.
    let scene = Scene::new(View::Crown, 8);
    let other = Shot::moved(&scene, 800, 600, 29.0, 1.05, [0.0, 0.02]);
    env.put("c/after.jpg", &photo(&scene, &other, true));
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["review"], 1, "{summary}");
    assert!(
        summary["cases"].to_string().contains("approval"),
        "{summary}"
    );
    assert!(env.manifest()["cases"].as_array().unwrap().is_empty());
}

/// One HTTP/1.1 request on a fresh connection, naming the app's own address in `Host` as a
/// browser would: the status code and the body.
fn request(base: &str, head: &str, body: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let msg = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(msg.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let reply = String::from_utf8_lossy(&bytes).into_owned();
    let code = reply.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, reply)
}

#[test]
fn requests_without_the_token_are_refused() {
    let env = TestEnv::new();
    held_case(&env, "c", 9, 30.0);
    env.put("c/case.toml", b"# note\ntitle = \"T\"\n");
    env.batch(&[]);
    let app = App::start(&env);
    let (b, t) = (&app.base, &app.token);
    let decision = r#"{"case":"c","stamp":"x"}"#;
    assert_eq!(request(b, "GET / HTTP/1.1", "").0, 403);
    assert_eq!(request(b, "GET /?t=0123 HTTP/1.1", "").0, 403);
    assert_eq!(request(b, &format!("GET /?t={t} HTTP/1.1"), "").0, 200);
    assert_eq!(request(b, "GET /photo?p=c/before.jpg HTTP/1.1", "").0, 403);
    let photo = request(b, &format!("GET /photo?p=c/before.jpg&t={t} HTTP/1.1"), "");
    assert_eq!(photo.0, 200);
    for bad in [
        "c/case.toml",
        "../in/c/before.jpg",
        "beforeafter.toml",
        "c/../c/before.jpg",
    ] {
        let code = request(b, &format!("GET /photo?p={bad}&t={t} HTTP/1.1"), "").0;
        assert_eq!(code, 404, "{bad}");
    }
    // A decision needs the token in its header: not in the URL, not missing.
    assert_eq!(request(b, "POST /api/private HTTP/1.1", decision).0, 403);
    let in_url = format!("POST /api/private?t={t} HTTP/1.1");
    assert_eq!(request(b, &in_url, decision).0, 403);
    let with = format!("POST /api/private HTTP/1.1\r\nX-Review-Token: {t}");
    assert_eq!(request(b, &with, decision).0, 409, "stale stamp");
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert_eq!(toml, "# note\ntitle = \"T\"\n");
}

#[test]
fn review_refuses_requests_that_do_not_name_it_in_host() {
    let env = TestEnv::new();
    let app = App::start(&env);
    let addr = app.base.trim_start_matches("http://");
    let port = addr.rsplit_once(':').unwrap().1;
    let page = format!("/?t={}", app.token);
    for host in [addr.to_owned(), format!("localhost:{port}")] {
        assert_eq!(get_as(addr, &host, &page, "").status, 200, "{host}");
    }
    // Even with the token: a page at evil.example that pointed its name at 127.0.0.1.
    for host in [format!("evil.example:{port}"), format!("127.0.0.1:{}", 1)] {
        let reply = get_as(addr, &host, &page, "");
        assert_eq!(reply.status, 421, "{host}");
        assert!(reply.body.contains(&app.base), "{}", reply.body);
    }
    let no_host = exchange(addr, &format!("GET {page} HTTP/1.0"), "");
    assert_eq!(no_host.status, 421, "a request without Host");
}

#[test]
fn a_decision_from_another_origin_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    held_case(&env, "c", 9, 30.0);
    env.put("c/case.toml", b"# note\ntitle = \"T\"\n");
    env.batch(&[]);
    let app = App::start(&env);
    let addr = app.base.trim_start_matches("http://");
    let decision = r#"{"case":"c","stamp":"x"}"#;
    let post = |origin: &str| {
        let head = format!(
            "POST /api/private HTTP/1.1\r\nHost: {addr}\r\nX-Review-Token: {}{origin}",
            app.token
        );
        exchange(addr, &head, decision)
    };
    for other in ["http://evil.example", "null", "https://127.0.0.1:1"] {
        let reply = post(&format!("\r\nOrigin: {other}"));
        assert_eq!(reply.status, 403, "{other}");
        assert!(reply.body.contains("Origin"), "{}", reply.body);
    }
    let toml = std::fs::read_to_string(env.input().join("c/case.toml")).unwrap();
    assert_eq!(toml, "# note\ntitle = \"T\"\n");
    // The app's own origin, and none (a script with the token), reach the decision: its stamp
    // is stale, so it is refused there, for that reason.
    assert_eq!(post(&format!("\r\nOrigin: {}", app.base)).status, 409);
    assert_eq!(post("").status, 409);
}

#[test]
fn review_beyond_loopback_is_refused_without_allow_lan() {
    let env = TestEnv::new();
    let input = env.input();
    let args = ["review", input.to_str().unwrap(), "--addr", "0.0.0.0:0"];
    let done = exits_within(&args, 30).expect("refused at once, not served");
    assert_eq!(done.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("--allow-lan"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&done.stdout).is_empty(),
        "no link printed"
    );
}

#[test]
fn slow_and_idle_connections_do_not_block_a_request() {
    let limits = beforeafter::config::Config::defaults().server.limits();
    let handler = std::sync::Arc::new(|_req| beforeafter::http::Response::text(200, "ok\n"));
    let addr = beforeafter::http::start("127.0.0.1:0".parse().unwrap(), limits, handler).unwrap();
    let base = format!("http://{addr}");
    let quiet = request(&base, "GET / HTTP/1.1", "");
    assert_eq!(quiet.0, 200);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut held = Vec::new();
    // 70 connections sending one byte every 4 s, as the issue measured.
    for _ in 0..70 {
        let stop = std::sync::Arc::clone(&stop);
        held.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            for b in b"GET / HTTP/1.1\r\nHost: x\r\n".iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(4));
            }
        }));
    }
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(request(&base, "GET / HTTP/1.1", "").0, 200);
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "under 70 slow + 200 idle connections: worst of 5 requests {:.1} ms",
        worst.as_secs_f64() * 1000.0
    );
    assert!(worst < Duration::from_secs(2), "{worst:?}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    drop(idle);
}
