//! The square and social-media images kept for staff: made only for cases whose consent covers
//! social media, and, unless `[gallery] social_downloads = true` offers them on the public page,
//! written beside the photos in `<input>/.beforeafter/social/` (the same relative paths as in the
//! output folder), never uploaded. The tool owns that folder whole: every whole run removes what
//! no published case of its manifest keeps there, so a case that loses consent (or is removed)
//! leaves no image behind, also after an interrupted run.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::manifest::{CaseEntry, Manifest, OutputEntry};
use crate::render::outputs::SHARE_KINDS;

/// The staff folder, relative to the input folder.
pub const DIR: &str = ".beforeafter/social";

/// The staff folder of `input`.
#[must_use]
pub fn dir(input: &Path) -> PathBuf {
    input.join(DIR)
}

/// Whether `entry`'s staff images are all in `staff`. A record resumed from the output folder's
/// journal (an interrupted run) lists none, since that journal is public: when the case should
/// have them (`expected`), they are found by name (`<id>/<view>-<kind>.<key8>.jpg`) and listed
/// again, with `watermarked` saying whether a width gets the watermark.
pub fn present(
    entry: &mut CaseEntry,
    staff: &Path,
    expected: bool,
    watermarked: &dyn Fn(u32) -> bool,
) -> bool {
    if !expected || entry.staff_paths().next().is_some() {
        return entry.staff_paths().all(|p| staff.join(p).is_file());
    }
    let key8 = entry.key.get(..8).unwrap_or_default().to_owned();
    for v in &mut entry.views {
        for kind in SHARE_KINDS {
            let path = format!("{}/{}-{kind}.{key8}.jpg", entry.id, v.view);
            let file = staff.join(&path);
            let (Ok((width, height)), Ok(meta)) =
                (image::image_dimensions(&file), std::fs::metadata(&file))
            else {
                return false;
            };
            v.staff.push(OutputEntry {
                path,
                width,
                height,
                bytes: meta.len(),
                format: "jpeg".into(),
                watermarked: watermarked(width),
                kind: Some(kind.into()),
            });
        }
    }
    true
}

/// Remove every file of the staff folder that no published case of `manifest` keeps (temp files
/// of an interrupted run included), then the folders left empty.
pub fn sweep(staff: &Path, manifest: &Manifest) {
    let published = manifest.cases.iter().filter(|c| c.published);
    let kept: HashSet<&str> = published.flat_map(CaseEntry::staff_paths).collect();
    sweep_dir(staff, "", &kept);
}

fn sweep_dir(dir: &Path, prefix: &str, kept: &HashSet<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            sweep_dir(&path, &format!("{rel}/"), kept);
            // Only when empty.
            let _ = std::fs::remove_dir(&path);
        } else if !kept.contains(rel.as_str()) {
            let _ = std::fs::remove_file(&path);
        }
    }
}
