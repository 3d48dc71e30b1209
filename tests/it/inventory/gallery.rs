//! What a gallery in `--out` must be after a clean whole run, measured from the files: every
//! file accounted for by `manifest.json` (images and case pages), the gallery's own pages and
//! assets, or the web person's own files; no byte of a withdrawn or removed case; `verify`
//! naming no unlisted image.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::env::{TestEnv, files, run};

/// Files the web person put into `--out` themselves: the tool must never touch them.
pub const OWN_FILES: [(&str, &[u8]); 2] = [
    ("robots.txt", b"User-agent: *\nDisallow: /private/\n"),
    (
        "own/logo.png",
        b"\x89PNG\r\n\x1a\nnot really a png, but the web person's own bytes",
    ),
];

const IMAGE_EXTENSIONS: [&str; 5] = [".jpg", ".webp", ".avif", ".png", ".jpeg"];

pub fn is_image(rel: &str) -> bool {
    IMAGE_EXTENSIONS.iter().any(|e| rel.ends_with(e))
}

pub fn put_own_files(out: &Path) {
    for (rel, bytes) in OWN_FILES {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

fn is_own(rel: &str) -> bool {
    OWN_FILES.iter().any(|(own, _)| *own == rel)
}

/// Every output path (and page) of every case a manifest or a finished-case line lists, by id.
pub fn paths_by_case(cases: &[serde_json::Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in cases {
        let Some(id) = c["id"].as_str() else { continue };
        let paths = found.entry(id.to_owned()).or_default();
        paths.insert(format!("{id}/index.html"));
        for v in c["views"].as_array().into_iter().flatten() {
            let stages = v["stages"].as_array().into_iter().flatten();
            let outs = stages.flat_map(|s| s["outputs"].as_array().into_iter().flatten());
            let composites = v["composites"].as_array().into_iter().flatten();
            for o in outs.chain(composites) {
                paths.extend(o["path"].as_str().map(str::to_owned));
            }
        }
    }
    found
}

/// The cases `out/manifest.json` publishes (none when it is absent or unreadable).
pub fn manifest_cases(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    manifest["cases"].as_array().cloned().unwrap_or_default()
}

/// Every case record of the finished-case files of interrupted runs (`finished*.jsonl`).
pub fn finished_cases(out: &Path) -> Vec<serde_json::Value> {
    let dir = std::fs::read_dir(out.join(".beforeafter"))
        .into_iter()
        .flatten();
    let finished = dir.flatten().filter(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("finished") && name.ends_with(".jsonl")
    });
    finished
        .flat_map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let lines: Vec<_> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            lines
        })
        .collect()
}

/// What does not hold after a clean run. Empty everywhere is the promised gallery.
#[derive(Debug, Default)]
pub struct Findings {
    /// Files in `--out` that neither the manifest, the gallery's pages and assets, the output
    /// folder's own state nor the web person accounts for.
    pub orphans: Vec<String>,
    /// Files the manifest lists that are not there.
    pub missing: Vec<String>,
    /// Files of withdrawn or removed cases still in `--out`, with their sizes.
    pub withdrawn: Vec<(String, u64)>,
    /// Pages, lists or the manifest naming a withdrawn or removed case.
    pub mentions: Vec<String>,
    /// The web person's own files, changed or gone.
    pub own_damaged: Vec<String>,
    /// Images `verify` says no published case accounts for (the web person's own aside).
    pub verify_unlisted: Vec<String>,
    /// Anything else `verify` found.
    pub verify_other: Vec<String>,
}

impl Findings {
    pub fn is_clean(&self) -> bool {
        self.orphans.is_empty()
            && self.missing.is_empty()
            && self.withdrawn.is_empty()
            && self.mentions.is_empty()
            && self.own_damaged.is_empty()
            && self.verify_unlisted.is_empty()
            && self.verify_other.is_empty()
    }

    pub fn orphan_images(&self) -> usize {
        self.orphans.iter().filter(|f| is_image(f)).count()
    }

    pub fn withdrawn_bytes(&self) -> u64 {
        self.withdrawn.iter().map(|(_, b)| b).sum()
    }

    /// One line of counts, the same for every check (the kill loop bench greps it).
    pub fn counts(&self) -> String {
        format!(
            "orphan_images={} orphan_files={} withdrawn_files={} withdrawn_bytes={} missing={} \
             mentions={} own_damaged={} verify_unlisted={} verify_other={}",
            self.orphan_images(),
            self.orphans.len(),
            self.withdrawn.len(),
            self.withdrawn_bytes(),
            self.missing.len(),
            self.mentions.len(),
            self.own_damaged.len(),
            self.verify_unlisted.len(),
            self.verify_other.len()
        )
    }
}

/// Check `env`'s gallery after a clean run. `gone`: ids of withdrawn or removed cases, each
/// with every output path it ever had.
pub fn check(env: &TestEnv, gone: &BTreeMap<String, BTreeSet<String>>) -> Findings {
    let out = env.out();
    let published = paths_by_case(&manifest_cases(&out));
    let listed: BTreeSet<&str> = published.values().flatten().map(String::as_str).collect();
    let present = files(&out);
    let (verify_unlisted, verify_other) = verify(env);
    Findings {
        orphans: present
            .iter()
            .filter(|p| !listed.contains(p.as_str()) && !gallery_own(p) && !is_own(p))
            .cloned()
            .collect(),
        missing: listed
            .iter()
            .filter(|p| !out.join(p).is_file())
            .map(|p| (*p).to_owned())
            .collect(),
        withdrawn: withdrawn_left(&out, &present, gone),
        mentions: mentions(&out, &present, gone.keys()),
        own_damaged: OWN_FILES
            .iter()
            .filter(|(rel, bytes)| std::fs::read(out.join(rel)).ok().as_deref() != Some(*bytes))
            .map(|(rel, _)| (*rel).to_owned())
            .collect(),
        verify_unlisted,
        verify_other,
    }
}

/// The gallery's own files: index pages, the feed, the manifest, assets, the folder's state.
fn gallery_own(rel: &str) -> bool {
    let page = rel
        .strip_prefix("page-")
        .and_then(|r| r.strip_suffix(".html"))
        .is_some_and(|n| n.parse::<u32>().is_ok());
    page || rel.starts_with("assets/")
        || rel.starts_with(".beforeafter/")
        || ["index.html", "gallery.json", "embed.js", "manifest.json"].contains(&rel)
}

/// Files of gone cases still present: under their `<id>/` folder, or any path they ever had.
fn withdrawn_left(
    out: &Path,
    present: &[String],
    gone: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<(String, u64)> {
    let mut left = BTreeSet::new();
    for (id, paths) in gone {
        let prefix = format!("{id}/");
        left.extend(present.iter().filter(|p| p.starts_with(&prefix)).cloned());
        left.extend(paths.iter().filter(|p| out.join(p).is_file()).cloned());
    }
    left.into_iter()
        .map(|p| {
            let bytes = std::fs::metadata(out.join(&p)).map_or(0, |m| m.len());
            (p, bytes)
        })
        .collect()
}

/// Text files of the gallery (pages, feed, manifest) naming `<id>/` or `"<id>"` of a gone case.
/// Images are left out: compressed bytes can spell anything by chance.
fn mentions<'a>(
    out: &Path,
    present: &[String],
    gone: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let texts: Vec<(&String, String)> = present
        .iter()
        .filter(|p| (p.ends_with(".html") || p.ends_with(".json")) && !is_own(p))
        .filter(|p| !p.starts_with(".beforeafter/"))
        .map(|p| (p, std::fs::read_to_string(out.join(p)).unwrap_or_default()))
        .collect();
    let mut found = Vec::new();
    for id in gone {
        let (folder, quoted) = (format!("{id}/"), format!("\"{id}\""));
        for (path, text) in &texts {
            if text.contains(&folder) || text.contains(&quoted) {
                found.push(format!("{path} names {id}"));
            }
        }
    }
    found
}

/// `beforeafter verify --json`: the unlisted images it names (the web person's own aside, which
/// it cannot tell from ours), and every other problem.
fn verify(env: &TestEnv) -> (Vec<String>, Vec<String>) {
    let (input, out) = (env.input(), env.out());
    let o = run(&[
        "verify",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| {
        panic!(
            "verify printed no report: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let mut unlisted = Vec::new();
    let mut other = Vec::new();
    for p in report["problems"].as_array().into_iter().flatten() {
        let path = p["path"].as_str().unwrap_or_default().to_owned();
        let problem = p["problem"].as_str().unwrap_or_default();
        if problem.contains("no published case accounts for") {
            if !is_own(&path) {
                unlisted.push(path);
            }
        } else {
            other.push(format!("{path}: {problem}"));
        }
    }
    (unlisted, other)
}
