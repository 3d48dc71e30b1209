//! What `beforeafter publish` prints: progress on stderr while it works, then what was done (or,
//! with `--dry-run`, what would be), in words a receptionist can act on.

use std::path::Path;

use super::{Event, Options, PublishError, Report};
use crate::cli::PublishArgs;
use crate::config::{Config, PublishConfig};

/// `beforeafter publish`: the exit code.
pub fn command(args: &PublishArgs) -> anyhow::Result<i32> {
    let config = match (&args.input, &args.config) {
        (Some(input), config) => Config::for_input(input, config.as_deref())?,
        (None, Some(config)) => Config::load(Some(config))?,
        (None, None) => Config::defaults(),
    };
    let to = match (&args.to, config.publish.to.as_str()) {
        (Some(to), _) => to.clone(),
        (None, "") => anyhow::bail!(
            "where to? give --to sftp://user@host/path (or s3://bucket/prefix, file:///path), \
             or set [publish] to in the photo folder's beforeafter.toml and give --input"
        ),
        (None, to) => to.to_owned(),
    };
    let mut opts = options(&config.publish, args.input.as_deref());
    opts.dry_run = args.dry_run;
    if let Some(n) = args.max_deletes {
        opts.max_deletes = n;
    }
    let mut progress = |e: &Event| print_event(e);
    let report = match super::run(&args.out, &to, &opts, &mut progress) {
        Ok(r) => r,
        Err(e @ PublishError::Remote { .. }) if args.input.is_some() => {
            anyhow::bail!("{e}\nNothing more was changed; the next publish carries on from here.")
        }
        Err(e) => return Err(e.into()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, args.input.is_none());
    }
    Ok(report.exit_code())
}

/// The options `[publish]` gives, for the photo folder `input` when known.
pub fn options(config: &PublishConfig, input: Option<&Path>) -> Options {
    Options {
        dry_run: false,
        max_deletes: config.max_deletes as usize,
        input: input.map(Path::to_owned),
        cache_hashed: config.cache_control_hashed.clone(),
        cache_other: config.cache_control_pages.clone(),
    }
}

fn print_event(e: &Event) {
    match e {
        Event::Planned(p) => eprintln!(
            "{} file(s) to upload, {} unchanged, {} to delete, {} of withdrawn cases to remove",
            p.uploads.len(),
            p.unchanged,
            p.deletes.len(),
            p.withdrawals.len()
        ),
        Event::Uploaded { path, done, total } => eprintln!("uploaded {done}/{total}: {path}"),
        Event::Deleted {
            path,
            withdrawal: true,
        } => eprintln!("removed (withdrawn): {path}"),
        Event::Deleted { path, .. } => eprintln!("deleted: {path}"),
    }
}

fn print_report(r: &Report, no_input: bool) {
    let p = &r.plan;
    if r.dry_run {
        println!("Dry run: nothing was changed on {}.", r.target);
        for u in &p.uploads {
            println!("  would upload {} ({} bytes)", u.path, u.bytes);
        }
        for d in &p.withdrawals {
            println!("  would remove (consent withdrawn or ended) {d}");
        }
        for d in &p.deletes {
            println!("  would delete {d}");
        }
    } else {
        println!(
            "{}: {} file(s) uploaded ({} bytes), {} unchanged, {} deleted.",
            r.target, r.uploaded, r.uploaded_bytes, r.unchanged, r.deleted
        );
    }
    for case in &r.withdrawn {
        println!("Withdrawn case {case}: taken off the website.");
    }
    if let Some(refused) = &r.refused {
        println!("REFUSED: {refused}");
    }
    if no_input && !p.deletes.is_empty() {
        println!("note: without --input, deletions of withdrawn cases count against the limit too");
    }
    for note in &r.notes {
        println!("note: {note}");
    }
}
