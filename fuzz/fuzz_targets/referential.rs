//! The referential's CSV files: `structures.csv`, then `users.csv` after
//! the first NUL byte. Either is read or refused with an error naming it.
#![no_main]

use entlog::referential::Referential;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let (structures, users) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let read = Referential::from_readers(
        Some((Path::new("structures.csv"), structures)),
        users.map(|u| (Path::new("users.csv"), u)),
    );
    if let Err(e) = read {
        let message = e.to_string();
        assert!(message.contains("structures.csv") || message.contains("users.csv"), "{message}");
    }
});
