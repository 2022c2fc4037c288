//! The JSON scanner accepts exactly what serde_json accepts.
#![no_main]

use entlog::parse::json::{JsonError, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sc = Scanner::new(data);
    let ours = sc.skip(0).and_then(|()| sc.end());
    // A tree, not `IgnoredAny`: serde_json does not check the UTF-8 of
    // the strings it ignores.
    let reference = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, &reference) {
        (Ok(()), Ok(_)) | (Err(_), Err(_)) => {}
        // The scanner stops at 64 levels, serde_json at 128.
        (Err(JsonError::TooDeep), Ok(_)) => {}
        // The scanner checks a number's grammar, not its magnitude (a date
        // out of range is refused later, by value).
        (Ok(()), Err(e)) if e.to_string().contains("out of range") => {}
        _ => panic!(
            "scanner {ours:?}, serde_json {reference:?} on {:?}",
            String::from_utf8_lossy(data)
        ),
    }
});
