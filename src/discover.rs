//! Input folder -> cases: views, stages and case metadata, plus every file that could not be
//! placed and why (nothing is dropped silently).
//!
//! Conventions, all case-insensitive:
//! - flat pairs at the top level: `<case>_before.jpg` + `<case>_after.jpg` (`-` and space work as
//!   separators, `pre`/`post` as synonyms);
//! - a folder per case: `<case>/before.*`, `after.*`, `session-1.*`, …, optionally with a view
//!   prefix (`crown_before.jpg`), and an optional `<case>/case.toml`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::casefile::{self, CaseMeta};
use crate::dates::DateStyle;
use crate::error::Fatal;
use crate::ids::{IdKey, PublicIds, slug};
use crate::ingest::capture;

/// File extensions read as photos.
const PHOTO_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "tif", "tiff", "heic", "heif"];
/// The view of photos that carry no view prefix.
pub const DEFAULT_VIEW: &str = "main";

/// A stage of a series; the derived order is the series order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Before,
    Session(u32),
    After,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Before => f.write_str("before"),
            Stage::Session(n) => write!(f, "session-{n}"),
            Stage::After => f.write_str("after"),
        }
    }
}

/// One photo placed in a case.
#[derive(Clone, Debug)]
pub struct StageFile {
    pub stage: Stage,
    pub path: PathBuf,
    /// Path relative to the input folder, with `/` separators.
    pub rel: String,
}

#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    /// Sorted in series order; the first is the before photo.
    pub stages: Vec<StageFile>,
}

#[derive(Clone, Debug)]
pub struct Case {
    /// The public id: URL- and path-safe, unique in the inventory (see `ids`).
    pub id: String,
    /// Where it came from: the folder name or the flat-pair prefix. Private.
    pub source: String,
    /// Whether `id` came from the folder name (`[cases] ids = "folder"`) or `slug`, so a title
    /// may be made from it.
    pub named: bool,
    /// How dates may be published (`[gallery] dates`).
    pub dates: DateStyle,
    /// Its case.toml could not be read, so consent is unknown (and counts as refused).
    pub consent_unknown: bool,
    pub meta: CaseMeta,
    /// Its consent allows the gallery to show it today (`consent::decide`).
    pub consent: bool,
    /// Its consent allows the square and social images today (only with `consent`).
    pub social: bool,
    /// Where its consent stands today: status, days left, why not published.
    pub decision: crate::consent::Decision,
    pub views: Vec<View>,
    /// Problems that fail the whole case (bad case.toml, duplicate photo, id collision).
    pub errors: Vec<String>,
    /// How stages were inferred from capture time, per view, when no photo has a stage name.
    pub order_notes: Vec<String>,
}

impl Case {
    /// The public title: `case.toml`'s `title`; else the name the clinic chose to publish (the
    /// slug, or the folder name with `ids = "folder"`); else words from what is known of the
    /// case (`described`), never the opaque id, which means nothing to a visitor.
    #[must_use]
    pub fn title(&self) -> String {
        if let Some(t) = self
            .meta
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            return t.to_owned();
        }
        if self.meta.slug.is_some() {
            return view_name(&self.id);
        }
        if self.named {
            return self.source.clone();
        }
        self.described()
    }

    /// A title from the treatment, the named views and the sessions: "Scalp micropigmentation,
    /// crown, 3 sessions"; "Before and after" leads when no treatment is known.
    fn described(&self) -> String {
        let treatment = (self.meta.treatment.as_deref())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let mut parts = vec![treatment.unwrap_or("Before and after").to_owned()];
        let views: Vec<String> = (self.views.iter())
            .filter(|v| v.name != DEFAULT_VIEW)
            .map(|v| view_name(&v.name).to_lowercase())
            .collect();
        if !views.is_empty() {
            parts.push(views.join(" and "));
        }
        if let Some(n) = self.meta.sessions {
            parts.push(format!("{n} session{}", if n == 1 { "" } else { "s" }));
        }
        let mut title = parts.join(", ");
        if let Some(first) = title.chars().next() {
            title.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
        }
        title
    }

    /// `case.toml` as the output folder may show it: a date only as a month, and only with
    /// `[gallery] dates = "month"`.
    #[must_use]
    pub fn public_meta(&self) -> CaseMeta {
        let mut meta = self.meta.clone();
        // Hand decisions (when approved, what staff confirmed, with the photos' capture days)
        // and withheld photos' names and reasons stay in the input folder; the published
        // record of a hand alignment is each photo's `align` (method, month approved).
        meta.align.clear();
        meta.withhold.clear();
        // The consent record (scopes, dates, form) and staff's hold never leave the input folder.
        meta.consent = None;
        meta.keep_private = false;
        meta.date = meta
            .date
            .as_deref()
            .and_then(crate::dates::month)
            .filter(|_| self.dates == DateStyle::Month)
            .map(|(key, _)| key);
        meta
    }
}

/// The discovery rules from the configuration.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Consent of a case whose case.toml says nothing (and of flat pairs).
    pub default_consent: bool,
    pub ids: PublicIds,
    pub id_key: IdKey,
    pub dates: DateStyle,
    /// Read photos and case folders that link outside the input folder (`[cases]
    /// follow_symlinks`); otherwise their case fails.
    pub follow_symlinks: bool,
    /// The day consent is decided for (`consent::today`).
    pub today: crate::dates::Day,
}

impl Rules {
    /// The rules of `config` for the folder `input` (its id key is created on first use), and a
    /// note when that key cannot be kept.
    #[must_use]
    pub fn new(config: &crate::config::Config, input: &Path) -> (Rules, Option<String>) {
        let (id_key, note) = match config.cases.ids {
            PublicIds::Opaque => IdKey::load_or_create(input),
            PublicIds::Folder => (IdKey([0; 32]), None),
        };
        let rules = Rules {
            default_consent: config.cases.default_consent,
            ids: config.cases.ids,
            id_key,
            dates: config.gallery.dates,
            follow_symlinks: config.cases.follow_symlinks,
            // A bad BEFOREAFTER_TODAY refuses whole runs at their start (`pipeline::Start`).
            today: crate::consent::today().unwrap_or_else(|_| crate::dates::utc_day()),
        };
        (rules, note)
    }

    /// Rules with folder names as ids (tests, and clinics that name cases by number).
    #[must_use]
    pub fn folder_ids(default_consent: bool) -> Rules {
        Rules {
            default_consent,
            ids: PublicIds::Folder,
            id_key: IdKey([0; 32]),
            dates: DateStyle::Relative,
            follow_symlinks: false,
            today: crate::consent::today().unwrap_or_else(|_| crate::dates::utc_day()),
        }
    }
}

/// Why a file was not placed in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Hidden or system file (`.DS_Store`, `Thumbs.db`, `._*`): skipped on purpose.
    Skipped,
    /// Not a photo, or a name that says no stage.
    Unknown,
    /// A before without a later stage, or the other way round.
    Unpaired,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub path: String,
    pub kind: ProblemKind,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub cases: Vec<Case>,
    pub problems: Vec<Problem>,
}

/// Scan `input` (one level of case folders) into cases. `own` lists files the tool itself uses
/// (config, watermark logo), which are not photos of a case.
pub fn discover(input: &Path, rules: &Rules, own: &[PathBuf]) -> Result<Inventory, Fatal> {
    let entries = sorted_entries(input).map_err(|e| Fatal::Input {
        path: input.to_owned(),
        message: format!("{e}; give the folder that holds the clinic's photos"),
    })?;
    let mut inv = Inventory::default();
    let mut flat: BTreeMap<String, Vec<StageFile>> = BTreeMap::new();
    for (name, path, is_dir) in entries {
        if name == crate::manifest::HELD_DIR {
            // The tool's own records of cases it did not publish.
            continue;
        } else if is_hidden(&name) || is_partial(&name) {
            inv.problems.push(skipped(&name));
        } else if is_own(&path, own) || name == crate::config::CONFIG_NAME {
            continue;
        } else if is_notes(&name) {
            inv.problems.push(skipped_notes(&name));
        } else if is_dir {
            if let Some(case) = scan_case_dir(&name, &path, rules, &mut inv.problems) {
                inv.cases.push(case);
            }
        } else if !is_photo(&name) && !crate::ingest::formats::is_raw_name(&name) {
            inv.problems
                .push(unknown(&name, "not a photo or a case folder; ignored"));
        } else {
            match split_stage(stem(&name)) {
                Some((Some(case), stage)) => flat.entry(case.to_owned()).or_default().push(
                    StageFile {
                        stage,
                        path,
                        rel: name.clone(),
                    },
                ),
                Some((None, _)) => inv.problems.push(unknown(
                    &name,
                    "a photo at the top level needs a case name: rename it <case>_before or <case>_after",
                )),
                None => inv.problems.push(unknown(&name, NO_STAGE)),
            }
        }
    }
    flat_cases(flat, rules, &mut inv);
    mark_collisions(&mut inv.cases);
    if !rules.follow_symlinks {
        mark_outside_links(&mut inv.cases, input);
    }
    inv.cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(inv)
}

/// Cases of the flat pairs at the top level, one view each.
fn flat_cases(flat: BTreeMap<String, Vec<StageFile>>, rules: &Rules, inv: &mut Inventory) {
    for (source, files) in flat {
        let mut views = BTreeMap::new();
        views.insert(DEFAULT_VIEW.to_owned(), files);
        let mut errors = Vec::new();
        let views = build_views(views, &mut errors, &mut inv.problems);
        if !views.is_empty() || !errors.is_empty() {
            let meta = Some(CaseMeta::default());
            inv.cases
                .push(new_case(&source, meta, rules, views, errors));
        }
    }
}

/// A case with a photo that is, or lies in a folder that is, a link to somewhere outside
/// `input` fails, naming the photo: the photos staff manage are the folder's own, and a stray
/// link (to a home folder, another clinic's share) must not publish what nobody put there.
fn mark_outside_links(cases: &mut [Case], input: &Path) {
    let Ok(root) = std::fs::canonicalize(input) else {
        return;
    };
    for case in cases {
        let outside: Vec<String> = case
            .views
            .iter()
            .flat_map(|v| &v.stages)
            .filter(|s| std::fs::canonicalize(&s.path).is_ok_and(|p| !p.starts_with(&root)))
            .map(|s| s.rel.clone())
            .collect();
        for rel in outside {
            case.errors.push(format!(
                "{rel} is a link to a file outside the photo folder, so it is not read: copy \
                 the photo into the folder, or set follow_symlinks = true under [cases] in \
                 the settings if your photos are meant to be linked in"
            ));
        }
    }
}

const NO_STAGE: &str =
    "the name says no stage: end it with _before, _after or _session-N (pre/post work too)";

/// A case; `meta` is `None` when its case.toml could not be read, which never counts as consent.
fn new_case(
    source: &str,
    meta: Option<CaseMeta>,
    rules: &Rules,
    views: Vec<View>,
    mut errors: Vec<String>,
) -> Case {
    let consent_unknown = meta.is_none();
    let meta = meta.unwrap_or_default();
    let decision = crate::consent::decide(
        meta.consent.as_ref(),
        rules.default_consent,
        meta.keep_private,
        rules.today,
    );
    let (consent, social) = if consent_unknown {
        (false, false)
    } else {
        (decision.website, decision.social)
    };
    let (id, named) = match (&meta.slug, rules.ids) {
        (Some(s), _) => (s.clone(), true),
        (None, PublicIds::Folder) => (slug(source), true),
        (None, PublicIds::Opaque) => (rules.id_key.opaque_id(source), false),
    };
    if id.is_empty() {
        errors.push(format!(
            "case name {source:?} has no letters or digits to make a web address from: rename it"
        ));
    }
    Case {
        id,
        source: source.to_owned(),
        named,
        dates: rules.dates,
        consent_unknown,
        consent,
        social,
        decision,
        meta,
        views,
        errors,
        order_notes: Vec::new(),
    }
}

fn scan_case_dir(
    name: &str,
    dir: &Path,
    rules: &Rules,
    problems: &mut Vec<Problem>,
) -> Option<Case> {
    let mut errors = Vec::new();
    let mut meta = Some(CaseMeta::default());
    let mut views: BTreeMap<String, Vec<StageFile>> = BTreeMap::new();
    let mut unnamed = Vec::new();
    let entries = match sorted_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(format!("cannot read folder {name}/: {e}"));
            Vec::new()
        }
    };
    for (file, path, is_dir) in entries {
        let rel = format!("{name}/{file}");
        if is_hidden(&file) || is_partial(&file) {
            problems.push(skipped(&rel));
        } else if is_dir {
            problems.push(unknown(
                &rel,
                "folders inside a case folder are not read: move its photos up into the case folder",
            ));
        } else if file.eq_ignore_ascii_case("case.toml") {
            meta = read_case_toml(&path, &rel, &mut errors);
        } else if !is_photo(&file) && !crate::ingest::formats::is_raw_name(&file) {
            problems.push(unknown(&rel, "not a photo or case.toml; ignored"));
        } else if let Some((view, stage)) = split_stage(stem(&file)) {
            let view = view_id(view, name);
            views
                .entry(view)
                .or_default()
                .push(StageFile { stage, path, rel });
        } else {
            unnamed.push((file, path, rel));
        }
    }
    let unknown_name = withhold(meta.as_ref(), name, &mut views, &mut unnamed, problems);
    errors.extend(unknown_name);
    // Photos straight off a phone (IMG_0412.JPG): stages from capture time, only when no photo
    // of the folder has a stage name.
    let order_notes = if views.is_empty() {
        place_by_time(name, &mut unnamed, &mut views, &mut errors)
    } else {
        Vec::new()
    };
    for (_, _, rel) in unnamed {
        problems.push(unknown(&rel, NO_STAGE));
    }
    let views = build_views(views, &mut errors, problems);
    if views.is_empty() && errors.is_empty() {
        return None;
    }
    let mut case = new_case(name, meta, rules, views, errors);
    case.order_notes = order_notes;
    Some(case)
}

/// A photo whose name says no stage: (file name, path, path relative to INPUT).
type UnnamedFile = (String, PathBuf, String);

/// `[[withhold]]`: the photos case.toml holds back leave the case before stages are placed
/// (so the rest may still publish), each reported; a name that is no photo of the folder fails
/// the case (the error returned) rather than publish the photo it meant.
fn withhold(
    meta: Option<&CaseMeta>,
    name: &str,
    views: &mut BTreeMap<String, Vec<StageFile>>,
    unnamed: &mut Vec<UnnamedFile>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let meta = meta.filter(|m| !m.withhold.is_empty())?;
    let file_of = |rel: &str| rel.rsplit('/').next().unwrap_or(rel).to_owned();
    let placed = views.values().flatten().map(|s| file_of(&s.rel));
    let photos: Vec<String> = placed.chain(unnamed.iter().map(|u| u.0.clone())).collect();
    let names: Vec<&str> = photos.iter().map(String::as_str).collect();
    let error = (meta.check_withheld(&names).err()).map(|e| format!("{name}/case.toml: {e}"));
    let mut held_back = |rel: &str| {
        let out = meta.withholds(&file_of(rel));
        if out {
            problems.push(Problem {
                path: rel.to_owned(),
                kind: ProblemKind::Skipped,
                reason: "not published: [[withhold]] in its case.toml".into(),
            });
        }
        !out
    };
    for stages in views.values_mut() {
        stages.retain(|s| held_back(&s.rel));
    }
    views.retain(|_, stages| !stages.is_empty());
    unnamed.retain(|u| held_back(&u.2));
    error
}

/// `case.toml`'s captions; `None` (no consent) with an error when it cannot be read.
fn read_case_toml(path: &Path, rel: &str, errors: &mut Vec<String>) -> Option<CaseMeta> {
    casefile::read(path)
        .map_err(|e| errors.push(format!("{rel}: {e}")))
        .ok()
}

/// A view's id from a file-name prefix. Photos are often named after the patient inside the
/// patient's folder (`smith-07/smith-07_crown_before.jpg`): the folder's name is dropped from the
/// front of the prefix, so it never becomes a public view name.
fn view_id(prefix: Option<&str>, case_name: &str) -> String {
    let Some(prefix) = prefix else {
        return DEFAULT_VIEW.to_owned();
    };
    let (view, case) = (slug(prefix), slug(case_name));
    // Only a whole word: case `c` leaves view `crown` alone.
    let rest = match view.strip_prefix(&case) {
        Some(rest) if !case.is_empty() && (rest.is_empty() || rest.starts_with('-')) => {
            rest.trim_start_matches('-')
        }
        _ => &view,
    };
    if rest.is_empty() {
        DEFAULT_VIEW.to_owned()
    } else {
        rest.to_owned()
    }
}

/// A view's heading: "Crown", "Front hairline".
pub fn view_name(view: &str) -> String {
    let words = view.replace(['-', '_'], " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Keep views with a before and at least one later stage; report the rest as unpaired.
fn build_views(
    views: BTreeMap<String, Vec<StageFile>>,
    errors: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Vec<View> {
    let mut out = Vec::new();
    for (name, mut stages) in views {
        stages.sort_by(|a, b| a.stage.cmp(&b.stage).then(a.rel.cmp(&b.rel)));
        for pair in stages.windows(2) {
            if pair[0].stage == pair[1].stage {
                errors.push(format!(
                    "two photos for view {name}, stage {}: {} and {}; keep one",
                    pair[0].stage, pair[0].rel, pair[1].rel
                ));
            }
        }
        let has_before = stages[0].stage == Stage::Before;
        let has_later = stages.iter().any(|s| s.stage != Stage::Before);
        if has_before && has_later {
            out.push(View { name, stages });
        } else {
            let missing = if has_before {
                "no after or session photo to pair it with"
            } else {
                "no before photo to pair it with"
            };
            for s in stages {
                problems.push(Problem {
                    path: s.rel,
                    kind: ProblemKind::Unpaired,
                    reason: format!("{missing}; add the missing photo to publish it"),
                });
            }
        }
    }
    out
}

/// Case ids the gallery uses for its own folders (`assets/` holds the style sheet and script).
const RESERVED_IDS: [&str; 1] = ["assets"];

/// A case whose id is reserved fails; two inputs that make the same id both fail, each naming
/// the other.
fn mark_collisions(cases: &mut [Case]) {
    for c in cases
        .iter_mut()
        .filter(|c| RESERVED_IDS.contains(&c.id.as_str()))
    {
        c.errors.push(format!(
            "case id `{}` is the gallery's own folder for its style sheet and script: rename {}",
            c.id, c.source
        ));
    }
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        by_id.entry(c.id.clone()).or_default().push(i);
    }
    for indexes in by_id.values().filter(|v| v.len() > 1) {
        let names: Vec<String> = indexes.iter().map(|&i| cases[i].source.clone()).collect();
        for &i in indexes {
            cases[i].errors.push(format!(
                "case id `{}` would come from several inputs ({}): rename all but one",
                cases[i].id,
                names.join(", ")
            ));
        }
    }
}

/// `(name, path, is_dir)` sorted by name, so runs are deterministic.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follow symlinks for the type, so a linked case folder is read like a folder.
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        out.push((name, entry.path(), is_dir));
    }
    out.sort();
    Ok(out)
}

fn is_own(path: &Path, own: &[PathBuf]) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let this = canonical(path);
    this.is_some() && own.iter().any(|o| canonical(o) == this)
}

/// README and notes files people keep beside photos.
fn is_notes(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("readme") && (lower.ends_with(".md") || lower.ends_with(".txt"))
}

fn skipped_notes(rel: &str) -> Problem {
    Problem {
        path: rel.to_owned(),
        kind: ProblemKind::Skipped,
        reason: "notes file; skipped".into(),
    }
}

/// Hidden and system files that cameras, macOS and Windows leave behind.
pub fn is_hidden(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || lower == "thumbs.db" || lower == "desktop.ini"
}

/// Files still being downloaded or saved: browsers' `.crdownload`/`.part`, editors' `.tmp` and
/// `~` backups. They get their real name when complete.
pub fn is_partial(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".part", ".tmp", ".crdownload", "~"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// A name with a photo extension (whatever its stage).
pub fn is_photo(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn stem(name: &str) -> &str {
    Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
}

fn skipped(rel: &str) -> Problem {
    Problem {
        path: rel.to_owned(),
        kind: ProblemKind::Skipped,
        reason: "hidden, system or partial (still downloading) file; skipped".into(),
    }
}

fn unknown(rel: &str, reason: &str) -> Problem {
    Problem {
        path: rel.to_owned(),
        kind: ProblemKind::Unknown,
        reason: reason.to_owned(),
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '_' | '-' | ' ')
}

/// Split a file stem into an optional prefix (case or view) and a stage.
///
/// `crown_before` -> (`crown`, Before); `session-2` -> (None, Session(2));
/// `Hairline 07 POST` -> (`Hairline 07`, After). Case-insensitive.
pub fn split_stage(stem: &str) -> Option<(Option<&str>, Stage)> {
    let lower = stem.to_ascii_lowercase();
    let (stage, token_len) = stage_suffix(&lower)?;
    let rest = &stem[..stem.len() - token_len];
    if rest.is_empty() {
        return Some((None, stage));
    }
    let prefix = rest.strip_suffix(is_separator)?;
    let prefix = prefix.trim_end_matches(is_separator);
    if prefix.is_empty() {
        return Some((None, stage));
    }
    Some((Some(prefix), stage))
}

/// The stage word at the end of a lower-case stem, and its length in bytes.
fn stage_suffix(lower: &str) -> Option<(Stage, usize)> {
    for (word, stage) in [
        ("before", Stage::Before),
        ("pre", Stage::Before),
        ("after", Stage::After),
        ("post", Stage::After),
    ] {
        if lower.ends_with(word) {
            return Some((stage, word.len()));
        }
    }
    let digits = lower.len() - lower.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 3 {
        return None;
    }
    let n: u32 = lower[lower.len() - digits..].parse().ok()?;
    let head = &lower[..lower.len() - digits];
    let word = head.trim_end_matches(is_separator);
    if n == 0 || !word.ends_with("session") || head.len() - word.len() > 1 {
        return None;
    }
    Some((
        Stage::Session(n),
        lower.len() - (word.len() - "session".len()),
    ))
}

/// One camera-named photo of a case folder.
#[derive(Clone, Debug)]
struct Unnamed {
    path: PathBuf,
    rel: String,
}

/// Place the camera-named photos among `unnamed` (`(file name, path, rel)`, taken out of it) of
/// case folder `case`, whose photos carry no stage names, into `views` by capture time. Returns
/// what was inferred, per view, for `check`; a view that cannot be ordered adds to `errors`.
fn place_by_time(
    case: &str,
    unnamed: &mut Vec<(String, PathBuf, String)>,
    views: &mut BTreeMap<String, Vec<StageFile>>,
    errors: &mut Vec<String>,
) -> Vec<String> {
    let mut by_view: BTreeMap<String, Vec<Unnamed>> = BTreeMap::new();
    unnamed.retain(|(file, path, rel)| {
        let stem = Path::new(file).file_stem().and_then(|s| s.to_str());
        let Some(prefix) = stem.and_then(capture::camera_name) else {
            return true;
        };
        let view = view_id(prefix, case);
        let (path, rel) = (path.clone(), rel.clone());
        by_view.entry(view).or_default().push(Unnamed { path, rel });
        false
    });
    let mut notes = Vec::new();
    for (view, photos) in by_view {
        match order_view(&view, &photos) {
            Ok((stages, note)) => {
                notes.push(note);
                let files = photos.into_iter().zip(stages);
                views
                    .entry(view)
                    .or_default()
                    .extend(files.map(|(p, stage)| StageFile {
                        stage,
                        path: p.path,
                        rel: p.rel,
                    }));
            }
            Err(e) => errors.push(e),
        }
    }
    notes
}

/// Stages for the photos of one view, by capture time, and a line saying what was inferred and
/// why; or why it cannot be done (a photo without a capture time, two taken at the same moment).
fn order_view(view: &str, photos: &[Unnamed]) -> Result<(Vec<Stage>, String), String> {
    let mut timed = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        let t = capture::capture_time(&p.path).ok_or_else(|| {
            format!(
                "{} has no stage in its name and no EXIF capture date, so its place in the series is unknown: rename the photos of view {view} before, session-1, …, after",
                p.rel
            )
        })?;
        timed.push((t, i));
    }
    timed.sort_unstable();
    if let Some(w) = timed.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "{} and {} were taken at the same moment ({}), so which is earlier is unknown: rename the photos of view {view} before, session-1, …, after",
            photos[w[0].1].rel, photos[w[1].1].rel, w[0].0
        ));
    }
    let n = timed.len();
    let mut stages = vec![Stage::Before; n];
    let mut order = Vec::new();
    for (rank, &(t, i)) in timed.iter().enumerate() {
        stages[i] = match rank {
            0 => Stage::Before,
            r if r + 1 == n => Stage::After,
            r => Stage::Session(r as u32),
        };
        order.push(format!("{} = {} ({t})", stages[i], photos[i].rel));
    }
    let note = format!(
        "view {view}: no stage names, so stages follow EXIF capture time: {}",
        order.join(", ")
    );
    Ok((stages, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_table() {
        type Row = (&'static str, Option<(Option<&'static str>, Stage)>);
        let table: &[Row] = &[
            ("before", Some((None, Stage::Before))),
            ("AFTER", Some((None, Stage::After))),
            ("pre", Some((None, Stage::Before))),
            ("post", Some((None, Stage::After))),
            ("session-1", Some((None, Stage::Session(1)))),
            ("Session_12", Some((None, Stage::Session(12)))),
            ("session 2", Some((None, Stage::Session(2)))),
            ("session3", Some((None, Stage::Session(3)))),
            ("crown_before", Some((Some("crown"), Stage::Before))),
            ("crown-session-2", Some((Some("crown"), Stage::Session(2)))),
            ("case 7 post", Some((Some("case 7"), Stage::After))),
            ("smith_jr-after", Some((Some("smith_jr"), Stage::After))),
            (
                "Hairline-07_PRE",
                Some((Some("Hairline-07"), Stage::Before)),
            ),
            ("compre", None),
            ("shafter", None),
            ("session-0", None),
            ("session", None),
            ("img_1234", None),
            ("logo", None),
            ("before-photo", None),
        ];
        for (stem, want) in table {
            assert_eq!(split_stage(stem), *want, "{stem}");
        }
    }

    #[test]
    fn a_case_without_a_title_is_described_never_named_by_its_hash() {
        let mut case = Case {
            id: "case-644c32".into(),
            source: "hairline-07".into(),
            named: false,
            dates: DateStyle::Relative,
            consent_unknown: false,
            meta: CaseMeta::default(),
            consent: true,
            social: false,
            decision: crate::consent::Decision {
                status: crate::consent::Status::Given,
                website: true,
                social: false,
                days_left: None,
                why: None,
            },
            views: vec![View {
                name: DEFAULT_VIEW.into(),
                stages: Vec::new(),
            }],
            errors: Vec::new(),
            order_notes: Vec::new(),
        };
        assert_eq!(case.title(), "Before and after");
        case.meta.sessions = Some(1);
        assert_eq!(case.title(), "Before and after, 1 session");
        case.meta.treatment = Some("scalp micropigmentation".into());
        case.meta.sessions = Some(3);
        case.views[0].name = "crown".into();
        assert_eq!(case.title(), "Scalp micropigmentation, crown, 3 sessions");
        case.views.push(View {
            name: "front-hairline".into(),
            stages: Vec::new(),
        });
        assert_eq!(
            case.title(),
            "Scalp micropigmentation, crown and front hairline, 3 sessions"
        );
    }

    #[test]
    fn a_view_prefix_repeating_the_patients_folder_name_is_dropped() {
        assert_eq!(view_id(Some("smith-07_crown"), "smith-07"), "crown");
        assert_eq!(view_id(Some("Smith 07"), "smith-07"), DEFAULT_VIEW);
        assert_eq!(view_id(Some("crown"), "smith-07"), "crown");
        assert_eq!(view_id(Some("crown"), "c"), "crown");
        assert_eq!(view_id(None, "smith-07"), DEFAULT_VIEW);
    }

    #[test]
    fn stages_sort_in_series_order() {
        let mut v = vec![
            Stage::After,
            Stage::Session(10),
            Stage::Before,
            Stage::Session(2),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                Stage::Before,
                Stage::Session(2),
                Stage::Session(10),
                Stage::After
            ]
        );
    }

    #[test]
    fn hidden_names() {
        for n in [
            ".DS_Store",
            "Thumbs.db",
            "._before.jpg",
            ".hidden",
            "desktop.ini",
        ] {
            assert!(is_hidden(n), "{n}");
        }
        assert!(!is_hidden("before.jpg"));
        for n in [
            "after.jpg.part",
            "x.TMP",
            "before.jpg.crdownload",
            "after.jpg~",
        ] {
            assert!(is_partial(n), "{n}");
        }
        assert!(!is_partial("after.jpg"));
    }
}
