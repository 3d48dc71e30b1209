//! Quality flags: what is wrong with a photo before it is published, in words staff can act on.
//! Each finding has a code, the stage it is about, a severity set by the clinic's policy for
//! that code (`[quality]`: `warn`, `hold` or `off`), and a message that says what to do.
//! A `review` flag holds its case; a `warning` is reported everywhere but publishes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a flag is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Focus much softer than the before photo's.
    Blur,
    /// Clipped highlights over a share of the subject the before photo does not have.
    Overexposed,
    /// Crushed shadows over a share of the subject the before photo does not have.
    Underexposed,
    /// Taken from another camera angle: a tilt a similarity fit cannot undo.
    Perspective,
    /// Specular highlights (a wet or oily scalp) the before photo lacks.
    Shine,
    /// The after photo was taken too soon after the last session: fresh pigment looks darker.
    Timing,
    /// A later stage dated before an earlier one.
    DateOrder,
    /// The framing changed beyond the configured bounds (rotation, scale, shift, shear).
    Framing,
    /// The photos do not match: registration found no confident fit.
    Mismatch,
    /// Matching the light could make the treated area look more changed than it is.
    Tone,
}

impl Code {
    pub const ALL: [Code; 10] = [
        Code::Blur,
        Code::Overexposed,
        Code::Underexposed,
        Code::Perspective,
        Code::Shine,
        Code::Timing,
        Code::DateOrder,
        Code::Framing,
        Code::Mismatch,
        Code::Tone,
    ];

    /// The name used in config, JSON and logs.
    pub fn name(self) -> &'static str {
        match self {
            Code::Blur => "blur",
            Code::Overexposed => "overexposed",
            Code::Underexposed => "underexposed",
            Code::Perspective => "perspective",
            Code::Shine => "shine",
            Code::Timing => "timing",
            Code::DateOrder => "date_order",
            Code::Framing => "framing",
            Code::Mismatch => "mismatch",
            Code::Tone => "tone",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `warning` publishes and reports; `review` holds the case until someone looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Review,
}

/// What the clinic wants done with one code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Warn,
    Hold,
    Off,
}

/// One finding about one stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub code: Code,
    /// "after", "session-2"; for a case with several views, `"<view> <stage>"`.
    pub stage: String,
    pub severity: Severity,
    /// What is wrong and what to do, in words (never a date).
    pub message: String,
}

impl Flag {
    /// What a published case's page says of this flag: for `timing`, the sentence before " — "
    /// ("After photo taken 2 days after session 3; fresh pigment looks darker until it heals"),
    /// which names an interval and a stage, never a date. Other flags stay with the clinic.
    pub fn public(&self) -> Option<&str> {
        (self.code == Code::Timing).then(|| self.message.split(" — ").next().unwrap_or(""))
    }
}

/// A finding before the policy is applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub code: Code,
    pub message: String,
}

impl Finding {
    pub fn new(code: Code, message: impl Into<String>) -> Finding {
        Finding {
            code,
            message: message.into(),
        }
    }

    /// The flag this finding becomes under `policy`, if the code is not switched off.
    pub fn flag(self, stage: &str, policy: Policy) -> Option<Flag> {
        let severity = match policy {
            Policy::Off => return None,
            Policy::Warn => Severity::Warning,
            Policy::Hold => Severity::Review,
        };
        Some(Flag {
            code: self.code,
            stage: stage.to_owned(),
            severity,
            message: self.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_sets_severity_or_drops() {
        let f = || Finding::new(Code::Blur, "soft");
        assert_eq!(f().flag("after", Policy::Off), None);
        assert_eq!(
            f().flag("after", Policy::Warn).unwrap().severity,
            Severity::Warning
        );
        let held = f().flag("after", Policy::Hold).unwrap();
        assert_eq!(
            (held.severity, held.stage.as_str()),
            (Severity::Review, "after")
        );
        let json = serde_json::to_string(&held).unwrap();
        assert_eq!(
            json,
            r#"{"code":"blur","stage":"after","severity":"review","message":"soft"}"#
        );
        for code in Code::ALL {
            let named = serde_json::to_string(&code).unwrap();
            assert_eq!(named, format!("\"{}\"", code.name()));
        }
    }
}
