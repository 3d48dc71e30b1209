//! What the user can type (clap derive). Converted once into configuration and run options.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "beforeafter",
    // The package version and the commit it was built from (build.rs).
    version = env!("BEFOREAFTER_VERSION"),
    about = "Aligned, honest before/after photo galleries for clinics",
    long_about = "Turns a folder of clinic before/after photos into watermarked, metadata-free, \
                  publish-ready images and a static gallery."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process every case in INPUT and bring the gallery in --out up to date (or, with --shard,
    /// process one shard of the cases for a later `merge`).
    #[command(after_help = "Examples:
  beforeafter batch photos --out gallery
  beforeafter batch photos --out gallery --config clinic.toml --jobs 2
  beforeafter batch photos --out gallery --json > summary.json
  beforeafter batch photos --out gallery --shard 2/8     # one of 8 machines; then `merge`
  beforeafter batch photos --out gallery --shard env     # Kubernetes Indexed Job, Slurm array

Exit codes: 0 all published, 1 fatal (bad config, unwritable output), 3 some cases failed or need review.
With --shard: 0 once the shard's results are recorded (failed and held cases included: the merge
reports them), 1 fatal.")]
    Batch(BatchArgs),
    /// Finish a sharded batch: check that every shard is there and current, then write the
    /// manifest, pages and feed and prune, as one batch would.
    #[command(after_help = "Examples:
  beforeafter merge photos --out gallery
  beforeafter merge photos --out gallery --config clinic.toml --json > summary.json
  parallel beforeafter batch photos --out gallery --shard {}/4 ::: 1 2 3 4 && beforeafter merge photos --out gallery

Give the same settings as the shards (--config, --publish-review). The count of shards is read
from the records the shards left in OUT/.shards/; a missing shard, or one made with other
settings or from photos that have changed since, is named, and nothing is published.

Exit codes: 0 all published, 1 fatal or a shard missing or stale (named), 3 some cases failed or
need review.")]
    Merge(MergeArgs),
    /// Bring the gallery up to date like `batch`, then keep it so while photos arrive in INPUT.
    #[command(after_help = "Examples:
  beforeafter watch photos --out gallery
  beforeafter watch photos --out gallery --serve              # preview on http://127.0.0.1:8080/
  beforeafter watch photos --out gallery --serve 127.0.0.1:9000
  beforeafter watch photos --out gallery --serve 0.0.0.0:8080 --allow-lan   # other computers, with a token
  beforeafter watch /mnt/clinic-share --out gallery --poll    # network share (SMB/NFS)
  beforeafter watch photos --out gallery --json | tee watch.log

A photo is read once its size and time stamp have not changed for [watch] quiet_ms and it
decodes; partial names (.part, .tmp, .crdownload, ~) and system files are skipped. Editing the
config file reloads it; an invalid edit is refused and the previous settings keep running.
Ctrl-C or SIGTERM finishes the work in hand, leaves no partial file and exits 0.

The preview serves only the gallery's files: nothing whose name starts with a dot (the output
folder's own .beforeafter/ and .shards/). It answers only requests addressed to it by the
printed address or localhost (another name is refused with 421: a web page cannot reach it by
pointing its own name at this machine). An address other than loopback is refused unless
--allow-lan is given; then every request needs the token in the printed link (the first sets a
cookie, so the gallery's own links keep working).")]
    Watch(WatchArgs),
    /// Resolve held and failed cases in a browser: see why, fix alignment by clicking
    /// corresponding points, approve as shown or keep private; each decision is saved to the
    /// case's case.toml (comments kept) and the case is run again into --out.
    #[command(after_help = "Examples:
  beforeafter review photos --out gallery                 # then open the printed link
  beforeafter review photos --out gallery --addr 127.0.0.1:9001
  beforeafter review photos --out gallery --addr 0.0.0.0:8081 --allow-lan   # from another computer
Lists the cases the last run held or failed (INPUT/.beforeafter/held.json), and published ones on
request. The printed link carries a random token: every request needs it, so keep it to yourself.
Serves only photos inside INPUT, and only on loopback: another address is refused unless
--allow-lan is given. On loopback it answers only requests addressed to the printed address or
localhost (421 otherwise), and a decision sent from another site's page (its Origin) is refused
(403). Ctrl-C stops it.")]
    Review {
        /// The folder with the clinic's photos.
        input: PathBuf,
        /// The gallery to publish decisions to (as `batch` would); without it, decisions are
        /// only saved to case.toml.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The same settings as the runs (see `batch`).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Where to serve the app.
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: SocketAddr,
        /// Allow an --addr other than loopback (such as 0.0.0.0:8081), reachable from other
        /// computers on the network; without it such an address is refused.
        #[arg(long)]
        allow_lan: bool,
    },
    // --- studio (issue 34): its own block, to ease merging ---
    /// The clinic's studio: one local web app for staff (cases board, new cases from photos,
    /// case details and consent, the public page as visitors see it, "Update the gallery
    /// now"), with `watch` running in the same process so the gallery stays current.
    #[command(after_help = "Examples:
  beforeafter studio photos --out gallery                      # then open the printed link
  beforeafter studio photos --out gallery --addr 127.0.0.1:9002
  beforeafter studio photos --out gallery --addr 0.0.0.0:8090 --allow-lan   # a tablet in the treatment room
  beforeafter studio /mnt/clinic-share --out gallery --poll    # network share (SMB/NFS)

The printed link carries a random token: every request needs it, so keep it to yourself. It
opens in the browser when there is one (not with --no-open). On loopback unless --allow-lan;
requests naming another host are refused (421), changes from another site's page refused (403).
Photos added on the board are checked (a photo, within [limits] max_file_mb) and saved in INPUT
under a new folder with a name that means nothing outside the clinic. Ctrl-C stops it.")]
    Studio(StudioArgs),
    // --- end studio ---
    /// List the cases found in INPUT, files that could not be placed, and config problems. Writes nothing.
    #[command(after_help = "Examples:
  beforeafter check photos
  beforeafter check photos --config clinic.toml

Exit codes: 0 all good, 1 bad config or input folder, 3 some cases cannot be processed.")]
    Check {
        input: PathBuf,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// The consent register: every case's consent (scopes, signed, expires and days left), its
    /// status, and what of it is public now. For the clinic: printed, or written to --to, never
    /// into the gallery.
    #[command(after_help = "Examples:
  beforeafter consent photos --out gallery
  beforeafter consent photos --out gallery --csv --to consent-register.csv

Statuses: published, waiting for consent, expired, withdrawn, held (kept private by staff, held
for review or failed). \"Public now\" is read from the gallery's manifest.json with --out, else
from the last run's private record in the photo folder. Set BEFOREAFTER_TODAY=2026-03-14 to see
the register as it will stand on another day.")]
    Consent(ConsentArgs),
    /// Check a published gallery against the original photos: every image is made again from
    /// the originals and manifest.json and compared with the published file.
    #[command(after_help = "Examples:
  beforeafter verify photos --out gallery
  beforeafter verify photos --out gallery --json > verify.json

Each published image is rendered again from the original photos and the manifest's records
(matrix, crop, tone, render settings) and compared byte for byte, or, where the bytes differ,
pixel by pixel (every 8×8 block within 2 levels). It also checks the originals' content hashes,
the listed files and their sizes, that no image carries metadata and that no image is unlisted.

When the gallery is signed (`beforeafter keys new`), the signature of manifest.json is checked
against the clinic's key in INPUT/.beforeafter/signing.pub: whose key signed it, and when.
With --log, only the private publication log is checked instead: its hash chain, that its last
entry is the published manifest, and each entry (or, with --case ID, when that case was
published, changed and withdrawn).
  beforeafter verify photos --out gallery --log
  beforeafter verify photos --out gallery --log --case crown-2026

Exit codes: 0 everything holds, 1 fatal (no manifest, unreadable folder), 3 something differs.")]
    Verify {
        /// The folder with the original photos.
        input: PathBuf,
        /// The published gallery folder.
        #[arg(long, short, required_unless_present = "url")]
        out: Option<PathBuf>,
        /// Check the live website instead: fetch every page and image the manifest lists from
        /// this address, as a visitor's browser would, and compare them with the originals.
        #[arg(long, value_name = "URL", conflicts_with_all = ["out", "log"])]
        url: Option<String>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Check the publication log (INPUT/.beforeafter/log.jsonl) instead of the images.
        #[arg(long)]
        log: bool,
        /// With --log: the history of this public case id only.
        #[arg(long, value_name = "ID", requires = "log")]
        case: Option<String>,
    },
    /// Put the gallery on the clinic's website and keep it in step: upload what is new or
    /// changed, then delete what the gallery no longer has (only files this tool put there).
    #[command(after_help = "Examples:
  beforeafter publish gallery --to sftp://clinic@host.example/var/www/html/gallery --input photos
  beforeafter publish gallery --to s3://clinic-site/gallery --input photos --dry-run
  beforeafter publish gallery --to 's3://bucket/gallery?endpoint=https://ACCOUNT.r2.cloudflarestorage.com&region=auto'
  beforeafter publish gallery --to file:///mnt/website/gallery

With --input (the photo folder), its beforeafter.toml's [publish] settings apply, withdrawn and
expired consent always reaches the website whatever --max-deletes says, and `check` shows a
withdrawal that could not be sent (host down) until a publish succeeds. SFTP signs in with your
SSH key or agent and ~/.ssh/config (the host must be in known_hosts); S3 with AWS_ACCESS_KEY_ID
and AWS_SECRET_ACCESS_KEY or your ~/.aws profile. Order: images, pages, manifest.json, then
deletions; a publish stopped midway carries on next time.

Exit codes: 0 published, 1 could not publish (address, host, credentials), 3 refused: more
deletions than --max-deletes (withdrawn cases were still removed).")]
    Publish(PublishArgs),
    /// The clinic's signing key: every run that changes the gallery signs its manifest with it.
    #[command(subcommand)]
    Keys(KeysCommand),
    // --- service (issue 34 item 8) ---
    /// Start the studio (`beforeafter studio INPUT --out OUT`) at login, or stop doing so: a
    /// systemd user unit on Linux, a LaunchAgent on macOS, a Task Scheduler task on Windows.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Create a clinic's photo folder: a short config, an example case file and a guide to the
    /// first gallery (printed, and saved as README.md in it). Never overwrites.
    #[command(after_help = "Examples:
  beforeafter init my-clinic --clinic \"Hair Clinic Leeds\"
  beforeafter check my-clinic
  beforeafter batch my-clinic --out my-clinic-gallery

DIR is the photo folder: one folder per client in it (my-clinic/client-07/before.jpg, after.jpg),
its settings in my-clinic/beforeafter.toml (used automatically). The gallery is made beside it,
never inside it. init prints the steps, and saves them as my-clinic/README.md.")]
    Init {
        /// The photo folder to create or fill.
        dir: PathBuf,
        /// The clinic's name: written as `[gallery] clinic`, shown in every page's header and
        /// used as the watermark. Without it, `check` warns until it is set.
        #[arg(long)]
        clinic: Option<String>,
    },
    /// Write the man pages and shell completions (bash, zsh, fish) made from these definitions
    /// into DIR/man and DIR/completions: for packagers, and for installs by `cargo install`.
    #[command(hide = true)]
    Generate {
        /// The folder to write into (created if missing).
        dir: PathBuf,
    },
}

/// `beforeafter service ...`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the service file that starts `beforeafter studio INPUT --out OUT` at login, and
    /// turn it on where a service manager is running.
    #[command(after_help = "Examples:
  beforeafter service install ~/my-clinic --out ~/my-clinic-gallery
  beforeafter service install ~/my-clinic --out ~/my-clinic-gallery --print    # show the file only
  beforeafter service install photos --out gallery --print --platform macos    # a Mac's LaunchAgent

Linux: $XDG_CONFIG_HOME/systemd/user/beforeafter-studio.service (~/.config without it), enabled
with systemctl --user. macOS: ~/Library/LaunchAgents/org.beforeafter.studio.plist, loaded with
launchctl. Windows: the task \"beforeafter studio\" (at logon), made with schtasks. Where no
service manager answers (a container, a CI machine) the file is written, the command to turn it
on is printed, and the exit code is 0.")]
    Install {
        /// The folder with the clinic's photos.
        input: PathBuf,
        /// The gallery the studio keeps up to date.
        #[arg(long, short)]
        out: PathBuf,
        /// Where the studio serves (its default without it).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Print the service file instead of writing it.
        #[arg(long)]
        print: bool,
        /// Whose service file (with --print): linux, macos or windows. Default: this computer's.
        #[arg(long, value_enum)]
        platform: Option<Platform>,
    },
    /// Stop starting the studio at login: turn the service off and delete its file.
    Remove,
}

/// A system's service manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    Linux,
    Macos,
    Windows,
}

impl Platform {
    /// This computer's.
    #[must_use]
    pub fn this() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Macos
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// `beforeafter keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make the clinic's signing key (Ed25519, minisign format) in INPUT/.beforeafter/.
    #[command(after_help = "Examples:
  beforeafter keys new photos
  beforeafter keys new photos --password      # then: export BEFOREAFTER_KEY_PASSWORD=... for runs

The secret key stays in INPUT/.beforeafter/signing.key (readable by you only; never copied into
the gallery); the public key is INPUT/.beforeafter/signing.pub, and from the next run the
gallery's minisign.pub. Publish the public key somewhere else as well (your own website, your
profile on a professional register): a key beside the files it vouches for proves nothing alone.")]
    New {
        /// The folder with the clinic's photos.
        input: PathBuf,
        /// Protect the secret key with a password (asked twice, or BEFOREAFTER_KEY_PASSWORD);
        /// runs then read it from BEFOREAFTER_KEY_PASSWORD.
        #[arg(long)]
        password: bool,
        /// Replace an existing key (earlier signatures stay checkable only with the old key).
        #[arg(long)]
        force: bool,
    },
}

/// `publish`: the gallery, where to, and how carefully.
#[derive(Args, Clone, Debug)]
pub struct PublishArgs {
    /// The gallery folder (as made by `batch` or `watch`).
    pub out: PathBuf,
    /// The website's folder: `file:///path`, `sftp://user@host[:port]/path` or `s3://bucket/prefix`
    /// (default: `[publish] to`).
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
    /// The photo folder: its settings, its withdrawal receipts, and where the outcome is kept.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// A config file (default: INPUT's beforeafter.toml).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print what would be uploaded and deleted; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse to delete more files than this (default: `[publish] max_deletes`, 50); files of
    /// withdrawn or expired cases are always deleted.
    #[arg(long, value_name = "N")]
    pub max_deletes: Option<usize>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `batch` and `watch` share.
#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// The folder with the clinic's photos.
    pub input: PathBuf,
    /// The gallery folder to write and keep up to date (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// A TOML file overriding the defaults key by key (see `beforeafter init`); `watch` reloads
    /// it when it changes. Without it, INPUT's own beforeafter.toml is used when present.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Cases processed at once (default: the config's `jobs`, 0 = one per core).
    #[arg(long, short, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub jobs: Option<usize>,
    /// JSON on stdout: the summary (`batch`), or one object per event instead of log lines on
    /// stderr (`watch`).
    #[arg(long)]
    pub json: bool,
    /// Publish cases that need review anyway.
    #[arg(long)]
    pub publish_review: bool,
    /// If another run is writing the output folder, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
}

// --- studio (issue 34) ---
/// `studio`: where the photos are, where the gallery goes, where to serve.
#[derive(Args, Clone, Debug)]
pub struct StudioArgs {
    /// The folder with the clinic's photos.
    pub input: PathBuf,
    /// The gallery folder to write and keep up to date (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// The same settings as the runs (see `batch`); reloaded when it changes.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Where to serve the studio: an address with port, or a port alone (on loopback).
    #[arg(long, default_value = "127.0.0.1:8090", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Allow an --addr other than loopback (such as 0.0.0.0:8090), reachable from other
    /// computers on the network (still with the token); without it such an address is refused.
    #[arg(long)]
    pub allow_lan: bool,
    /// Scan the folder every `[watch] poll_ms` instead of waiting for events (network shares).
    #[arg(long)]
    pub poll: bool,
    /// Print the link only; do not open it in a browser.
    #[arg(long)]
    pub no_open: bool,
}
// --- end studio ---

/// `consent`: the register's arguments.
#[derive(Args, Clone, Debug)]
pub struct ConsentArgs {
    pub input: PathBuf,
    /// The published gallery, for what is public now (read only).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Comma-separated values (one line per case) instead of a table.
    #[arg(long)]
    pub csv: bool,
    /// Write the register to this file instead of printing it (never inside --out).
    #[arg(long)]
    pub to: Option<PathBuf>,
}

/// `batch`: a run's arguments, and the shard to process.
#[derive(Args, Clone, Debug)]
pub struct BatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Process only shard I of N (1-based) and record its results in OUT/.shards/ for
    /// `beforeafter merge`; writes no page, manifest or pruning. Shards of one folder may run at
    /// once, on one machine or many sharing the folders. `env`: I and N from a Kubernetes
    /// Indexed Job (JOB_COMPLETION_INDEX + 1, of N in BEFOREAFTER_SHARDS) or a Slurm job array
    /// (SLURM_ARRAY_TASK_ID, of N in BEFOREAFTER_SHARDS; without it, counted from _MIN, of _COUNT).
    #[arg(long, value_name = "I/N|env", value_parser = parse_shard)]
    pub shard: Option<ShardArg>,
}

/// `--shard`: given, or from the job system's environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Env,
    Given { index: u32, count: u32 },
}

/// `--shard I/N` (1 <= I <= N) or `--shard env`.
pub fn parse_shard(s: &str) -> Result<ShardArg, String> {
    if s == "env" {
        return Ok(ShardArg::Env);
    }
    let parsed = s
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => {
            Ok(ShardArg::Given { index, count })
        }
        _ => Err(format!(
            "{s:?}: give I/N with 1 <= I <= N (such as 2/8: the second of 8 shards), or env"
        )),
    }
}

/// `merge`: the folders and the settings the shards ran with.
#[derive(Args, Clone, Debug)]
pub struct MergeArgs {
    /// The folder with the clinic's photos, as the shards saw it.
    pub input: PathBuf,
    /// The gallery folder the shards wrote into.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The shards' config file (without it, INPUT's own beforeafter.toml when present).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// The shards ran with --publish-review.
    #[arg(long)]
    pub publish_review: bool,
    /// If a run or shard is writing the output folder, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
}

/// `watch`: a run's arguments, and how to notice changes and preview.
#[derive(Args, Clone, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Scan the folder every `[watch] poll_ms` instead of waiting for events (network shares,
    /// or when the system's limit on watched folders is reached).
    #[arg(long)]
    pub poll: bool,
    /// Preview the gallery over HTTP; pages reload themselves when it changes. ADDR defaults to
    /// 127.0.0.1:8080 (loopback); anything else must be given explicitly.
    #[arg(long, value_name = "ADDR", num_args = 0..=1,
          default_missing_value = DEFAULT_ADDR, value_parser = parse_addr)]
    pub serve: Option<SocketAddr>,
    /// Allow a --serve address other than loopback (such as 0.0.0.0:8080), reachable from
    /// other computers on the network; every request then needs the token in the printed link.
    /// Without it such an address is refused.
    #[arg(long, requires = "serve")]
    pub allow_lan: bool,
}

/// `--serve` without an address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// `--serve ADDR`: an address with port, or a port alone (on loopback).
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!("{s:?} is not an address: give e.g. 127.0.0.1:8080, [::1]:8080 or 8080")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_arguments() {
        assert_eq!(
            parse_shard("2/8"),
            Ok(ShardArg::Given { index: 2, count: 8 })
        );
        assert_eq!(parse_shard("env"), Ok(ShardArg::Env));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serve_addresses() {
        assert_eq!(parse_addr("8081").unwrap().to_string(), "127.0.0.1:8081");
        assert_eq!(parse_addr("0.0.0.0:80").unwrap().to_string(), "0.0.0.0:80");
        assert!(parse_addr("localhost").is_err());
    }
}
