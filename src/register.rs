//! `beforeafter consent`: the consent register. For every case: its public id, its folder
//! (private), the scopes and dates of its consent (days left until it expires), where it stands
//! today (published, waiting for consent, expired, withdrawn, held) and what of it is public now
//! (pages and files, from the gallery's manifest). It answers a patient's "which photos of mine
//! are public, since when, and under what consent?". For the clinic only: printed, or written
//! to a file it names, never into the output folder.

use std::path::Path;

use crate::cli::ConsentArgs;
use crate::config::Config;
use crate::consent::{Consent, Status, iso};
use crate::discover::{self, Case};
use crate::error::{ExitCode, Fatal};
use crate::manifest::{CaseEntry, Manifest};
use crate::render::outputs::SHARE_KINDS;

/// One line of the register.
pub struct Row {
    pub id: String,
    pub folder: String,
    pub website: bool,
    pub social: bool,
    pub signed: String,
    pub expires: String,
    pub days_left: Option<i64>,
    pub status: String,
    /// Public pages (the case's page) and files now.
    pub pages: usize,
    pub files: usize,
    /// Square and social images offered on the public page now.
    pub social_public: usize,
}

const HEADER: [&str; 11] = [
    "public_id",
    "folder",
    "website",
    "social",
    "signed",
    "expires",
    "days_left",
    "status",
    "public_pages",
    "public_files",
    "public_social_images",
];

pub fn run(args: &ConsentArgs) -> Result<ExitCode, Fatal> {
    let input = args.input.as_path();
    let config = Config::for_input(input, args.config.as_deref())?;
    let today = crate::consent::today().map_err(Fatal::Other)?;
    if let (Some(to), Some(out)) = (&args.to, &args.out) {
        refuse_inside(to, out)?;
    }
    let (rules, _) = discover::Rules::new(&config, input);
    let inventory = discover::discover(input, &rules, &config.own_files())?;
    let records = match &args.out {
        Some(out) => Manifest::load(out, input).0,
        None => Manifest::load_private(input),
    };
    let by_id = records.by_id();
    let rows: Vec<Row> = (inventory.cases.iter())
        .map(|c| row(c, by_id.get(c.id.as_str()).copied()))
        .collect();
    let text = if args.csv {
        csv(&rows)
    } else {
        table(&rows, &iso(today))
    };
    match &args.to {
        Some(to) => std::fs::write(to, text).map_err(|e| Fatal::Output {
            path: to.to_owned(),
            cause: e,
        })?,
        None => print!("{text}"),
    }
    Ok(ExitCode::Done)
}

/// The register is private: never written into the gallery that is uploaded.
fn refuse_inside(to: &Path, out: &Path) -> Result<(), Fatal> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    if abs(to).starts_with(abs(out)) {
        return Err(Fatal::Other(format!(
            "--to {}: the register names patients' folders, so it is never written into the \
             gallery ({}), which is uploaded as it is; give a path outside it",
            to.display(),
            out.display()
        )));
    }
    Ok(())
}

/// A case's line: its consent, and what `entry` (the gallery's record of it) publishes.
#[must_use]
pub fn row(c: &Case, entry: Option<&CaseEntry>) -> Row {
    let published = entry.filter(|e| e.published);
    let (website, social, signed, expires) = match c.meta.consent.as_ref() {
        Some(Consent::Record(r)) => (
            r.website,
            r.social,
            r.signed.map(iso).unwrap_or_default(),
            r.expires.map(iso).unwrap_or_default(),
        ),
        Some(Consent::Given(g)) => (*g, *g, String::new(), String::new()),
        None => (
            c.decision.website,
            c.decision.social,
            String::new(),
            String::new(),
        ),
    };
    let status = match (c.decision.status, published, entry) {
        _ if c.consent_unknown => "held (case.toml cannot be read)".to_owned(),
        (Status::Given, Some(_), _) => "published".to_owned(),
        (Status::Given, None, Some(e)) => format!("held ({:?})", e.status).to_lowercase(),
        (Status::Given, None, None) => "not published yet (run batch)".to_owned(),
        (Status::Held, ..) => "held (kept private by staff)".to_owned(),
        (s, ..) => s.words().to_owned(),
    };
    let files = published.map_or(0, |e| e.output_paths().count());
    let social_public = published.map_or(0, |e| {
        (e.views.iter().flat_map(|v| &v.composites))
            .filter(|o| o.kind.as_deref().is_some_and(|k| SHARE_KINDS.contains(&k)))
            .count()
    });
    Row {
        id: c.id.clone(),
        folder: c.source.clone(),
        website,
        social,
        signed,
        expires,
        days_left: c.decision.days_left,
        status,
        pages: usize::from(published.is_some()),
        files,
        social_public,
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn fields(r: &Row) -> [String; 11] {
    [
        r.id.clone(),
        r.folder.clone(),
        yes(r.website).into(),
        yes(r.social).into(),
        r.signed.clone(),
        r.expires.clone(),
        r.days_left.map(|d| d.to_string()).unwrap_or_default(),
        r.status.clone(),
        r.pages.to_string(),
        r.files.to_string(),
        r.social_public.to_string(),
    ]
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
#[must_use]
pub fn csv(rows: &[Row]) -> String {
    let quote = |f: &str| {
        if f.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_owned()
        }
    };
    let mut text = HEADER.join(",") + "\r\n";
    for r in rows {
        let line: Vec<String> = fields(r).iter().map(|f| quote(f)).collect();
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    text
}

/// The register as a table for the terminal, columns aligned.
fn table(rows: &[Row], today: &str) -> String {
    let head = [
        "case",
        "folder",
        "website",
        "social",
        "signed",
        "expires",
        "days left",
        "status",
        "pages",
        "files",
        "social public",
    ];
    let cells: Vec<[String; 11]> = rows.iter().map(fields).collect();
    let width = |i: usize| {
        (cells.iter().map(|c| c[i].chars().count()))
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..11).map(width).collect();
    let line = |f: &[String]| {
        let padded: Vec<String> = (f.iter().zip(&widths))
            .map(|(f, w)| format!("{f:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut text = format!(
        "Consent register, {today} ({} case(s); the folder column is private)\n",
        rows.len()
    );
    text.push_str(&line(&head.map(String::from)));
    for c in &cells {
        text.push_str(&line(c));
    }
    text
}
