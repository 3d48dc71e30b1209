//! What the photo folder knows about publishing, in `<input>/.beforeafter/`: the withdrawal
//! receipts the runs wrote (which cases lost consent, and when), and `publish.json`, the outcome
//! of the last publish to each target (when it last succeeded, the cases the target then held,
//! the last failure). From the two, `check` tells staff which withdrawals have not reached the
//! website yet: a receipt written after the last successful publish, for a case the target
//! still held then. Both stay beside the photos, never in the gallery or on the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The outcomes, relative to the input folder.
pub const FILE: &str = ".beforeafter/publish.json";

/// The last publish to one target.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// UTC, when a publish to it last finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_at: Option<String>,
    /// The public ids of the cases the target held after it.
    #[serde(default)]
    pub cases: BTreeSet<String>,
    /// The last attempt's failure, cleared by a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
}

/// Every target's outcome, by its address (no secret is in an address).
pub fn load(input: &Path) -> BTreeMap<String, Outcome> {
    std::fs::read(input.join(FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Record `outcome` for `target` (atomically; a failure to record is only a note).
pub fn save(input: &Path, target: &str, update: impl FnOnce(&mut Outcome)) -> Option<String> {
    let mut all = load(input);
    update(all.entry(target.to_owned()).or_default());
    let mut json = serde_json::to_vec_pretty(&all).unwrap_or_default();
    json.push(b'\n');
    crate::disk::write_atomic(input, FILE, &json)
        .err()
        .map(|e| {
            format!(
                "cannot record the publish in {}: {e}",
                input.join(FILE).display()
            )
        })
}

/// A withdrawal receipt's case and time.
#[derive(Clone, Debug, Deserialize)]
pub struct Receipt {
    pub case: String,
    pub when: String,
}

/// Every receipt in the input folder (unreadable ones skipped).
pub fn receipts(input: &Path) -> Vec<Receipt> {
    let dir = input.join(crate::pipeline::withdrawals::DIR);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Receipt> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    out.sort_by(|a, b| (&a.when, &a.case).cmp(&(&b.when, &b.case)));
    out
}

/// Withdrawals that have not reached `target` yet: cases with a receipt newer than its last
/// successful publish that it still held then.
pub fn pending(input: &Path, target: &str) -> Vec<Receipt> {
    let Some(outcome) = load(input).remove(target) else {
        return Vec::new();
    };
    let since = outcome.ok_at.unwrap_or_default();
    let mut seen = BTreeSet::new();
    receipts(input)
        .into_iter()
        .rev()
        .filter(|r| r.when >= since && outcome.cases.contains(&r.case))
        .filter(|r| seen.insert(r.case.clone()))
        .collect()
}

/// `check`'s lines about the website: withdrawals not yet through, and the last failure.
pub fn check_lines(input: &Path, to: &str) -> Vec<String> {
    let Ok(target) = super::Target::parse(to) else {
        return Vec::new();
    };
    let shown = target.display();
    let mut lines: Vec<String> = pending(input, &shown)
        .into_iter()
        .map(|r| {
            format!(
                "PENDING: case {} was withdrawn ({}) but is still on the website {shown}: it is \
                 removed by the next publish that reaches it (watch retries on its own; or run \
                 `beforeafter publish GALLERY --input {}`)",
                r.case,
                r.when,
                input.display()
            )
        })
        .collect();
    if let Some(o) = load(input).get(&shown)
        && let (Some(error), Some(when)) = (&o.error, &o.failed_at)
    {
        lines.push(format!(
            "the last publish to {shown} failed ({when}): {error}"
        ));
    }
    lines
}
