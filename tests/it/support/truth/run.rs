//! Pairs as case folders for the real binary, one batch run, and reading back what it published.

use std::path::Path;
use std::process::Command;

use beforeafter::align::Matrix;
use image::RgbImage;
use serde_json::Value;

use super::scene::Pair;

/// Whether case.toml gets `slug = "<name>"` (the public id). A binary that does not know the key
/// refuses the case: `BA_TRUTH_SLUG=0` leaves it out. Cases are found by id, else by title, so
/// both work.
pub const WRITE_SLUG: bool = true;

fn write_slug() -> bool {
    std::env::var("BA_TRUTH_SLUG").map_or(WRITE_SLUG, |v| v != "0")
}

/// `<input>/<name>/before.jpg`, `after.jpg` and `case.toml` (consent given, titled by name).
pub fn write_cases(pairs: &[Pair], input: &Path) {
    for p in pairs {
        let dir = input.join(&p.name);
        std::fs::create_dir_all(&dir).expect("case folder");
        std::fs::write(dir.join("before.jpg"), &p.before_jpeg).expect("before");
        std::fs::write(dir.join("after.jpg"), &p.after_jpeg).expect("after");
        let mut toml = format!("consent = true\ntitle = \"{}\"\n", p.name);
        if write_slug() {
            toml.push_str(&format!("slug = \"{}\"\n", p.name));
        }
        std::fs::write(dir.join("case.toml"), toml).expect("case.toml");
    }
}

/// `beforeafter batch <input> --out <out> --json --publish-review` (so that a pair flagged for
/// review is still measured; the flag is kept), then the manifest it wrote.
pub fn run_batch(bin: &Path, input: &Path, out: &Path) -> Result<Value, String> {
    let o = Command::new(bin)
        .arg("batch")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--json", "--publish-review"])
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    // 3 = some cases need review, which --publish-review publishes anyway.
    if !matches!(o.status.code(), Some(0 | 3)) {
        return Err(format!(
            "batch failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let text = std::fs::read_to_string(out.join("manifest.json")).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// The manifest's case of pair `name`: by id (the slug), else by title.
#[must_use]
pub fn find_case<'a>(manifest: &'a Value, name: &str) -> Option<&'a Value> {
    let cases = manifest["cases"].as_array()?;
    cases
        .iter()
        .find(|c| c["id"] == name)
        .or_else(|| cases.iter().find(|c| c["title"] == name))
}

/// Why case `name` is not in the manifest: the reasons its held record (failed or held for
/// review, kept in the input folder) gives.
#[must_use]
pub fn held_reasons(input: &Path, name: &str) -> String {
    let held = std::fs::read(input.join(".beforeafter/held.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    match held.as_ref().and_then(|h| find_case(h, name)) {
        Some(c) => format!("not published: {}", c["reasons"]),
        None => "neither published nor held".into(),
    }
}

/// What the binary published for one single-view case, decoded.
pub struct Published {
    /// `[x, y, w, h]` in before pixels.
    pub crop: [u32; 4],
    /// The slider photos: the widest JPEG of each stage.
    pub before: RgbImage,
    pub after: RgbImage,
    /// The side-by-side (or stacked) composite.
    pub side: RgbImage,
    /// The after stage's recorded after -> before matrix.
    pub after_matrix: Option<Matrix>,
    pub review: bool,
}

/// Decode the published files of `case` (a manifest case) from `out`.
pub fn read_published(out: &Path, case: &Value) -> Result<Published, String> {
    let view = &case["views"][0];
    let stage = |name: &str| {
        view["stages"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["stage"] == name))
            .ok_or(format!("no {name} stage"))
    };
    let (before, after) = (stage("before")?, stage("after")?);
    let crop: [u32; 4] =
        serde_json::from_value(after["crop"].clone()).map_err(|e| format!("crop: {e}"))?;
    // `align` may become a typed record; only its `matrix` is read.
    let after_matrix = serde_json::from_value(after["align"]["matrix"].clone()).ok();
    let side = view["composites"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["kind"] == "side"))
        .ok_or("no side composite")?;
    Ok(Published {
        crop,
        before: decode(out, widest_jpeg(before)?)?,
        after: decode(out, widest_jpeg(after)?)?,
        side: decode(out, side)?,
        after_matrix,
        review: case["review"].as_bool().unwrap_or(false),
    })
}

fn widest_jpeg(stage: &Value) -> Result<&Value, String> {
    stage["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["format"] == "jpeg")
        .max_by_key(|o| o["width"].as_u64())
        .ok_or_else(|| format!("stage {} has no JPEG output", stage["stage"]))
}

fn decode(out: &Path, entry: &Value) -> Result<RgbImage, String> {
    let rel = entry["path"].as_str().ok_or("output without path")?;
    let img = image::open(out.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
    let img = img.to_rgb8();
    let size = (entry["width"].as_u64(), entry["height"].as_u64());
    if size != (Some(u64::from(img.width())), Some(u64::from(img.height()))) {
        return Err(format!("{rel}: size differs from the manifest's"));
    }
    Ok(img)
}
