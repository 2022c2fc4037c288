//! Lines through the whole engine but the writes: parsed (as the event
//! store, a combined access log or a PostgreSQL export, by the first
//! byte), folded into a worker's state with no date window, and finished
//! into tables. No line, whatever its date, may make the engine allocate
//! without bound: the target's allocator aborts when the heap in use
//! passes 64 MiB (an input is at most 4 KiB, libFuzzer's default).
#![no_main]

use std::alloc::{GlobalAlloc, Layout as Alloc, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Heap in use, in bytes.
static IN_USE: AtomicUsize = AtomicUsize::new(0);
/// The most heap one input may hold at once.
const LIMIT: usize = 64 << 20;

/// The system allocator, counting what is in use and aborting past
/// [`LIMIT`] (libFuzzer's own allocation limit needs a sanitizer).
struct Bounded;

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter only observes sizes.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Alloc) -> *mut u8 {
        if IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size() > LIMIT {
            eprintln!("heap past {LIMIT} bytes: {} more asked", layout.size());
            std::process::abort();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Alloc) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Bounded = Bounded;

use entlog::aggregate::Worker;
use entlog::aggregate::finish::{Settings, finish};
use entlog::aggregate::{Context, DEFAULT_VISIT_GAP_MS};
use entlog::keys::UserKeyer;
use entlog::parse::{Format, Layout};
use entlog::referential::Referential;
use entlog::scan::scan_chunk;
use entlog::time::LocalDays;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, lines)) = data.split_first() else { return };
    let format = match pick % 3 {
        0 => Format::EntcoreJson,
        1 => Format::Access(Layout::combined()),
        _ => match Format::EntcorePgCsv(None).bind(lines) {
            Ok(format) => format,
            Err(_) => return,
        },
    };
    let days = LocalDays::new(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
    let ctx = Context::new(UserKeyer::new("fuzz"), Referential::empty(), days);
    let mut worker = Worker::new(&ctx);
    scan_chunk(&mut worker, &format, lines);
    let settings = Settings { days: ctx.days.clone(), visit_gap_ms: DEFAULT_VISIT_GAP_MS };
    let tables = finish(worker.agg, ctx.dimensions(), &ctx.users, &settings);
    std::hint::black_box(tables);
});
