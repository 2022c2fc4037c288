//! A worker's cache in front of a shared interning table.
//!
//! Structure ids and application names are interned in tables shared by
//! every worker (behind a lock) so that all workers use the same numbers;
//! each worker keeps its own lock-free cache of what it has already seen.

use crate::hash::FastMap;

/// A shared table that turns byte strings into small values.
pub trait Intern {
    /// What a string is turned into.
    type Value: Copy;

    /// The value of `key`, adding it on first sight.
    fn intern(&self, key: &[u8]) -> Self::Value;
}

/// Keys up to this many bytes are held in the cache's table itself:
/// structure and class ids are UUIDs (36 bytes), application names
/// shorter.
const INLINE: usize = 40;

/// A key held inline, zero-padded, with its length: found with one
/// comparison of two arrays rather than a call to compare heap bytes
/// behind a pointer, once for every id of every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Short {
    bytes: [u8; INLINE],
    len: u8,
}

impl Short {
    #[inline]
    fn of(key: &[u8]) -> Option<Short> {
        let mut bytes = [0; INLINE];
        bytes.get_mut(..key.len())?.copy_from_slice(key);
        Some(Short { bytes, len: key.len() as u8 })
    }
}

/// A worker's cache in front of a shared [`Intern`] table.
#[derive(Debug, Clone)]
pub struct LocalCache<T: Intern> {
    short: FastMap<Short, T::Value>,
    long: FastMap<Vec<u8>, T::Value>,
}

impl<T: Intern> Default for LocalCache<T> {
    fn default() -> Self {
        LocalCache { short: FastMap::default(), long: FastMap::default() }
    }
}

impl<T: Intern> LocalCache<T> {
    /// The value of `key`, asking `shared` only on the first sight.
    #[inline]
    pub fn get(&mut self, shared: &T, key: &[u8]) -> T::Value {
        match Short::of(key) {
            Some(short) => *self.short.entry(short).or_insert_with(|| shared.intern(key)),
            None => {
                if let Some(&hit) = self.long.get(key) {
                    return hit;
                }
                let v = shared.intern(key);
                self.long.insert(key.to_vec(), v);
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Numbers strings in order of first sight, counting the requests.
    #[derive(Default)]
    struct Numbering(Mutex<(Vec<Vec<u8>>, usize)>);

    impl Intern for Numbering {
        type Value = usize;

        fn intern(&self, key: &[u8]) -> usize {
            let mut n = self.0.lock().unwrap();
            n.1 += 1;
            match n.0.iter().position(|k| k == key) {
                Some(i) => i,
                None => {
                    n.0.push(key.to_vec());
                    n.0.len() - 1
                }
            }
        }
    }

    #[test]
    fn keys_short_and_long_are_asked_once_each() {
        let shared = Numbering::default();
        let mut cache = LocalCache::default();
        let long = vec![b'x'; INLINE + 1];
        let keys: [&[u8]; 6] = [b"", b"a", b"a\0", &[b'y'; INLINE], &long, &long[..INLINE]];
        for _ in 0..3 {
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(cache.get(&shared, k), i, "{k:?}");
            }
        }
        assert_eq!(shared.0.lock().unwrap().1, keys.len());
    }
}
