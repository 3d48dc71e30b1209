//! A case's photos as read from disk: bytes and content hash, before any decoding. The hash is
//! the photo's identity in cache keys and records.

use crate::discover::Case;
use crate::error::PhotoError;
use crate::ingest::{self, IngestParams};

/// A source file's bytes and content hash.
pub struct Source {
    pub bytes: Vec<u8>,
    pub hash: String,
    /// These very bytes were already checked whole (watch mode checks each photo as it settles),
    /// so decoding need not walk their entropy-coded data again.
    pub checked: bool,
}

impl Source {
    /// A photo the watcher already read and hashed: its hash is all the cache key needs.
    pub fn known(hash: String) -> Source {
        Source {
            bytes: Vec::new(),
            hash,
            checked: false,
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
                    Ok(Source {
                        bytes,
                        hash,
                        checked: false,
                    })
                })
                .collect()
        })
        .collect()
}

/// Mark the sources whose hash is the one the watcher checked when the photo settled.
pub fn mark_checked(sources: &mut [Vec<Source>], checked_hashes: &[Vec<String>]) {
    for (view, hashes) in sources.iter_mut().zip(checked_hashes) {
        for (src, hash) in view.iter_mut().zip(hashes) {
            src.checked = src.hash == *hash;
        }
    }
}
