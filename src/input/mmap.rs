//! Memory maps of the inputs. The crate denies `unsafe` code; each of
//! its few uses (here, the spill file, the allocator's trim, the JSON
//! scanner's SSE2 load) is allowed where it stands, with why it is sound.

use memmap2::{Advice, Mmap};
use std::fs::File;
use std::io;

/// Maps a whole file read-only, or returns `None` for an empty file (which
/// cannot be mapped).
///
/// The map is only sound while no process truncates or rewrites the file:
/// a truncated mapped file raises SIGBUS on access. The engine is meant for
/// closed (rotated) dumps; `--no-mmap` reads files instead when that cannot
/// be promised.
pub fn map(file: &File) -> io::Result<Option<Mmap>> {
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    // SAFETY: the map is read-only and lives inside `Input`, which hands
    // out slices borrowing it, so no slice outlives it. Mutation of the
    // file by another process is excluded by the documented contract above
    // (and avoidable with `--no-mmap`).
    #[allow(unsafe_code)]
    let map = unsafe { Mmap::map(file)? };
    // Read-ahead is only a hint: failing to give it changes nothing.
    let _ = map.advise(Advice::Sequential);
    Ok(Some(map))
}
