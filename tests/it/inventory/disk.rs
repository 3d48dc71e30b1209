//! A small tmpfs mounted as `--out`, so a run can fill its disk for real (root only), and the
//! room left on it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The page size tmpfs counts in.
pub const PAGE: u64 = 4096;

/// A tmpfs mounted at a folder; unmounted on drop, a panicking test included.
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `bytes` at `dir` (created): `Err` says why it cannot be done here.
    pub fn mount(dir: &Path, bytes: u64) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let size = format!("size={}k", bytes.div_ceil(1024));
        mount(&["-t", "tmpfs", "-o", &size, "tmpfs"], dir)?;
        Ok(Tmpfs {
            dir: dir.to_owned(),
        })
    }

    /// Make it `bytes` large, keeping its files.
    pub fn resize(&self, bytes: u64) {
        let size = format!("remount,size={}k", bytes.div_ceil(1024));
        mount(&["-o", &size], &self.dir).unwrap();
    }

    /// Bytes free on it.
    pub fn free(&self) -> u64 {
        let o = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let last = text.lines().last().unwrap_or_default().trim();
        last.parse().unwrap_or_else(|_| panic!("df said: {text}"))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let o = Command::new("umount").arg(&self.dir).output();
        if !o.is_ok_and(|o| o.status.success()) {
            // Busy (a killed run's child still holds it): detach it so the temp folder goes.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn mount(args: &[&str], dir: &Path) -> Result<(), String> {
    let o = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "mount {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

/// Whether this process runs as root (mounting needs it).
pub fn is_root() -> bool {
    let o = Command::new("id").arg("-u").output();
    o.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The pages the files under `dir` take on a tmpfs (each file rounded up to whole pages).
pub fn pages_used(dir: &Path) -> u64 {
    crate::support::env::files(dir)
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
        .map(|len| len.div_ceil(PAGE))
        .sum()
}
