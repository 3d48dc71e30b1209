//! `[quality]`: what to do with each kind of capture problem (see `flags`), and the healing
//! window behind `timing`.

use serde::{Deserialize, Serialize};

use super::Allowed::Int;
use super::Bounds;
use crate::flags::{Code, Policy};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    pub blur: Policy,
    pub overexposed: Policy,
    pub underexposed: Policy,
    pub perspective: Policy,
    pub shine: Policy,
    pub timing: Policy,
    pub date_order: Policy,
    pub framing: Policy,
    pub mismatch: Policy,
    pub tone: Policy,
    /// An after photo taken fewer days than this after the last session photo is flagged.
    pub min_days_after_session: u32,
}

impl QualityConfig {
    pub(super) const BOUNDS: Bounds = &[("min_days_after_session", Int(0, 365))];

    /// The clinic's policy for one code.
    pub fn policy(&self, code: Code) -> Policy {
        match code {
            Code::Blur => self.blur,
            Code::Overexposed => self.overexposed,
            Code::Underexposed => self.underexposed,
            Code::Perspective => self.perspective,
            Code::Shine => self.shine,
            Code::Timing => self.timing,
            Code::DateOrder => self.date_order,
            Code::Framing => self.framing,
            Code::Mismatch => self.mismatch,
            Code::Tone => self.tone,
        }
    }
}
