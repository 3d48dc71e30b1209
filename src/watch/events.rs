//! What the watcher tells people: one timestamped line per event on stderr, or with `--json` one
//! JSON object per line on stdout (for piping), never both.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// One thing that happened: `event` is a short snake_case word (`published`, `failed`, …).
pub struct Event<'a> {
    pub event: &'a str,
    pub case: Option<&'a str>,
    pub message: String,
    /// Extra fields for `--json` (counts, seconds, paths).
    pub fields: Value,
}

impl<'a> Event<'a> {
    pub fn new(event: &'a str, message: impl Into<String>) -> Event<'a> {
        Event {
            event,
            case: None,
            message: message.into(),
            fields: Value::Null,
        }
    }

    pub fn case(mut self, id: &'a str) -> Event<'a> {
        self.case = Some(id);
        self
    }

    pub fn fields(mut self, fields: Value) -> Event<'a> {
        self.fields = fields;
        self
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Log {
    pub json: bool,
}

impl Log {
    pub fn emit(&self, e: Event<'_>) {
        let time = utc_timestamp(SystemTime::now());
        if self.json {
            let mut obj = Map::new();
            obj.insert("time".into(), json!(time));
            obj.insert("event".into(), json!(e.event));
            if let Some(case) = e.case {
                obj.insert("case".into(), json!(case));
            }
            obj.insert("message".into(), json!(e.message));
            if let Value::Object(extra) = e.fields {
                obj.extend(extra);
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", Value::Object(obj));
            let _ = out.flush();
        } else {
            let case = e.case.map(|c| format!("{c}: ")).unwrap_or_default();
            eprintln!("{time}  {:<10} {case}{}", e.event, e.message);
        }
    }
}

/// `2026-11-22T03:04:05.123Z`, without pulling in a date crate.
pub fn utc_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_iso8601() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_316_645_007);
        assert_eq!(utc_timestamp(t), "2026-11-22T03:04:05.007Z");
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
