//! A first run without guessing (issue 36, item 6): a newcomer runs `init` as `init --help`
//! shows it, then follows the guide `init` prints literally (its commands run as printed, with
//! `sh`, from the folder it says), and ends with a published gallery that holds no placeholder
//! text from the example case file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run `line` with `sh` in `cwd`, the built binary first on PATH as an installed one would be.
fn sh(cwd: &Path, line: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_beforeafter"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", line])
        .current_dir(cwd)
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{line}: {}", text(&out));
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The guide's numbered steps, each with its continuation lines.
fn steps(guide: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for line in guide.lines() {
        let numbered = line
            .split_once(". ")
            .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
        if numbered {
            steps.push(line.to_owned());
        } else if let Some(last) = steps.last_mut().filter(|_| line.starts_with("   ")) {
            last.push('\n');
            last.push_str(line);
        }
    }
    steps
}

/// The step that mentions `word`, and the commands shown in it (lines indented by 6).
fn step<'a>(steps: &'a [String], word: &str) -> (&'a str, Vec<&'a str>) {
    let s = steps.iter().find(|s| s.contains(word)).expect(word);
    let commands = s.lines().filter_map(|l| l.strip_prefix("      ")).collect();
    (s, commands)
}

/// Every string the example case file's commented-out captions hold.
fn placeholders() -> Vec<String> {
    let mut found = Vec::new();
    for line in beforeafter::init::CASE.lines() {
        let Some(commented) = line.strip_prefix("# ") else {
            continue;
        };
        let Ok(table) = toml::from_str::<toml::Table>(commented) else {
            continue;
        };
        for value in table.values() {
            match value {
                toml::Value::String(s) => found.push(s.clone()),
                toml::Value::Array(a) => {
                    found.extend(a.iter().filter_map(|v| v.as_str().map(String::from)))
                }
                _ => {}
            }
        }
    }
    found
}

#[test]
fn a_newcomer_follows_the_printed_guide_to_a_gallery_without_placeholders() {
    let cwd = tempfile::tempdir().unwrap();
    let cwd = cwd.path();
    let help = text(&sh(cwd, "beforeafter init --help"));
    let examples: Vec<&str> = help.lines().filter_map(|l| l.strip_prefix("  ")).collect();
    let examples: Vec<&str> = examples
        .into_iter()
        .filter(|l| l.starts_with("beforeafter "))
        .collect();
    assert!(examples[0].starts_with("beforeafter init "), "{help}");
    let guide = text(&sh(cwd, examples[0]));
    let steps = steps(&guide);
    assert!(steps.len() >= 4, "{guide}");

    // Photos where the guide says, consent as the guide says (a numbered step of its own).
    let (_, photos) = step(&steps, "photos in a folder");
    let paths: Vec<PathBuf> = photos[0].split_whitespace().map(|p| cwd.join(p)).collect();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for (path, stage) in paths.iter().zip(["before", "after"]) {
        assert!(
            path.to_string_lossy().ends_with(&format!("{stage}.jpg")),
            "{path:?}"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(samples.join(format!("hairline-07_{stage}.jpg")), path).unwrap();
    }
    let (consent, copy) = step(&steps, "consent");
    sh(cwd, copy[0]);
    let quoted: Vec<&str> = consent.split('`').skip(1).step_by(2).collect();
    let file = consent
        .split("then in ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let case = std::fs::read_to_string(cwd.join(file)).unwrap();
    assert!(
        case.contains(quoted[0]),
        "the guide's edit is not in {file}: {case}"
    );
    std::fs::write(cwd.join(file), case.replacen(quoted[0], quoted[1], 1)).unwrap();

    let (_, check) = step(&steps, "would be published");
    let checked = text(&sh(cwd, check[0]));
    assert!(
        !checked.contains("consent") && !checked.contains("warning"),
        "{checked}"
    );
    let (_, batch) = step(&steps, "Make the gallery");
    let ran = text(&sh(cwd, batch[0]));
    assert!(ran.contains("1 published"), "{ran}");

    // `init --help` and the guide describe one layout: its other examples are the guide's.
    for example in &examples[1..] {
        assert!(
            guide.contains(example),
            "--help's {example:?} is not in the guide:\n{guide}"
        );
    }
    let gallery = cwd.join(batch[0].split("--out ").nth(1).unwrap().trim());
    assert_no_placeholder(&gallery);
}

/// Every page and record the gallery publishes: the clinic's name and a case page are there, no
/// example caption, and neither the example folder's nor the client folder's name.
fn assert_no_placeholder(gallery: &Path) {
    let mut banned = placeholders();
    assert!(banned.len() >= 5, "{banned:?}");
    banned.extend(["example".into(), "Example".into(), "client-07".into()]);
    let mut pages = 0;
    let mut stack = vec![gallery.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if path.is_dir() {
                stack.push(path);
            } else if ["html", "json", "xml", "txt"].contains(&ext) {
                let body = std::fs::read_to_string(&path).unwrap();
                pages += usize::from(ext == "html");
                for b in &banned {
                    assert!(!body.contains(b.as_str()), "{b:?} published in {path:?}");
                }
            }
        }
    }
    assert!(pages >= 2, "an index and a case page");
    let index = std::fs::read_to_string(gallery.join("index.html")).unwrap();
    assert!(
        index.contains("Hair Clinic Leeds"),
        "the clinic's name from init --clinic"
    );
}
