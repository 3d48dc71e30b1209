//! The man pages and shell completions, made from the clap definitions in [`crate::cli`] so they
//! can never disagree with `--help`. `beforeafter generate DIR` (hidden from `--help`: it is for
//! packagers and for people who installed with `cargo install`) writes them; the Debian package
//! ships them (Cargo.toml's `[package.metadata.deb]`, built by `.ci/package`).
//!
//! Chosen over a build script: a build script would compile clap a second time for the host and
//! rerun on every edit of the command line, and cargo-deb can package files the release binary
//! writes under `target/release/`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The shells completed, and each one's file name where Debian's shells look for it.
const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "beforeafter.bash"),
    (Shell::Zsh, "_beforeafter"),
    (Shell::Fish, "beforeafter.fish"),
];

/// Write `dir/man/beforeafter.1`, one page per subcommand (`beforeafter-batch.1`, …), and
/// `dir/completions/` for bash, zsh and fish. Each file is written whole or not at all.
pub fn write_all(dir: &Path) -> Result<()> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    for (name, page) in man_pages()? {
        write_whole(&man.join(name), &page)?;
    }
    for (shell, name) in SHELLS {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "beforeafter", &mut text);
        write_whole(&completions.join(name), &text)?;
    }
    println!("wrote {} and {}", man.display(), completions.display());
    Ok(())
}

/// Every man page, named as `man` finds it: `beforeafter.1`, then `beforeafter-SUB.1` for each
/// visible subcommand (and `beforeafter-keys-new.1` under `keys`).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut pages = Vec::new();
    let mut todo = vec![root];
    while let Some(cmd) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let man = clap_mangen::Man::new(cmd).manual("beforeafter manual");
        let mut page = Vec::new();
        man.render(&mut page)?;
        pages.push((man.get_filename(), page));
    }
    Ok(pages)
}

/// Write `bytes` to a temp file beside `path`, then rename it into place.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
