//! One batch over many machines: `batch --shard I/N` runs the first half of a batch (every case
//! processed, images written) for the cases of shard I, and records its results (`record`);
//! `merge` checks that all N records are there and current, then runs the second half
//! (manifest, held records, pages, feed, pruning) exactly as one batch would, over all of them.
//!
//! - **Membership**: a case belongs to shard `1 + (h mod N)`, where `h` is the first 8 bytes
//!   (little-endian) of BLAKE3 in derive-key mode (context [`MEMBERSHIP`]) of the case's name in
//!   the input folder (its folder, or a flat pair's prefix). It depends on nothing else, so it
//!   is the same on every machine and in every run.
//! - **Current**: a record says what it was made from (`record::Made`: the settings key and
//!   the input listing). Merge recomputes both (discovery and one stat per photo, no photo
//!   read) and refuses, naming each shard that is missing or stale.
//! - Shards never prune, write pages or remove temp files (others' may be in flight); a whole run
//!   (batch, merge, watch) does, and then forgets the records: the manifest owns everything.

mod record;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::config::Config;
use crate::discover::Case;
use crate::error::Fatal;
use crate::manifest::CaseEntry;

use super::{CaseReport, Processed, Reporter, RunOptions, Start, Summary, process_all, publish};
use record::{Made, Record};

pub(super) use record::{forget, previous};

/// The derive-key context of shard membership.
pub const MEMBERSHIP: &str = "beforeafter 2026 shard membership";
/// The largest N: more shards than this would be mostly empty for any clinic.
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Shard `index` of `count`, both checked.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{count} shards: give 1 to {MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index} of {count}: shards are numbered 1 to {count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard a job system gives this process (`--shard env`):
    /// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) is shard index + 1, of
    ///   `BEFOREAFTER_SHARDS` (Kubernetes does not pass the Job's completions);
    /// - a Slurm job array: with `BEFOREAFTER_SHARDS` set, `SLURM_ARRAY_TASK_ID` is the shard
    ///   number itself (so `sbatch --array=7` reruns shard 7 alone); without it, tasks count from
    ///   `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`, in a range with step 1.
    ///
    /// `var` reads the environment.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let number = |name: &str| -> Result<Option<u32>, String> {
            var(name)
                .map(|v| v.trim().parse::<u32>())
                .transpose()
                .map_err(|_| format!("{name} is not a whole number"))
        };
        let count = number("BEFOREAFTER_SHARDS")?;
        if let Some(i) = number("JOB_COMPLETION_INDEX")? {
            let count = count.ok_or(
                "BEFOREAFTER_SHARDS is not set: set it to the Indexed Job's completions \
                 (Kubernetes does not pass that count)",
            )?;
            return Shard::new(i.saturating_add(1), count);
        }
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            if let Some(count) = count {
                return Shard::new(id, count);
            }
            let needed = |name: &str| {
                number(name)?.ok_or(format!(
                    "{name} is not set: run as a Slurm job array (sbatch --array=1-N)"
                ))
            };
            let (count, min) = (
                needed("SLURM_ARRAY_TASK_COUNT")?,
                needed("SLURM_ARRAY_TASK_MIN")?,
            );
            let last = min.saturating_add(count.saturating_sub(1));
            let max = number("SLURM_ARRAY_TASK_MAX")?.unwrap_or(last);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
            if step != 1 || max != last {
                return Err(format!(
                    "the Slurm array must be a range with step 1 (such as --array=1-{count}), \
                     not {min} to {max} step {step} with {count} tasks; or set \
                     BEFOREAFTER_SHARDS and number the tasks 1 to N"
                ));
            }
            return Shard::new(id.saturating_sub(min).saturating_add(1), count);
        }
        Err(
            "--shard env: neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor \
             SLURM_ARRAY_TASK_ID (a Slurm job array) is set; give the shard as --shard I/N"
                .into(),
        )
    }

    /// "2-of-3": the shard's name in file names.
    #[must_use]
    pub fn tag(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// Whether case `c` belongs to this shard.
    #[must_use]
    pub fn holds(&self, c: &Case) -> bool {
        member(&c.source, self.count) == self.index
    }
}

/// The shard (1-based) of `count` that the case named `source` belongs to.
#[must_use]
pub fn member(source: &str, count: u32) -> u32 {
    let hash = blake3::derive_key(MEMBERSHIP, source.as_bytes());
    let h = u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"));
    (h % u64::from(count.max(1))) as u32 + 1
}

/// `batch --shard I/N`: the first half of a batch for the cases of `shard`, recorded for
/// [`merge`]. Its images are written as a batch writes them; no page, manifest or pruning.
pub fn run_shard(
    input: &Path,
    out: &Path,
    config: &Config,
    options: &RunOptions,
    shard: Shard,
    reporter: &Reporter,
) -> Result<Summary, Fatal> {
    let start = Start::new(input, out, config, options.overrides(), Some(shard))?;
    // Taken before any photo is read: a photo that changes while the shard runs makes its record
    // stale rather than silently mixed.
    let made = Made::now(&start);
    let mine: Vec<Case> = (start.inventory.cases.iter())
        .filter(|c| shard.holds(c))
        .cloned()
        .collect();
    let results = process_all(&mine, out, &start.settings, &start.old, options, reporter)?;
    let mut summary = start.summary();
    summary.timings = start.settings.timings.snapshot();
    summary.shard = Some(shard.to_string());
    for (report, _, decoded) in &results {
        summary.count(report);
        summary.decoded += decoded;
        summary.cases.push(report.clone());
    }
    record::save(input, out, shard, &made, &summary, results)?;
    crate::journal::clear_finished(out);
    Ok(summary)
}

/// `merge`: when every shard of one count is there and current, the second half of a batch
/// over all their results; otherwise a refusal naming each shard missing or stale.
pub fn merge(
    input: &Path,
    out: &Path,
    config: &Config,
    publish_review: bool,
) -> Result<Summary, Fatal> {
    let cli = super::Overrides {
        publish_review,
        jobs: None,
    };
    let start = Start::new(input, out, config, cli, None)?;
    let records = record::gather(input, out, &Made::now(&start))?;
    let mut summary = start.summary();
    let count = records.first().map_or(1, Record::count);
    let mut by_id = HashMap::new();
    for record in records {
        let (decoded, timings) = record.work();
        summary.decoded += decoded;
        summary.timings.add(&timings);
        let shard = record.shard();
        for (report, entry) in record.results() {
            by_id.insert(report.id.clone(), (shard, report, entry));
        }
    }
    let results = in_order(&start.inventory.cases, count, by_id)?;
    publish(input, out, &start, results, summary)
}

/// Every case's result in discovery order, each from the shard it belongs to.
fn in_order(
    cases: &[Case],
    count: u32,
    mut by_id: HashMap<String, (u32, CaseReport, Option<CaseEntry>)>,
) -> Result<Vec<Processed>, Fatal> {
    let mut results = Vec::with_capacity(cases.len());
    for c in cases {
        let want = member(&c.source, count);
        match by_id.remove(&c.id) {
            Some((shard, report, entry)) if shard == want => results.push((report, entry, 0)),
            _ => {
                return Err(Fatal::Other(format!(
                    "shard {want}/{count}'s record does not hold case {} ({}): rerun that shard",
                    c.id, c.source
                )));
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn shards_come_from_kubernetes_and_slurm() {
        let k8s = [("JOB_COMPLETION_INDEX", "0"), ("BEFOREAFTER_SHARDS", "10")];
        assert_eq!(
            Shard::from_env(env(&k8s)),
            Ok(Shard {
                index: 1,
                count: 10
            })
        );
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "3")])).unwrap_err();
        assert!(e.contains("BEFOREAFTER_SHARDS"), "{e}");
        let slurm = |id, min, max| {
            let vars = [
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_MAX", max),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ];
            Shard::from_env(env(&vars))
        };
        assert_eq!(slurm("0", "0", "3"), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(slurm("4", "1", "4"), Ok(Shard { index: 4, count: 4 }));
        assert!(slurm("5", "1", "7").unwrap_err().contains("step 1"));
        // A rerun of task 7 alone (`sbatch --array=7`) is still shard 7 of 10.
        let rerun = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("BEFOREAFTER_SHARDS", "10"),
        ];
        assert_eq!(
            Shard::from_env(env(&rerun)),
            Ok(Shard {
                index: 7,
                count: 10
            })
        );
        assert!(
            Shard::from_env(env(&[]))
                .unwrap_err()
                .contains("--shard I/N")
        );
        assert!(Shard::new(0, 3).is_err() && Shard::new(4, 3).is_err());
    }

    #[test]
    fn membership_is_fixed_and_spreads_cases() {
        // Pinned: a change would move cases to other shards between versions.
        let pinned: Vec<u32> = ["c0", "c1", "c2", "c3", "hairline-07"]
            .iter()
            .map(|s| member(s, 3))
            .collect();
        assert_eq!(pinned, [2, 1, 3, 1, 2]);
        let mut sizes = [0u32; 4];
        for i in 0..4000 {
            sizes[member(&format!("case-{i}"), 4) as usize - 1] += 1;
        }
        assert!(sizes.iter().all(|&n| (900..1100).contains(&n)), "{sizes:?}");
        assert_eq!(member("anything", 1), 1);
    }
}
