//! The signed record (issue 30), end to end with the real binary: `keys new`, a batch that signs
//! `manifest.json` and logs the publication, the stock `minisign` tool agreeing, and `verify`
//! naming a tampered manifest, a manifest signed again with another key and a broken log chain.
//!
//! The stock-tool test needs Debian's `minisign` (`.ci/run` installs it): without it the test
//! says SKIPPED, except under CI (`CI` set), where it fails.

use crate::support;

use std::process::{Command, Output};

use support::env::{TestEnv, files, jpeg, photo};

fn pair(env: &TestEnv, case: &str, seed: u32) {
    env.put(&format!("{case}/before.jpg"), &jpeg(&photo(640, 480, seed)));
    env.put(
        &format!("{case}/after.jpg"),
        &jpeg(&photo(660, 500, seed + 1)),
    );
}

/// The binary with `args`, `BEFOREAFTER_KEY_PASSWORD` set to `password` (or unset).
fn run(args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beforeafter"));
    cmd.args(args).env_remove("BEFOREAFTER_KEY_PASSWORD");
    if let Some(p) = password {
        cmd.env("BEFOREAFTER_KEY_PASSWORD", p);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn keys_new(env: &TestEnv) -> Output {
    let o = run(&["keys", "new", env.input().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    o
}

/// `batch --publish-review` (the synthetic pairs may be held), which must not be fatal.
fn batch(env: &TestEnv) {
    let (o, _) = env.batch(&["--publish-review"]);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", text(&o));
}

/// A signed gallery of two cases.
fn signed_gallery() -> TestEnv {
    let env = TestEnv::new();
    pair(&env, "c1", 1);
    pair(&env, "c2", 4);
    keys_new(&env);
    batch(&env);
    env
}

fn verify_log(env: &TestEnv, extra: &[&str]) -> (i32, String) {
    let (input, out) = (env.input(), env.out());
    let args = [
        &["verify", input.to_str().unwrap()][..],
        &["--out", out.to_str().unwrap(), "--log"],
        extra,
    ]
    .concat();
    let o = run(&args, None);
    (o.status.code().unwrap(), text(&o))
}

fn log_lines(env: &TestEnv) -> Vec<String> {
    let log = std::fs::read_to_string(env.input().join(".beforeafter/log.jsonl")).unwrap();
    log.lines().map(str::to_owned).collect()
}

/// Whether the stock `minisign` tool is here; says SKIPPED (or fails under CI) when not.
fn stock_minisign() -> bool {
    let found = Command::new("minisign").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "minisign is missing: install Debian's minisign package (.ci/run does)"
        );
        eprintln!("SKIPPED: no minisign tool (apt-get install minisign)");
    }
    found
}

#[test]
fn a_signature_made_by_the_binary_checks_with_the_stock_minisign_tool() {
    let env = signed_gallery();
    if !stock_minisign() {
        return;
    }
    let o = Command::new("minisign")
        .args(["-Vm", "manifest.json", "-p", "minisign.pub"])
        .current_dir(env.out())
        .output()
        .unwrap();
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(
        said.contains("Trusted comment: signed ") && said.contains("by beforeafter"),
        "{said}"
    );
}

#[test]
fn an_honest_signed_gallery_verifies_and_says_whose_key_and_when() {
    let env = signed_gallery();
    let (code, said) = env.verify();
    assert_eq!(code, 0, "{said}");
    let key = std::fs::read_to_string(env.input().join(".beforeafter/signing.pub")).unwrap();
    let id = key.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert!(
        said.lines().any(|l| l.starts_with("signed:")
            && l.contains(id)
            && l.contains("the clinic's key")
            && l.contains("by beforeafter")),
        "{said}"
    );
}

#[test]
fn a_tampered_manifest_is_named_by_verify() {
    let env = signed_gallery();
    let path = env.out().join("manifest.json");
    let manifest = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        manifest.replacen("\"title\": \"", "\"title\": \"Edited ", 1),
    )
    .unwrap();
    let (code, said) = env.verify();
    assert_eq!(code, 3, "{said}");
    assert!(
        said.contains("DIFFERS manifest.json: does not match its signature"),
        "{said}"
    );
}

#[test]
fn a_manifest_signed_again_with_another_key_is_named_by_verify() {
    let env = signed_gallery();
    let other = tempfile::tempdir().unwrap();
    let o = run(&["keys", "new", other.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let signer = beforeafter::sign::Signer::load(other.path())
        .unwrap()
        .unwrap();
    let path = env.out().join("manifest.json");
    let manifest = std::fs::read_to_string(&path).unwrap().replacen(
        "\"title\": \"",
        "\"title\": \"Edited ",
        1,
    );
    std::fs::write(&path, &manifest).unwrap();
    let sig = signer.sign(manifest.as_bytes(), "signed later").unwrap();
    std::fs::write(env.out().join("manifest.json.minisig"), sig).unwrap();
    std::fs::write(env.out().join("minisign.pub"), &signer.public_text).unwrap();
    let (code, said) = env.verify();
    assert_eq!(code, 3, "{said}");
    let named = format!(
        "DIFFERS manifest.json.minisig: signed by key {}, not by the clinic's key",
        signer.key_id
    );
    assert!(said.contains(&named), "{said}");
    assert!(
        said.contains("DIFFERS minisign.pub: is not the clinic's public key"),
        "{said}"
    );
}

#[test]
fn a_broken_log_chain_is_named_by_verify_log() {
    let env = signed_gallery();
    pair(&env, "c3", 7);
    batch(&env);
    let lines = log_lines(&env);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (code, said) = verify_log(&env, &[]);
    assert_eq!(code, 0, "{said}");
    // Rewrite history: the first publication never had c2.
    let edited = lines[0].replacen("\"c2\"", "\"c9\"", 1);
    assert_ne!(edited, lines[0]);
    let log = format!("{edited}\n{}\n", lines[1]);
    std::fs::write(env.input().join(".beforeafter/log.jsonl"), log).unwrap();
    let (code, said) = verify_log(&env, &[]);
    assert_eq!(code, 3, "{said}");
    assert!(
        said.contains("DIFFERS .beforeafter/log.jsonl line 2: the chain is broken"),
        "{said}"
    );
}

#[test]
fn the_log_says_when_a_case_was_published_and_withdrawn() {
    let env = signed_gallery();
    env.put("c2/case.toml", b"consent = false\n");
    batch(&env);
    let (code, said) = verify_log(&env, &["--case", "c2"]);
    assert_eq!(code, 0, "{said}");
    let events: Vec<&str> = said
        .lines()
        .filter(|l| l.contains(" c2 "))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(events, ["published", "withdrawn"], "{said}");
}

#[test]
fn a_rerun_that_changes_nothing_neither_signs_nor_logs() {
    let env = signed_gallery();
    let sig = std::fs::read(env.out().join("manifest.json.minisig")).unwrap();
    let lines = log_lines(&env);
    assert_eq!(lines.len(), 1);
    batch(&env);
    assert_eq!(
        std::fs::read(env.out().join("manifest.json.minisig")).unwrap(),
        sig
    );
    assert_eq!(log_lines(&env), lines);
}

#[test]
fn no_secret_key_byte_or_private_path_reaches_the_output_folder() {
    let env = signed_gallery();
    let key_text = std::fs::read_to_string(env.input().join(".beforeafter/signing.key")).unwrap();
    let boxed = minisign::SecretKeyBox::from_string(&key_text).unwrap();
    let secret = boxed.into_unencrypted_secret_key().unwrap().to_bytes();
    // The Ed25519 seed, after the algorithm, KDF, checksum, salt, limits and key number.
    let seed = &secret[54..86];
    let encoded = key_text.lines().nth(1).unwrap();
    let input = env.input().to_string_lossy().into_owned();
    let listed = files(&env.out());
    assert!(
        listed.iter().any(|f| f == "manifest.json.minisig"),
        "{listed:?}"
    );
    for rel in listed {
        let bytes = std::fs::read(env.out().join(&rel)).unwrap();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(
            !has(seed) && !has(encoded.as_bytes()),
            "{rel} holds the secret key"
        );
        for private in [
            input.as_str(),
            "signing.key",
            "log.jsonl",
            "BEFOREAFTER_KEY",
        ] {
            assert!(!has(private.as_bytes()), "{rel} names {private}");
        }
    }
}

#[test]
fn the_gallery_shows_the_public_key_and_how_to_check_it() {
    let env = signed_gallery();
    let key = std::fs::read_to_string(env.input().join(".beforeafter/signing.pub")).unwrap();
    assert_eq!(
        std::fs::read_to_string(env.out().join("minisign.pub")).unwrap(),
        key
    );
    let page = std::fs::read_to_string(env.out().join("signature.html")).unwrap();
    // As the browser shows it: the templates escape `/` in the base64.
    let shown = page.replace("&#x2f;", "/");
    assert!(shown.contains(key.lines().nth(1).unwrap()), "{page}");
    assert!(
        page.contains("minisign -Vm manifest.json -p minisign.pub"),
        "{page}"
    );
    assert!(page.contains("beforeafter verify"), "{page}");
    let case = std::fs::read_to_string(env.out().join("c1/index.html")).unwrap();
    assert!(case.contains("href=\"../signature.html\""), "{case}");
}

#[test]
fn without_a_key_nothing_is_signed_and_check_says_how_to_make_one() {
    let env = TestEnv::new();
    pair(&env, "c1", 1);
    batch(&env);
    for name in ["manifest.json.minisig", "minisign.pub", "signature.html"] {
        assert!(!env.out().join(name).exists(), "{name}");
    }
    // The private log still records the change, as unsigned (no silent period).
    let lines = log_lines(&env);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("\"signed\":false"), "{}", lines[0]);
    let o = run(&["check", env.input().to_str().unwrap()], None);
    let said = text(&o);
    let how = said.lines().filter(|l| l.contains("beforeafter keys new"));
    assert_eq!(how.count(), 1, "{said}");
}

#[test]
fn a_key_with_a_password_signs_only_with_it_in_the_environment() {
    let env = TestEnv::new();
    pair(&env, "c1", 1);
    let input = env.input().to_string_lossy().into_owned();
    let o = run(
        &["keys", "new", &input, "--password"],
        Some("correct horse"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = env.out().to_string_lossy().into_owned();
    let o = run(&["batch", &input, "--out", &out, "--publish-review"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("BEFOREAFTER_KEY_PASSWORD"),
        "{}",
        text(&o)
    );
    assert!(!env.out().join("manifest.json").exists());
    let o = run(
        &["batch", &input, "--out", &out, "--publish-review"],
        Some("correct horse"),
    );
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", text(&o));
    assert_eq!(env.verify().0, 0);
}

#[test]
fn keys_are_not_replaced_without_force() {
    let env = TestEnv::new();
    keys_new(&env);
    let before = std::fs::read(env.input().join(".beforeafter/signing.key")).unwrap();
    let input = env.input().to_string_lossy().into_owned();
    let o = run(&["keys", "new", &input], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(
        std::fs::read(env.input().join(".beforeafter/signing.key")).unwrap(),
        before
    );
    let o = run(&["keys", "new", &input, "--force"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn runs_without_a_key_are_in_the_log_as_unsigned_and_the_chain_holds() {
    let env = TestEnv::new();
    pair(&env, "c1", 1);
    batch(&env);
    // Nothing changed: nothing logged.
    batch(&env);
    assert_eq!(log_lines(&env).len(), 1);
    pair(&env, "c2", 4);
    batch(&env);
    keys_new(&env);
    pair(&env, "c3", 7);
    batch(&env);
    let lines = log_lines(&env);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let signed: Vec<bool> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["signed"] == true)
        .collect();
    assert_eq!(signed, [false, false, true]);
    let (code, said) = verify_log(&env, &[]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(
        said.matches("UNSIGNED (no signing key)").count(),
        2,
        "{said}"
    );
    assert!(said.contains("3 log entries (2 unsigned)"), "{said}");
    let (_, said) = verify_log(&env, &["--case", "c2"]);
    assert!(said.contains("c2 published (unsigned)"), "{said}");
    // The unsigned entries are in the chain: editing one breaks it at the next line.
    let edited = lines[0].replacen("\"signed\":false", "\"signed\":true", 1);
    let log = format!("{edited}\n{}\n{}\n", lines[1], lines[2]);
    std::fs::write(env.input().join(".beforeafter/log.jsonl"), log).unwrap();
    let (code, said) = verify_log(&env, &[]);
    assert_eq!(code, 3, "{said}");
    assert!(
        said.contains("log.jsonl line 2: the chain is broken"),
        "{said}"
    );
}
