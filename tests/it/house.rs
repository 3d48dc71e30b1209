//! The house rules that keep the code walkable, checked on the source itself: no module imports
//! one that imports it back (directly or round a longer loop), and no function outside tests is
//! longer than 60 lines. Run `cargo test --release --test it house::` to see a broken rule named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 60;

/// Every library module file: `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`.
pub(crate) fn modules() -> BTreeMap<String, PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "bin" {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The code of a file without comments, string and char literals, and `#[cfg(test)]` modules.
pub(crate) fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("r#\"") {
            let end = text[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            out.extend(text[i..end].chars().filter(|&c| c == '\n'));
            i = end;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if b[i] == b'\'' && char_literal(&b[i..]).is_some() {
            i += char_literal(&b[i..]).unwrap();
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    match out.find("#[cfg(test)]\nmod ") {
        Some(at) => out[..at].to_owned(),
        None => out,
    }
}

/// The length of a char literal starting at `b[0] == '\''` (not a lifetime).
fn char_literal(b: &[u8]) -> Option<usize> {
    if b.len() > 3 && b[1] == b'\\' {
        return b[3..].iter().position(|&c| c == b'\'').map(|p| p + 4);
    }
    let len = std::str::from_utf8(&b[1..b.len().min(6)])
        .ok()
        .or_else(|| std::str::from_utf8(&b[1..b.len().min(2)]).ok())?
        .chars()
        .next()?
        .len_utf8();
    (b.get(1 + len) == Some(&b'\'')).then_some(len + 2)
}

/// The modules `name`'s code refers to (`crate::a::b`, `super::x`, and its own child modules).
pub(crate) fn imports(name: &str, code: &str, all: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let parent = name.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = BTreeSet::new();
    let code = expand_groups(code);
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::"))
        .collect();
    for word in words {
        let (base, rest) = match word.split_once("::") {
            Some(("crate", rest)) => (String::new(), rest),
            Some(("super", rest)) => (parent.to_owned(), rest),
            Some(("self", rest)) => (name.to_owned(), rest),
            Some(_) => (name.to_owned(), word),
            None => continue,
        };
        let mut path = base;
        let mut best = None;
        for part in rest.split("::").filter(|p| !p.is_empty()) {
            if !path.is_empty() {
                path.push_str("::");
            }
            path.push_str(part);
            if all.contains_key(&path) {
                best = Some(path.clone());
            }
        }
        if let Some(m) = best.filter(|m| m != name) {
            found.insert(m);
        }
    }
    found
}

/// `use a::{b, c::{d, e}}` written out as `a::b a::c::d a::c::e`, so every path is one word.
fn expand_groups(code: &str) -> String {
    let mut code = code.to_owned();
    while let Some(open) = code.find("::{") {
        let start = code[..open]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let (mut depth, mut end) = (0, code.len());
        let mut items = vec![String::new()];
        for (i, c) in code[open + 2..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 1 => items.push(String::new()),
                _ => {}
            }
            if depth == 0 {
                end = open + 2 + i + 1;
                break;
            }
            if !(depth == 1 && (c == '{' || c == ',')) {
                items.last_mut().unwrap().push(c);
            }
        }
        let prefix = &code[start..open];
        let written: Vec<String> = items
            .iter()
            .map(|item| item.trim())
            .filter(|item| !item.is_empty())
            .map(|item| format!("{prefix}::{item}"))
            .collect();
        code.replace_range(start..end, &written.join(" "));
    }
    code
}

/// A loop of imports, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let all = modules();
    assert!(all.contains_key("pipeline::settings"), "{:?}", all.keys());
    let graph: BTreeMap<String, BTreeSet<String>> = all
        .iter()
        .map(|(name, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            (name.clone(), imports(name, &code(&text), &all))
        })
        .collect();
    // The checker sees the arrows it must: the pipeline's case runner imports its fitting.
    assert!(graph["pipeline::case"].contains("pipeline::fit"));
    assert!(graph["discover"].contains("ids"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn grouped_imports_are_written_out() {
    assert_eq!(
        expand_groups("use super::{checks, fit::{self, A}};"),
        "use super::checks super::fit::self super::fit::A;"
    );
}

#[test]
fn the_cycle_finder_finds_a_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

/// `(name, first line, lines)` of every function with a body.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(at) = code[search..].find("fn ") {
        let start = search + at;
        search = start + 3;
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = code[start + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (Some(open), semi) = (code[start..].find('{'), code[start..].find(';')) else {
            continue;
        };
        if name.is_empty() || semi.is_some_and(|s| s < open) {
            continue;
        }
        let mut depth = 0;
        let mut end = start + open;
        for (i, c) in code[start + open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = start + open + i;
                break;
            }
        }
        let first = code[..start].matches('\n').count() + 1;
        let last = code[..end].matches('\n').count() + 1;
        out.push((name, first, last - first + 1));
    }
    out
}

#[test]
fn no_function_outside_tests_is_over_60_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = modules().into_values().collect();
    for dir in [src.clone(), src.join("bin")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let top = ["lib.rs", "main.rs"].iter().any(|n| path.ends_with(n));
            if top || path.parent() == Some(&src.join("bin")) {
                files.push(path);
            }
        }
    }
    let mut long = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (name, line, lines) in functions(&code(&text)) {
            if lines > MAX_FUNCTION_LINES {
                long.push(format!("{}:{line} {name}: {lines} lines", path.display()));
            }
        }
    }
    assert!(files.len() > 40, "{} files", files.len());
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_measures_a_long_function() {
    let body = "    let x = 1;\n".repeat(70);
    let text = format!("fn short() {{ }}\n\nfn long() {{\n{body}}}\n// fn not_code() {{}}\n");
    let found = functions(&code(&text));
    assert_eq!(found, [("short".into(), 1, 1), ("long".into(), 3, 72)]);
}
