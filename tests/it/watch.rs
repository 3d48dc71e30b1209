//! `beforeafter watch` end to end: the real binary on a temp folder, driven by writing, changing
//! and deleting files the way staff and copy tools do. Each scenario runs with inotify events and
//! again with `--poll` (network shares). Every wait has a deadline; no sleep is an assertion.

mod session;
use crate::support;

use std::io::Write;
use std::time::Duration;

use session::{FAST_CONFIG, Session, count, get};
use support::env::{TestEnv, files, jpeg, photo};
use support::http::{exchange, exits_within, get_as};

fn poll_args(poll: bool) -> Vec<&'static str> {
    if poll { vec!["--poll"] } else { Vec::new() }
}

fn put_pair(env: &TestEnv, case: &str, seed: u32) {
    env.put(&format!("{case}/before.jpg"), &jpeg(&photo(400, 300, seed)));
    env.put(
        &format!("{case}/after.jpg"),
        &jpeg(&photo(480, 320, seed + 1)),
    );
}

fn manifest_has(env: &TestEnv, id: &str) -> bool {
    std::fs::read_to_string(env.out().join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|m| {
            m["cases"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == id && c["published"] == true)
        })
}

fn no_temp_files(env: &TestEnv) {
    let temps: Vec<String> = files(&env.out())
        .into_iter()
        .filter(|f| {
            f.rsplit('/')
                .next()
                .unwrap()
                .starts_with(".beforeafter-tmp-")
        })
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

fn add_a_pair(poll: bool) {
    let env = TestEnv::new();
    let w = Session::start(&env, &poll_args(poll));
    put_pair(&env, "smith-07", 1);
    // A partial download beside it is skipped and reported as such, never read.
    env.put("smith-07/session-1.jpg.part", b"half a photo");
    w.wait_for("smith-07 published", |e| {
        count(e, "published", Some("smith-07")) == 1
    });
    assert!(manifest_has(&env, "smith-07"));
    let index = std::fs::read_to_string(env.out().join("index.html")).unwrap();
    assert!(index.contains("smith-07/"), "{index}");
    w.wait_for("the partial file reported", |e| {
        e.iter().any(|x| {
            x["event"] == "unplaced"
                && x["path"] == "smith-07/session-1.jpg.part"
                && x["kind"] == "skipped"
        })
    });
}

#[test]
fn add_a_pair_it_appears_in_manifest_and_index() {
    add_a_pair(false);
}

#[test]
fn poll_add_a_pair_it_appears_in_manifest_and_index() {
    add_a_pair(true);
}

/// A 12-MP JPEG written in chunks over about 2 s, with one pause longer than the quiet period:
/// the photo is read once, complete, never as a truncated image.
fn slow_writer(poll: bool) {
    let env = TestEnv::new();
    // The two test photos are unrelated, so alignment would hold the case for review.
    let mut args = poll_args(poll);
    args.push("--publish-review");
    let mut w = Session::start(&env, &args);
    let big = jpeg(&photo(4032, 3024, 5));
    env.put("slow/before.jpg", &jpeg(&photo(800, 600, 4)));
    let path = env.input().join("slow/after.jpg");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunks: Vec<&[u8]> = big.chunks(big.len().div_ceil(16)).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        // One pause longer than quiet_ms (200): size and mtime settle, but the file does not decode.
        let pause = if i == 8 { 600 } else { 90 };
        std::thread::sleep(Duration::from_millis(pause));
    }
    drop(f);
    let written = w.events().len();
    // Published, and (the photos being unrelated) flagged for review: one event either way.
    let processed = |e: &[serde_json::Value]| {
        count(e, "published", Some("slow")) + count(e, "review", Some("slow"))
    };
    w.wait_for("slow processed", |e| processed(e) == 1);
    w.wait_until("slow in the manifest", || manifest_has(&env, "slow"));
    // Counted after the watcher has stopped, so a late second processing would show.
    assert_eq!(w.terminate().code(), Some(0));
    let events = w.events();
    assert_eq!(processed(&events), 1, "processed once: {events:#?}");
    assert!(
        events[..written]
            .iter()
            .all(|e| e["case"] != "slow" || e["event"] == "waiting"),
        "nothing of the case was published or failed before the last byte: {events:#?}"
    );
    assert_eq!(count(&events, "failed", Some("slow")), 0, "{events:#?}");
    let m = env.manifest();
    let case = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "slow")
        .unwrap();
    let after = &case["views"][0]["stages"][1];
    assert_eq!(after["oriented_size"], serde_json::json!([4032, 3024]));
    assert_eq!(
        after["source_hash"],
        blake3::hash(&big).to_hex().to_string(),
        "the complete file was read"
    );
}

#[test]
fn slow_writer_of_a_12mp_jpeg_is_processed_once_after_completion() {
    slow_writer(false);
}

#[test]
fn poll_slow_writer_of_a_12mp_jpeg_is_processed_once_after_completion() {
    slow_writer(true);
}

fn corrupt_then_fixed(poll: bool) {
    let env = TestEnv::new();
    let w = Session::start(&env, &poll_args(poll));
    env.put("bad/before.jpg", &jpeg(&photo(400, 300, 1)));
    env.put("bad/after.jpg", b"Sorry, the photo is on my phone.\n");
    put_pair(&env, "good", 3);
    w.wait_for("the corrupt file reported", |e| {
        e.iter().any(|x| {
            x["event"] == "failed"
                && x["case"] == "bad"
                && x["message"].as_str().unwrap().contains("bad/after.jpg")
        })
    });
    w.wait_for("good published", |e| {
        count(e, "published", Some("good")) == 1
    });
    env.put("bad/after.jpg", &jpeg(&photo(480, 320, 2)));
    w.wait_for("bad published once fixed", |e| {
        count(e, "published", Some("bad")) == 1
    });
    assert!(manifest_has(&env, "bad"));
}

#[test]
fn corrupt_file_is_reported_watcher_lives_and_fixed_file_is_processed() {
    corrupt_then_fixed(false);
}

#[test]
fn poll_corrupt_file_is_reported_watcher_lives_and_fixed_file_is_processed() {
    corrupt_then_fixed(true);
}

fn delete_prunes(poll: bool) {
    let env = TestEnv::new();
    put_pair(&env, "keep", 1);
    put_pair(&env, "gone", 3);
    let w = Session::start(&env, &poll_args(poll));
    // Just written, so they settle first (a batch would read them at once).
    w.wait_until("both published", || {
        manifest_has(&env, "gone") && manifest_has(&env, "keep")
    });
    std::fs::remove_dir_all(env.input().join("gone")).unwrap();
    w.wait_for("gone removed", |e| count(e, "removed", Some("gone")) == 1);
    assert!(
        files(&env.out()).iter().all(|f| !f.starts_with("gone/")),
        "{:?}",
        files(&env.out())
    );
    assert!(!manifest_has(&env, "gone") && manifest_has(&env, "keep"));
    // Deleting one photo of a pair unpublishes the case and prunes it too.
    std::fs::remove_file(env.input().join("keep/after.jpg")).unwrap();
    w.wait_for("keep removed", |e| count(e, "removed", Some("keep")) == 1);
    assert!(files(&env.out()).iter().all(|f| !f.starts_with("keep/")));
}

#[test]
fn delete_prunes_the_case_files() {
    delete_prunes(false);
}

#[test]
fn poll_delete_prunes_the_case_files() {
    delete_prunes(true);
}

fn burst(poll: bool, n: usize) {
    let env = TestEnv::new();
    let mut w = Session::start(&env, &poll_args(poll));
    let before = jpeg(&photo(320, 240, 1));
    let after = jpeg(&photo(320, 240, 2));
    for i in 0..n {
        env.put(&format!("case-{i:02}/before.jpg"), &before);
        env.put(&format!("case-{i:02}/after.jpg"), &after);
    }
    w.wait_until("every case in the manifest", || {
        (0..n).all(|i| manifest_has(&env, &format!("case-{i:02}")))
    });
    assert_eq!(w.terminate().code(), Some(0));
    let events = w.events();
    for i in 0..n {
        let id = format!("case-{i:02}");
        assert_eq!(
            count(&events, "published", Some(&id)),
            1,
            "{id} processed exactly once"
        );
    }
}

#[test]
fn burst_of_50_cases_each_processed_exactly_once() {
    burst(false, 50);
}

#[test]
fn poll_burst_of_50_cases_each_processed_exactly_once() {
    burst(true, 50);
}

fn config_reload(poll: bool) {
    let env = TestEnv::new();
    put_pair(&env, "one", 1);
    let w = Session::start(&env, &poll_args(poll));
    let index = || std::fs::read_to_string(env.out().join("index.html")).unwrap_or_default();
    env.put(
        "beforeafter.toml",
        format!("{FAST_CONFIG}[gallery]\ntitle = \"Example Clinic\"\n").as_bytes(),
    );
    w.wait_for("the config reloaded", |e| count(e, "config", None) == 1);
    w.wait_until("the new title on the index", || {
        index().contains("Example Clinic")
    });
    env.put("beforeafter.toml", b"[watermark]\nopacity = 3\n");
    w.wait_for("the invalid config refused", |e| {
        e.iter().any(|x| {
            x["event"] == "config_refused"
                && x["message"].as_str().unwrap().contains("watermark.opacity")
        })
    });
    put_pair(&env, "two", 3);
    w.wait_for("two published with the old settings", |e| {
        count(e, "published", Some("two")) == 1
    });
    assert!(index().contains("Example Clinic"));
    // A deleted config file is refused too: the defaults would re-render every photo with the
    // sample watermark.
    std::fs::remove_file(env.input().join("beforeafter.toml")).unwrap();
    w.wait_for("the removal refused", |e| {
        e.iter().any(|x| {
            x["event"] == "config_refused" && x["message"].as_str().unwrap().contains("removed")
        })
    });
    put_pair(&env, "three", 5);
    w.wait_for("three published with the old settings", |e| {
        count(e, "published", Some("three")) == 1
    });
    assert!(index().contains("Example Clinic"));
    assert_eq!(count(&w.events(), "config", None), 1, "no reload");
}

#[test]
fn config_change_is_applied_and_an_invalid_one_refused() {
    config_reload(false);
}

#[test]
fn poll_config_change_is_applied_and_an_invalid_one_refused() {
    config_reload(true);
}

/// SIGTERM once (finish the cases in hand) or twice (abandon them) in the middle of a round.
fn sigterm(poll: bool, times: usize) {
    let env = TestEnv::new();
    let mut w = Session::start(&env, &poll_args(poll));
    for i in 0..6 {
        let i = u32::try_from(i).unwrap();
        env.put(
            &format!("case-{i}/before.jpg"),
            &jpeg(&photo(1600, 1200, i)),
        );
        env.put(
            &format!("case-{i}/after.jpg"),
            &jpeg(&photo(1600, 1200, i + 1)),
        );
    }
    // Stop while a round is under way (the first round, at start, has already finished).
    w.wait_for("a round under way", |e| {
        count(e, "round_started", None) >= 2
    });
    let status = w.terminate_times(times);
    assert_eq!(status.code(), Some(0), "{:#?}", w.events());
    assert!(count(&w.events(), "stopping", None) >= 1);
    no_temp_files(&env);
    let Ok(text) = std::fs::read_to_string(env.out().join("manifest.json")) else {
        return; // Abandoned before the first case was written: nothing to check.
    };
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in m["cases"].as_array().unwrap() {
        for view in case["views"].as_array().unwrap() {
            for stage in view["stages"].as_array().unwrap() {
                for o in stage["outputs"].as_array().unwrap() {
                    let p = env.out().join(o["path"].as_str().unwrap());
                    assert!(
                        p.is_file(),
                        "the manifest only lists complete files: {}",
                        p.display()
                    );
                }
            }
        }
    }
}

#[test]
fn sigterm_exits_0_and_leaves_no_temp_files() {
    sigterm(false, 1);
}

#[test]
fn poll_sigterm_exits_0_and_leaves_no_temp_files() {
    sigterm(true, 1);
}

#[test]
fn second_sigterm_abandons_the_round_exits_0_and_leaves_no_temp_files() {
    sigterm(false, 2);
}

#[test]
fn poll_second_sigterm_abandons_the_round_exits_0_and_leaves_no_temp_files() {
    sigterm(true, 2);
}

fn serve(poll: bool) {
    let env = TestEnv::new();
    std::fs::write(env.dir.path().join("secret.txt"), "private").unwrap();
    put_pair(&env, "one", 1);
    let mut args = poll_args(poll);
    args.extend(["--serve", "127.0.0.1:0"]);
    let w = Session::start(&env, &args);
    let events = w.events();
    let serving = events
        .iter()
        .find(|e| e["event"] == "serving")
        .expect("a serving event");
    let addr = serving["address"].as_str().unwrap().to_owned();
    w.wait_for("one published", |e| count(e, "published", Some("one")) == 1);
    let (status, body) = get(&addr, "/");
    assert_eq!(status, 200);
    assert!(
        body.contains("one/") && body.contains("/__beforeafter/version"),
        "{body}"
    );
    let on_disk = std::fs::read_to_string(env.out().join("index.html")).unwrap();
    assert!(
        !on_disk.contains("__beforeafter"),
        "the reload script is never written into the gallery"
    );
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/one/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
    ] {
        assert_eq!(get(&addr, bad).0, 404, "{bad}");
    }
    let (_, v1) = get(&addr, "/__beforeafter/version");
    put_pair(&env, "two", 3);
    w.wait_for("two published", |e| count(e, "published", Some("two")) == 1);
    w.wait_until("the version to change", || {
        get(&addr, "/__beforeafter/version").1 != v1
    });
    assert!(get(&addr, "/").1.contains("two/"));
}

#[test]
fn serve_previews_the_gallery_reloads_it_and_refuses_dot_dot() {
    serve(false);
}

#[test]
fn poll_serve_previews_the_gallery_reloads_it_and_refuses_dot_dot() {
    serve(true);
}

/// A preview on `127.0.0.1:0` of a gallery with one published case; returns its address.
fn preview(env: &TestEnv, extra: &[&str]) -> (Session, String) {
    put_pair(env, "one", 1);
    let mut args = vec!["--serve"];
    args.extend(extra);
    let w = Session::start(env, &args);
    let events = w.wait_for("one published", |e| count(e, "published", Some("one")) == 1);
    let serving = events.iter().find(|e| e["event"] == "serving").unwrap();
    let addr = serving["address"].as_str().unwrap().to_owned();
    (w, addr)
}

#[test]
fn preview_never_serves_the_output_folders_private_state() {
    let env = TestEnv::new();
    let (_w, addr) = preview(&env, &["127.0.0.1:0"]);
    assert!(
        env.out().join(".beforeafter/lock").is_file(),
        "held while watching"
    );
    std::fs::create_dir_all(env.out().join(".shards")).unwrap();
    std::fs::write(env.out().join(".shards/1-of-2.json"), "{}").unwrap();
    std::fs::write(env.out().join("one/.notes.txt"), "private").unwrap();
    assert_eq!(get(&addr, "/one/").0, 200);
    for hidden in [
        "/.beforeafter/lock",
        "/.beforeafter/",
        "/%2ebeforeafter/lock",
        "/.shards/1-of-2.json",
        "/one/.notes.txt",
    ] {
        assert_eq!(get(&addr, hidden).0, 404, "{hidden}");
    }
}

#[test]
fn preview_refuses_requests_that_do_not_name_it_in_host() {
    let env = TestEnv::new();
    let (_w, addr) = preview(&env, &["127.0.0.1:0"]);
    let port = addr.rsplit_once(':').unwrap().1;
    for host in [addr.clone(), format!("localhost:{port}")] {
        assert_eq!(get_as(&addr, &host, "/", "").status, 200, "{host}");
    }
    // DNS rebinding: a page at evil.example pointed its name at 127.0.0.1.
    for host in [format!("evil.example:{port}"), "127.0.0.1:1".to_owned()] {
        let reply = get_as(&addr, &host, "/", "");
        assert_eq!(reply.status, 421, "{host}");
        assert!(
            reply.body.contains(&format!("http://{addr}/")),
            "{}",
            reply.body
        );
    }
    let version = get_as(&addr, "evil.example", "/__beforeafter/version", "");
    assert_eq!(version.status, 421);
    let no_host = exchange(&addr, "GET / HTTP/1.0", "");
    assert_eq!(no_host.status, 421, "a request without Host");
}

#[test]
fn serving_beyond_loopback_is_refused_without_allow_lan() {
    let env = TestEnv::new();
    let (input, out) = (env.input(), env.out());
    let args = [
        "watch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--serve",
        "0.0.0.0:0",
    ];
    let done = exits_within(&args, 30).expect("refused at once, not served");
    assert_eq!(done.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("--allow-lan"), "{stderr}");
    assert!(
        !out.join(".beforeafter").exists(),
        "nothing locked or written"
    );
}

#[test]
fn lan_preview_needs_the_token_once_then_its_strict_cookie() {
    let env = TestEnv::new();
    let (w, bound) = preview(&env, &["0.0.0.0:0", "--allow-lan"]);
    let serving = w
        .events()
        .into_iter()
        .find(|e| e["event"] == "serving")
        .unwrap();
    let url = serving["url"].as_str().unwrap().to_owned();
    let token = url
        .split_once("/?t=")
        .expect("the link carries the token")
        .1;
    let port = bound.rsplit_once(':').unwrap().1;
    let addr = format!("127.0.0.1:{port}");
    for path in ["/", "/one/", "/__beforeafter/version", "/?t=0123"] {
        let reply = get_as(&addr, &addr, path, "");
        assert_eq!(reply.status, 403, "{path}");
        assert!(reply.body.contains("token"), "{}", reply.body);
    }
    let first = get_as(&addr, &addr, &format!("/?t={token}"), "");
    assert_eq!(first.status, 200);
    let cookie = first.header("set-cookie").expect("the token as a cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let with = format!("Cookie: {pair}");
    assert_eq!(get_as(&addr, &addr, "/one/", &with).status, 200);
    assert_eq!(
        get_as(&addr, &addr, "/__beforeafter/version", &with).status,
        200
    );
    let wrong = format!("Cookie: {}0", pair);
    assert_eq!(get_as(&addr, &addr, "/one/", &wrong).status, 403);
    // Any name is allowed on the network, but not another port or another address.
    let other_port = format!("clinic-pc.local:{}", port.parse::<u16>().unwrap() ^ 1);
    assert_eq!(get_as(&addr, &other_port, "/", &with).status, 421);
    let other_ip = format!("10.9.9.9:{port}");
    assert_eq!(get_as(&addr, &other_ip, "/", &with).status, 421);
}

/// The outputs of case `id` listed in the manifest.
fn outputs_of(env: &TestEnv, id: &str) -> Vec<String> {
    let m = env.manifest();
    let case = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id);
    case.map(|c| {
        c["views"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["stages"].as_array().unwrap().iter())
            .flat_map(|s| s["outputs"].as_array().unwrap().iter())
            .map(|o| o["path"].as_str().unwrap().to_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// A photo replaced: the case is redone and the old outputs pruned. A caption edited in
/// case.toml: only pages are redone (nothing decoded, the images untouched). The case folder
/// renamed: the old case is removed and pruned, the new one published.
fn replace_caption_rename(poll: bool) {
    let env = TestEnv::new();
    let mut w = Session::start(&env, &poll_args(poll));
    put_pair(&env, "smith", 1);
    w.wait_for("smith published", |e| {
        count(e, "published", Some("smith")) == 1
    });
    let first = outputs_of(&env, "smith");

    // `photo` repeats every 5 seeds; 4 differs from the first after (seed 2).
    let new_after = jpeg(&photo(480, 320, 4));
    env.put("smith/after.jpg", &new_after);
    w.wait_for("smith redone", |e| {
        count(e, "published", Some("smith")) == 2
    });
    w.wait_until("the new photo in the manifest", || {
        env.manifest()["cases"][0]["views"][0]["stages"][1]["source_hash"]
            == blake3::hash(&new_after).to_hex().to_string()
    });
    let second = outputs_of(&env, "smith");
    assert!(
        first.iter().all(|p| !second.contains(p)),
        "new outputs: {second:?}"
    );
    w.wait_until("the old outputs pruned", || {
        first.iter().all(|p| !env.out().join(p).exists())
    });

    let images: Vec<(String, std::time::SystemTime)> = second
        .iter()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(env.out().join(p))
                    .unwrap()
                    .modified()
                    .unwrap(),
            )
        })
        .collect();
    let seen = w.events().len();
    env.put("smith/case.toml", b"title = \"Hairline, two sessions\"\n");
    let page = || std::fs::read_to_string(env.out().join("smith/index.html")).unwrap_or_default();
    w.wait_until("the new caption on the case page", || {
        page().contains("Hairline, two sessions")
    });
    let events = w.wait_for("the round that did it", |e| {
        count(&e[seen..], "round", None) >= 1
    });
    for round in events[seen..].iter().filter(|e| e["event"] == "round") {
        assert_eq!(
            round["decoded"], 0,
            "a caption edit decodes nothing: {round}"
        );
    }
    assert_eq!(count(&events, "published", Some("smith")), 2, "not redone");
    for (p, modified) in &images {
        let now = std::fs::metadata(env.out().join(p))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, *modified, "{p} left untouched");
    }

    std::fs::rename(env.input().join("smith"), env.input().join("jones")).unwrap();
    w.wait_for("jones published", |e| {
        count(e, "published", Some("jones")) == 1
    });
    w.wait_for("smith removed", |e| count(e, "removed", Some("smith")) == 1);
    w.wait_until("smith's files pruned", || {
        files(&env.out()).iter().all(|f| !f.starts_with("smith/"))
    });
    assert!(manifest_has(&env, "jones") && !manifest_has(&env, "smith"));
    let index = std::fs::read_to_string(env.out().join("index.html")).unwrap();
    assert!(
        index.contains("jones/") && !index.contains("smith/"),
        "{index}"
    );
    assert_eq!(w.terminate().code(), Some(0));
}

#[test]
fn replaced_photo_redoes_caption_edit_rewrites_pages_only_renamed_folder_moves_the_case() {
    replace_caption_rename(false);
}

#[test]
fn poll_replaced_photo_redoes_caption_edit_rewrites_pages_only_renamed_folder_moves_the_case() {
    replace_caption_rename(true);
}

/// A JPEG that ends like a finished one and checks out whole is taken without waiting for the
/// quiet period (a minute here, longer than any wait in this test); one cut short, even if it
/// happens to end with an end marker, is not: its case waits.
#[test]
fn a_whole_jpeg_is_taken_at_once_and_a_cut_one_waits_for_the_quiet_period() {
    let env = TestEnv::new();
    let config = FAST_CONFIG.replace("quiet_ms = 200", "quiet_ms = 60000");
    env.put("beforeafter.toml", config.as_bytes());
    let w = Session::start(&env, &["--publish-review"]);
    let processed = |e: &[serde_json::Value], id: &str| {
        ["published", "review", "failed"]
            .iter()
            .map(|k| count(e, k, Some(id)))
            .sum::<usize>()
    };
    let whole = jpeg(&photo(480, 320, 8));
    let mut cut = whole[..whole.len() / 2].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    env.put("cut/before.jpg", &jpeg(&photo(400, 300, 7)));
    env.put("cut/after.jpg", &cut);
    put_pair(&env, "whole", 1);
    // Half the quiet period: the session's own waits allow a whole minute.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while processed(&w.events(), "whole") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "not taken within 30 s: {:#?}",
            w.events()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let events = w.events();
    assert_eq!(processed(&events, "cut"), 0, "{events:#?}");
    assert!(!manifest_has(&env, "cut"));
}

/// Issue 33: a consent that ends overnight takes the case off at the day change, with no file
/// event. The watcher's "today" is the `BEFOREAFTER_TODAY` hook pointing at a clock file outside
/// the watched folder, which the test moves on a day.
#[test]
fn consent_expiring_overnight_is_acted_on_at_the_day_change_without_a_file_event() {
    let env = TestEnv::new();
    let clock = env.dir.path().join("today");
    std::fs::write(&clock, "2026-06-01\n").unwrap();
    put_pair(&env, "x", 21);
    env.put(
        "x/case.toml",
        b"[consent]\nwebsite = true\nexpires = \"2026-06-01\"\n",
    );
    let w = Session::start_with(&env, &[], &[("BEFOREAFTER_TODAY", clock.to_str().unwrap())]);
    let e = w.wait_for("x published", |e| count(e, "published", Some("x")) == 1);
    assert!(manifest_has(&env, "x"), "{e:#?}");
    assert_eq!(count(&e, "consent_expiring", Some("x")), 1, "{e:#?}");
    std::fs::write(&clock, "2026-06-02\n").unwrap();
    let e = w.wait_for("the withdrawal receipt", |e| {
        count(e, "withdrawal_receipt", None) == 1
    });
    assert_eq!(count(&e, "day", None), 1, "{e:#?}");
    assert!(!manifest_has(&env, "x"));
    assert!(files(&env.out()).iter().all(|f| !f.starts_with("x/")));
}
