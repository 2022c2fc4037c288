//! Which local days a worker has left behind.
//!
//! Logs come in time order: the day being read is touched by every chunk
//! of input, and a day no event touched for a few chunks is most likely
//! done. Tables of such days are closed into compact forms (the visit
//! lists of `OpenVisits`, the month rows of `MonthRows`); an event of a
//! closed day is still folded in exactly, only at a higher cost.

use crate::hash::FastMap;

/// A day is idle once this many chunks went by without one of its
/// events: the day being read is touched by every chunk, and the owner of
/// a user's visits gets other workers' events one chunk late.
const IDLE_CHUNKS: u64 = 2;

/// When each day was last read, in chunks.
#[derive(Clone, Debug, Default)]
pub struct DayClock {
    /// The chunk count when each day was last touched (recorded when the
    /// day read changes, and at the end of each chunk).
    touched: FastMap<i32, u64>,
    /// The day of the last event.
    last_day: Option<i32>,
    /// Chunks read so far.
    chunks: u64,
}

impl DayClock {
    /// Notes an event of `day`; true when it is not the day of the event
    /// before (the caller then looks the day up).
    #[inline]
    pub fn read(&mut self, day: i32) -> bool {
        if self.last_day == Some(day) {
            return false;
        }
        if let Some(last) = self.last_day {
            self.touched.insert(last, self.chunks);
        }
        self.last_day = Some(day);
        true
    }

    /// Ends a chunk, and returns the days no event touched during the
    /// last [`IDLE_CHUNKS`] chunks (never the day of the last event),
    /// which are forgotten: the caller closes them, and they count as new
    /// when read again.
    pub fn end_chunk(&mut self) -> Vec<i32> {
        self.chunks += 1;
        if let Some(last) = self.last_day {
            self.touched.insert(last, self.chunks);
        }
        let now = self.chunks;
        let idle: Vec<i32> = self
            .touched
            .iter()
            .filter(|&(_, &t)| t + IDLE_CHUNKS <= now)
            .map(|(&d, _)| d)
            .collect();
        for day in &idle {
            self.touched.remove(day);
        }
        idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_idle_after_two_chunks_without_events() {
        let mut c = DayClock::default();
        c.read(10);
        assert!(c.end_chunk().is_empty());
        c.read(11);
        assert!(c.end_chunk().is_empty());
        assert_eq!(c.end_chunk(), [10], "two chunks went by without day 10");
        assert!(c.end_chunk().is_empty(), "the last day read is touched by every chunk");
        assert!(c.read(10), "a closed day read again is new");
        c.end_chunk();
        c.read(11);
        c.end_chunk();
        assert_eq!(c.end_chunk(), [10]);
    }
}
