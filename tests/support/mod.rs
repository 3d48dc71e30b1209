//! What the tests share, in one module with one part per concern. Every test file says
//! `mod support;` and uses the parts it needs (`use support::env::TestEnv;`).
//!
//! - [`env`]: a temp input/output tree and the real binary (`TestEnv`), small image makers.
//! - [`http`]: raw requests to the binary's server (any `Host`, `Origin`, `Cookie`), and a run
//!   that must exit within a deadline.
//! - [`sample`]: the sample gallery, built once per test binary, and text helpers on its pages.
//! - [`truth`]: ground truth on real photographs, measured on what the binary publishes.
//! - [`registration`]: synthetic pairs with exact truth, run through the library's own fit
//!   (`beforeafter::pipeline::fit_pair`), and the measures of registration and tone.
//!
//! Each test binary compiles every part and uses only some, so the unused rest would be a
//! dead-code warning (and clippy runs with `-D warnings` over all targets). One `allow` here
//! covers all parts, rather than a `mod` list per test file that would drift from this one.
//! Parts that a bench includes on its own with `#[path]` (`truth`, `registration`) carry their
//! own `allow` too, since there this file is not their parent.
//!
//! `benches/support/` stays apart: it only builds the benches' inputs (cached 12-MP pairs, the
//! bench clinic's settings, peak memory), which no test needs.
#![allow(dead_code, unused_imports)]

pub mod env;
pub mod http;
pub mod registration;
pub mod sample;
pub mod truth;
