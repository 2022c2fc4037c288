//! The allocator: memory the process freed, handed back to the system.

/// Hands the pages of freed heap blocks back to the system.
///
/// glibc keeps what the process frees for its next allocations, but
/// blocks above its mmap threshold (which grows, up to 32 MiB, as the scan
/// frees its per-day tables) are mapped afresh: the final stage's grids
/// and row lists were added on top of the heap the scan had freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: malloc_trim only returns free pages of the allocator's own
    // heaps; it locks each arena while it walks it.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

/// Freed bytes counted until they are worth handing back to the system
/// ([`release_free_memory`]), where a large structure is freed piece by
/// piece while what replaces it is built: the new structure is mapped
/// afresh, and without this it would end on top of every freed piece.
#[derive(Debug, Default)]
pub struct HandBack {
    freed: usize,
}

impl HandBack {
    /// Bytes after which freed pieces are handed back: a few calls at
    /// most, each walking the heap.
    const BYTES: usize = 64 << 20;

    /// Counts `bytes` freed, and hands them back once they are enough.
    pub fn freed(&mut self, bytes: usize) {
        self.freed += bytes;
        if self.freed >= Self::BYTES {
            release_free_memory();
            self.freed = 0;
        }
    }
}
