//! The checks that need only capture dates: `date_order` (a later stage dated before an earlier
//! one) and `timing` (an after photo taken before the last session's pigment healed). Days come
//! from EXIF and are used here only; no date leaves the input folder.

use crate::dates::Day;
use crate::discover::Stage;
use crate::flags::{Code, Finding};

/// The date findings of stage `i` of a view whose stages (in series order) were captured on
/// `days`. `min_days` is `[quality] min_days_after_session`.
pub fn date_findings(
    stages: &[Stage],
    days: &[Option<Day>],
    i: usize,
    min_days: u32,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(day) = days[i] else {
        return out;
    };
    // The nearest earlier stage with a date.
    let Some((j, earlier)) = (0..i).rev().find_map(|j| days[j].map(|d| (j, d))) else {
        return out;
    };
    let gap = day.days_since(&earlier);
    if gap < 0 {
        out.push(Finding::new(
            Code::DateOrder,
            format!(
                "the {} photo's capture date is earlier than the {} photo's: check which photo is which",
                stages[i], stages[j]
            ),
        ));
    } else if stages[i] == Stage::After && gap < i64::from(min_days) {
        out.push(Finding::new(
            Code::Timing,
            timing_message(stages[j], gap, min_days),
        ));
    }
    out
}

/// "after photo taken 2 days after session 3; fresh pigment looks darker until it heals",
/// plus what to do. The part before " — " is what a published page says (`Flag::public`).
fn timing_message(earlier: Stage, days: i64, min_days: u32) -> String {
    format!(
        "{} — retake it once healed, at least {min_days} days after that photo",
        timing_public(earlier, days)
    )
}

/// The public sentence of a `timing` flag: an interval and a stage, never a date.
fn timing_public(earlier: Stage, days: i64) -> String {
    let when = match days {
        0 => "on the same day as".to_owned(),
        1 => "1 day after".to_owned(),
        n => format!("{n} days after"),
    };
    let what = match earlier {
        Stage::Before => "the before photo (the treatment between them)".to_owned(),
        Stage::Session(n) => format!("session {n}"),
        Stage::After => "the after photo".to_owned(),
    };
    format!("After photo taken {when} {what}; fresh pigment looks darker until it heals")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u8) -> Option<Day> {
        Day::new(2026, 5, d)
    }

    #[test]
    fn after_too_soon_after_the_last_session_is_timing() {
        let stages = [Stage::Before, Stage::Session(1), Stage::After];
        let days = [day(1), day(10), day(12)];
        let f = date_findings(&stages, &days, 2, 10);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::Timing);
        assert!(
            f[0].message
                .starts_with("After photo taken 2 days after session 1;"),
            "{}",
            f[0].message
        );
        let flag = f[0]
            .clone()
            .flag("after", crate::flags::Policy::Warn)
            .unwrap();
        assert_eq!(
            flag.public().unwrap(),
            "After photo taken 2 days after session 1; fresh pigment looks darker until it heals"
        );
        // Healed: 10 days or more.
        assert!(date_findings(&stages, &[day(1), day(10), day(20)], 2, 10).is_empty());
        // A session photo is not judged on timing.
        assert!(date_findings(&stages, &days, 1, 10).is_empty());
    }

    #[test]
    fn a_stage_dated_before_an_earlier_one_is_date_order() {
        let stages = [Stage::Before, Stage::Session(1), Stage::After];
        let f = date_findings(&stages, &[day(5), day(3), day(20)], 1, 10);
        assert_eq!(f[0].code, Code::DateOrder);
        assert!(f[0].message.contains("session-1") && f[0].message.contains("before"));
        // Missing dates: nothing to say.
        assert!(date_findings(&stages, &[None, None, day(2)], 2, 10).is_empty());
        assert!(date_findings(&stages, &[day(1), None, None], 2, 10).is_empty());
    }
}
