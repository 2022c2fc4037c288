//! Figures of HTTP access logs: requests, status classes, bytes, distinct
//! clients and users, and request-time histograms, by local day and
//! profile. Weeks, months and the `All` profile are derived at the end:
//! counts and histograms add up, distinct clients and users are recounted
//! from their keys.

use super::by_day::ByDay;
use super::key::{Grain, profile_name};
use crate::hash::{FastMap, FastSet, FixedState};
use crate::parse::{Http, Profile};
use hdrhistogram::Histogram;
use rayon::prelude::*;
use std::hash::BuildHasher;

/// Largest request time a histogram holds, µs (one hour); longer ones are
/// recorded as this.
const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Bits of a value a 3-significant-digit HDR histogram tells apart.
const HDR_BITS: u32 = 11;

/// Request times of one cell, µs, as counts by HDR bucket.
///
/// A dense HDR histogram spanning 1 µs to an hour is 360 KiB, and there is
/// one per day and profile; this map holds only the buckets used (a few
/// thousand at most), merges in proportion to them, and becomes the
/// equivalent histogram at the end: each value is stored as the lowest
/// value of its bucket, which records into the same bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latencies(FastMap<u64, u64>);

impl Latencies {
    /// Records one request time.
    #[inline]
    pub fn record(&mut self, us: u64) {
        let v = us.clamp(1, MAX_LATENCY_US);
        let shift = (u64::BITS - v.leading_zeros()).saturating_sub(HDR_BITS);
        *self.0.entry((v >> shift) << shift).or_default() += 1;
    }

    /// Whether no time was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn add(&mut self, o: &Latencies) {
        for (&v, &n) in &o.0 {
            *self.0.entry(v).or_default() += n;
        }
    }

    /// The HDR histogram (1 µs to one hour, 3 significant digits) of the
    /// recorded times.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .unwrap_or_else(|e| unreachable!("constant bounds are valid: {e}"));
        for (&v, &n) in &self.0 {
            h.saturating_record_n(v, n);
        }
        h
    }
}

/// Additive figures of one (day, profile).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpCounts {
    /// Requests.
    pub requests: u64,
    /// Requests by status class: 1xx to 5xx.
    pub status: [u64; 5],
    /// Body bytes sent.
    pub bytes: u64,
    /// Request times, when the log carries them.
    pub latency: Latencies,
}

impl HttpCounts {
    fn add(&mut self, o: &HttpCounts) {
        self.requests += o.requests;
        for (a, b) in self.status.iter_mut().zip(o.status) {
            *a += b;
        }
        self.bytes += o.bytes;
        self.latency.add(&o.latency);
    }
}

/// One worker's HTTP figures.
#[derive(Clone, Debug, Default)]
pub struct HttpAgg {
    /// Additive figures by day, one cell per profile code.
    counts: ByDay<[HttpCounts; Profile::ALL.len()]>,
    /// (day, profile, client key): distinct clients.
    clients: ByDay<FastSet<(Profile, u64)>>,
    /// (day, profile, user key): distinct logged users.
    users: ByDay<FastSet<(Profile, u64)>>,
    /// The last client and user inserted: a page is many requests of one
    /// client in a row, and a set lookup costs more than this check.
    last_client: Option<(i32, Profile, u64)>,
    last_user: Option<(i32, Profile, u64)>,
}

impl HttpAgg {
    /// Folds one request in.
    #[inline]
    pub fn add(&mut self, day: i32, profile: Profile, h: &Http<'_>, user: Option<u64>) {
        let c = &mut self.counts.at(day)[usize::from(profile.code())];
        c.requests += 1;
        if let Some(class) = (h.status / 100).checked_sub(1).filter(|c| *c < 5) {
            c.status[usize::from(class)] += 1;
        }
        c.bytes += h.bytes;
        if let Some(us) = h.latency_us {
            c.latency.record(us);
        }
        // Client addresses stay in memory as 64-bit hashes only.
        let client = (day, profile, FixedState::default().hash_one(h.client));
        if Some(client) != self.last_client {
            self.clients.at(day).insert((profile, client.2));
            self.last_client = Some(client);
        }
        if let Some(u) = user {
            let user = Some((day, profile, u));
            if user != self.last_user {
                self.users.at(day).insert((profile, u));
                self.last_user = user;
            }
        }
    }

    /// Combines two workers' figures.
    pub fn merge(&mut self, o: HttpAgg) {
        self.counts.merge(o.counts, |a, b| {
            for (x, y) in a.iter_mut().zip(&b) {
                x.add(y);
            }
        });
        self.clients.merge(o.clients, union);
        self.users.merge(o.users, union);
    }

    /// Whether any request was seen.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The rows of `http.parquet`, sorted by grain, period and profile
    /// (`None` is `All`).
    pub fn rows(self) -> Vec<HttpRow> {
        let (clients, users) =
            rayon::join(|| Distinct::new(&self.clients), || Distinct::new(&self.users));
        let grain_rows = |grain: Grain| {
            let mut by: FastMap<(i32, Option<Profile>), HttpRow> = FastMap::default();
            for (day, cells) in self.counts.iter() {
                let period = grain.period(day);
                for (p, c) in Profile::ALL.into_iter().zip(cells).filter(|(_, c)| c.requests > 0) {
                    for profile in [Some(p), None] {
                        row(&mut by, grain, period, profile).counts.add(c);
                    }
                }
            }
            for (period, profile, n) in clients.count(grain) {
                row(&mut by, grain, period, profile).clients = n;
            }
            for (period, profile, n) in users.count(grain) {
                row(&mut by, grain, period, profile).users = n;
            }
            let mut rows: Vec<HttpRow> = by.into_values().collect();
            rows.sort_by_key(|r| (r.period, profile_name(r.profile)));
            rows
        };
        Grain::ALL.into_par_iter().map(grain_rows).collect::<Vec<_>>().concat()
    }
}

/// Adds the keys of `b` to `a`, the smaller set into the larger.
fn union(a: &mut FastSet<(Profile, u64)>, mut b: FastSet<(Profile, u64)>) {
    if a.len() < b.len() {
        std::mem::swap(a, &mut b);
    }
    a.extend(b);
}

/// Distinct keys by period and profile, from (day, profile, key) triples.
///
/// The triples are sorted by key, then day: a key's days then come in
/// order, so each period's profiles of a key are gathered in a bit set
/// and counted once, in one pass per grain, with no hash set of what was
/// seen. They are first dealt into buckets by the top bits of the key
/// (keys are hashes: the buckets are even), which are sorted one by one,
/// each small enough to stay in the processor's cache; the buckets in
/// order are the whole sorted. Days are held as their rank among the days
/// with keys, so every table here is as long as the days that hold data,
/// however far apart they are.
struct Distinct {
    /// (key, day rank, profile code) by bucket, each sorted.
    buckets: Vec<Vec<(u64, u32, u8)>>,
    /// The days with keys, in order: a rank's day.
    days: Vec<i32>,
}

/// Bits of the key that choose a bucket of [`Distinct`].
const BUCKET_BITS: u32 = 8;

/// Slots per period in the counts: six profiles and `All`.
const SLOTS: usize = Profile::ALL.len() + 1;

impl Distinct {
    fn new(set: &ByDay<FastSet<(Profile, u64)>>) -> Distinct {
        let mut days: Vec<i32> =
            set.iter().filter(|(_, s)| !s.is_empty()).map(|(day, _)| day).collect();
        days.sort_unstable();
        let rank: FastMap<i32, u32> =
            days.iter().enumerate().map(|(r, &d)| (d, r as u32)).collect();
        let mut buckets: Vec<Vec<(u64, u32, u8)>> = vec![Vec::new(); 1 << BUCKET_BITS];
        for (day, keys) in set.iter().filter(|(_, s)| !s.is_empty()) {
            let r = rank[&day];
            for &(p, k) in keys {
                buckets[(k >> (u64::BITS - BUCKET_BITS)) as usize].push((k, r, p.code()));
            }
        }
        buckets.par_iter_mut().for_each(|b| b.sort_unstable());
        Distinct { buckets, days }
    }

    /// (period, profile or `None` for All, distinct keys), non-zero only.
    fn count(&self, grain: Grain) -> Vec<(i32, Option<Profile>, u64)> {
        // The periods holding data, and the period slot of each day rank,
        // computed once per day, not per key.
        let mut periods: Vec<i32> = self.days.iter().map(|&d| grain.period(d)).collect();
        periods.dedup();
        let slot_of: Vec<usize> =
            self.days.iter().map(|&d| periods.partition_point(|&p| p < grain.period(d))).collect();
        let mut counts = vec![0u64; periods.len() * SLOTS];
        let mut flush = |slot: usize, mask: u8| {
            if mask == 0 {
                return;
            }
            let at = slot * SLOTS;
            for p in 0..Profile::ALL.len() {
                counts[at + p] += u64::from(mask >> p & 1);
            }
            counts[at + SLOTS - 1] += 1;
        };
        let (mut key, mut slot, mut mask) = (None, 0, 0u8);
        for &(k, rank, p) in self.buckets.iter().flatten() {
            let s = slot_of[rank as usize];
            if key != Some(k) || s != slot {
                flush(slot, mask);
                (key, slot, mask) = (Some(k), s, 0);
            }
            mask |= 1 << p;
        }
        flush(slot, mask);
        let mut out = Vec::new();
        for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            out.push((periods[i / SLOTS], Profile::ALL.get(i % SLOTS).copied(), n));
        }
        out
    }
}

/// The row of (period, profile), added empty on first use.
fn row(
    by: &mut FastMap<(i32, Option<Profile>), HttpRow>,
    grain: Grain,
    period: i32,
    profile: Option<Profile>,
) -> &mut HttpRow {
    by.entry((period, profile)).or_insert_with(|| HttpRow {
        grain,
        period,
        profile,
        counts: HttpCounts::default(),
        clients: 0,
        users: 0,
    })
}

/// One row of `http.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRow {
    /// Grain of the period.
    pub grain: Grain,
    /// First local day of the period.
    pub period: i32,
    /// The profile, `None` for `All`.
    pub profile: Option<Profile>,
    /// Additive figures.
    pub counts: HttpCounts,
    /// Distinct clients.
    pub clients: u64,
    /// Distinct logged users.
    pub users: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: &[u8], status: u16, latency_us: Option<u64>) -> Http<'_> {
        Http { client, status, bytes: 10, latency_us, ..Http::default() }
    }

    #[test]
    fn sparse_latencies_make_the_same_histogram() {
        let mut sparse = Latencies::default();
        let mut dense = Latencies::default().histogram();
        let mut x = 7u64;
        for _ in 0..100_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let us = (x >> 40) % 5_000_000_000;
            sparse.record(us);
            dense.saturating_record(us.clamp(1, MAX_LATENCY_US));
        }
        assert_eq!(sparse.histogram(), dense);
        assert!(sparse.0.len() < 30_000);
    }

    #[test]
    fn rolls_up_days_profiles_and_distincts() {
        let mut a = HttpAgg::default();
        let mut b = HttpAgg::default();
        // 2020-03-16 and 17 (a Monday and a Tuesday).
        let (mon, tue) = (18_337, 18_338);
        a.add(mon, Profile::Student, &req(b"1.1.1.1", 200, Some(1000)), Some(7));
        a.add(mon, Profile::Teacher, &req(b"1.1.1.1", 302, Some(3000)), Some(8));
        b.add(tue, Profile::Student, &req(b"2.2.2.2", 503, Some(2000)), Some(7));
        b.add(tue, Profile::Unknown, &req(b"1.1.1.1", 999, None), None);
        a.merge(b);
        let rows = a.rows();
        let week_all = rows.iter().find(|r| r.grain == Grain::Week && r.profile.is_none()).unwrap();
        assert_eq!(week_all.counts.requests, 4);
        assert_eq!(week_all.counts.status, [0, 1, 1, 0, 1]);
        assert_eq!(week_all.counts.bytes, 40);
        assert_eq!((week_all.clients, week_all.users), (2, 2));
        let h = week_all.counts.latency.histogram();
        assert_eq!((h.len(), h.max()), (3, 3001));
        let mon_student = rows
            .iter()
            .find(|r| {
                r.grain == Grain::Day && r.period == mon && r.profile == Some(Profile::Student)
            })
            .unwrap();
        assert_eq!((mon_student.clients, mon_student.users), (1, 1));
        // Day, month and week rows: 2 days x (3 + All) profiles seen.
        assert_eq!(rows.iter().filter(|r| r.grain == Grain::Day).count(), 2 * 3);
    }
}
