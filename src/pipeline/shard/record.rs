//! A shard's record, in two halves written by the shard and read by the merge (and by the same
//! shard's next run, to reuse what it did).
//!
//! - `<out>/.shards/I-of-N.json` (public: the output folder is uploaded as it is): the shard's
//!   published cases exactly as `manifest.json` will list them; no path, no held case.
//! - `<input>/.beforeafter/shards/I-of-N.json` (private, beside the photos): what happened to
//!   each case (the reports), the records of held and failed cases, the published cases' photo
//!   paths, and the BLAKE3 of the public half's bytes, so both are known to be one run's. It is
//!   written first: a public half is never there without its private one.
//!
//! Both say what the shard was [`Made`] from: the settings key and the input listing.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::discover::Inventory;
use crate::disk;
use crate::error::Fatal;
use crate::ids::IdKey;
use crate::journal::SHARDS;
use crate::manifest::{CaseEntry, HELD_DIR, Manifest, SourcePaths};

use super::super::timings::StageSeconds;
use super::super::{CaseReport, FileStamp, Processed, Settings, Start, Summary};
use super::Shard;

/// 1: the records' layout.
const SCHEMA: u32 = 1;

/// What a shard's results were made from. A record is current when both match a merge's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Made {
    /// Everything that decides a case's record, hashed: the images' settings key (pixels,
    /// quality policy, `--publish-review`, tool version), `[cases]`, `[limits]` and the date
    /// style. Not `jobs`, the pages' looks or watch settings: merge writes pages with its own.
    pub settings: String,
    /// BLAKE3, keyed with the input folder's id key, of every case's public id, name, consent,
    /// case.toml values and problems, and every photo's path, size and modification time, in
    /// discovery order: one stat per photo, no photo read.
    pub listing: String,
}

impl Made {
    /// What a run starting from `start` makes its results from now.
    pub fn now(start: &Start) -> Made {
        Made {
            settings: settings_key(&start.settings),
            listing: listing(&start.inventory, &start.id_key),
        }
    }
}

fn settings_key(settings: &Settings) -> String {
    #[derive(Serialize)]
    struct Key<'a> {
        images: &'a str,
        cases: &'a crate::config::CasesConfig,
        limits: &'a crate::config::LimitsConfig,
        dates: crate::dates::DateStyle,
    }
    let key = Key {
        images: &settings.key,
        cases: &settings.cases,
        limits: &settings.limits,
        dates: settings.dates(),
    };
    let json = serde_json::to_vec(&key).expect("settings serialize");
    blake3::hash(&json).to_hex().to_string()
}

fn listing(inventory: &Inventory, key: &IdKey) -> String {
    let mut h = blake3::Hasher::new_keyed(&key.0);
    for c in &inventory.cases {
        let meta = serde_json::to_string(&c.meta).expect("case.toml serializes");
        // Consent as decided today: a day that ends one between the shards and the merge
        // makes the merge refuse (run the shards again) rather than publish it.
        let (consent, unknown, social) = (c.consent, c.consent_unknown, c.social);
        h.update(
            format!(
                "case {}\n{}\n{consent} {unknown} {social}\n{meta}\n",
                c.id, c.source
            )
            .as_bytes(),
        );
        for e in &c.errors {
            h.update(format!("error {e}\n").as_bytes());
        }
        for v in &c.views {
            for s in &v.stages {
                let (len, nanos) = stamp(&s.path);
                let line = format!("{} {} {} {len} {nanos}\n", v.name, s.stage, s.rel);
                h.update(line.as_bytes());
            }
        }
    }
    h.finalize().to_hex().to_string()
}

/// A photo's size and modification time (nanoseconds since 1970), zeros when unreadable.
fn stamp(path: &Path) -> (u64, u128) {
    let Some(s) = FileStamp::of(path) else {
        return (0, 0);
    };
    let nanos = (s.modified)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (s.len, nanos)
}

/// The public half.
#[derive(Serialize, Deserialize)]
struct PublicRecord {
    schema: u32,
    generator: String,
    shard: u32,
    of: u32,
    made: Made,
    decoded: usize,
    /// CPU seconds per stage, in `timings` order.
    timings: Vec<f64>,
    cases: Vec<CaseEntry>,
}

/// The private half.
#[derive(Serialize, Deserialize)]
struct PrivateRecord {
    schema: u32,
    shard: u32,
    of: u32,
    made: Made,
    /// BLAKE3 of the public half's bytes.
    public: String,
    /// What happened to each case of the shard, in discovery order.
    reports: Vec<CaseReport>,
    /// Records of the cases held for review or failed.
    held: Vec<CaseEntry>,
    /// The published cases' photo paths.
    sources: Vec<SourcePaths>,
}

fn public_rel(shard: Shard) -> String {
    format!("{SHARDS}/{}.json", shard.tag())
}

fn private_rel(shard: Shard) -> String {
    format!("{HELD_DIR}/shards/{}.json", shard.tag())
}

/// Write a shard's two halves from its summary and its cases' results.
pub fn save(
    input: &Path,
    out: &Path,
    shard: Shard,
    made: &Made,
    summary: &Summary,
    results: Vec<Processed>,
) -> Result<(), Fatal> {
    let entries = results.into_iter().filter_map(|(_, e, _)| e);
    let (published, held): (Vec<CaseEntry>, Vec<CaseEntry>) = entries.partition(|e| e.published);
    let public = PublicRecord {
        schema: SCHEMA,
        generator: format!("beforeafter {}", env!("CARGO_PKG_VERSION")),
        shard: shard.index,
        of: shard.count,
        made: made.clone(),
        decoded: summary.decoded,
        timings: summary.timings.0.to_vec(),
        cases: published.iter().map(CaseEntry::public).collect(),
    };
    let public_bytes = to_json(&public)?;
    let private = PrivateRecord {
        schema: SCHEMA,
        shard: shard.index,
        of: shard.count,
        made: made.clone(),
        public: blake3::hash(&public_bytes).to_hex().to_string(),
        reports: summary.cases.clone(),
        held,
        sources: published.iter().map(CaseEntry::source_paths).collect(),
    };
    disk::write_atomic(input, &private_rel(shard), &to_json(&private)?).map_err(|e| {
        Fatal::Other(format!(
            "cannot keep shard {shard}'s private records in the photo folder ({e}): a shard \
             needs {} writable, since held cases' records and photo paths never go into the \
             output folder",
            input.join(HELD_DIR).display()
        ))
    })?;
    disk::write_atomic(out, &public_rel(shard), &public_bytes)
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Fatal> {
    let mut json = serde_json::to_string(value).map_err(|e| Fatal::Other(e.to_string()))?;
    json.push('\n');
    Ok(json.into_bytes())
}

/// A shard's record, both halves read and known to belong together.
pub struct Record {
    public: PublicRecord,
    private: PrivateRecord,
}

impl Record {
    fn read(input: &Path, out: &Path, shard: Shard) -> Option<Record> {
        let public_bytes = std::fs::read(out.join(public_rel(shard))).ok()?;
        let public: PublicRecord = serde_json::from_slice(&public_bytes).ok()?;
        let private_bytes = std::fs::read(input.join(private_rel(shard))).ok()?;
        let private: PrivateRecord = serde_json::from_slice(&private_bytes).ok()?;
        let together = public.schema == SCHEMA
            && private.schema == SCHEMA
            && (public.shard, public.of) == (shard.index, shard.count)
            && private.public == blake3::hash(&public_bytes).to_hex().as_str();
        together.then_some(Record { public, private })
    }

    /// The shard's index.
    pub fn shard(&self) -> u32 {
        self.public.shard
    }

    /// The shard's count.
    pub fn count(&self) -> u32 {
        self.public.of
    }

    /// Photos decoded and CPU seconds per stage, in the shard's run.
    pub fn work(&self) -> (usize, StageSeconds) {
        let p = &self.public;
        (p.decoded, StageSeconds::from_list(&p.timings))
    }

    /// Each case's report and record (published ones with their photo paths again), in the
    /// shard's discovery order.
    pub fn results(self) -> Vec<(CaseReport, Option<CaseEntry>)> {
        let private = self.private;
        let paths: HashMap<&str, &SourcePaths> = (private.sources.iter())
            .map(|p| (p.id.as_str(), p))
            .collect();
        let published = self
            .public
            .cases
            .into_iter()
            .map(|e| match paths.get(e.id.as_str()) {
                Some(p) => e.with_source_paths(p),
                None => e,
            });
        let mut entries: HashMap<String, CaseEntry> = (published.chain(private.held))
            .map(|e| (e.id.clone(), e))
            .collect();
        (private.reports.into_iter())
            .map(|r| {
                let entry = entries.remove(&r.id);
                (r, entry)
            })
            .collect()
    }
}

/// Records a run may reuse, newer than the last merge's manifest: a shard's own last record
/// (so a rerun shard redoes nothing it already did), or for a whole run every record in the
/// output folder (so a batch after shards without a merge redoes nothing either). Each entry is
/// still reused only when its key matches and its files are there.
pub fn previous(input: &Path, out: &Path, shard: Option<Shard>, old: &mut Manifest) {
    let shards = match shard {
        Some(s) => vec![s],
        None => (record_names(&out.join(SHARDS)).into_iter())
            .map(|(_, s)| s)
            .collect(),
    };
    let records = shards
        .into_iter()
        .filter_map(|s| Record::read(input, out, s));
    old.update(records.flat_map(Record::results).filter_map(|(_, e)| e));
}

/// Remove every shard record, both halves: a whole run has published, the manifest owns all.
pub fn forget(input: &Path, out: &Path) {
    for (root, dir) in [
        (out, SHARDS.to_owned()),
        (input, format!("{HELD_DIR}/shards")),
    ] {
        for (name, _) in record_names(&root.join(&dir)) {
            disk::remove(root, &format!("{dir}/{name}"));
        }
    }
}

/// Shard record files in `dir` ("2-of-3.json") with their shard, by count then index.
fn record_names(dir: &Path) -> Vec<(String, Shard)> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    let mut found: Vec<(String, Shard)> = entries
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let (i, n) = name.strip_suffix(".json")?.split_once("-of-")?;
            let shard = Shard::new(i.parse().ok()?, n.parse().ok()?).ok()?;
            Some((name, shard))
        })
        .collect();
    found.sort_by_key(|(_, s)| (s.count, s.index));
    found
}

/// The records of the one complete set of current shards in `out` (the largest count, if
/// several are complete), or a refusal naming, for each count found, every shard missing or
/// stale.
pub fn gather(input: &Path, out: &Path, made: &Made) -> Result<Vec<Record>, Fatal> {
    let mut counts: Vec<u32> = (record_names(&out.join(SHARDS)).iter())
        .map(|(_, s)| s.count)
        .collect();
    counts.dedup();
    let mut problems = Vec::new();
    for &count in counts.iter().rev() {
        let mut set = Vec::new();
        let mut missing = Vec::new();
        for index in 1..=count {
            let shard = Shard { index, count };
            match check(input, out, shard, made) {
                Ok(record) => set.push(record),
                Err(why) => missing.push(format!("  shard {shard}: {why}")),
            }
        }
        if missing.is_empty() {
            return Ok(set);
        }
        problems.push((count, missing));
    }
    Err(Fatal::Other(refusal(input, out, &problems)))
}

/// One shard's record, if it is there and current; else why not.
fn check(input: &Path, out: &Path, shard: Shard, made: &Made) -> Result<Record, String> {
    if !out.join(public_rel(shard)).is_file() {
        return Err(format!("missing (no {})", public_rel(shard)));
    }
    let Some(record) = Record::read(input, out, shard) else {
        return Err(format!(
            "its record is unreadable, or its private half ({}) is missing or from another run",
            input.join(private_rel(shard)).display()
        ));
    };
    let (public, private) = (&record.public.made, &record.private.made);
    if public.settings != made.settings || private.settings != made.settings {
        return Err(
            "made with other settings (a config value, --publish-review or the tool \
                    version differs from this merge's)"
                .into(),
        );
    }
    if public.listing != made.listing || private.listing != made.listing {
        return Err(
            "made from another input listing (photos added, changed, moved or removed \
                    since, or a case.toml edited)"
                .into(),
        );
    }
    Ok(record)
}

fn refusal(input: &Path, out: &Path, problems: &[(u32, Vec<String>)]) -> String {
    let (i, o) = (input.display(), out.display());
    if problems.is_empty() {
        return format!(
            "nothing to merge: {o}/{SHARDS}/ holds no shard record; run `beforeafter batch {i} \
             --out {o} --shard I/N` for I = 1 to N first"
        );
    }
    let mut text = String::from("cannot merge: not every shard is there and current\n");
    for (count, lines) in problems {
        text.push_str(&format!("of {count} shards:\n{}\n", lines.join("\n")));
    }
    text.push_str(&format!(
        "rerun each shard named (`beforeafter batch {i} --out {o} --shard I/N`, with the \
         settings of this merge), then merge again"
    ));
    text
}
