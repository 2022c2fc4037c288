//! What the national datasets read besides the logs: a `--services` file
//! (before the first NUL byte) is read or refused with an error naming it,
//! and a user agent (after it) is classified, each without a panic.
#![no_main]

use entlog::device::classify;
use entlog::service::{SERVICES, ServiceMap, app_of_path};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |&b| b == 0);
    let services = parts.next().unwrap_or_default();
    match ServiceMap::read(Path::new("services.csv"), services) {
        Ok(map) => {
            if let Some(s) = map.service_of(app_of_path(services)) {
                assert!(usize::from(s) < SERVICES.len());
            }
        }
        Err(e) => assert!(e.to_string().starts_with("services.csv:"), "{e}"),
    }
    if let Some(agent) = parts.next() {
        classify(agent);
    }
});
