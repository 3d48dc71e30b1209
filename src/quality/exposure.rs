//! Exposure: highlights clipped and shadows crushed in the later photo where the before photo
//! of the same spot still had detail.
//!
//! A pixel is judged by its largest channel (a skin tone blows out in red first). It counts as
//! newly clipped when the after reaches `clip_high` while the before stayed at or below
//! `detail_high`; the gap between the two is the head room that normal drift (±1/3 EV, a white
//! balance change) uses without losing anything. Shadows mirror that at the dark end. Both are
//! shares of the valid overlap, so a dark or bright *scene* is never a fault by itself. The
//! counting is done in the shared pixel pass ([`super::scan`]).

use serde::{Deserialize, Serialize};

/// Levels (8-bit encoded, largest channel) that define clipped, crushed and "had detail".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureParams {
    /// At or above: clipped.
    pub clip_high: u8,
    /// At or below in the before photo: it had highlight detail (+1/3 EV keeps it below 250).
    pub detail_high: u8,
    /// At or below: crushed.
    pub crush_low: u8,
    /// At or above in the before photo: it had shadow detail (−1/3 EV keeps it above 16).
    pub detail_low: u8,
}

impl Default for ExposureParams {
    fn default() -> Self {
        Self {
            clip_high: 250,
            detail_high: 215,
            crush_low: 16,
            detail_low: 40,
        }
    }
}
