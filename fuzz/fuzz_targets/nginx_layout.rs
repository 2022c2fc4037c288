//! An nginx `log_format` (the first line) is read into a layout or refused
//! with a message; the lines after it are read with that layout.
#![no_main]

use entlog::parse::{Event, Layout};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (format, lines) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(format) = std::str::from_utf8(format) else { return };
    let layout = match Layout::nginx(format) {
        Ok(layout) => layout,
        Err(e) => return assert!(!e.to_string().is_empty()),
    };
    let mut ev = Event::default();
    for line in lines.split(|&b| b == b'\n') {
        let _ = layout.parse(line, &mut ev);
    }
});
