//! `beforeafter verify INPUT --url URL`: check the live website, not the folder on this computer.
//!
//! The site is fetched as a visitor's browser would (plain GETs, redirects followed) into a
//! private temporary folder: `manifest.json` (and its signature), the index, every page and
//! asset the pages link to within the gallery's address, and every image the manifest lists.
//! That copy then goes through the very checks of `verify --out` (every image rendered again
//! from the originals and compared, sizes, metadata, unlisted images, the signature), so the
//! live site is held to the same standard. Two checks only a live site needs: files the host
//! serves that the gallery does not account for (found through the pages' links, the host's
//! folder listings when it gives them, and the publish record `.beforeafter/published.json`),
//! and any withdrawn case (a receipt in the photo folder) whose page or images still answer.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::verify::{Finding, Report};

/// At most this many files are fetched (a gallery of thousands of images stays below it).
const MAX_FILES: usize = 50_000;

/// The live check's report: `verify --out`'s, plus what only a live site can get wrong.
#[derive(Debug, Serialize)]
pub struct LiveReport {
    pub url: String,
    pub fetched: usize,
    #[serde(flatten)]
    pub report: Report,
}

/// The command: exit 0 when everything holds, 3 when something differs, 1 when the site
/// cannot be read.
pub fn command(input: &Path, url: &str, json: bool) -> anyhow::Result<i32> {
    let r = check(input, url, &|id| eprintln!("verified: {id}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(r.report.exit_code());
    }
    for note in &r.report.notes {
        println!("note: {note}");
    }
    for f in &r.report.problems {
        println!("DIFFERS {}: {}", f.path, f.problem);
    }
    if let Some(signed) = &r.report.signature {
        println!("signed: {signed}");
    }
    println!(
        "{} file(s) fetched from {}; {} case(s), {} image(s) made again: {} identical, {} within \
         tolerance; {} problem(s)",
        r.fetched,
        r.url,
        r.report.cases,
        r.report.compared,
        r.report.identical,
        r.report.within_tolerance,
        r.report.problems.len()
    );
    if r.report.problems.is_empty() {
        println!("The website at {} shows what its manifest says.", r.url);
    }
    Ok(r.report.exit_code())
}

/// Fetch the site at `url` and check it against the originals in `input`.
pub fn check(
    input: &Path,
    url: &str,
    progress: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<LiveReport> {
    let base = if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    };
    let client = super::net::agent(Duration::from_secs(60));
    let site = Site { client, base };
    let copy = tempfile_dir()?;
    let mut fetched = site.mirror(copy.path())?;
    let mut extra = site.unaccounted(&fetched);
    let report_withdrawn = site.withdrawn(input, &fetched);
    fetched.extend(extra.iter().cloned());
    let mut report = crate::verify::verify(input, copy.path(), progress)?;
    for path in extra.drain(..) {
        report.problems.push(Finding {
            path,
            problem: "served by the website but not part of the gallery".into(),
        });
    }
    report.problems.extend(report_withdrawn);
    Ok(LiveReport {
        url: site.base,
        fetched: fetched.len(),
        report,
    })
}

/// A private folder for the fetched copy, removed when dropped.
fn tempfile_dir() -> anyhow::Result<TempDir> {
    let path = std::env::temp_dir().join(format!(
        "beforeafter-verify-{}-{}",
        std::process::id(),
        crate::http::new_token()?
    ));
    std::fs::create_dir_all(&path)?;
    Ok(TempDir(path))
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Site {
    client: ureq::Agent,
    base: String,
}

impl Site {
    /// The body at `rel`, or None when the site does not serve it (any 4xx).
    fn get(&self, rel: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let url = format!("{}{rel}", self.base);
        let mut resp = self.client.get(&url).call().map_err(|e| {
            anyhow::anyhow!("cannot fetch {url}: {e}; check the address and that the site is up")
        })?;
        let status = resp.status();
        if status.is_client_error() {
            return Ok(None);
        }
        if !status.is_success() {
            anyhow::bail!("{url}: the server answered {status}");
        }
        let body = super::net::body(&mut resp);
        Ok(Some(body.map_err(|e| {
            anyhow::anyhow!("cannot fetch {url}: {e}; check that the site is up")
        })?))
    }

    /// Fetch the manifest, its signature, every listed image and every page and asset the
    /// pages link to into `dir`; the gallery paths fetched.
    fn mirror(&self, dir: &Path) -> anyhow::Result<BTreeSet<String>> {
        let manifest_bytes = self.get(crate::manifest::FILE_NAME)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{}{} is not found: give the address of the gallery's folder (where its \
                 index.html and manifest.json are)",
                self.base,
                crate::manifest::FILE_NAME
            )
        })?;
        let manifest: crate::manifest::Manifest = serde_json::from_slice(&manifest_bytes)?;
        let mut queue: VecDeque<String> = [
            "index.html",
            "gallery.json",
            crate::gallery::EMBED_FILE,
            "manifest.json.minisig",
            "minisign.pub",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(manifest.output_paths().map(str::to_owned))
        .chain(
            manifest
                .cases
                .iter()
                .filter(|c| c.published)
                .map(|c| format!("{}/index.html", c.id)),
        )
        .collect();
        let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
        seen.insert(crate::manifest::FILE_NAME.to_owned());
        crate::disk::write_atomic(dir, crate::manifest::FILE_NAME, &manifest_bytes)?;
        let mut fetched = BTreeSet::from([crate::manifest::FILE_NAME.to_owned()]);
        while let Some(rel) = queue.pop_front() {
            let Some(bytes) = self.get(&rel)? else {
                continue;
            };
            if rel.ends_with(".html") || rel.ends_with(".css") {
                for link in links(&rel, &String::from_utf8_lossy(&bytes)) {
                    if seen.len() < MAX_FILES && seen.insert(link.clone()) {
                        queue.push_back(link);
                    }
                }
            }
            crate::disk::write_atomic(dir, &rel, &bytes)?;
            fetched.insert(rel);
        }
        Ok(fetched)
    }

    /// Files the site serves that the gallery does not account for, found in the host's folder
    /// listings of the gallery's folders when it gives them (an HTTP site cannot be listed
    /// otherwise; images the pages link to are checked by `verify`'s own "unlisted" check).
    fn unaccounted(&self, fetched: &BTreeSet<String>) -> Vec<String> {
        let mut found = BTreeSet::new();
        let mut folders: BTreeSet<String> = BTreeSet::from([String::new()]);
        let dirs = fetched.iter().filter_map(|p| p.rsplit_once('/'));
        folders.extend(dirs.map(|(d, _)| format!("{d}/")));
        for folder in folders {
            let Ok(Some(bytes)) = self.get(&folder) else {
                continue;
            };
            let page = String::from_utf8_lossy(&bytes);
            if page.contains("Directory listing for") || page.contains("<title>Index of /") {
                let listed = links(&format!("{folder}index.html"), &page);
                found.extend(listed.filter(|l| !l.ends_with("/index.html")));
            }
        }
        found.retain(|p| !fetched.contains(p));
        found.into_iter().collect()
    }

    /// Every withdrawn case (receipts in `input`) the live manifest does not publish whose
    /// page or images still answer.
    fn withdrawn(&self, input: &Path, fetched: &BTreeSet<String>) -> Vec<Finding> {
        #[derive(serde::Deserialize)]
        struct Removed {
            case: String,
            #[serde(default)]
            removed: Vec<String>,
        }
        let dir = input.join(crate::pipeline::withdrawals::DIR);
        let receipts = std::fs::read_dir(dir).into_iter().flatten().flatten();
        let receipts: Vec<Removed> = receipts
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect();
        let mut problems = Vec::new();
        let mut checked = BTreeSet::new();
        for r in receipts {
            // The folder's own address is left out: an emptied folder may still list (empty).
            let files = r.removed.iter().filter(|p| !p.ends_with('/'));
            for path in files.filter(|p| !fetched.contains(*p)) {
                if checked.insert(path.clone()) && matches!(self.get(path), Ok(Some(_))) {
                    problems.push(Finding {
                        path: path.clone(),
                        problem: format!(
                            "case {} was withdrawn, but the website still serves this file",
                            r.case
                        ),
                    });
                }
            }
        }
        problems
    }
}

/// The gallery paths a page or stylesheet at `from` links to (`href`, `src`, `srcset`,
/// `url(...)`), resolved against it; outside addresses and dot-names are left out.
fn links<'a>(from: &str, text: &'a str) -> impl Iterator<Item = String> + 'a {
    let dir = from
        .rsplit_once('/')
        .map_or(String::new(), |(d, _)| format!("{d}/"));
    let mut raw = Vec::new();
    for marker in ["href=\"", "src=\"", "srcset=\"", "url("] {
        for (i, _) in text.match_indices(marker) {
            let rest = &text[i + marker.len()..];
            let end = rest.find(['"', ')']).unwrap_or(rest.len());
            let value = rest[..end].trim_matches(['\'', ' ']);
            raw.extend(
                value
                    .split(',')
                    .map(|v| v.split_whitespace().next().unwrap_or("").to_owned()),
            );
        }
    }
    raw.into_iter().filter_map(move |link| resolve(&dir, &link))
}

/// `link` relative to the folder `dir`, as a path inside the gallery, or None.
fn resolve(dir: &str, link: &str) -> Option<String> {
    let link = link.split(['#', '?']).next()?;
    if link.is_empty() || link.contains(':') || link.starts_with("//") || link.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    let path = parts.join("/");
    let path = if link.ends_with('/') {
        format!("{path}/index.html")
    } else {
        path
    };
    let path = path.trim_start_matches('/').to_owned();
    (!path.is_empty() && !path.split('/').any(|p| p.starts_with('.'))).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_gallery() {
        let page = r#"<a href="../">x</a><img src="front-after-640.ab12cd34.jpg"
            srcset="a-320.jpg 320w, a-640.jpg 640w"><link href="../assets/s.css">
            <a href="https://other.example/">o</a><a href="/root.html">r</a>"#;
        let got: Vec<String> = links("case-1/index.html", page).collect();
        assert_eq!(
            got,
            [
                "index.html",
                "assets/s.css",
                "case-1/front-after-640.ab12cd34.jpg",
                "case-1/a-320.jpg",
                "case-1/a-640.jpg"
            ]
        );
        assert_eq!(resolve("", "../x"), None);
    }
}
