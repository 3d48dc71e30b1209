//! The subcommands: `batch` (whole, or one shard), `merge`, `watch`, `check`, `verify` and
//! `init` ([`crate::init`]). Each returns the process exit code.

use std::path::Path;

use anyhow::Result;

use crate::cli::{BatchArgs, Command, MergeArgs, ShardArg};
use crate::config::Config;
use crate::discover;
use crate::error::ExitCode;
use crate::flags::Severity;
use crate::pipeline::{self, Reporter, RunOptions, Shard, Summary};

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Batch(args) => batch(&args),
        Command::Merge(args) => merge(&args),
        Command::Watch(args) => {
            crate::watch::run(&args)?;
            Ok(ExitCode::Done)
        }
        Command::Review {
            input,
            out,
            config,
            addr,
            allow_lan,
        } => {
            let serve = crate::review::Serve { addr, allow_lan };
            crate::review::run(&input, out.as_deref(), config.as_deref(), serve)?;
            Ok(ExitCode::Done)
        }
        // --- studio (issue 34) ---
        Command::Studio(args) => {
            crate::studio::run(&args)?;
            Ok(ExitCode::Done)
        }
        // --- end studio ---
        Command::Check { input, config } => check(&input, config.as_deref()),
        Command::Consent(args) => Ok(crate::register::run(&args)?),
        Command::Publish(args) => Ok(ExitCode::from_code(crate::publish::report::command(&args)?)),
        verify @ Command::Verify { .. } => verify_command(verify),
        Command::Keys(crate::cli::KeysCommand::New {
            input,
            password,
            force,
        }) => Ok(crate::sign::report::keys_new(&input, password, force)?),
        // --- service (issue 34 item 8) ---
        Command::Service(command) => Ok(crate::service::run(&command)?),
        Command::Init { dir, clinic } => crate::init::run(&dir, clinic.as_deref()),
        Command::Generate { dir } => {
            crate::generate::write_all(&dir)?;
            Ok(ExitCode::Done)
        }
    }
}

/// `verify`: the live website (`--url`), the gallery folder (`--out`), or its log (`--log`).
fn verify_command(command: Command) -> Result<ExitCode> {
    match command {
        Command::Verify {
            input,
            url: Some(url),
            json,
            ..
        } => Ok(ExitCode::from_code(crate::publish::live::command(
            &input, &url, json,
        )?)),
        Command::Verify {
            input,
            out: Some(out),
            json,
            log: false,
            ..
        } => verify(&input, &out, json),
        Command::Verify {
            input,
            out: Some(out),
            json,
            case,
            ..
        } => Ok(crate::sign::report::verify_log(
            &input,
            &out,
            case.as_deref(),
            json,
        )?),
        _ => anyhow::bail!("verify needs --out GALLERY or --url ADDRESS"),
    }
}

fn batch(args: &BatchArgs) -> Result<ExitCode> {
    let run = &args.run;
    let (input, out) = (run.input.as_path(), run.out.as_path());
    let shard = args.shard.map(shard_of).transpose()?;
    let config = Config::for_input(input, run.config.as_deref())?;
    crate::disk::check_apart(input, out)?;
    let _lock = match shard {
        Some(s) => crate::journal::Lock::shard(out, run.wait, &s.tag())?,
        None => crate::journal::Lock::acquire(out, run.wait)?,
    };
    let reporter = Reporter::new(false);
    // The command line's settings over the file's, applied by `Settings::resolve`.
    let options = RunOptions {
        publish_review: run.publish_review,
        jobs: run.jobs,
        ..RunOptions::default()
    };
    let summary = match shard {
        Some(s) => pipeline::run_shard(input, out, &config, &options, s, &reporter)?,
        None => pipeline::run(input, out, &config, &options, &reporter)?,
    };
    if run.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, input, out);
    }
    // A shard's cases are reported by the merge: a job system must not take a held case for a
    // failed shard and stop the merge.
    Ok(if shard.is_some() {
        ExitCode::Done
    } else {
        summary.outcome()
    })
}

/// `--shard`, with `env` read from the job system's variables.
fn shard_of(arg: ShardArg) -> Result<Shard> {
    let shard = match arg {
        ShardArg::Given { index, count } => Shard::new(index, count),
        ShardArg::Env => Shard::from_env(|name| std::env::var(name).ok()),
    };
    shard.map_err(|e| anyhow::anyhow!("--shard: {e}"))
}

fn merge(args: &MergeArgs) -> Result<ExitCode> {
    let (input, out) = (args.input.as_path(), args.out.as_path());
    let config = Config::for_input(input, args.config.as_deref())?;
    crate::disk::check_apart(input, out)?;
    let _lock = crate::journal::Lock::acquire(out, args.wait)?;
    let summary = pipeline::merge(input, out, &config, args.publish_review)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, input, out);
    }
    Ok(summary.outcome())
}

fn verify(input: &Path, out: &Path, json: bool) -> Result<ExitCode> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |id: &str| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!("verified {n}: {id}");
    };
    let report = crate::verify::verify(input, out, &progress)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(report.outcome());
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    for f in &report.problems {
        println!("DIFFERS {}: {}", f.path, f.problem);
    }
    if let Some(signed) = &report.signature {
        println!("signed: {signed}");
    }
    println!(
        "{} case(s), {} image(s) made again: {} identical, {} within tolerance; {} problem(s)",
        report.cases,
        report.compared,
        report.identical,
        report.within_tolerance,
        report.problems.len()
    );
    if report.problems.is_empty() {
        println!(
            "The gallery in {} is what its manifest says.",
            out.display()
        );
    }
    Ok(report.outcome())
}

/// `--config`, else `<input>/beforeafter.toml` when present, else the defaults.
const CONSENT_HELP: &str = "Cases without recorded consent are not published: add `consent = true` to a \
case's case.toml once the patient has agreed, or set `[cases] default_consent = true` if your \
clinic records marketing consent elsewhere and every case in the folder may be published.";

fn print_summary(s: &Summary, input: &Path, out: &Path) {
    println!(
        "{} published, {} up to date, {} failed, {} need review, {} without consent",
        s.published, s.up_to_date, s.failed, s.review, s.no_consent
    );
    if s.review_overridden > 0 {
        println!(
            "{} published without confirmed alignment (--publish-review); their pages say so",
            s.review_overridden
        );
    }
    if s.no_consent > 0 {
        println!("{CONSENT_HELP}");
    }
    print_consent_notes(&s.expiring, &s.receipts);
    if s.decoded == 0 {
        println!("Nothing changed: no photo was decoded.");
    } else {
        println!("Decoded {} photos.", s.decoded);
    }
    for note in &s.notes {
        println!("note: {note}");
    }
    if !s.unplaced.is_empty() {
        println!("Files not used ({}):", s.unplaced.len());
        for p in &s.unplaced {
            println!("  {}: {}", p.path, p.reason);
        }
    }
    match &s.shard {
        Some(shard) => println!(
            "Shard {shard} recorded in {}; once every shard has run: beforeafter merge {} --out {}",
            out.join(crate::journal::SHARDS).display(),
            input.display(),
            out.display()
        ),
        None => println!("Gallery: {}", out.join("index.html").display()),
    }
}

/// Consent ending soon, and the withdrawal receipts a run wrote (which posts to take down).
fn print_consent_notes(expiring: &[pipeline::Expiring], receipts: &[std::path::PathBuf]) {
    for e in expiring {
        println!(
            "warning: consent for {} (folder {}) ends on {} ({} day(s) left): ask the patient to renew it",
            e.id, e.folder, e.expires, e.days_left
        );
    }
    for r in receipts {
        println!(
            "withdrawal receipt: {} (what was removed, and which social images to take down)",
            r.display()
        );
    }
}

fn check(input: &Path, config_path: Option<&Path>) -> Result<ExitCode> {
    let config = match Config::for_input(input, config_path) {
        Ok(c) => c,
        Err(e) => {
            println!("config problem: {e}");
            return Ok(ExitCode::Fatal);
        }
    };
    let (rules, id_note) = discover::Rules::new(&config, input);
    let inv = discover::discover(input, &rules, &config.own_files())?;
    if let Some(note) = id_note {
        println!("note: {note}");
    }
    let mut bad = 0;
    println!("{} case(s) in {}", inv.cases.len(), input.display());
    println!("(public id, then the folder it comes from, which is never published)");
    let waiting = inv.cases.iter().filter(|c| !c.consent).count();
    let params = crate::ingest::IngestParams {
        max_pixels: config.limits.max_pixels(),
        max_file_bytes: config.limits.max_file_bytes(),
    };
    let mut readable = Vec::new();
    for c in &inv.cases {
        if print_case(c, &params) {
            readable.push(c);
        } else {
            bad += 1;
        }
    }
    if !inv.problems.is_empty() {
        println!("{} file(s) not placed:", inv.problems.len());
        for p in &inv.problems {
            println!("  {}: {}", p.path, p.reason);
        }
    }
    if waiting > 0 {
        println!("{waiting} case(s) wait for consent. {CONSENT_HELP}");
    }
    crate::consent::today().map_err(|e| anyhow::anyhow!(e))?;
    let days = config.cases.expiry_warning_days;
    print_consent_notes(&pipeline::expiring(&inv.cases, days), &[]);
    // Only cases whose photos' headers read are decoded and fitted, so a problem is said once.
    bad += print_assessment(&pipeline::assess(&readable, &config)?);
    let shown = config
        .source
        .as_ref()
        .map_or("defaults".into(), |p| p.display().to_string());
    for warning in config.publishing_warnings() {
        println!("warning: {warning}");
    }
    let online = crate::publish::state::check_lines(input, &config.publish.to);
    bad += online.iter().filter(|l| l.starts_with("PENDING")).count();
    for line in online {
        println!("{line}");
    }
    println!("{}", crate::sign::report::key_line(input));
    println!("config: ok ({shown})");
    Ok(ExitCode::attention_if(bad > 0))
}

/// `check`'s lines for one case: its views and stages, the order inferred from capture times,
/// and every problem a run would meet reading its photos' headers. Returns whether it is clean.
fn print_case(c: &discover::Case, params: &crate::ingest::IngestParams) -> bool {
    let consent = match &c.decision.why {
        _ if c.consent => String::new(),
        Some(why) => format!("  [not published: {why}]"),
        None => "  [no recorded consent: will not be published]".to_owned(),
    };
    println!("{}  (from {}){consent}", c.id, c.source);
    if c.meta.consent == Some(crate::consent::Consent::Given(true)) {
        println!(
            "  consent: `consent = true` means every use with no end date; record the form instead \
             ([consent] website, social, signed, expires: see docs/guide.md, \
             Captions and consent)"
        );
    }
    for v in &c.views {
        let stages: Vec<String> = v
            .stages
            .iter()
            .map(|s| format!("{} ({})", s.stage, s.rel))
            .collect();
        println!("  view {}: {}", v.name, stages.join(", "));
    }
    for note in &c.order_notes {
        println!("  order: {note}");
    }
    let files = c.views.iter().flat_map(|v| &v.stages);
    let files: Vec<_> = files.map(|s| (s.path.as_path(), s.rel.as_str())).collect();
    let photo_errors = crate::ingest::formats::check_photos(&files, params);
    for e in c.errors.iter().chain(&photo_errors) {
        println!("  error: {e}");
    }
    c.errors.is_empty() && photo_errors.is_empty()
}

/// `check`'s quality section: each case's flags, or why it cannot be processed. Returns the
/// number of cases a run would fail or hold.
fn print_assessment(assessed: &[pipeline::Assessed]) -> usize {
    if assessed.is_empty() {
        return 0;
    }
    println!("Photos decoded and fitted as a run would (nothing written):");
    let mut bad = 0;
    for (id, result) in assessed {
        match result {
            Err(e) => {
                println!("  {id}: cannot be processed: {e}");
                bad += 1;
            }
            Ok(flags) if flags.is_empty() => println!("  {id}: no flag"),
            Ok(flags) => {
                println!("  {id}:");
                for f in flags {
                    let what = match f.severity {
                        Severity::Review => "HOLD",
                        Severity::Warning => "warn",
                    };
                    println!("    {what} {} ({}): {}", f.code, f.stage, f.message);
                }
                bad += usize::from(flags.iter().any(|f| f.severity == Severity::Review));
            }
        }
    }
    bad
}
