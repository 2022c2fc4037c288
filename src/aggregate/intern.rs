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

/// A worker's cache in front of a shared [`Intern`] table.
#[derive(Debug, Clone)]
pub struct LocalCache<T: Intern> {
    cache: FastMap<Vec<u8>, T::Value>,
}

impl<T: Intern> Default for LocalCache<T> {
    fn default() -> Self {
        LocalCache { cache: FastMap::default() }
    }
}

impl<T: Intern> LocalCache<T> {
    /// The value of `key`, asking `shared` only on the first sight.
    #[inline]
    pub fn get(&mut self, shared: &T, key: &[u8]) -> T::Value {
        if let Some(&hit) = self.cache.get(key) {
            return hit;
        }
        let v = shared.intern(key);
        self.cache.insert(key.to_vec(), v);
        v
    }
}
