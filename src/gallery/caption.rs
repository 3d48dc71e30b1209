//! Words the gallery derives from the manifest: stage
//! names, filter keys, and the honesty note that says what was done to a case's photos.

use crate::flags::Flag;
use crate::manifest::{CaseEntry, StageEntry};
use crate::render::params::LabelParams;

pub use crate::dates::month;
pub use crate::discover::view_name;

/// A stage's name for people: "Before", "Session 2", "After". It uses
/// the same words as the visible label (so a screen reader and the screen agree, in the
/// clinic's language too), in sentence case when the label is all capitals: "BEFORE" → "Before",
/// "SESSION 2" → "Session 2", "VORHER" → "Vorher".
pub fn stage_name(stage: &str, labels: &LabelParams) -> String {
    let tag = stage_tag(stage, labels);
    if tag.chars().any(char::is_lowercase) {
        return tag;
    }
    let mut chars = tag.chars();
    chars.next().map_or_else(String::new, |first| {
        first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect()
    })
}

/// A stage's burned-in style label from the `[labels]` settings: "BEFORE", "SESSION 2".
pub fn stage_tag(stage: &str, labels: &LabelParams) -> String {
    labels.tag(stage)
}

/// The time since the before photo as a visitor reads it beside a stage's label: "9 weeks
/// later", "Same day". `since` is the manifest's interval (`dates::interval`).
pub fn later(since: &str) -> String {
    if since == crate::dates::SAME_DAY {
        "Same day".to_owned()
    } else {
        format!("{since} later")
    }
}

/// The same, said in full for a tooltip: "9 weeks after the before photo", "the same day as
/// the before photo".
pub fn since_before(since: &str) -> String {
    if since == crate::dates::SAME_DAY {
        format!("Taken {since} as the before photo")
    } else {
        format!("Taken {since} after the before photo")
    }
}

/// Alt text for an image of a case's pair: `"Before and after: <title>"`, or, when the title
/// says so already (`discover`'s default title), `"Photos side by side: <title>"` (an alt that
/// repeats the card's own text is noise to a screen reader).
pub fn pair_alt(title: &str) -> String {
    if title.starts_with("Before and after") {
        format!("Photos side by side: {title}")
    } else {
        format!("Before and after: {title}")
    }
}

/// A filter key: lower-case letters and digits (any script) joined by single dashes, so keys
/// can be listed in one space-separated attribute.
pub fn filter_key(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Text from `case.toml` with blanks treated as absent (`technician = ""`).
pub fn text(value: Option<&String>) -> Option<String> {
    value
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The case's honesty note, derived only from what the manifest records for its photos:
/// alignment (`align`), fitting to the before photo's frame (`framing`) and tone (`tone`).
pub fn honesty(case: &CaseEntry) -> String {
    let stages = || case.views.iter().flat_map(|v| v.stages.iter());
    let aligned = stages().any(|s| s.align.is_some());
    let framed = !aligned && stages().any(|s| s.framing.is_some());
    let tone = stages().filter_map(tone_change).max();
    let mut done: Vec<&str> = Vec::new();
    if aligned {
        done.push("aligned");
    } else if framed {
        done.push("scaled to the same framing");
    }
    match tone {
        Some(ToneChange::Colour) => done.push("exposure- and colour-matched"),
        Some(ToneChange::Exposure) => done.push("exposure-matched"),
        None => {}
    }
    let what = if done.is_empty() {
        "Cropped and resized only".to_owned()
    } else {
        let joined = done.join(" and ");
        let mut chars = joined.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase());
        format!(
            "{}{} only",
            first.into_iter().collect::<String>(),
            chars.as_str()
        )
    };
    let mut note = if case.published && case.review {
        format!(
            "{what}; no retouching. The alignment was flagged for review and published without \
             being confirmed."
        )
    } else {
        format!("{what}; no retouching.")
    };
    // Disclosed, not just recorded: an after photo of fresh pigment looks better than it will.
    let mut timing: Vec<&str> = stages()
        .flat_map(|s| &s.flags)
        .filter_map(Flag::public)
        .collect();
    timing.dedup();
    for sentence in timing {
        note.push_str(&format!(" {sentence}."));
    }
    note
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ToneChange {
    /// The same change on every channel.
    Exposure,
    /// Channels changed differently: white balance too.
    Colour,
}

/// What a stage's recorded tone adjustment changed: the record is the fit the renderer applied,
/// so a fit whose gains and gammas are all 1 changed nothing.
fn tone_change(stage: &StageEntry) -> Option<ToneChange> {
    let tone = stage.tone.as_ref()?;
    if tone.is_identity() {
        return None;
    }
    if tone.is_uniform() {
        Some(ToneChange::Exposure)
    } else {
        Some(ToneChange::Colour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_and_view_names() {
        let mut labels = crate::config::Config::defaults().labels.params();
        assert_eq!(stage_name("session-2", &labels), "Session 2");
        assert_eq!(stage_name("before", &labels), "Before");
        labels.before = "VORHER".into();
        labels.after = "Nachher".into();
        assert_eq!(stage_name("before", &labels), "Vorher");
        assert_eq!(stage_name("after", &labels), "Nachher");
        assert_eq!(view_name("front-hairline"), "Front hairline");
        assert_eq!(filter_key("Diffuse thinning!"), "diffuse-thinning");
        assert_eq!(filter_key("Calvície"), "calvície");
        assert_eq!(later("9 weeks"), "9 weeks later");
        assert_eq!(later(&crate::dates::interval(0).unwrap()), "Same day");
    }
}
