//! Every integration test, as modules of one test crate (the ripgrep layout): one binary links
//! the library once, instead of one binary per file each linking it in release mode. The sample
//! gallery (`support::sample`) is built once per run and shared by the tests that only read it.
//!
//! Run one area with a filter: `cargo test --release -- gallery::` (module names are the file
//! names below).

mod support;

mod batch;
mod browser;
mod build_profile;
mod check_photos;
mod config_bounds;
mod consent;
mod crash;
mod discover;
mod docs;
mod embed;
mod flags;
mod formats;
mod gallery;
mod gallery_words;
mod heic;
mod house;
mod ingest;
mod inventory;
mod mutation;
mod newcomer;
mod package;
mod privacy;
mod publish;
mod quality;
mod registration;
mod review;
mod review_app;
mod review_kept_off;
mod review_screens;
mod samples;
mod service;
mod shards;
mod signing;
mod studio;
mod tiny;
mod truth;
mod verify;
mod watch;
