//! What the tests share, in one module with one part per concern. The tests are modules of one
//! crate (`tests/it/main.rs`); each says `use crate::support;` and uses the parts it needs
//! (`use support::env::TestEnv;`).
//!
//! - [`chrome`]: headless Chromium for the gallery's and the review app's browser tests.
//! - [`env`]: a temp input/output tree and the real binary (`TestEnv`), small image makers.
//! - [`heif`]: whether `heif-enc` and libheif are here, and HEIC files made with them.
//! - [`http`]: raw requests to the binary's server (any `Host`, `Origin`, `Cookie`), and a run
//!   that must exit within a deadline.
//! - [`quality`]: real-photo pairs with one injected fault, for the quality gate.
//! - [`servers`]: real SFTP (OpenSSH), S3 (moto) and static HTTP servers on loopback.
//! - [`screen`]: laptop and tablet screen sizes, and axe-core's accessibility check.
//! - [`sample`]: the sample gallery, built once per run, and text helpers on its pages.
//! - [`truth`]: ground truth on real photographs, measured on what the binary publishes.
//! - [`registration`]: synthetic pairs with exact truth, run through the library's own fit
//!   (`beforeafter::pipeline::fit_pair`), and the measures of registration and tone.
//!
//! One crate compiles every part once, so an unused part is a dead-code warning again (clippy
//! runs with `-D warnings`). Only `truth` and `registration` keep an `allow`: the benches include
//! them with `#[path]` and each uses part of them.
//!
//! `benches/support/` stays apart: it only builds the benches' inputs (cached 12-MP pairs, the
//! bench clinic's settings, peak memory), which no test needs.

pub mod chrome;
pub mod env;
pub mod heif;
pub mod http;
pub mod quality;
pub mod registration;
pub mod sample;
pub mod screen;
pub mod servers;
pub mod truth;
