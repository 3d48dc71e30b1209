//! Installing without a Rust toolchain (issue 38): what `.ci/package` cannot check by running
//! the package. The commit in `--version` from each of its sources (build.rs, included here),
//! the generated man pages and completions, and that the Dockerfile, `.ci/package`, the README's
//! install section, the Kubernetes example in docs/operations.md and the systemd unit say the
//! same things.

use std::path::Path;
use std::process::Command;

#[allow(dead_code)]
#[path = "../../build.rs"]
mod build_script;

fn repo_file(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn version_names_the_commit_this_checkout_is_at() {
    let out = support_run(&["--version"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let version = env!("CARGO_PKG_VERSION");
    match Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
    {
        Ok(o) if o.status.success() => {
            let head = String::from_utf8(o.stdout).unwrap();
            assert_eq!(
                out,
                format!("beforeafter {version} (commit {})\n", &head[..12])
            );
        }
        _ => assert!(
            out.starts_with(&format!("beforeafter {version} (commit ")),
            "{out}"
        ),
    }
}

fn support_run(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

/// A crate tarball has no .git but `cargo package`'s `.cargo_vcs_info.json`; a packager may set
/// BEFOREAFTER_COMMIT; a crate unpacked inside another repository must not take its commit.
#[test]
fn commit_from_a_tarball_an_env_or_nothing() {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path();
    git(outer, &["init", "-q"]);
    git(
        outer,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
    );
    let krate = outer.join("beforeafter-0.1.0");
    std::fs::create_dir(&krate).unwrap();
    let none = |_: &Path| {};
    assert_eq!(
        build_script::commit(&krate, None, none),
        None,
        "the outer repository's commit"
    );
    let info =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    std::fs::write(krate.join(".cargo_vcs_info.json"), info).unwrap();
    let mut watched = Vec::new();
    let found = build_script::commit(&krate, None, |p: &Path| watched.push(p.to_path_buf()));
    assert_eq!(found.as_deref(), Some(sha));
    assert_eq!(watched, [krate.join(".cargo_vcs_info.json")]);
    assert_eq!(
        build_script::commit(&krate, Some("abcdef1234567"), none).as_deref(),
        Some("abcdef1234567")
    );
    assert_eq!(
        build_script::commit(&krate, Some("not a commit"), none).as_deref(),
        Some(sha)
    );
    let head = git(outer, &["rev-parse", "HEAD"]);
    assert_eq!(build_script::commit(outer, None, none), Some(head.clone()));
    assert_eq!(
        build_script::version_line("0.1.0", Some(&head)),
        format!("0.1.0 (commit {})", &head[..12])
    );
    assert_eq!(
        build_script::version_line("0.1.0", None),
        "0.1.0 (commit unknown)"
    );
}

#[test]
fn man_pages_and_completions_cover_every_visible_command() {
    let tmp = tempfile::tempdir().unwrap();
    support_run(&["generate", tmp.path().to_str().unwrap()]);
    let root = std::fs::read_to_string(tmp.path().join("man/beforeafter.1")).unwrap();
    let bash = std::fs::read_to_string(tmp.path().join("completions/beforeafter.bash")).unwrap();
    for sub in [
        "batch", "merge", "watch", "review", "check", "verify", "keys", "init",
    ] {
        let page = tmp.path().join(format!("man/beforeafter-{sub}.1"));
        assert!(std::fs::metadata(&page).unwrap().len() > 300, "{page:?}");
        assert!(
            root.contains(&format!("beforeafter\\-{sub}(1)")),
            "{sub} in beforeafter.1"
        );
        assert!(bash.contains(sub), "{sub} in the bash completion");
    }
    assert!(
        !root.contains("generate"),
        "the packagers' command stays hidden"
    );
    for f in [
        "completions/_beforeafter",
        "completions/beforeafter.fish",
        "man/beforeafter-keys-new.1",
    ] {
        assert!(tmp.path().join(f).is_file(), "{f}");
    }
}

/// The README's install section: the package, the image, cargo install, from source, in that
/// order; its image is the one the Kubernetes example (docs/operations.md) runs; the Dockerfile makes the package
/// with `.ci/package`'s steps and installs it as the test does.
#[test]
fn install_section_dockerfile_and_package_test_agree() {
    let readme = repo_file("README.md");
    let docker = repo_file("Dockerfile");
    let ci = repo_file(".ci/package");
    let operations = repo_file("docs/operations.md");
    let version = env!("CARGO_PKG_VERSION");
    let install =
        &readme[readme.find("## Install").unwrap()..readme.find("## Two commands").unwrap()];
    let image = format!("registry.example.com/beforeafter:{version}");
    let order = [
        format!("sudo apt install ./beforeafter_{version}-1_amd64.deb"),
        format!("docker build --build-arg BEFOREAFTER_COMMIT=$(git rev-parse HEAD) -t {image} ."),
        "cargo install --locked --path .".into(),
        "cargo build --release".into(),
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|c| install.find(c.as_str()).expect(c))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "in the order {order:?}");
    assert!(
        docker.contains(&order[1]),
        "the Dockerfile's own build line"
    );
    let k8s: Vec<&str> = operations
        .lines()
        .filter(|l| l.trim_start().starts_with("image: "))
        .collect();
    let named = |l: &&str| l.split_whitespace().nth(1) == Some(image.as_str());
    assert!(k8s.len() >= 2 && k8s.iter().all(named), "{k8s:?}");

    let pin = ci
        .lines()
        .find_map(|l| l.strip_prefix("cargo_deb_version="))
        .unwrap();
    assert!(docker.contains(&format!("cargo install cargo-deb --version {pin} --locked")));
    for step in [
        "/release/beforeafter\" generate \"$target/release/generated\"",
        "--no-build --fast",
        "dpkg -i ",
    ] {
        // The Dockerfile's paths are literal where the script's follow CARGO_TARGET_DIR.
        let literal = step.replace("\"$target", "target").replace('"', "");
        assert!(docker.contains(&literal) && ci.contains(step), "{step}");
    }
    assert!(docker.contains("USER 10001") && operations.contains("fsGroup: 10001"));
}

/// The systemd example watches the layout `init` makes in the home folder.
#[test]
fn the_systemd_unit_watches_the_layout_init_makes() {
    let unit = repo_file("docs/packaging/beforeafter-watch.service");
    let gallery = beforeafter::init::gallery_for(Path::new("my-clinic"));
    let exec = format!(
        "ExecStart=/usr/bin/beforeafter watch %h/my-clinic --out %h/{}\n",
        gallery.display()
    );
    assert!(unit.contains(&exec), "{exec}");
    let cargo = repo_file("Cargo.toml");
    assert!(cargo.contains(
        "[\"docs/packaging/beforeafter-watch.service\", \"usr/share/doc/beforeafter/examples/\""
    ));
}
