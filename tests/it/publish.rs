//! `beforeafter publish` against real servers on loopback, started here: a folder (`file://`),
//! Debian's OpenSSH `sshd` (`sftp://`) and moto's S3 server (`s3://`). One small gallery, run
//! through the steps a clinic meets, each published to all three targets and checked by
//! listing what the target holds: a first publish stopped midway that carries on, an edit that
//! uploads only what changed, a withdrawal that leaves no byte of the case, a delete cap that
//! refuses a mass delete and still lets a withdrawal through; then `verify --url` on the live
//! copy served over HTTP, which must pass, name a swapped image, and name a withdrawn case's
//! file put back on the server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support;
use support::env::{TestEnv, jpeg, photo};
use support::servers::{self, Server};

/// One target and what a publish to it needs in its environment.
struct Site<'a> {
    to: String,
    /// The folder holding it on this machine (file and SFTP), for the stop-midway obstacle.
    root: Option<std::path::PathBuf>,
    server: Option<&'a Server>,
}

fn publish(env: &TestEnv, site: &Site, extra: &[&str]) -> (i32, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beforeafter"));
    cmd.args([
        "publish",
        env.out().to_str().unwrap(),
        "--to",
        &site.to,
        "--json",
    ])
    .args(["--input", env.input().to_str().unwrap()])
    .args(extra)
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test");
    if let Some(s) = site.server {
        cmd.env("PATH", s.path_env());
    }
    let o = cmd.output().unwrap();
    let report = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code().unwrap_or(-1), report, stderr)
}

/// The S3 site read back with the test's keys (a publish reads them from `AWS_*`), through
/// requests of the test's own: signed by rusty-s3, sent by ureq.
struct S3Site {
    bucket: rusty_s3::Bucket,
    keys: rusty_s3::Credentials,
    agent: ureq::Agent,
}

const SIGNED_FOR: std::time::Duration = std::time::Duration::from_secs(600);

fn s3(site: &Site) -> S3Site {
    let endpoint = site.to.split("endpoint=").nth(1).unwrap();
    let bucket = rusty_s3::Bucket::new(
        endpoint.parse().unwrap(),
        rusty_s3::UrlStyle::Path,
        "site",
        "us-east-1",
    )
    .unwrap();
    S3Site {
        bucket,
        keys: rusty_s3::Credentials::new("test", "test"),
        agent: ureq::Agent::new_with_defaults(),
    }
}

impl S3Site {
    /// Every object under `gallery/`, relative to it.
    fn list(&self) -> Vec<String> {
        let mut action = self.bucket.list_objects_v2(Some(&self.keys));
        action.with_prefix("gallery/");
        action.with_max_keys(1000);
        let url = rusty_s3::S3Action::sign(&action, SIGNED_FOR);
        let text = self.agent.get(url.as_str()).call().unwrap();
        let text = text.into_body().read_to_string().unwrap();
        let listed = rusty_s3::actions::ListObjectsV2::parse_response(&text).unwrap();
        assert!(
            listed.next_continuation_token.is_none(),
            "more than 1000 objects"
        );
        let keys = listed.contents.into_iter().map(|c| c.key);
        keys.map(|k| k.strip_prefix("gallery/").unwrap().to_owned())
            .collect()
    }

    fn get(&self, path: &str) -> Vec<u8> {
        let key = format!("gallery/{path}");
        let action = self.bucket.get_object(Some(&self.keys), &key);
        let url = rusty_s3::S3Action::sign(&action, SIGNED_FOR);
        let resp = self.agent.get(url.as_str()).call().unwrap();
        let mut body = resp.into_body();
        body.with_config().limit(1 << 30).read_to_vec().unwrap()
    }

    /// `(Content-Type, Cache-Control)` the store serves `path` with.
    fn headers(&self, path: &str) -> (String, String) {
        let key = format!("gallery/{path}");
        let action = self.bucket.head_object(Some(&self.keys), &key);
        let url = rusty_s3::S3Action::sign(&action, SIGNED_FOR);
        let resp = self.agent.head(url.as_str()).call().unwrap();
        let header = |h: &str| {
            let value = resp.headers().get(h).map(|v| v.to_str().unwrap());
            value.unwrap_or_default().to_owned()
        };
        (header("content-type"), header("cache-control"))
    }
}

/// What the target holds, path → BLAKE3, read back from the server itself (the record aside).
fn listing(site: &Site) -> BTreeMap<String, String> {
    let store = site.root.is_none().then(|| s3(site));
    let files = match (&site.root, &store) {
        // The SFTP host is this machine: its folder is the target's disk.
        (Some(root), _) => support::env::files(root),
        (None, Some(store)) => store.list(),
        (None, None) => unreachable!(),
    };
    let files = files
        .into_iter()
        .filter(|p| !p.starts_with(".beforeafter/"));
    files
        .map(|p| {
            let bytes = match (&site.root, &store) {
                (Some(root), _) => std::fs::read(root.join(&p)).unwrap(),
                (None, Some(store)) => store.get(&p),
                (None, None) => unreachable!(),
            };
            (p, blake3::hash(&bytes).to_hex().to_string())
        })
        .collect()
}

/// The gallery folder's publishable files, path → BLAKE3.
fn local(env: &TestEnv) -> BTreeMap<String, String> {
    let files = support::env::files(&env.out()).into_iter();
    files
        .filter(|p| !p.starts_with('.') && !p.contains("/."))
        .map(|p| {
            let bytes = std::fs::read(env.out().join(&p)).unwrap();
            (p, blake3::hash(&bytes).to_hex().to_string())
        })
        .collect()
}

fn uploaded(report: &Value) -> Vec<String> {
    let ups = report["plan"]["uploads"].as_array().unwrap();
    ups.iter()
        .map(|u| u["path"].as_str().unwrap().to_owned())
        .collect()
}

fn is_image(p: &str) -> bool {
    [".jpg", ".webp", ".avif", ".png"]
        .iter()
        .any(|e| p.ends_with(e))
}

fn gallery() -> TestEnv {
    let env = TestEnv::new();
    for (i, case) in ["c1", "c2", "c3", "c4"].into_iter().enumerate() {
        let i = i as u32;
        env.put(
            &format!("{case}/before.jpg"),
            &jpeg(&photo(640, 480, 2 * i)),
        );
        env.put(
            &format!("{case}/after.jpg"),
            &jpeg(&photo(660, 500, 2 * i + 1)),
        );
    }
    batch(&env);
    env
}

fn batch(env: &TestEnv) {
    let (o, _) = env.batch(&["--publish-review"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Steps 1: a first publish stopped midway (a page cannot be written: an upload fails and the
/// process stops as a kill would stop it, without tidying up), then one that carries on.
fn first_publish(env: &TestEnv, site: &Site) {
    let Some(root) = &site.root else {
        let (code, _, err) = publish(env, site, &[]);
        assert_eq!(code, 0, "{}: {err}", site.to);
        assert_eq!(listing(site), local(env), "{}", site.to);
        return;
    };
    let obstacle = root.join("c2/index.html");
    std::fs::create_dir_all(&obstacle).unwrap();
    let (code, _, err) = publish(env, site, &[]);
    assert_eq!(code, 1, "{}: {err}", site.to);
    assert!(err.contains("c2/index.html"), "{err}");
    std::fs::remove_dir(&obstacle).unwrap();
    let (code, report, err) = publish(env, site, &[]);
    assert_eq!(code, 0, "{}: {err}", site.to);
    let again = uploaded(&report);
    assert!(
        !again.is_empty() && !again.iter().any(|p| is_image(p)),
        "{}: {again:?}",
        site.to
    );
    assert_eq!(listing(site), local(env), "{}", site.to);
}

#[test]
fn publish_to_a_folder_sftp_and_s3_then_verify_the_live_site() {
    let env = gallery();
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = servers::sshd(&dir.path().join("ssh")) else {
        return support::sample::skip_or_fail(
            "SKIPPED publish: no /usr/sbin/sshd (openssh-server)",
        );
    };
    let Some(moto) = servers::moto() else {
        return support::sample::skip_or_fail("SKIPPED publish: no moto_server (pip moto[server])");
    };
    let folder = dir.path().join("www");
    let over_ssh = dir.path().join("sftp-www");
    let sites = [
        Site {
            to: format!("file://{}", folder.display()),
            root: Some(folder.clone()),
            server: None,
        },
        Site {
            to: format!("sftp://root@127.0.0.1:{}{}", sshd.port, over_ssh.display()),
            root: Some(over_ssh),
            server: Some(&sshd),
        },
        Site {
            to: format!("s3://site/gallery?endpoint=http://127.0.0.1:{}", moto.port),
            root: None,
            server: None,
        },
    ];
    for site in &sites {
        first_publish(&env, site);
    }
    headers_on_s3(&sites[2]);
    edit_uploads_only_what_changed(&env, &sites);
    withdrawal_and_cap(&env, &sites);
    live::verify_url(&env, &folder);
}

/// S3 keeps headers: hashed images for a year, pages briefly, the right types.
fn headers_on_s3(site: &Site) {
    let store = s3(site);
    let files = listing(site);
    let image = files.keys().find(|p| p.ends_with(".jpg")).unwrap();
    for (path, kind, cache) in [
        (
            image.as_str(),
            "image/jpeg",
            "public, max-age=31536000, immutable",
        ),
        (
            "index.html",
            "text/html; charset=utf-8",
            "public, max-age=300",
        ),
        ("manifest.json", "application/json", "public, max-age=300"),
    ] {
        let (got_kind, got_cache) = store.headers(path);
        assert_eq!(got_kind, kind, "{path}");
        assert_eq!(got_cache, cache, "{path}");
    }
}

/// Step 2: a caption edited: pages go up again, no image.
fn edit_uploads_only_what_changed(env: &TestEnv, sites: &[Site]) {
    let before = local(env);
    env.put("c1/case.toml", b"title = \"Crown, six months on\"\n");
    batch(env);
    let after = local(env);
    let changed: BTreeSet<String> = after
        .iter()
        .filter(|(p, h)| before.get(*p) != Some(h))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(
        !changed.is_empty() && !changed.iter().any(|p| is_image(p)),
        "{changed:?}"
    );
    for site in sites {
        let (code, report, err) = publish(env, site, &[]);
        assert_eq!(code, 0, "{}: {err}", site.to);
        let up: BTreeSet<String> = uploaded(&report).into_iter().collect();
        assert_eq!(up, changed, "{}", site.to);
        assert_eq!(listing(site), after, "{}", site.to);
    }
}

/// Steps 3 and 4: c1 withdrawn goes through a cap of 0; then c2 removed from the folder (a mass
/// delete for a cap of 2) while c3 is withdrawn: refused, except c3, which goes.
fn withdrawal_and_cap(env: &TestEnv, sites: &[Site]) {
    let c1: BTreeSet<String> = local(env)
        .into_iter()
        .filter(|(p, _)| p.starts_with("c1/"))
        .map(|(_, h)| h)
        .collect();
    env.put(
        "c1/case.toml",
        b"title = \"Crown, six months on\"\nconsent = false\n",
    );
    batch(env);
    for site in sites {
        let (code, report, err) = publish(env, site, &["--max-deletes", "0"]);
        assert_eq!(code, 0, "{}: {err}", site.to);
        assert_eq!(
            report["withdrawn"],
            serde_json::json!(["c1"]),
            "{}",
            site.to
        );
        let held = listing(site);
        assert!(
            !held.keys().any(|p| p.starts_with("c1/")),
            "{}: {held:?}",
            site.to
        );
        assert!(
            !held.values().any(|h| c1.contains(h)),
            "{}: a byte of c1 is left",
            site.to
        );
        assert_eq!(held, local(env), "{}", site.to);
        if let Some(root) = &site.root {
            assert!(
                !root.join("c1").exists(),
                "{}: c1's folder is left",
                site.to
            );
        }
    }
    std::fs::remove_dir_all(env.input().join("c2")).unwrap();
    env.put("c3/case.toml", b"consent = false\n");
    batch(env);
    for site in sites {
        let (code, report, err) = publish(env, site, &["--max-deletes", "2"]);
        assert_eq!(code, 3, "{}: {err}", site.to);
        assert!(
            report["refused"]
                .as_str()
                .unwrap()
                .contains("--max-deletes"),
            "{report}"
        );
        assert_eq!(
            report["withdrawn"],
            serde_json::json!(["c3"]),
            "{}",
            site.to
        );
        let held = listing(site);
        assert!(
            !held.keys().any(|p| p.starts_with("c3/")),
            "{}: {held:?}",
            site.to
        );
        assert!(
            held.contains_key("c2/index.html"),
            "{}: the cap held c2 back",
            site.to
        );
        let (code, _, err) = publish(env, site, &["--max-deletes", "100"]);
        assert_eq!(code, 0, "{}: {err}", site.to);
        assert_eq!(listing(site), local(env), "{}", site.to);
    }
}

mod live {
    use super::*;

    fn verify(env: &TestEnv, url: &str) -> (i32, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
            .args(["verify", env.input().to_str().unwrap(), "--url", url])
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        (o.status.code().unwrap_or(-1), text)
    }

    /// `verify --url` on the published folder served over HTTP: passes; then names an image
    /// swapped on the server and a withdrawn case's file put back.
    pub fn verify_url(env: &TestEnv, www: &Path) {
        let site = servers::static_site(www);
        let url = format!("http://127.0.0.1:{}/", site.port);
        // A withdrawn case's folder left empty on the host (one it put there, say) still answers
        // with an empty listing: that holds no byte of the case and is not reported.
        std::fs::create_dir_all(www.join("c1")).unwrap();
        let (code, text) = verify(env, &url);
        assert_eq!(code, 0, "{text}");
        let images: Vec<String> = local(env)
            .into_keys()
            .filter(|p| p.ends_with(".jpg") && !p.starts_with("assets/"))
            .collect();
        let (a, b) = (&images[0], &images[1]);
        let original = std::fs::read(www.join(a)).unwrap();
        std::fs::copy(www.join(b), www.join(a)).unwrap();
        let (code, text) = verify(env, &url);
        assert_eq!(code, 3, "{text}");
        assert!(text.contains(&format!("DIFFERS {a}")), "{text}");
        std::fs::write(www.join(a), original).unwrap();
        // A withdrawn case's photo back on the server (a backup restored by the host, say).
        std::fs::create_dir_all(www.join("c1")).unwrap();
        let receipt = withdrawn_file(env, "c1");
        std::fs::write(www.join(&receipt), b"old").unwrap();
        let (code, text) = verify(env, &url);
        assert_eq!(code, 3, "{text}");
        assert!(
            text.contains(&receipt) && text.contains("withdrawn"),
            "{text}"
        );
    }

    /// A file the withdrawal receipt of `case` lists.
    fn withdrawn_file(env: &TestEnv, case: &str) -> String {
        let dir = env.input().join(".beforeafter/withdrawals");
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let r: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            if r["case"] == case {
                let removed = r["removed"].as_array().unwrap();
                let image = removed
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|p| is_image(p));
                return image.unwrap().to_owned();
            }
        }
        panic!("no receipt for {case}");
    }
}
