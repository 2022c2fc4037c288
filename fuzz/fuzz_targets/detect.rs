//! Format detection on an input's first bytes, then every line read with
//! the format found, as `analyze --format auto` does.
#![no_main]

use entlog::parse::{Event, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|head: &[u8]| {
    let format = match Format::detect(head).and_then(|f| f.bind(head)) {
        Ok(format) => format,
        Err(why) => return assert!(!why.is_empty()),
    };
    let mut ev = Event::default();
    for line in head.split(|&b| b == b'\n') {
        if format.header() != Some(line) {
            let _ = format.parse(line, &mut ev);
        }
    }
});
