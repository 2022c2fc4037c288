//! The referential's CSV files: `structures.csv`, then `users.csv` after
//! the first NUL byte, then `classes.csv` after the second. Each is read
//! or refused with an error naming it.
#![no_main]

use entlog::referential::Referential;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let mut files = data.splitn(3, |&b| b == 0);
    let structures = files.next().unwrap_or_default();
    let (users, classes) = (files.next(), files.next());
    let read = Referential::from_readers(
        Some((Path::new("structures.csv"), structures)),
        users.map(|u| (Path::new("users.csv"), u)),
        classes.map(|c| (Path::new("classes.csv"), c)),
    );
    if let Err(e) = read {
        let message = e.to_string();
        assert!(
            ["structures.csv", "users.csv", "classes.csv"].iter().any(|f| message.contains(f)),
            "{message}"
        );
    }
});
