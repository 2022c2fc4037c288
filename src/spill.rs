//! Lists held on disk instead of in memory: what a run must keep until
//! its end but reads only a few times (the visits of closed days, every
//! visit of the final stage) goes to a file once a budget of memory is
//! spent, and is read back through a memory map.
//!
//! The pages of a mapped file are the kernel's to drop and read again:
//! they do not count against the process's anonymous memory, and a machine
//! short of memory evicts them rather than swap or kill the run. The file
//! has no name (it is unlinked as soon as it is made), so it is gone when
//! the process ends, even when killed. A write that fails (a full disk)
//! keeps the lists in memory, as if there were no file: the run loses
//! nothing, and says so once. So does a map the kernel refuses: each
//! write is mapped on its own (a closed day of a worker, a shard's joined
//! list), a few hundred maps for months of logs, far from the kernel's
//! default limit of 65,530 per process. A day opened again leaves its
//! range of the file unused: the file only grows, and goes with the run.

use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::ops::Deref;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Plain data: a value is its bytes, with no padding and no pointer, and
/// any bytes of its size written from a value read back as that value.
///
/// # Safety
///
/// Implement only for `Copy` types with a fixed layout (`repr(C)` or
/// `repr(C, packed)`, or a primitive integer) and no padding bytes.
#[allow(unsafe_code)]
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: an integer has no padding and no invalid bit pattern.
#[allow(unsafe_code)]
unsafe impl Plain for u32 {}

/// The bytes of `items`.
#[allow(unsafe_code)]
fn bytes_of<T: Plain>(items: &[T]) -> &[u8] {
    // SAFETY: `T: Plain` has no padding, so every byte of the slice is
    // initialised; the length is the slice's size in bytes.
    unsafe { std::slice::from_raw_parts(items.as_ptr().cast::<u8>(), size_of_val(items)) }
}

/// Items of type `T` in memory, or in a spill file.
#[derive(Clone, Debug)]
pub struct Items<T: Plain> {
    /// The items in memory (empty when they are spilled).
    held: Vec<T>,
    /// The items in a spill file, if they are there.
    spilled: Option<Mapped<T>>,
}

/// Items of a spill file: `len` values of `T` from byte `start` of a map.
#[derive(Clone, Debug)]
struct Mapped<T> {
    map: Arc<Mmap>,
    start: usize,
    len: usize,
    item: PhantomData<T>,
}

impl<T: Plain> Mapped<T> {
    /// `len` items at byte `start` of `map`, if they lie in it and `start`
    /// is aligned for `T`.
    fn new(map: &Arc<Mmap>, start: usize, len: usize) -> Option<Mapped<T>> {
        let end = start.checked_add(len.checked_mul(size_of::<T>())?)?;
        let aligned = (map.as_ptr() as usize + start).is_multiple_of(align_of::<T>());
        (aligned && end <= map.len()).then(|| Mapped {
            map: Arc::clone(map),
            start,
            len,
            item: PhantomData,
        })
    }

    /// The items, read through the map.
    #[allow(unsafe_code)]
    fn as_slice(&self) -> &[T] {
        // SAFETY: `Mapped::new` checked that the items lie in the map and
        // are aligned; the map is read-only and lives as long as `self`
        // holds it; the bytes were written from values of the same
        // `T: Plain` by `Spill::write`, and the file has no name by which
        // another process could change them.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().add(self.start).cast::<T>(), self.len)
        }
    }
}

impl<T: Plain> Deref for Items<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.spilled {
            Some(m) => m.as_slice(),
            None => &self.held,
        }
    }
}

impl<T: Plain> Default for Items<T> {
    fn default() -> Self {
        Items::from(Vec::new())
    }
}

impl<T: Plain> From<Vec<T>> for Items<T> {
    fn from(held: Vec<T>) -> Self {
        Items { held, spilled: None }
    }
}

impl<T: Plain + PartialEq> PartialEq for Items<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Plain + Eq> Eq for Items<T> {}

impl<T: Plain> Items<T> {
    /// The items in memory, to be changed: spilled ones are read back.
    /// Every visit pushed goes through here, and lists being built are
    /// never spilled: the check is all it costs them.
    #[inline]
    pub fn held(&mut self) -> &mut Vec<T> {
        if self.spilled.is_some() {
            self.read_back();
        }
        &mut self.held
    }

    /// Reads spilled items back into memory.
    #[cold]
    fn read_back(&mut self) {
        if let Some(m) = self.spilled.take() {
            self.held = m.as_slice().to_vec();
        }
    }

    /// Bytes of memory the items hold (none once spilled).
    pub fn held_bytes(&self) -> usize {
        self.held.capacity() * size_of::<T>()
    }

    /// The items' bytes, as [`Spill::write`] takes them.
    pub fn bytes(&self) -> &[u8] {
        bytes_of(self)
    }

    /// The items written at byte `start` of `map` by [`Spill::write`], as
    /// many as `self` holds; `None` if they do not lie there.
    pub fn spilled_at(&self, map: &Arc<Mmap>, start: usize) -> Option<Items<T>> {
        let spilled = Mapped::new(map, start, self.len())?;
        Some(Items { held: Vec::new(), spilled: Some(spilled) })
    }
}

/// How much a run holds in memory before it spills, and where
/// (`--visit-memory`, `--spill-dir`).
#[derive(Clone, Debug)]
pub struct SpillOptions {
    /// Bytes of lists held in memory.
    pub budget: usize,
    /// Where the spill file goes; `None`: the output directory's parent,
    /// where the outputs' own disk space is.
    pub dir: Option<PathBuf>,
}

impl Default for SpillOptions {
    fn default() -> Self {
        SpillOptions { budget: DEFAULT_BUDGET, dir: None }
    }
}

/// The default of `--visit-memory`: 256 MiB, more than the visits of a
/// month of the seed scenario (`--scale 1`) take.
pub const DEFAULT_BUDGET: usize = 256 << 20;

impl SpillOptions {
    /// The spill file of a run writing into the output directory `out`.
    pub fn file_for(&self, out: &Path) -> Spill {
        let dir = match (&self.dir, out.parent()) {
            (Some(dir), _) => dir,
            (None, Some(p)) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Spill::new(dir, self.budget)
    }
}

/// A spill file, shared by the workers of a run, with the budget of
/// memory they may hold before they spill.
#[derive(Debug)]
pub struct Spill {
    /// `None` when it could not be made (see [`Spill::new`]).
    file: Option<File>,
    /// Where the file is, for messages.
    dir: String,
    /// Bytes of the file reserved so far: each write takes its own range.
    end: AtomicU64,
    /// Bytes that may be held in memory.
    budget: usize,
    /// Bytes held since the last [`Spill::restart`].
    held: AtomicUsize,
    /// Bytes written.
    written: AtomicU64,
    /// The first failure, for the run's report: once set, lists are
    /// held in memory.
    failure: OnceLock<String>,
}

/// The alignment of every write: a page, so that each map starts where the
/// kernel can map it.
const PAGE: u64 = 4096;

/// Where each part of a write starts: the largest alignment of a [`Plain`]
/// type the crate spills.
const PART_ALIGN: usize = 8;

impl Spill {
    /// A spill file with no name in `dir` (created if missing), holding up
    /// to `budget` bytes in memory before lists go to it. A file that
    /// cannot be made is a failure as a write's is (see
    /// [`Spill::failure`]): every list stays in memory.
    pub fn new(dir: &Path, budget: usize) -> Spill {
        let file = std::fs::create_dir_all(dir).and_then(|()| tempfile::tempfile_in(dir));
        let failure = match &file {
            Err(e) => OnceLock::from(format!("{}: {e}", dir.display())),
            Ok(_) => OnceLock::new(),
        };
        Spill {
            failure,
            file: file.ok(),
            dir: dir.display().to_string(),
            end: AtomicU64::new(0),
            budget,
            held: AtomicUsize::new(0),
            written: AtomicU64::new(0),
        }
    }

    /// Whether lists of `bytes` may stay in memory: yes while the bytes
    /// kept since the last [`Spill::restart`] are within the budget, and
    /// always once a write failed. Kept bytes are counted as held.
    pub fn keeps(&self, bytes: usize) -> bool {
        if self.failure.get().is_some() {
            return true;
        }
        let before = self.held.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) <= self.budget {
            return true;
        }
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        false
    }

    /// Counts the budget again from nothing: the lists kept so far are
    /// being freed as what replaces them is made.
    pub fn restart(&self) {
        self.held.store(0, Ordering::Relaxed);
    }

    /// Writes `parts` one after the other (each at an offset aligned for
    /// any [`Plain`] type) and maps them back; returns the map and where
    /// each part starts in it. On failure, records it (see
    /// [`Spill::failure`]) and returns `None`: the caller keeps its lists.
    pub fn write(&self, parts: &[&[u8]]) -> Option<(Arc<Mmap>, Vec<usize>)> {
        match self.try_write(parts) {
            Ok(written) => Some(written),
            Err(e) => {
                self.failure.get_or_init(|| format!("{}: {e}", self.dir));
                None
            }
        }
    }

    fn try_write(&self, parts: &[&[u8]]) -> io::Result<(Arc<Mmap>, Vec<usize>)> {
        let file = self.file.as_ref().ok_or_else(|| io::Error::other("no spill file"))?;
        let mut starts = Vec::with_capacity(parts.len());
        let mut size = 0usize;
        for part in parts {
            size = size.next_multiple_of(PART_ALIGN);
            starts.push(size);
            size += part.len();
        }
        let len = size.max(1) as u64;
        let at = self.end.fetch_add(len.next_multiple_of(PAGE), Ordering::Relaxed);
        for (part, start) in parts.iter().zip(&starts) {
            file.write_all_at(part, at + *start as u64)?;
        }
        if size == 0 {
            // A map may not be empty: the file is given its one byte.
            file.write_all_at(&[0], at)?;
        }
        self.written.fetch_add(size as u64, Ordering::Relaxed);
        // SAFETY: the range was written above and no write touches it
        // again (each write reserves its own range); the file has no name.
        #[allow(unsafe_code)]
        let map = unsafe { MmapOptions::new().offset(at).len(len as usize).map(file)? };
        Ok((Arc::new(map), starts))
    }

    /// Bytes written to the file.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// The first write that failed, if one did: lists were held in memory
    /// from then on.
    pub fn failure(&self) -> Option<String> {
        self.failure.get().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spilled(spill: &Spill, items: &Items<u32>) -> Option<Items<u32>> {
        let (map, starts) = spill.write(&[b"abc", items.bytes()])?;
        items.spilled_at(&map, starts[1])
    }

    #[test]
    fn spilled_items_read_back_as_they_were_and_change_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 0);
        let items = Items::from((0..10_000u32).map(|x| x * 7).collect::<Vec<_>>());
        let mut back = spilled(&spill, &items).unwrap();
        assert_eq!((back.held_bytes(), &back[..]), (0, &items[..]));
        // A second write lands after the first, page-aligned.
        let empty = spilled(&spill, &Items::default()).unwrap();
        assert!(empty.is_empty());
        back.held().push(1);
        assert_eq!((back.len(), back[10_000]), (10_001, 1));
        assert!(back.held_bytes() >= 10_001 * 4);
        // Each part starts 8-aligned: 3 bytes, 5 of padding, then the items.
        assert_eq!(spill.written(), (8 + 40_000) + 8);
        // The file has no name: the directory stays empty.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_budget_keeps_lists_until_it_is_spent() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 100);
        assert!(spill.keeps(60));
        assert!(!spill.keeps(60));
        assert!(spill.keeps(40));
        spill.restart();
        assert!(spill.keeps(100));
    }

    #[test]
    fn a_failed_write_keeps_the_lists_and_is_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read-only");
        std::fs::write(&path, b"").unwrap();
        let spill = Spill { file: Some(File::open(&path).unwrap()), ..Spill::new(dir.path(), 0) };
        let items = Items::from(vec![1u32, 2, 3]);
        assert!(spilled(&spill, &items).is_none());
        assert!(spill.keeps(usize::MAX));
        assert!(spill.failure().unwrap().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn a_spill_file_that_cannot_be_made_keeps_every_list() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        // A directory under a file cannot be made.
        let spill = Spill::new(&file.join("spill"), 0);
        assert!(spill.keeps(usize::MAX));
        assert!(spill.failure().unwrap().contains("a-file"));
        assert!(spilled(&spill, &Items::from(vec![1u32])).is_none());
    }
}
