//! beforeafter: aligned, honest before/after photo galleries for clinics.
//!
//! The pipeline is a line of stages: [`discover`] finds cases, [`ingest`] decodes photos,
//! [`align`] and [`tone`] put later photos onto the before photo's frame and light,
//! [`render`] crops, watermarks, composites and encodes, [`gallery`] writes pages, and
//! [`manifest`] records what was done. [`pipeline`] runs it all in parallel,
//! and [`watch`] runs it again whenever the input folder changes.

// The library's documentation is the engineers' map of the program (`cargo doc --no-deps
// --document-private-items`, as `.ci/run` builds it with warnings denied): most modules are
// crate-internal, and a module's header links to its private parts, which that build documents.
#![allow(rustdoc::private_intra_doc_links)]

pub mod align;
pub mod casefile;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consent;
pub mod dates;
pub mod discover;
pub mod disk;
pub mod error;
pub mod flags;
pub mod gallery;
pub mod generate;
pub mod http;
pub mod ids;
pub mod ingest;
pub mod init;
pub mod journal;
pub mod manifest;
pub mod pipeline;
pub mod publish;
pub mod quality;
pub mod register;
pub mod render;
pub mod review;
pub mod service;
pub mod sign;
pub mod studio;
#[cfg(feature = "synth")]
pub mod synth;
pub mod tone;
pub mod verify;
pub mod watch;
