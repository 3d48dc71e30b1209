//! A case's photos as read from disk: bytes and content hash, before any decoding. The hash is
//! the photo's identity in cache keys and records.

use crate::discover::Case;
use crate::error::PhotoError;
use crate::ingest::{self, IngestParams};

/// A source file's bytes and content hash.
pub struct Source {
    pub bytes: Vec<u8>,
    pub hash: String,
}

impl Source {
    /// A photo the watcher already read and hashed: its hash is all the cache key needs.
    pub fn known(hash: String) -> Source {
        Source {
            bytes: Vec::new(),
            hash,
        }
    }
}

/// Read (not decode) every photo of a case, per view and stage.
pub fn read_sources(c: &Case, params: &IngestParams) -> Result<Vec<Vec<Source>>, PhotoError> {
    c.views
        .iter()
        .map(|v| {
            v.stages
                .iter()
                .map(|s| {
                    let bytes = ingest::read_bytes(&s.path, params)
                        .map_err(|e| PhotoError::new(&s.rel, e.reason))?;
                    let hash = blake3::hash(&bytes).to_hex().to_string();
                    Ok(Source { bytes, hash })
                })
                .collect()
        })
        .collect()
}
