//! Dates, kept private: a photo's capture day is read from EXIF for the checks that need it
//! (stages out of order, time since the before photo), and only an interval ("10 weeks") or,
//! when the clinic asks for it, a month and year ever leaves the input folder. Under HIPAA's
//! Safe Harbor rule every date element other than the year identifies a patient.

use serde::{Deserialize, Serialize};

/// Short month names: a stage's label must fit beside the other one on a 320 px phone.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Month names for staff, who read a whole date.
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Days as staff say them, earliest first, each once: "3 March 2026 and 14 June 2026"; `None`
/// without any. Private: for the review app and case.toml, never the output folder.
#[must_use]
pub fn spoken_days(days: &[Day]) -> Option<String> {
    let mut days = days.to_vec();
    days.sort();
    days.dedup();
    let words: Vec<String> = days.iter().map(Day::spoken).collect();
    let (last, rest) = words.split_last()?;
    Some(if rest.is_empty() {
        last.clone()
    } else {
        format!("{} and {last}", rest.join(", "))
    })
}

/// A capture day from EXIF. Never serialized into the output folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Day {
    /// A valid calendar day, or `None`.
    #[must_use]
    pub fn new(year: u16, month: u8, day: u8) -> Option<Day> {
        let d = Day { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(d)
    }

    /// "YYYY-MM".
    #[must_use]
    pub fn month_key(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// "3 March 2026": for staff on this computer only (the review app, case.toml).
    #[must_use]
    pub fn spoken(&self) -> String {
        let month = LONG_MONTHS[usize::from(self.month.clamp(1, 12) - 1)];
        format!("{} {month} {}", self.day, self.year)
    }

    /// Days since 1970-01-01 (proleptic Gregorian; Howard Hinnant's `days_from_civil`).
    fn ordinal(&self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Whole days from `earlier` to `self` (negative when `self` is earlier).
    #[must_use]
    pub fn days_since(&self, earlier: &Day) -> i64 {
        self.ordinal() - earlier.ordinal()
    }
}

/// Now, in UTC, to the minute ("2026-12-01T21:40Z"): when a reviewer approved a case (the
/// public manifest keeps its month only).
#[must_use]
pub fn utc_now() -> String {
    let (date, secs) = utc_today();
    format!("{date}T{:02}:{:02}Z", secs / 3600, secs % 3600 / 60)
}

/// Now, in UTC, to the second ("2026-12-01T21:40:05Z"): when a gallery was signed. The clinic's
/// own act, not a patient's, so it may be public.
#[must_use]
pub fn utc_now_seconds() -> String {
    let (date, secs) = utc_today();
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Today's UTC date as a day (consent decisions: `consent::today`).
#[must_use]
pub fn utc_day() -> Day {
    parse_day(&utc_today().0).unwrap_or(Day {
        year: 1970,
        month: 1,
        day: 1,
    })
}

/// `"2026-03-14"` (surrounding spaces allowed) as a calendar day.
#[must_use]
pub fn parse_day(text: &str) -> Option<Day> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<u16>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Day::new(y, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
}

/// "2026-03-14".
#[must_use]
pub fn iso(d: Day) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// Today's UTC date ("2026-12-01") and the seconds since its midnight. Howard Hinnant's
/// `civil_from_days`.
fn utc_today() -> (String, u64) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), secs % 86_400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// How the gallery and the manifest show when photos were taken (`[gallery] dates`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    /// Time since the before photo: "10 weeks after". No calendar date at all.
    #[default]
    Relative,
    /// The calendar month and year ("May 2026"), plus the relative time.
    Month,
    /// No dates or times at all.
    None,
}

/// `interval(0)`: the gallery says "Same day" for it, where other intervals read "9 weeks later".
pub const SAME_DAY: &str = "the same day";

/// An interval for people, rounded so that it names no day: "5 days", "10 weeks", "7 months",
/// "2 years". `None` for a negative interval (dates out of order are reported, not shown).
#[must_use]
pub fn interval(days: i64) -> Option<String> {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match days {
        ..0 => None,
        0 => Some(SAME_DAY.into()),
        1..14 => Some(plural(days, "day")),
        14..183 => Some(plural((days as f64 / 7.0).round() as i64, "week")),
        183..730 => Some(plural((days as f64 / 30.44).round() as i64, "month")),
        _ => Some(plural((days as f64 / 365.25).round() as i64, "year")),
    }
}

/// `"YYYY-MM"` (a day after it is dropped) as `("YYYY-MM", "Sep 2026")`. Anything else is
/// `None`: a free-text date could carry the day, which is never published.
#[must_use]
pub fn month(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| bytes[r].iter().all(u8::is_ascii_digit);
    let shape_ok = bytes.len() >= 7
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && (bytes.len() == 7 || (bytes.len() == 10 && bytes[7] == b'-' && digits(8..10)));
    if !shape_ok {
        return None;
    }
    let m: usize = text[5..7].parse().ok()?;
    let name = MONTHS.get(m.checked_sub(1)?)?;
    Some((text[..7].to_owned(), format!("{name} {}", &text[..4])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_spoken_in_order_once() {
        let d = |m, day| Day::new(2026, m, day).unwrap();
        assert_eq!(spoken_days(&[]), None);
        assert_eq!(spoken_days(&[d(3, 3)]).unwrap(), "3 March 2026");
        assert_eq!(
            spoken_days(&[d(6, 14), d(3, 3), d(6, 14)]).unwrap(),
            "3 March 2026 and 14 June 2026"
        );
        assert_eq!(
            spoken_days(&[d(12, 1), d(1, 31), d(6, 14)]).unwrap(),
            "31 January 2026, 14 June 2026 and 1 December 2026"
        );
    }

    #[test]
    fn dates_show_month_and_year_only() {
        assert_eq!(month("2026-05").unwrap().1, "May 2026");
        assert_eq!(
            month("2026-01-31").unwrap(),
            ("2026-01".into(), "Jan 2026".into())
        );
        for bad in [
            "2026",
            "2026-13",
            "2026-00",
            "May 2026",
            "14 May 2026",
            "2026-05-1",
            "",
        ] {
            assert_eq!(month(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_arithmetic_across_months_and_leap_years() {
        let d = |y, m, d| Day::new(y, m, d).unwrap();
        assert_eq!(d(2026, 3, 1).days_since(&d(2026, 2, 28)), 1);
        assert_eq!(d(2024, 3, 1).days_since(&d(2024, 2, 28)), 2);
        assert_eq!(d(2027, 1, 1).days_since(&d(2026, 1, 1)), 365);
        assert_eq!(d(1970, 1, 1).ordinal(), 0);
        assert_eq!(d(2026, 1, 1).days_since(&d(2026, 1, 2)), -1);
        assert!(Day::new(2026, 2, 29).is_none());
        assert!(Day::new(2026, 13, 1).is_none());
    }

    #[test]
    fn intervals_name_no_day() {
        assert_eq!(interval(-3), None);
        assert_eq!(interval(0).unwrap(), "the same day");
        assert_eq!(interval(1).unwrap(), "1 day");
        assert_eq!(interval(13).unwrap(), "13 days");
        assert_eq!(interval(70).unwrap(), "10 weeks");
        assert_eq!(interval(200).unwrap(), "7 months");
        assert_eq!(interval(800).unwrap(), "2 years");
    }
}
