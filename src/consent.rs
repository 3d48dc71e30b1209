//! Marketing consent, as the clinic records it in a case's `case.toml`, and what it allows on a
//! given day. `consent = true|false` keeps its old meaning (every scope, no dates); the full
//! record is a `[consent]` table:
//!
//! ```toml
//! [consent]
//! website = true            # the gallery
//! social = false            # the square and social-media images made for posting
//! signed = "2026-03-14"     # private
//! expires = "2029-03-14"    # or absent: no end date
//! withdrawn = "2026-09-01"  # private; set when the patient withdraws
//! form = "forms/smith-07.pdf"  # private: where the signed form is kept, relative to the case
//! ```
//!
//! A case is published only while today is within `signed ..= expires` and it is not withdrawn.
//! A `withdrawn` date takes effect at once whatever day it names: a patient who withdraws is
//! never held to a later date. Nothing of the record reaches the output folder: the public page
//! only says "Published with the patient's consent". "Today" is the computer's UTC date, or
//! [`TODAY_ENV`] (a date, or a file holding one, read afresh each time: watch mode's clock).

use serde::{Deserialize, Deserializer, Serialize};

use crate::dates::Day;

/// Sets "today" for consent decisions: `2026-03-14`, or the path of a file holding such a date
/// (read on every decision, so a running watcher sees the day change). For tests, and for a
/// clinic that wants to see what a later day would publish.
pub const TODAY_ENV: &str = "BEFOREAFTER_TODAY";

/// The keys a `[consent]` table may hold.
const KEYS: &str = "website, social, signed, expires, withdrawn, form";

/// `consent` in case.toml: the old yes/no, or the full record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Consent {
    Given(bool),
    Record(Record),
}

/// `[consent]`: the scopes the patient agreed to and the dates of the agreement. Private.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Record {
    pub website: bool,
    pub social: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

impl<'de> Deserialize<'de> for Consent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Consent, D::Error> {
        let value = toml::Value::deserialize(d)?;
        from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// `consent = true`, or a `[consent]` table checked key by key.
fn from_value(value: &toml::Value) -> Result<Consent, String> {
    let table = match value {
        toml::Value::Boolean(b) => return Ok(Consent::Given(*b)),
        toml::Value::Table(t) => t,
        other => {
            return Err(format!(
                "[consent] cannot be read: consent = {other} is neither true, false nor a \
                 [consent] table with the keys {KEYS}"
            ));
        }
    };
    let mut r = Record::default();
    for (key, v) in table {
        match key.as_str() {
            "website" => r.website = flag(key, v)?,
            "social" => r.social = flag(key, v)?,
            "signed" => r.signed = Some(day(key, v)?),
            "expires" => r.expires = Some(day(key, v)?),
            "withdrawn" => r.withdrawn = Some(day(key, v)?),
            "form" => match v {
                toml::Value::String(s) if !s.trim().is_empty() => r.form = Some(s.clone()),
                _ => {
                    return Err(format!(
                        "[consent] form = {v} is not a file path: write it as form = \"forms/smith-07.pdf\" (relative to the case folder)"
                    ));
                }
            },
            other => {
                return Err(format!(
                    "[consent] has no key {other:?}; its keys are {KEYS}. Correct it: nothing of \
                     the case is published until then"
                ));
            }
        }
    }
    if let (Some(s), Some(e)) = (r.signed, r.expires)
        && e < s
    {
        return Err(format!(
            "[consent] expires = \"{}\" is before signed = \"{}\": correct the dates; nothing of \
             the case is published until then",
            iso(e),
            iso(s)
        ));
    }
    Ok(Consent::Record(r))
}

fn flag(key: &str, v: &toml::Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("[consent] {key} = {v} is not true or false"))
}

/// A date as `"2026-03-14"` or a TOML date (`2026-03-14` unquoted).
fn day(key: &str, v: &toml::Value) -> Result<Day, String> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => other.to_string(),
    };
    parse_day(&text).ok_or_else(|| {
        format!(
            "[consent] {key} = {v} is not a date: write it as {key} = \"2026-03-14\" (year, \
             month, day); nothing of the case is published until then"
        )
    })
}

pub use crate::dates::{iso, parse_day};

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&iso(*self))
    }
}

/// Today: [`TODAY_ENV`] when set (a date, or a file holding one), else the UTC date.
pub fn today() -> Result<Day, String> {
    let Ok(value) = std::env::var(TODAY_ENV) else {
        return Ok(crate::dates::utc_day());
    };
    if let Some(d) = parse_day(&value) {
        return Ok(d);
    }
    let text = std::fs::read_to_string(&value).map_err(|e| {
        format!("{TODAY_ENV}={value}: neither a date (2026-03-14) nor a readable file ({e}); fix or unset it")
    })?;
    parse_day(&text).ok_or_else(|| {
        format!("{TODAY_ENV}: the file {value} does not hold a date such as 2026-03-14; fix it")
    })
}

/// The `expires` day of a consent record, if it has one.
#[must_use]
pub fn expires(consent: Option<&Consent>) -> Option<Day> {
    match consent {
        Some(Consent::Record(r)) => r.expires,
        _ => None,
    }
}

/// Where a case stands with its consent on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Consent covers the website today.
    Given,
    /// No consent recorded (or not for the website), or signed for a later day.
    Waiting,
    Expired,
    Withdrawn,
    /// Staff's "Keep private" (`keep_private = true`), whatever the consent.
    Held,
}

impl Status {
    /// For the register and logs.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Status::Given => "consent given",
            Status::Waiting => "waiting for consent",
            Status::Expired => "expired",
            Status::Withdrawn => "withdrawn",
            Status::Held => "held",
        }
    }
}

/// What a case's consent allows today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    /// The gallery may show the case.
    pub website: bool,
    /// The square and social images may be made (only with `website` too).
    pub social: bool,
    /// Days left until `expires` (0 on its last day), while consent is given.
    pub days_left: Option<i64>,
    /// Why it is not published, for the run's report.
    pub why: Option<String>,
}

/// The decision for `consent` (absent: the folder's `default_consent`) on `today`; staff's
/// `keep_private` holds the case whatever the consent says.
#[must_use]
pub fn decide(
    consent: Option<&Consent>,
    default: bool,
    keep_private: bool,
    today: Day,
) -> Decision {
    let (status, why, record) = match consent {
        _ if keep_private => (Status::Held, Some("kept private by staff (keep_private = true in case.toml; \"Publish again\" in the review app removes it)".to_owned()), None),
        None if default => (Status::Given, None, None),
        None => (Status::Waiting, Some("no recorded consent: add consent = true or a [consent] record to its case.toml to publish it".to_owned()), None),
        Some(Consent::Given(true)) => (Status::Given, None, None),
        Some(Consent::Given(false)) => (Status::Waiting, Some("no marketing consent (consent = false in case.toml): nothing published".to_owned()), None),
        Some(Consent::Record(r)) => {
            let (status, why) = record_status(r, today);
            (status, why, Some(r))
        }
    };
    let website = status == Status::Given;
    Decision {
        status,
        website,
        social: website && record.is_none_or(|r| r.social),
        days_left: record
            .and_then(|r| r.expires)
            .filter(|_| website)
            .map(|e| e.days_since(&today)),
        why,
    }
}

fn record_status(r: &Record, today: Day) -> (Status, Option<String>) {
    if r.withdrawn.is_some() {
        return (
            Status::Withdrawn,
            Some(
                "consent withdrawn ([consent] withdrawn in case.toml): every public copy removed"
                    .into(),
            ),
        );
    }
    if let Some(e) = r.expires.filter(|e| *e < today) {
        return (
            Status::Expired,
            Some(format!(
                "consent expired on {}: record a new consent ([consent] signed and expires) to publish it again",
                iso(e)
            )),
        );
    }
    if let Some(s) = r.signed.filter(|s| *s > today) {
        return (
            Status::Waiting,
            Some(format!(
                "consent signed for {}: published from that day",
                iso(s)
            )),
        );
    }
    if !r.website {
        return (
            Status::Waiting,
            Some(
                "no consent for the website ([consent] website = false): nothing published".into(),
            ),
        );
    }
    (Status::Given, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Result<Consent, String> {
        let v: toml::Value = toml::from_str(text).unwrap();
        from_value(&v["consent"])
    }

    #[test]
    fn records_are_checked_key_by_key() {
        let ok = record("[consent]\nwebsite = true\nsigned = 2026-03-14\nexpires = \"2029-03-14\"\nform = \"f.pdf\"\n").unwrap();
        let Consent::Record(r) = ok else { panic!() };
        assert_eq!((r.website, r.social), (true, false));
        assert_eq!(r.signed, Day::new(2026, 3, 14));
        for (bad, says) in [
            ("[consent]\nwebsit = true\n", "no key \"websit\""),
            ("[consent]\nsigned = \"14/03/2026\"\n", "not a date"),
            ("[consent]\nexpires = \"2026-02-30\"\n", "not a date"),
            (
                "[consent]\nsigned = \"2026-03-14\"\nexpires = \"2026-03-13\"\n",
                "before signed",
            ),
            ("consent = \"yes\"\n", "neither true"),
        ] {
            let e = record(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn consent_holds_within_its_dates_and_scope() {
        let d = |t: &str| parse_day(t).unwrap();
        let r = |t: &str| record(t).unwrap();
        let full = r(
            "[consent]\nwebsite = true\nsocial = true\nsigned = \"2026-03-14\"\nexpires = \"2026-06-01\"\n",
        );
        let on = |c: &Consent, day: &str| decide(Some(c), false, false, d(day));
        assert_eq!(on(&full, "2026-03-13").status, Status::Waiting);
        let last = on(&full, "2026-06-01");
        assert!(last.website && last.social && last.days_left == Some(0));
        assert_eq!(on(&full, "2026-06-02").status, Status::Expired);
        let site = r("[consent]\nwebsite = true\n");
        assert!(on(&site, "2030-01-01").website && !on(&site, "2030-01-01").social);
        let gone = r("[consent]\nwebsite = true\nwithdrawn = \"2099-01-01\"\n");
        assert_eq!(on(&gone, "2026-01-01").status, Status::Withdrawn);
        assert!(decide(Some(&Consent::Given(true)), false, false, d("2026-01-01")).social);
        assert!(decide(None, true, false, d("2026-01-01")).website);
        assert_eq!(
            decide(Some(&full), false, true, d("2026-04-01")).status,
            Status::Held
        );
    }
}
