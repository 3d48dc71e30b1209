//! Cargo.toml builds test- and bench-only crates without optimisation to keep CI's release build
//! short. That is only safe while none of them is part of the program: this test asks cargo for
//! the program's dependency tree (normal and build dependencies, every target platform) and fails
//! when a crate with an `opt-level` override appears in it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Crates named in `[profile.release.package.NAME]` sections of Cargo.toml.
fn overridden(manifest: &str) -> BTreeSet<String> {
    manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("[profile.release.package."))
        .filter_map(|rest| rest.strip_suffix(']'))
        .map(|name| name.trim_matches('"').to_owned())
        .collect()
}

#[test]
fn crates_built_without_optimisation_are_not_in_the_program() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let slow = overridden(&manifest);
    assert!(
        slow.contains("headless_chrome"),
        "the overrides were not read: {slow:?}"
    );
    assert!(
        !slow.contains("*"),
        "a wildcard override would slow the program's own dependencies"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["tree", "--locked", "-e", "normal,build", "--target", "all"])
        .args(["--prefix", "none", "--no-dedupe", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let program: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(program.contains("image"), "the program's tree was not read");
    let inside: Vec<_> = slow
        .iter()
        .filter(|name| program.contains(name.as_str()))
        .collect();
    assert!(
        inside.is_empty(),
        "{inside:?} are built at opt-level 0 (Cargo.toml [profile.release.package.*]) but the \
         program now depends on them: remove their overrides"
    );
}
