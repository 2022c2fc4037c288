//! An input stream (plain, gzip or zstd, told by its magic bytes) cut into
//! line-aligned chunks, and every line read as the event store. Stops at
//! 64 MiB of output: a small input may inflate to a great deal.
#![no_main]

use entlog::input::{Source, from_reader};
use entlog::parse::{Event, Format};
use entlog::split::{StreamChunker, lines};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(Cursor::new(data.to_vec()));
    let Ok(input) = from_reader(Path::new("fuzz"), None, reader) else { return };
    let Source::Stream(stream) = input.source else { unreachable!("a reader is a stream") };
    let mut chunker = StreamChunker::new(stream, 1 << 12);
    let mut total = 0;
    while let Ok(Some(chunk)) = chunker.next_chunk() {
        total += chunk.len();
        let mut ev = Event::default();
        for line in lines(&chunk) {
            let _ = Format::EntcoreJson.parse(line, &mut ev);
        }
        if total > 64 << 20 {
            break;
        }
    }
});
