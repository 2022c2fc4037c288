//! A PostgreSQL CSV export: its header row (the first line), then rows.
#![no_main]

use entlog::parse::{Columns, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let Some(columns) = lines.next().and_then(Columns::from_header) else { return };
    let mut ev = Event::default();
    for line in lines {
        let _ = columns.parse(line, &mut ev);
    }
});
