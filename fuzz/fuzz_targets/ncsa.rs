//! The NCSA presets' own reader gives what the generic layout walk gives:
//! the same result and the same event, for every line.
#![no_main]

use entlog::parse::{Event, Layout};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    for layout in [Layout::combined(), Layout::common()] {
        let (mut fast, mut walked) = (Event::default(), Event::default());
        let a = layout.parse(line, &mut fast);
        let b = layout.walk(line, &mut walked);
        assert_eq!(a, b, "{}: {:?}", layout.name(), String::from_utf8_lossy(line));
        if a.is_ok() {
            assert_eq!(format!("{fast:?}"), format!("{walked:?}"));
        }
    }
});
