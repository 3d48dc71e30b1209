//! Built-in templates and assets (real files under `src/gallery/`, embedded at build time),
//! overridden by name from the clinic's `gallery.templates` folder.

use std::path::Path;

use minijinja::Environment;

use crate::error::Fatal;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("case.html", include_str!("templates/case.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("signature.html", include_str!("templates/signature.html")),
];

/// Assets copied into `assets/`, overridable by name like the templates.
pub const ASSETS: &[(&str, &str)] = &[
    ("style.css", include_str!("assets/style.css")),
    ("gallery.js", include_str!("assets/gallery.js")),
    ("favicon.svg", include_str!("assets/favicon.svg")),
];

/// The template environment: built-ins, then every `.html` file of `dir` (replacing a built-in
/// of the same name). Autoescaping is on for `.html`, so every value is escaped.
pub fn environment(dir: Option<&Path>) -> Result<Environment<'static>, Fatal> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| Fatal::Other(format!("template syntax: {e}")))?;
    env.set_syntax(syntax);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| Fatal::Other(format!("built-in template {name}: {e}")))?;
    }
    let Some(dir) = dir else { return Ok(env) };
    for (name, path) in html_files(dir)? {
        let source = read(&path)?;
        env.add_template_owned(name, source)
            .map_err(|e| Fatal::Other(format!("template {}: {e}", path.display())))?;
    }
    Ok(env)
}

/// The assets to write: built-ins, each replaced by a file of the same name in `dir`.
pub fn assets(dir: Option<&Path>) -> Result<Vec<(&'static str, String)>, Fatal> {
    ASSETS
        .iter()
        .map(|&(name, builtin)| {
            let custom = dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let text = match custom {
                Some(path) => read(&path)?,
                None => builtin.to_owned(),
            };
            Ok((name, text))
        })
        .collect()
}

/// `.html` files directly in `dir`, by name, sorted.
fn html_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, Fatal> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Fatal::Other(format!("gallery.templates folder {}: {e}", dir.display())))?;
    let mut files: Vec<(String, std::path::PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            name.ends_with(".html").then(|| (name, e.path()))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn read(path: &Path) -> Result<String, Fatal> {
    std::fs::read_to_string(path)
        .map_err(|e| Fatal::Other(format!("template {}: {e}", path.display())))
}

/// Render `name` with `ctx`.
pub fn render(env: &Environment, name: &str, ctx: minijinja::Value) -> Result<String, Fatal> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Fatal::Other(format!("rendering {name}: {e:#}")))
}
