//! The static gallery: an index of published cases with filters, a page per case with a
//! before/after slider per view, `gallery.json` for a CMS and `embed.js` for another site's
//! pages, all rendered from the manifest.
//!
//! Rules the whole module keeps: only cases with `published == true` appear anywhere; no
//! request leaves the gallery's own files (no CDN, fonts or analytics); every link is relative
//! except share-preview URLs when `base_url` is set; every caption is escaped by the templates.
//!
//! `model` turns manifest entries into what templates see, `caption` derives words (dates,
//! stage names, the honesty note), `feed` writes `gallery.json`, `templates` loads built-in and
//! clinic templates.

mod caption;
mod embed;
mod feed;
mod index;
mod model;
mod params;
mod templates;

use std::path::Path;

use minijinja::{Value, context};
use serde::Serialize;

use crate::config::GalleryConfig;
use crate::disk;
use crate::error::Fatal;
use crate::manifest::{CaseEntry, Manifest};

pub use caption::{honesty, month, stage_tag, view_name};
pub use embed::FILE_NAME as EMBED_FILE;
pub use feed::FILE_NAME as FEED_FILE;
pub use params::GalleryParams;

/// The page that shows the clinic's public key and how to check the signature; only written
/// when the clinic has a signing key (`beforeafter keys new`).
pub const SIGNATURE_PAGE: &str = "signature.html";

/// Where pages find the assets, relative to the gallery root. CSS and JS carry a content hash
/// as a query so browsers never pair a new page with an old script.
#[derive(Serialize)]
struct AssetUrls {
    style: Value,
    script: Value,
    icon: Value,
}

/// Write the assets, one page per published case, the index, `gallery.json` and `embed.js`.
pub fn write(out: &Path, manifest: &Manifest, config: &GalleryParams) -> Result<(), Fatal> {
    let g = &config.gallery;
    let dir = g.templates_dir.as_deref();
    let env = templates::environment(dir)?;
    let published: Vec<&CaseEntry> = manifest.cases.iter().filter(|c| c.published).collect();
    let assets = write_assets(out, dir)?;
    let logo = write_logo(out, g)?;
    let site = model::site(g, logo.as_deref());
    let base_url = g.base_url();
    for case in &published {
        let page = model::case_page(case, config);
        let share = model::share(&page, &site, &base_url);
        let html = templates::render(
            &env,
            "case.html",
            context! {
                site => serde_value(&site),
                root => Value::from_safe_string("../".into()),
                assets => serde_value(&assets),
                share => serde_value(&share),
                case => serde_value(&page),
            },
        )?;
        disk::write_if_changed(out, &format!("{}/index.html", case.id), html.as_bytes())?;
    }
    write_index(out, &env, &published, config, &site, &assets)?;
    if site.signed.is_some() {
        let html = templates::render(
            &env,
            SIGNATURE_PAGE,
            context! {
                site => serde_value(&site),
                root => Value::from_safe_string(String::new()),
                assets => serde_value(&assets),
                share => serde_value(model::signature_share(&site, &base_url)),
            },
        )?;
        disk::write_if_changed(out, SIGNATURE_PAGE, html.as_bytes())?;
    }
    let months = g.dates == crate::dates::DateStyle::Month;
    let feed = feed::feed(&g.title, base_url, &published, months);
    let mut json = serde_json::to_string_pretty(&feed).map_err(|e| Fatal::Other(e.to_string()))?;
    json.push('\n');
    disk::write_if_changed(out, feed::FILE_NAME, json.as_bytes())?;
    let script = embed::script(&published, config, site.start);
    disk::write_if_changed(out, embed::FILE_NAME, script.as_bytes())?;
    Ok(())
}

/// The index's pages: `index.html` and `page-N.html`, `[gallery] page_size` cards each, every
/// one with the filter groups of all cases and a link to the next page.
fn write_index(
    out: &Path,
    env: &minijinja::Environment,
    published: &[&CaseEntry],
    config: &GalleryParams,
    site: &model::Site,
    assets: &AssetUrls,
) -> Result<(), Fatal> {
    let ordered = index::ordered(published);
    let size = config.gallery.page_size as usize;
    let share = model::index_share(&ordered, site, &config.gallery.base_url());
    let filters = index::filters(&ordered);
    let views = index::view_keys(&ordered);
    let pages = index::pages(ordered.len(), size);
    for page in &pages {
        let on_page = ordered.iter().skip((page.number - 1) * size).take(size);
        let cards: Vec<index::Card> = on_page
            .enumerate()
            .map(|(i, c)| index::card(c, first_page_at(page.number, i), &config.labels, &views))
            .collect();
        let html = templates::render(
            env,
            "index.html",
            context! {
                site => serde_value(site),
                root => Value::from_safe_string(String::new()),
                assets => serde_value(assets),
                share => serde_value(&share),
                cards => serde_value(&cards),
                filters => serde_value(&filters),
                page => serde_value(page),
            },
        )?;
        disk::write_if_changed(out, &page.file, html.as_bytes())?;
    }
    remove_stale_pages(out, pages.len());
    Ok(())
}

/// The index's files for `published` cases, `page_size` a page: `index.html`, `page-2.html`, …
pub fn index_files(published: usize, page_size: u32) -> Vec<String> {
    let pages = published.div_ceil(page_size.max(1) as usize).max(1);
    (1..=pages).map(index::page_file).collect()
}

/// A card's position for eager loading: only the first page's first screenful loads at once.
fn first_page_at(page: usize, i: usize) -> usize {
    if page == 1 { i } else { usize::MAX }
}

/// Remove `page-N.html` files beyond the last page (the gallery got shorter).
fn remove_stale_pages(out: &Path, count: usize) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let n = (name.strip_prefix("page-"))
            .and_then(|r| r.strip_suffix(".html"))
            .and_then(|n| n.parse::<usize>().ok());
        if n.is_some_and(|n| n > count || n < 2) {
            disk::remove(out, &name);
        }
    }
}

fn serde_value<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Remove a case's page (and its folder when that is empty). `gallery.json` and the index are
/// rewritten from the manifest on every run, so they never list the case again.
pub fn remove_case_pages(out: &Path, id: &str) {
    disk::remove(out, &format!("{id}/index.html"));
}

fn write_assets(out: &Path, dir: Option<&Path>) -> Result<AssetUrls, Fatal> {
    let mut urls = Vec::new();
    for (name, text) in templates::assets(dir)? {
        disk::write_if_changed(out, &format!("assets/{name}"), text.as_bytes())?;
        let hash = blake3::hash(text.as_bytes()).to_hex();
        urls.push(Value::from_safe_string(format!(
            "assets/{name}?v={}",
            &hash[..8]
        )));
    }
    let mut urls = urls.into_iter();
    let (Some(style), Some(script), Some(icon)) = (urls.next(), urls.next(), urls.next()) else {
        unreachable!("templates::ASSETS lists style.css, gallery.js, favicon.svg")
    };
    Ok(AssetUrls {
        style,
        script,
        icon,
    })
}

/// Copy the header logo to `assets/logo.<hash>.<ext>` and remove logos of earlier runs.
/// Returns the logo's path from the gallery root.
fn write_logo(out: &Path, g: &GalleryConfig) -> Result<Option<String>, Fatal> {
    let current = g.logo_file.as_ref().map(|l| {
        let hash = blake3::hash(&l.bytes).to_hex();
        (format!("logo.{}.{}", &hash[..8], l.extension), &l.bytes)
    });
    if let Ok(entries) = std::fs::read_dir(out.join("assets")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = name.starts_with("logo.") && current.as_ref().is_none_or(|c| c.0 != name);
            if stale {
                disk::remove(out, &format!("assets/{name}"));
            }
        }
    }
    let Some((name, bytes)) = current else {
        return Ok(None);
    };
    let rel = format!("assets/{name}");
    disk::write_if_changed(out, &rel, bytes)?;
    Ok(Some(rel))
}
