//! `--dedup`: the ids of the events read so far, shared by every worker,
//! so that an event repeated in overlapping dumps counts once.

use crate::hash::FastSet;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::hash::Hasher;
use std::sync::Mutex;

/// Locks that workers spread over: one worker rarely waits for another.
const SHARDS: usize = 64;

/// Ids seen, as 128-bit hashes (16 bytes an id, and the table's spare
/// room: about 24 bytes an event measured): two different ids share a
/// hash with odds of about 1 in 10^20 at a billion events.
pub struct Dedup {
    shards: [Mutex<FastSet<u128>>; SHARDS],
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup { shards: std::array::from_fn(|_| Mutex::default()) }
    }
}

impl Dedup {
    /// True the first time `id` is seen, false for every repeat.
    pub fn first_time(&self, id: &[u8]) -> bool {
        let mut h = SipHasher13::new();
        h.write(id);
        let hash = h.finish128().as_u128();
        let shard = &self.shards[(hash as usize) % SHARDS];
        // A worker that panicked leaves a set that is still sound.
        shard.lock().unwrap_or_else(|e| e.into_inner()).insert(hash)
    }
}
