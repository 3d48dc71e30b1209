//! A case's details as a form: title, treatment, sessions, tags, notes, credit, order on the
//! gallery, featured, and the patient's consent (the `[consent]` record of
//! [`crate::consent`]: website, social images, signed, ends, withdrawn). Saved to the case's
//! `case.toml` by the review app's editor ([`crate::review::casetoml`]): `toml_edit`, so the
//! clinic's comments and any key the form does not show stay as written; checked as the
//! pipeline reads it; atomic; and refused when the file changed since the page was loaded.
//!
//! Consent is written only when staff change it: a file saying `consent = true` keeps saying
//! so until the form says something else, and then becomes a `[consent]` table (its `form`
//! key, where the signed form is kept, is left alone).

use minijinja::context;
use serde::Deserialize;
use serde_json::json;
use toml_edit::{Array, DocumentMut, Item, Table, Value};

use super::{State, case_folder, encode, json, refused};
use crate::consent::{Consent, Record, iso, parse_day};
use crate::http::{Request, Response};
use crate::review::casetoml::{self, EditError};

/// What the page sends: every field as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Details {
    pub case: String,
    pub stamp: String,
    pub title: String,
    pub treatment: String,
    pub sessions: String,
    pub tags: String,
    pub notes: String,
    pub credit: String,
    pub order: String,
    pub featured: bool,
    pub website: bool,
    pub social: bool,
    pub signed: String,
    pub expires: String,
    pub withdrawn: String,
}

pub fn page(state: &State, req: &Request) -> Response {
    let source = req.param("c").unwrap_or_default();
    let Some(dir) = case_folder(&state.input, &source) else {
        return Response::text(
            404,
            "This case has no folder of its own (its photos lie at the top of the photo \
             folder), so it has no details to fill in: put its photos in a folder of their own, \
             or go back to the board.\n",
        );
    };
    let path = dir.join(casetoml::FILE);
    let (meta, problem) = if path.exists() {
        match crate::casefile::read(&path) {
            Ok(m) => (m, None),
            Err(e) => (Default::default(), Some(format!("{}: {e}", path.display()))),
        }
    } else {
        (Default::default(), None)
    };
    let record = match &meta.consent {
        Some(Consent::Record(r)) => r.clone(),
        Some(Consent::Given(b)) => Record {
            website: *b,
            social: *b,
            ..Record::default()
        },
        None => Record::default(),
    };
    let day = |d: Option<crate::dates::Day>| d.map(iso).unwrap_or_default();
    let card = super::board::cards(state)
        .ok()
        .and_then(|cs| cs.into_iter().find(|c| c.source == source));
    let q = format!("c={}&t={}", encode(&source), state.token);
    let ctx = context! {
        source => &source,
        stamp => casetoml::stamp(&dir),
        problem => problem,
        meta => minijinja::Value::from(minijinja::value::Serde(&meta)),
        tags => meta.tags.join(", "),
        consent => context! {
            website => record.website, social => record.social,
            signed => day(record.signed), expires => day(record.expires),
            withdrawn => day(record.withdrawn),
        },
        card => minijinja::Value::from(minijinja::value::Serde(&card)),
        preview => format!("/preview?{q}"),
        token => &state.token,
    };
    super::render("details.html", ctx)
}

pub fn save(state: &State, req: &Request) -> Response {
    let Ok(details) = serde_json::from_slice::<Details>(&req.body) else {
        return refused(
            400,
            "the page sent something the studio does not understand: reload it",
        );
    };
    let Some(dir) = case_folder(&state.input, &details.case) else {
        return refused(404, "there is no case folder with that name any more");
    };
    if let Err(e) = check(&details) {
        return refused(400, &e);
    }
    match casetoml::edit(&dir, &details.stamp, |doc| apply(doc, &details)) {
        Ok(stamp) => json(
            200,
            &json!({
                "ok": true,
                "stamp": stamp,
                "message": "Saved. The gallery is being updated."
            }),
        ),
        Err(EditError::Changed(_)) => refused(
            409,
            "Not saved: this case was changed elsewhere (another window, or its case.toml) \
             since you opened this page. Reload the page to see those changes, then make yours again.",
        ),
        Err(e) => refused(400, &format!("Not saved: {e}")),
    }
}

/// The fields that must be numbers or dates are.
fn check(d: &Details) -> Result<(), String> {
    if !d.sessions.trim().is_empty() && d.sessions.trim().parse::<u32>().is_err() {
        return Err("Sessions must be a whole number, like 3.".into());
    }
    if !d.order.trim().is_empty() && d.order.trim().parse::<i32>().is_err() {
        return Err(
            "Place on the gallery must be a whole number, like 1 (lower comes first).".into(),
        );
    }
    let mut days = Vec::new();
    for (label, text) in [
        ("Signed", &d.signed),
        ("Consent ends", &d.expires),
        ("Withdrawn", &d.withdrawn),
    ] {
        let text = text.trim();
        if text.is_empty() {
            days.push(None);
        } else {
            let day = parse_day(text)
                .ok_or_else(|| format!("{label} must be a date, like 2026-03-14."))?;
            days.push(Some(day));
        }
    }
    if let (Some(s), Some(e)) = (days[0], days[1])
        && e < s
    {
        return Err("The consent cannot end before the day it was signed.".into());
    }
    Ok(())
}

/// Put `new` at `key` (removed when `None`), keeping the comment that went with the old value.
fn set(doc: &mut DocumentMut, key: &str, new: Option<Value>) {
    match (new, doc.get_mut(key).and_then(Item::as_value_mut)) {
        (None, _) => {
            doc.remove(key);
        }
        (Some(mut v), Some(old)) => {
            *v.decor_mut() = old.decor().clone();
            *old = v;
        }
        (Some(v), None) => {
            doc.insert(key, Item::Value(v));
        }
    }
}

fn text(s: &str) -> Option<Value> {
    let s = s.trim();
    (!s.is_empty()).then(|| Value::from(s))
}

/// The form's fields into the document.
fn apply(doc: &mut DocumentMut, d: &Details) -> Result<(), String> {
    // A file of comments only (a new case's) keeps them at its top, above the first key.
    let lead = doc.is_empty().then(|| {
        let text = doc.trailing().as_str().unwrap_or("").to_owned();
        doc.set_trailing("");
        text
    });
    fields(doc, d)?;
    if let Some(lead) = lead.filter(|l| !l.is_empty()) {
        lead_with(doc, &lead);
    }
    Ok(())
}

/// Put `text` (comments) before the document's first key or table.
fn lead_with(doc: &mut DocumentMut, text: &str) {
    let Some((mut key, item)) = doc.as_table_mut().iter_mut().next() else {
        doc.set_trailing(text);
        return;
    };
    match item {
        Item::Table(t) => t.decor_mut().set_prefix(text),
        _ => key.leaf_decor_mut().set_prefix(text),
    }
}

fn fields(doc: &mut DocumentMut, d: &Details) -> Result<(), String> {
    for (key, value) in [
        ("title", &d.title),
        ("treatment", &d.treatment),
        ("notes", &d.notes),
        ("credit", &d.credit),
    ] {
        set(doc, key, text(value));
    }
    let number = |s: &str| s.trim().parse::<i64>().ok().map(Value::from);
    set(doc, "sessions", number(&d.sessions));
    set(doc, "order", number(&d.order));
    set(doc, "featured", d.featured.then(|| Value::from(true)));
    let tags: Array = d
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    set(doc, "tags", (!tags.is_empty()).then(|| Value::Array(tags)));
    apply_consent(doc, d)
}

/// The consent as the form says it, written only if it differs from what the file says.
fn apply_consent(doc: &mut DocumentMut, d: &Details) -> Result<(), String> {
    let current = crate::casefile::parse(&doc.to_string())?.consent;
    let day = |s: &str| parse_day(s.trim());
    let wanted = Record {
        website: d.website,
        social: d.social,
        signed: day(&d.signed),
        expires: day(&d.expires),
        withdrawn: day(&d.withdrawn),
        form: match &current {
            Some(Consent::Record(r)) => r.form.clone(),
            _ => None,
        },
    };
    let same = match &current {
        None => wanted == Record::default(),
        Some(Consent::Given(b)) => {
            wanted
                == Record {
                    website: *b,
                    social: *b,
                    ..Record::default()
                }
        }
        Some(Consent::Record(r)) => *r == wanted,
    };
    if same {
        return Ok(());
    }
    let mut table = match doc.remove("consent") {
        Some(Item::Table(t)) => t,
        _ => Table::new(),
    };
    table.insert("website", toml_edit::value(wanted.website));
    table.insert("social", toml_edit::value(wanted.social));
    for (key, v) in [
        ("signed", wanted.signed),
        ("expires", wanted.expires),
        ("withdrawn", wanted.withdrawn),
    ] {
        match v {
            Some(v) => {
                table.insert(key, toml_edit::value(iso(v)));
            }
            None => {
                table.remove(key);
            }
        }
    }
    doc.insert("consent", Item::Table(table));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(f: impl FnOnce(&mut Details)) -> Details {
        let mut d = Details {
            title: "Crown".into(),
            ..Details::default()
        };
        f(&mut d);
        d
    }

    fn edited(text: &str, d: &Details) -> String {
        let mut doc: DocumentMut = text.parse().unwrap();
        apply(&mut doc, d).unwrap();
        let out = doc.to_string();
        crate::casefile::parse(&out).unwrap();
        out
    }

    #[test]
    fn the_form_keeps_comments_and_writes_consent_only_when_changed() {
        let text = "# Front desk: May visit\ntitle = \"Old\" # shown on the page\nconsent = true\n\n[[align]]\nstage = \"after\" # by hand\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]\n";
        let same = details(|d| (d.website, d.social) = (true, true));
        let out = edited(text, &same);
        assert!(
            out.starts_with(
                "# Front desk: May visit\ntitle = \"Crown\" # shown on the page\nconsent = true\n"
            ),
            "{out}"
        );
        assert!(out.contains("stage = \"after\" # by hand"), "{out}");
        let signed = details(|d| {
            (d.website, d.signed, d.tags, d.sessions) =
                (true, "2026-03-14".into(), "crown, smp".into(), "3".into());
        });
        let out = edited(text, &signed);
        let meta = crate::casefile::parse(&out).unwrap();
        let Some(Consent::Record(r)) = meta.consent else {
            panic!("{out}")
        };
        assert!(r.website && !r.social && r.signed.is_some(), "{out}");
        assert_eq!((meta.tags.len(), meta.sessions), (2, Some(3)));
        assert!(out.starts_with("# Front desk: May visit\n"), "{out}");
        let new = edited("# Made in the studio\n", &details(|_| {}));
        assert_eq!(new, "# Made in the studio\ntitle = \"Crown\"\n");
        let none = edited("title = \"x\"\n", &details(|_| {}));
        assert!(
            !none.contains("consent"),
            "no consent given, none written: {none}"
        );
    }

    #[test]
    fn numbers_and_dates_are_checked_in_words() {
        let e = check(&details(|d| d.sessions = "three".into())).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        let e = check(&details(|d| {
            (d.signed, d.expires) = ("2026-03-14".into(), "2026-01-01".into())
        }))
        .unwrap_err();
        assert!(e.contains("cannot end before"), "{e}");
        assert!(check(&details(|d| d.signed = "14/03/2026".into())).is_err());
    }
}
