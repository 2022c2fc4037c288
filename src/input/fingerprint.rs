//! Fingerprints of inputs and referentials: the same content under two
//! names is one input, whose events must not count twice.
//!
//! A file's fingerprint is its size and a SipHash (fixed key, so the same
//! on every machine and in every version) of sixteen 64 KiB blocks spread
//! evenly over it, the whole file when it is smaller than that: cheap on
//! gigabyte dumps, and two different logs of the same size agreeing on a
//! megabyte of samples does not happen.

use siphasher::sip::SipHasher13;
use std::hash::Hasher;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Blocks read from a file.
const BLOCKS: u64 = 16;
/// Bytes of a block.
const BLOCK: u64 = 64 * 1024;

/// The fingerprint of the file at `path`: `SIZE:HASH` (hex).
pub fn of_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut h = SipHasher13::new_with_keys(0, 0);
    let mut buf = vec![0; BLOCK as usize];
    if size <= BLOCKS * BLOCK {
        let mut all = Vec::with_capacity(size as usize);
        file.read_to_end(&mut all)?;
        h.write(&all);
    } else {
        for i in 0..BLOCKS {
            file.seek(SeekFrom::Start(i * (size - BLOCK) / (BLOCKS - 1)))?;
            file.read_exact(&mut buf)?;
            h.write(&buf);
        }
    }
    Ok(format!("{size}:{:016x}", h.finish()))
}

/// The fingerprint of several files, in order (a referential); a missing
/// file counts as absent, not as an error.
pub fn of_files(paths: &[&Path]) -> std::io::Result<String> {
    let mut h = SipHasher13::new_with_keys(0, 0);
    for p in paths {
        match std::fs::read(p) {
            Ok(bytes) => {
                h.write_u64(bytes.len() as u64);
                h.write(&bytes);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => h.write_u64(u64::MAX),
            Err(e) => return Err(e),
        }
    }
    Ok(format!("{:016x}", h.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_fingerprint_whatever_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..3_000_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for (name, data) in [("small", &big[..1000]), ("big", &big[..])] {
            let (a, b) =
                (dir.path().join(format!("{name}-a")), dir.path().join(format!("{name}-b")));
            std::fs::write(&a, data).unwrap();
            std::fs::write(&b, data).unwrap();
            assert_eq!(of_file(&a).unwrap(), of_file(&b).unwrap());
            // One byte changed in a sampled block.
            let mut other = data.to_vec();
            other[0] ^= 1;
            std::fs::write(&b, &other).unwrap();
            assert_ne!(of_file(&a).unwrap(), of_file(&b).unwrap());
        }
        let missing = dir.path().join("none");
        let a = dir.path().join("small-a");
        assert_ne!(of_files(&[&a, &missing]).unwrap(), of_files(&[&missing, &a]).unwrap());
    }
}
