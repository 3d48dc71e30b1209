//! What the user can type (clap derive). Converted once into configuration and run options.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "beforeafter",
    version,
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
    /// Process every case in INPUT and bring the gallery in --out up to date.
    #[command(after_help = "Examples:
  beforeafter batch photos --out gallery
  beforeafter batch photos --out gallery --config clinic.toml --jobs 2
  beforeafter batch photos --out gallery --json > summary.json

Exit codes: 0 all published, 1 fatal (bad config, unwritable output), 3 some cases failed or need review.")]
    Batch {
        /// The folder the clinic's photos are in.
        input: PathBuf,
        /// The gallery folder to write (created if missing).
        #[arg(long, short)]
        out: PathBuf,
        /// A TOML file overriding the defaults key by key (see `beforeafter init`).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Cases processed at once (default: the config's `jobs`, 0 = one per core).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Publish cases that need review anyway.
        #[arg(long)]
        publish_review: bool,
    },
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
    /// Create a clinic folder: a commented config, an example case and a short guide. Never overwrites.
    #[command(after_help = "Examples:
  beforeafter init my-clinic
  beforeafter batch my-clinic/photos --out my-clinic/gallery --config my-clinic/beforeafter.toml")]
    Init {
        /// The folder to create or fill.
        dir: PathBuf,
    },
}
