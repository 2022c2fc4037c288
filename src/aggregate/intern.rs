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

/// Longest key held in a table slot of its own (a UUID, the usual id of
/// structures and classes, is 36 bytes).
const INLINE: usize = 39;

/// A key of at most [`INLINE`] bytes, held in the table's slot: found
/// without reading a string elsewhere in memory, which missed the cache
/// on nearly every event once the days' tables had filled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Short {
    len: u8,
    bytes: [u8; INLINE],
}

impl Short {
    /// `key`, when it is short enough.
    #[inline]
    fn of(key: &[u8]) -> Option<Short> {
        let mut bytes = [0; INLINE];
        bytes.get_mut(..key.len())?.copy_from_slice(key);
        Some(Short { len: key.len() as u8, bytes })
    }
}

/// A worker's cache in front of a shared [`Intern`] table.
#[derive(Debug, Clone)]
pub struct LocalCache<T: Intern> {
    /// Keys of at most [`INLINE`] bytes.
    short: FastMap<Short, T::Value>,
    /// Longer keys.
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
        let long = vec![b'x'; 41];
        // Either side of the longest key held inline.
        let keys: [&[u8]; 8] =
            [b"", b"a", b"a\0", &[b'y'; 40], &long, &long[..40], &long[..39], &long[..38]];
        for _ in 0..3 {
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(cache.get(&shared, k), i, "{k:?}");
            }
        }
        assert_eq!(shared.0.lock().unwrap().1, keys.len());
    }
}
