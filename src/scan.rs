//! Scanning one input with every worker: split, parse, fold.
//!
//! A mapped file is cut into line-aligned chunks up front and workers take
//! the next chunk from a shared counter. A stream (decompressed or stdin)
//! is cut by the calling thread into owned chunks passed through a bounded
//! channel, so at most about two chunks per worker are in memory. Each
//! chunk reports its line count and rejections with chunk-local line
//! numbers; they become input line numbers once every chunk is done.

use crate::aggregate::Worker;
use crate::input::{Input, Source};
use crate::parse::{Event, Format, ParseError};
use crate::sink::run_json::{InputReport, RejectedLine};
use crate::split::{self, CHUNK_SIZE, StreamChunker};
use crate::time::format_ms;
use indicatif::ProgressBar;
use rayon::ThreadPool;
use std::io::{BufRead, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};

/// Rejections kept per chunk, and per input in `run.json`.
const SAMPLES: usize = 10;

/// What scanning one chunk found.
#[derive(Debug, Default)]
pub struct ChunkStats {
    /// Bytes of the chunk.
    pub bytes: u64,
    /// Lines, blank ones included.
    pub lines: u64,
    /// Lines parsed and folded.
    pub records: u64,
    /// Rejected lines by reason.
    pub rejected: Vec<(ParseError, u64)>,
    /// Lines skipped by an option (`--dedup`, `--since`, `--until`), by
    /// reason.
    pub skipped: Vec<(ParseError, u64)>,
    /// First rejections: chunk-local 0-based line index and reason.
    pub samples: Vec<(u64, ParseError)>,
    /// Earliest event instant, epoch ms.
    pub first_ms: Option<i64>,
    /// Latest event instant, epoch ms.
    pub last_ms: Option<i64>,
}

impl ChunkStats {
    fn reject(&mut self, line: u64, e: ParseError) {
        let counts = if e.is_skip() { &mut self.skipped } else { &mut self.rejected };
        match counts.iter_mut().find(|(r, _)| *r == e) {
            Some((_, n)) => *n += 1,
            None => counts.push((e, 1)),
        }
        if !e.is_skip() && self.samples.len() < SAMPLES {
            self.samples.push((line, e));
        }
    }
}

/// Parses every line of `chunk` and folds the records into `w`.
pub fn scan_chunk(w: &mut Worker<'_>, format: &Format, chunk: &[u8]) -> ChunkStats {
    let mut st = ChunkStats { bytes: chunk.len() as u64, ..ChunkStats::default() };
    let mut ev = Event::default();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let header = format.header();
    for (i, line) in split::lines(chunk).enumerate() {
        st.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace)
            || header.is_some_and(|h| line.trim_ascii() == h)
        {
            continue;
        }
        let parsed = if line.len() > split::MAX_LINE {
            Err(ParseError::LineTooLong)
        } else {
            format.parse(line, &mut ev)
        };
        match parsed.and_then(|()| w.consume(&ev)) {
            Ok(time_ms) => {
                st.records += 1;
                first = first.min(time_ms);
                last = last.max(time_ms);
            }
            Err(e) => st.reject(i as u64, e),
        }
    }
    if st.records > 0 {
        (st.first_ms, st.last_ms) = (Some(first), Some(last));
    }
    st
}

/// Scans one opened input with all `workers` on `pool`, and accounts for
/// it in `report` (which already names the input).
/// `progress` advances by the bytes of each chunk of a mapped file, and by
/// the size on disk of a stream once it is read.
pub fn scan_input(
    pool: &ThreadPool,
    workers: &mut [Worker<'_>],
    input: Input,
    format: Option<&Format>,
    report: &mut InputReport,
    progress: &ProgressBar,
) {
    report.compression = Some(input.compression.name().to_string());
    report.bytes_on_disk = input.bytes_on_disk;
    let stats = Mutex::new(Vec::new());
    match input.source {
        Source::Mapped(map) => {
            let data: &[u8] = map.as_deref().unwrap_or(&[]);
            let Some(format) = choose(format, data, report) else { return };
            let format = &format;
            let chunks = split::chunks(data, CHUNK_SIZE);
            let next = AtomicUsize::new(0);
            pool.in_place_scope(|s| {
                for w in workers.iter_mut() {
                    let (chunks, next, stats) = (&chunks, &next, &stats);
                    s.spawn(move |_| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(c) = chunks.get(i) else { break };
                            let st = scan_chunk(w, format, c);
                            w.exchange();
                            progress.inc(c.len() as u64);
                            lock(stats).push((i, st));
                        }
                    });
                }
            });
        }
        Source::Stream(mut reader) => {
            let head = match reader.fill_buf() {
                Ok(h) => h,
                Err(e) => {
                    report.error = Some(e.to_string());
                    return;
                }
            };
            let Some(format) = choose(format, head, report) else { return };
            let format = &format;
            let (tx, rx) = sync_channel::<(usize, Vec<u8>)>(workers.len());
            let rx = Mutex::new(rx);
            pool.in_place_scope(|s| {
                for w in workers.iter_mut() {
                    let (rx, stats) = (&rx, &stats);
                    s.spawn(move |_| {
                        // The lock is held only while waiting for a chunk.
                        while let Ok((i, c)) = lock(rx).recv() {
                            let st = scan_chunk(w, format, &c);
                            w.exchange();
                            lock(stats).push((i, st));
                        }
                    });
                }
                feed(reader, tx, report);
            });
            progress.inc(report.bytes_on_disk.unwrap_or(0));
        }
    }
    // Every worker has posted its last chunk's events: each takes what
    // was left for it, so no event waits past its input.
    for w in workers.iter_mut() {
        w.exchange();
    }
    account(stats.into_inner().unwrap_or_else(|e| e.into_inner()), report);
}

/// Cuts `reader` into chunks for the workers, numbered in order, until
/// its end or a read error (recorded in `report`); the workers stop when
/// `tx` is dropped.
fn feed(reader: impl Read, tx: SyncSender<(usize, Vec<u8>)>, report: &mut InputReport) {
    let mut chunker = StreamChunker::new(reader, CHUNK_SIZE);
    for seq in 0.. {
        match chunker.next_chunk() {
            Ok(Some(c)) => {
                if tx.send((seq, c)).is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                report.error = Some(format!("read error: {e}"));
                break;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Workers do not panic; if one did, its partial data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The format to parse with: the one given, or the one detected from
/// `head`. Records the choice, or the failure to choose, in `report`.
fn choose(given: Option<&Format>, head: &[u8], report: &mut InputReport) -> Option<Format> {
    if head.iter().all(u8::is_ascii_whitespace) {
        // Nothing to parse: an empty input is not an error.
        report.format = given.map(|f| f.name().to_string());
        return None;
    }
    let format = match given {
        Some(f) => f.clone(),
        None => match Format::detect(head) {
            Ok(f) => f,
            Err(why) => {
                report.error = Some(format!("cannot detect the log format: {why}"));
                return None;
            }
        },
    };
    report.format = Some(format.name().to_string());
    match format.bind(head) {
        Ok(f) => Some(f),
        Err(e) => {
            report.error = Some(e);
            None
        }
    }
}

/// Folds chunk statistics into the input's report, turning chunk-local
/// line indexes into 1-based input line numbers.
fn account(mut stats: Vec<(usize, ChunkStats)>, report: &mut InputReport) {
    stats.sort_by_key(|(i, _)| *i);
    let mut line_base = 0;
    for (_, st) in &stats {
        report.bytes += st.bytes;
        report.records += st.records;
        for &(e, n) in &st.rejected {
            report.rejected += n;
            *report.rejected_by_reason.entry(e.to_string()).or_insert(0) += n;
        }
        for &(e, n) in &st.skipped {
            report.skipped += n;
            *report.skipped_by_reason.entry(e.to_string()).or_insert(0) += n;
        }
        for &(l, e) in &st.samples {
            if report.rejected_samples.len() < SAMPLES {
                report
                    .rejected_samples
                    .push(RejectedLine { line: line_base + l + 1, reason: e.to_string() });
            }
        }
        line_base += st.lines;
    }
    report.lines = line_base;
    let first = stats.iter().filter_map(|(_, s)| s.first_ms).min();
    let last = stats.iter().filter_map(|(_, s)| s.last_ms).max();
    report.first_event = first.map(format_ms);
    report.last_event = last.map(format_ms);
}
