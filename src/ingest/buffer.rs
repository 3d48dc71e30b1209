//! Zeroed buffers for a whole photo's pixels (36 MB at 12 MP), backed by transparent huge pages
//! where Linux offers them. A fresh buffer of that size is new memory from the kernel every
//! time, and filling it cost about 9,000 page faults of 4 KiB each: 5–6 ms of a 12-MP JPEG's
//! 60–90 ms decode (measured with `benches/decode_cost.rs`). Asking for 2 MiB pages
//! (`madvise(MADV_HUGEPAGE)`, honoured when `/sys/kernel/mm/transparent_hugepage/enabled` says
//! `always` or `madvise`) makes that 18 faults. Elsewhere, or when the kernel has no huge page
//! free, the buffer is an ordinary one; the pixels are the same either way.

/// Below this a buffer is left to the allocator as it is (smaller than a few huge pages).
const LARGE: usize = 8 << 20;

/// A zeroed buffer of `len` bytes.
#[must_use]
pub fn zeroed(len: usize) -> Vec<u8> {
    let buffer = vec![0u8; len];
    if len >= LARGE {
        advise_huge(&buffer);
    }
    buffer
}

#[cfg(target_os = "linux")]
fn advise_huge(buffer: &[u8]) {
    const HUGE: usize = 2 << 20;
    let start = (buffer.as_ptr() as usize).next_multiple_of(HUGE);
    let end = (buffer.as_ptr() as usize + buffer.len()) / HUGE * HUGE;
    if end > start {
        // SAFETY: the range lies inside `buffer`, which is allocated and not yet touched;
        // MADV_HUGEPAGE only changes how the kernel backs it, never its contents. A failure
        // (no THP in this kernel) leaves ordinary pages.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: &[u8]) {}

#[cfg(test)]
mod tests {
    #[test]
    fn a_large_buffer_is_zeroed_and_whole() {
        let b = super::zeroed(12 << 20);
        assert_eq!(b.len(), 12 << 20);
        assert!(b.iter().step_by(4093).all(|&v| v == 0));
    }
}
