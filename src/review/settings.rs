//! The clinic's settings screen: the clinic's name and logo, the watermark (text, where, how
//! strong, with a live preview on one of the clinic's own photos), the booking link, the
//! gallery's title and how dates are shown. Staff change them in a form instead of a text
//! editor; they are written to `beforeafter.toml`.
//!
//! The same rules as `casetoml`'s edits of case.toml hold: format-preserving (`toml_edit`: the
//! clinic's comments, order and other keys stay, a changed value keeps its end-of-line
//! comment), only keys whose value changed are written (a default stays a default), atomic
//! (temp file + rename), and only over the file the page was shown (its BLAKE3 travels with the
//! page; a file changed on disk since is not overwritten). What would be written is checked by
//! the CLI's own code ([`Config::from_str_at`] on the new text, reported as that file), and a
//! value it refuses is refused here with the very message `beforeafter check` prints.
//!
//! The preview is rendered here by the real watermark code ([`preview::watermarked`]) from the
//! settings being typed, not imitated in CSS. A logo is uploaded as the file's bytes, checked by
//! content (PNG, JPEG or WebP that decodes) and kept beside the settings in `.beforeafter/`
//! (which discovery never reads as photos) under a name made from its content.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use image::RgbImage;
use minijinja::{Value, context};
use serde_json::{Map, json};
use toml_edit::{DocumentMut, Item};

use super::State;
use super::preview;
use super::records::Records;
use crate::config::{CONFIG_NAME, Config};
use crate::http::{Request, Response};

const PAGE: &str = include_str!("templates/settings.html");

/// What a field holds, so the form's text becomes the right TOML value.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Bool,
    Number,
}

/// The keys this screen edits, as `section.key`.
const FIELDS: [(&str, Kind); 10] = [
    ("gallery.clinic", Kind::Text),
    ("gallery.logo", Kind::Text),
    ("gallery.title", Kind::Text),
    ("gallery.contact_url", Kind::Text),
    ("gallery.contact_label", Kind::Text),
    ("gallery.dates", Kind::Text),
    ("watermark.enabled", Kind::Bool),
    ("watermark.text", Kind::Text),
    ("watermark.position", Kind::Text),
    ("watermark.opacity", Kind::Number),
];

/// Width of the watermark preview, in pixels: the mark is sized to the photo's width, so a
/// smaller copy shows it as the published photo does.
const PREVIEW_WIDTH: u32 = 960;

/// The settings file this app edits: `--config`, else INPUT's `beforeafter.toml`.
fn file(state: &State) -> PathBuf {
    (state.config_path.clone()).unwrap_or_else(|| state.input.join(CONFIG_NAME))
}

/// BLAKE3 of the file's bytes, "none" when there is no file yet.
fn stamp(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => blake3::hash(&bytes).to_hex().to_string(),
        Err(_) => "none".into(),
    }
}

/// The value of `key` as the clinic wrote it, else the default (raw: `watermark.text = ""`
/// stays "", which means the clinic's name).
fn raw(doc: &DocumentMut, defaults: &DocumentMut, key: &str) -> Option<toml_edit::Value> {
    let (section, name) = key.split_once('.')?;
    let from = |d: &DocumentMut| d.get(section)?.get(name)?.as_value().cloned();
    from(doc).or_else(|| from(defaults))
}

fn defaults() -> DocumentMut {
    crate::config::DEFAULT_TOML
        .parse()
        .expect("config/default.toml parses")
}

/// The form's text for each field.
fn values(doc: &DocumentMut) -> Map<String, serde_json::Value> {
    let defaults = defaults();
    FIELDS
        .iter()
        .map(|(key, _)| {
            let shown = match raw(doc, &defaults, key) {
                Some(toml_edit::Value::String(s)) => s.value().clone(),
                Some(v) => v.to_string().trim().to_owned(),
                None => String::new(),
            };
            ((*key).to_owned(), json!(shown))
        })
        .collect()
}

/// The form's text for `key` as a TOML value.
fn typed(kind: Kind, key: &str, text: &str) -> Result<toml_edit::Value, String> {
    let text = text.trim();
    match kind {
        Kind::Text => Ok(text.into()),
        Kind::Bool => Ok((text == "true").into()),
        Kind::Number => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| ((v * 1000.0).round() / 1000.0).into())
            .ok_or_else(|| format!("{key}: {text:?} is not a number")),
    }
}

/// `text` (the settings file as it is) with the form's `given` values written in: only the
/// keys whose value changed, each keeping its comments.
fn candidate(text: &str, given: &Map<String, serde_json::Value>) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        format!("the settings file is not valid TOML: {e}; fix it by hand, then reload the page")
    })?;
    let defaults = defaults();
    for (key, kind) in FIELDS {
        let Some(text) = given.get(key).and_then(serde_json::Value::as_str) else {
            continue;
        };
        let new = typed(kind, key, text)?;
        let old = raw(&doc, &defaults, key);
        if old.as_ref().map(|v| v.to_string().trim().to_owned()) == Some(new.to_string()) {
            continue;
        }
        let (section, name) = key.split_once('.').unwrap_or((key, ""));
        let table = doc
            .entry(section)
            .or_insert(toml_edit::table())
            .as_table_mut()
            .ok_or_else(|| format!("[{section}] in the settings file is not a table"))?;
        let mut new = new;
        if let Some(v) = table.get(name).and_then(Item::as_value) {
            *new.decor_mut() = v.decor().clone();
        }
        table.insert(name, Item::Value(new));
    }
    Ok(doc.to_string())
}

/// The settings page.
pub fn page(state: &State) -> Response {
    let path = file(state);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let doc: DocumentMut = text.parse().unwrap_or_default();
    let photo = sample_photo(state).is_some();
    let data = json!({
        "token": state.token,
        "stamp": stamp(&path),
        "values": values(&doc),
        "photo": photo,
    });
    let data = data.to_string().replace('<', "\\u003c");
    let problem = state.config().err();
    let ctx = context! {
        token => &state.token,
        file => path.display().to_string(),
        data => Value::from_safe_string(data),
        photo => photo,
        problem => problem,
    };
    super::page::render("settings.html", PAGE, ctx)
}

/// The form's values from a query (`gallery.clinic=…&…`): what the preview shows.
fn from_query(req: &Request) -> Map<String, serde_json::Value> {
    FIELDS
        .iter()
        .filter_map(|(key, _)| Some(((*key).to_owned(), json!(req.param(key)?))))
        .collect()
}

/// The watermark, as the typed settings would burn it, on one of the clinic's photos.
pub fn preview(state: &State, req: &Request) -> Response {
    let path = file(state);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let config = candidate(&text, &from_query(req))
        .and_then(|new| Config::from_str_at(&new, &path).map_err(|e| e.to_string()));
    let config = match config {
        Ok(c) => c,
        Err(e) => return Response::text(422, &format!("{e}\n")),
    };
    let Some(img) = sample_photo(state) else {
        return Response::text(404, "no photo of the clinic's yet: run the gallery first\n");
    };
    match preview::watermarked(&img, PREVIEW_WIDTH, &config) {
        Ok(jpeg) => Response::new(200, "image/jpeg", jpeg),
        Err(e) => Response::text(500, &format!("the preview could not be made: {e}\n")),
    }
}

/// One of the clinic's photos, made small once: the before photo of the first published case
/// (else of the first held one), as the last run recorded it.
fn sample_photo(state: &State) -> Option<RgbImage> {
    type Kept = Mutex<Option<(PathBuf, RgbImage)>>;
    static KEPT: OnceLock<Kept> = OnceLock::new();
    let records = Records::load(&state.input);
    let rel = (records.published.iter().chain(&records.held))
        .flat_map(|c| c.views.iter().filter_map(|v| v.stages.first()))
        .find_map(|s| s.source.clone())?;
    let path = records.photo(&state.input, &rel)?;
    let kept = KEPT.get_or_init(|| Mutex::new(None));
    let mut kept = kept.lock().ok()?;
    if let Some((p, img)) = kept.as_ref()
        && *p == path
    {
        return Some(img.clone());
    }
    let bytes = std::fs::read(&path).ok()?;
    let img = preview::decode(&bytes, &path, &state.config()).ok()?;
    let w = PREVIEW_WIDTH.min(img.width());
    let h = (u64::from(img.height()) * u64::from(w) / u64::from(img.width().max(1))).max(1);
    let small = crate::render::resize_exact(&img, w, h as u32);
    *kept = Some((path, small.clone()));
    Some(small)
}

/// Save the form: `{"stamp": …, "values": {"gallery.clinic": "…", …}}`.
pub fn save(state: &State, body: &[u8]) -> Response {
    let Ok(asked) = serde_json::from_slice::<serde_json::Value>(body) else {
        return answer(
            400,
            json!({ "error": "the request is not one this page sends" }),
        );
    };
    let empty = Map::new();
    let given = asked["values"].as_object().unwrap_or(&empty);
    let _one = (state.running.lock()).unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = file(state);
    if asked["stamp"].as_str() != Some(stamp(&path).as_str()) {
        let changed = format!(
            "{}: changed on disk since the page loaded; the page reloads to show it",
            path.display()
        );
        return answer(409, json!({ "error": changed }));
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let new = match candidate(&text, given) {
        Ok(new) => new,
        Err(e) => return answer(422, json!({ "error": e })),
    };
    // The CLI's own check, reported as the file itself: the same words `beforeafter check` says.
    if let Err(e) = Config::from_str_at(&new, &path) {
        return answer(422, json!({ "error": e.to_string() }));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(CONFIG_NAME);
    if let Err(e) = crate::disk::write_atomic(dir, name, new.as_bytes()) {
        return answer(500, json!({ "error": e.to_string() }));
    }
    let said = if state.out.is_some() {
        "Saved. The next run of the gallery uses these settings."
    } else {
        "Saved. The next run of the gallery uses these settings (run batch to update it)."
    };
    answer(200, json!({ "stamp": stamp(&path), "message": said }))
}

/// A logo upload (the file's bytes as the body): checked by content, kept in the settings
/// file's `.beforeafter/` folder, answered with the path `gallery.logo` then names.
pub fn logo(state: &State, body: &[u8]) -> Response {
    let format = image::guess_format(body).ok();
    let ext = match format {
        Some(image::ImageFormat::Png) => "png",
        Some(image::ImageFormat::Jpeg) => "jpg",
        Some(image::ImageFormat::WebP) => "webp",
        _ => {
            let no =
                "this file is not a PNG, JPEG or WebP picture: choose the logo as one of those";
            return answer(422, json!({ "error": no }));
        }
    };
    if image::load_from_memory(body).is_err() {
        let no = "this picture could not be read (damaged or cut short): export the logo again";
        return answer(422, json!({ "error": no }));
    }
    let hash = blake3::hash(body).to_hex();
    let rel = format!(".beforeafter/logo-{}.{ext}", &hash[..12]);
    let path = file(state);
    let dir = path.parent().unwrap_or(Path::new("."));
    match crate::disk::write_atomic(dir, &rel, body) {
        Ok(()) => answer(200, json!({ "logo": rel })),
        Err(e) => answer(500, json!({ "error": e.to_string() })),
    }
}

fn answer(status: u16, value: serde_json::Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_keys_are_written_keeping_comments() {
        let text = "# Our clinic\n[gallery]\nclinic = \"Old name\" # shown in the header\n\n\
                    [cases]\nids = \"folder\"\n";
        let given: Map<String, serde_json::Value> = [
            ("gallery.clinic", "New name"),
            ("gallery.title", "Before and after"),
            ("watermark.opacity", "0.35"),
            ("watermark.enabled", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
        let new = candidate(text, &given).unwrap();
        assert!(
            new.starts_with(
                "# Our clinic\n[gallery]\nclinic = \"New name\" # shown in the header\n"
            ),
            "{new}"
        );
        assert!(!new.contains("title"), "a default stays a default: {new}");
        assert!(new.contains("[watermark]\nopacity = 0.35\n"), "{new}");
        assert!(!new.contains("enabled"), "{new}");
        let config = Config::from_str_at(&new, Path::new("beforeafter.toml")).unwrap();
        assert_eq!(config.gallery.clinic, "New name");
        assert!((config.watermark.opacity - 0.35).abs() < 1e-6);
        let bad = [("watermark.opacity".to_owned(), json!("lots"))]
            .into_iter()
            .collect();
        assert!(candidate(text, &bad).unwrap_err().contains("not a number"));
    }
}
