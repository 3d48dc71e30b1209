//! The documents stay true to the tree (issue 37): ARCHITECTURE.md's module table names every
//! module in `src/` and nothing else, its Layers line is the order the code imports in, README
//! stays short and reaches every document in `docs/`, its test command is the one `.ci/run`
//! runs, and every local link and `#anchor` in README, ARCHITECTURE.md and `docs/` leads
//! somewhere. Each check is also run on a planted mistake, so it is seen to fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::house;

/// Documents other work adds to `docs/` (the publishing, light-model and decoding notes), which
/// README and the docs already link to: a link to one may lead nowhere until it is merged.
const ADDED_ELSEWHERE: [&str; 3] = [
    "docs/publishing.md",
    "docs/light-model.md",
    "docs/decoding.md",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `docs/*.md`, as paths relative to the repository.
fn docs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    out.sort();
    out
}

/// What `src/` holds, by name: `cli.rs` is `cli`, `align/` is `align`, `ingest.rs` with
/// `ingest/` is one `ingest`.
fn src_entries() -> BTreeSet<String> {
    std::fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The names in the first column of the table under `## Modules`: "`main.rs`, `lib.rs`" is
/// `main` and `lib`, "`config/`" is `config`, "`bin/`" is `bin`.
fn table_names(architecture: &str) -> Vec<String> {
    let start = architecture
        .find("\n## Modules")
        .expect("a `## Modules` section");
    let section = &architecture[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut names = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cell = row[1..].split(" |").next().unwrap();
        for name in cell.split('`').skip(1).step_by(2) {
            let name = name.trim_end_matches('/').trim_end_matches(".rs");
            names.push(name.split('/').next().unwrap().to_owned());
        }
    }
    names
}

/// Every way the table and `src/` disagree, in words.
fn table_mismatches(names: &[String], src: &BTreeSet<String>) -> Vec<String> {
    let table: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut out: Vec<String> = src
        .iter()
        .filter(|s| !table.contains(s.as_str()))
        .map(|s| format!("src/{s} has no row in ARCHITECTURE.md's module table"))
        .collect();
    out.extend(
        table.iter().filter(|t| !src.contains(**t)).map(|t| {
            format!("ARCHITECTURE.md's module table names `{t}`, which src/ does not hold")
        }),
    );
    out
}

#[test]
fn the_module_table_names_every_module_in_src_and_no_other() {
    let names = table_names(&read("ARCHITECTURE.md"));
    let src = src_entries();
    assert!(src.contains("pipeline") && src.contains("lib"), "{src:?}");
    let wrong = table_mismatches(&names, &src);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_check_names_a_module_missing_from_either_side() {
    let text = "# A\n\n## Modules\n\n| module | what |\n| --- | --- |\n| `a.rs`, `b/` | x |\n\
                | `gone.rs` | y |\n\n## Decisions\n\n| `not_a_row.rs` | z |\n";
    let names = table_names(text);
    assert_eq!(names, ["a", "b", "gone"]);
    let src: BTreeSet<String> = ["a", "b", "new"].map(String::from).into();
    assert_eq!(
        table_mismatches(&names, &src),
        [
            "src/new has no row in ARCHITECTURE.md's module table",
            "ARCHITECTURE.md's module table names `gone`, which src/ does not hold",
        ]
    );
}

/// The Layers paragraph's chain, top first: "…): `a` → `b`, `c` → `d`. The last…".
fn layers(architecture: &str) -> Vec<Vec<String>> {
    let start = architecture
        .find("\nLayers, top to bottom")
        .expect("a paragraph starting \"Layers, top to bottom\"");
    let para = &architecture[start + 1..];
    let para = para[..para.find("\n\n").unwrap_or(para.len())].replace('\n', " ");
    let chain = &para[para.find("): ").expect("the chain after \"): \"") + 3..];
    let chain = &chain[..chain.find(". ").unwrap_or(chain.len())];
    chain
        .split('→')
        .map(|layer| {
            let names = layer.split('`').skip(1).step_by(2);
            names.map(str::to_owned).collect()
        })
        .collect()
}

/// Each top-level module's imports of other top-level modules (from every file inside it).
fn top_level_imports() -> BTreeMap<String, BTreeSet<String>> {
    let all = house::modules();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, path) in &all {
        let top = name.split("::").next().unwrap().to_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let found = house::imports(name, &house::code(&text), &all);
        let entry = out.entry(top.clone()).or_default();
        for m in found {
            let to = m.split("::").next().unwrap().to_owned();
            if to != top {
                entry.insert(to);
            }
        }
    }
    out
}

/// Every import that does not run down the layers, and every module the layers leave out or
/// name wrongly.
fn layer_breaches(
    layers: &[Vec<String>],
    imports: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let at: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (m.as_str(), i)))
        .collect();
    let mut out = Vec::new();
    for (module, to) in imports {
        let Some(&mine) = at.get(module.as_str()) else {
            out.push(format!("`{module}` is in no layer of ARCHITECTURE.md"));
            continue;
        };
        for t in to {
            if at.get(t.as_str()).is_some_and(|&theirs| theirs <= mine) {
                out.push(format!(
                    "`{module}` imports `{t}`, which is not in a layer below it"
                ));
            }
        }
    }
    let unknown = at.keys().filter(|m| !imports.contains_key(**m));
    out.extend(unknown.map(|m| format!("the layers name `{m}`, which is not a module")));
    out
}

#[test]
fn every_module_imports_only_modules_in_the_layers_below_it() {
    let layers = layers(&read("ARCHITECTURE.md"));
    assert!(layers.len() >= 5, "{layers:?}");
    let imports = top_level_imports();
    // The reader sees the arrows it must: the pipeline imports the renderer.
    assert!(imports["pipeline"].contains("render"), "{imports:?}");
    let wrong = layer_breaches(&layers, &imports);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_layer_check_names_an_upward_import_a_sideways_one_and_a_stray_module() {
    let text =
        "x\nLayers, top to bottom (checked): `a` → `b`, `c` →\n`d`. The last imports nothing.\n";
    let layers = layers(text);
    assert_eq!(layers, [vec!["a"], vec!["b", "c"], vec!["d"]]);
    let imports: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b", "d"]),
        ("b", vec!["c"]),
        ("c", vec![]),
        ("d", vec!["a"]),
        ("e", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        layer_breaches(&layers, &imports),
        [
            "`b` imports `c`, which is not in a layer below it",
            "`d` imports `a`, which is not in a layer below it",
            "`e` is in no layer of ARCHITECTURE.md",
        ]
    );
}

#[test]
fn readme_is_short_reaches_every_document_and_runs_the_ci_test_command() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines < 200,
        "README.md is {lines} lines: move detail into docs/"
    );
    for doc in docs().iter().chain(["ARCHITECTURE.md".to_owned()].iter()) {
        assert!(
            readme.contains(&format!("]({doc}")),
            "README.md does not link {doc}"
        );
    }
    for added in ADDED_ELSEWHERE {
        assert!(readme.contains(&format!("]({added})")), "{added}");
    }
    // The two commands, as a newcomer copies them; `.ci/run` runs the test command as written.
    for command in [
        "cargo run --release -- batch samples --out gallery",
        "cargo test --release",
    ] {
        assert!(
            readme.contains(&format!("```sh\n{command}\n```")),
            "{command}"
        );
    }
    let ci = read(".ci/run");
    assert!(ci.lines().any(|l| l == "cargo test --release"), ".ci/run");
}

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_` kept, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of `](target)` links and images, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](").filter(|_| !fenced) {
            let tail = &rest[at + 2..];
            let end = tail.find(')').unwrap_or(tail.len());
            out.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    out
}

/// Every local link of `file` (relative to the repository) that leads nowhere.
fn broken_links(file: &str, text: &str, read: &dyn Fn(&Path) -> Option<String>) -> Vec<String> {
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for target in link_targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
        let rel = if path.is_empty() {
            PathBuf::from(file)
        } else {
            normal(&dir.join(path))
        };
        let pending = ADDED_ELSEWHERE.iter().any(|a| rel == Path::new(a));
        let Some(body) = read(&rel) else {
            if !pending {
                out.push(format!("{file}: {target}: no such file"));
            }
            continue;
        };
        let is_md = rel.extension().is_some_and(|e| e == "md");
        if !fragment.is_empty() && is_md && !anchors(&body).contains(fragment) {
            out.push(format!("{file}: {target}: no heading with that anchor"));
        }
    }
    out
}

/// `docs/../README.md` as `README.md`.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_local_link_and_anchor_in_the_documents_leads_somewhere() {
    let files: Vec<String> = ["README.md".to_owned(), "ARCHITECTURE.md".to_owned()]
        .into_iter()
        .chain(docs())
        .collect();
    assert!(files.len() >= 8, "{files:?}");
    let read_any = |p: &Path| {
        let full = root().join(p);
        full.exists()
            .then(|| std::fs::read_to_string(&full).unwrap_or_default())
    };
    let mut broken = Vec::new();
    for file in &files {
        broken.extend(broken_links(file, &read(file), &read_any));
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_link_check_names_a_missing_file_and_a_missing_anchor() {
    let files: BTreeMap<PathBuf, String> = [
        ("README.md", "# Top\n"),
        (
            "docs/a.md",
            "# A title\n\n## Captions and consent: `case.toml`\n\n```sh\n# not a heading\n```\n",
        ),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
    .collect();
    let read = |p: &Path| files.get(p).cloned();
    let text = "[ok](a.md#captions-and-consent-casetoml) [up](../README.md#top) ![img](gone.png)\n\
                [bad](a.md#not-a-heading) [self](#a-title) [web](https://example.com/x#y)\n\
                [later](publishing.md)\n```\n[in code](nowhere.md)\n```\n";
    assert_eq!(
        broken_links("docs/a.md", text, &read),
        [
            "docs/a.md: gone.png: no such file",
            "docs/a.md: a.md#not-a-heading: no heading with that anchor",
        ]
    );
}
