//! The audience figures of every cell of the layout, as the final stage
//! holds them: one dense column per figure, indexed by the cell numbers of
//! [`Layout`], rather than a hash table of row keys. At `--scale 10` the
//! table took 680 MB for 4.2 million rows (half its buckets empty, each
//! holding a key and every figure); the columns take a third of that, and
//! the rows come out of them already in the table's order.

use super::events::Counted;
use super::grid::Layout;
use super::key::{Counts, Grain, Metrics, RowKey, profile_name};
use super::scope::{Dimensions, ScopeKey};
use crate::parse::Profile;

/// Every figure of `audience.parquet` by cell of one layout.
pub struct AudienceCells {
    /// Connections, access and activations.
    pub counts: Vec<Counts>,
    /// Whether the cell was counted: only counted cells have visitors.
    pub counted: Vec<Counted>,
    /// Distinct visitors (empty when nobody was counted).
    pub visitors: Vec<u32>,
    /// Visits and their seconds (both empty without visits).
    pub visits: (Vec<u32>, Vec<i64>),
    /// Loaded and activated accounts (empty without accounts).
    pub accounts: Vec<(i64, i64)>,
}

impl AudienceCells {
    /// The figures of cell `i`.
    #[inline]
    fn metrics(&self, i: usize) -> Metrics {
        let c = self.counts[i];
        let mut m = Metrics {
            connections: c.connections as i64,
            access: c.access as i64,
            activations: c.activations as i64,
            ..Metrics::default()
        };
        if self.counted[i].0 > 0 && !self.visitors.is_empty() {
            m.unique_visitors = i64::from(self.visitors[i]);
        }
        if let Some(&n) = self.visits.0.get(i).filter(|n| **n > 0) {
            (m.visits, m.visit_seconds) = (i64::from(n), self.visits.1[i]);
        }
        if let Some(&(n, activated)) = self.accounts.get(i) {
            (m.accounts, m.activated_accounts) = (n, activated);
        }
        m
    }

    /// The periods that have rows before accounts are given: those with
    /// a counted cell or a visit. Accounts are given in these periods only.
    pub fn periods_with_rows(&self, layout: &Layout) -> Vec<(Grain, i32)> {
        let slots = layout.period_slots();
        let mut has_rows = vec![false; slots.len()];
        for i in 0..self.counts.len() {
            if self.counted[i].0 > 0 || self.visits.0.get(i).is_some_and(|&n| n > 0) {
                has_rows[layout.period_slot(i)] = true;
            }
        }
        let with_rows = slots.into_iter().filter(|&(p, ..)| has_rows[p]);
        with_rows.map(|(_, grain, period)| (grain, period)).collect()
    }

    /// The rows of `audience.parquet`, the empty ones left out, in output
    /// order: grain, period, scope, segment, structure id, profile, all by
    /// their written text. The scopes and profiles are ranked by their
    /// text once; the rows are then read in that order, with no sort.
    pub fn rows(&self, layout: &Layout, dims: &Dimensions) -> Vec<(RowKey, Metrics)> {
        let text = |s: &ScopeKey| (s.scope().name(), dims.segment_name(*s), dims.structure_id(*s));
        let mut scopes: Vec<ScopeKey> = layout.scopes().collect();
        scopes.sort_by(|a, b| text(a).cmp(&text(b)));
        let mut profiles: Vec<Option<Profile>> =
            Profile::ALL.iter().copied().map(Some).chain([None]).collect();
        profiles.sort_by_key(|&p| profile_name(p));
        let (slots, scopes, profiles) = (layout.period_slots(), &scopes, &profiles);
        let cells = || {
            slots.iter().flat_map(|&(p, grain, period)| {
                scopes.iter().flat_map(move |&scope| {
                    profiles.iter().map(move |&profile| {
                        (layout.cell(p, scope, profile), RowKey { grain, period, scope, profile })
                    })
                })
            })
        };
        // Counted first, so that the rows are made at their size.
        let n = cells().filter(|&(i, _)| self.metrics(i) != Metrics::default()).count();
        let mut rows = Vec::with_capacity(n);
        rows.extend(
            cells().map(|(i, k)| (k, self.metrics(i))).filter(|(_, m)| *m != Metrics::default()),
        );
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scope::StructureEntry;
    use crate::time::days_from_civil;

    /// Structures numbered against the order of their ids, and a segment.
    fn dims() -> Dimensions {
        let entry =
            |id: &str, segment| StructureEntry { id: id.into(), segment, uai: None, name: None };
        Dimensions {
            structures: vec![entry("z", Some(0)), entry("b", None), entry("m", Some(0))],
            segments: vec!["COLLEGE".into()],
            apps: vec![],
            classes: vec![],
        }
    }

    #[test]
    fn rows_come_in_the_order_of_their_texts_and_only_counted_cells_have_visitors() {
        let (dims, march) = (dims(), days_from_civil(2020, 3, 1));
        let layout = Layout::new([march, days_from_civil(2020, 4, 1)], &dims);
        let n = layout.len();
        let mut cells = AudienceCells {
            counts: vec![Counts::default(); n],
            counted: vec![Counted::default(); n],
            visitors: vec![1; n],
            visits: (vec![0; n], vec![0; n]),
            accounts: Vec::new(),
        };
        // Every scope counted on two days of each month, in every profile,
        // with visits on a third day that nobody counted.
        for (i, scope) in layout.scopes().enumerate() {
            for day in [march + 3, march + 40, march + 20] {
                let [d, ..] = layout.periods_of(day).unwrap();
                for p in Profile::ALL {
                    let cell = layout.cell(d, scope, Some(p));
                    if day == march + 20 {
                        cells.visits.0[cell] = 2;
                        cells.visits.1[cell] = 60;
                    } else {
                        cells.counts[cell].connections = i as u64 + 1;
                        cells.counted[cell] = Counted(1);
                    }
                }
            }
        }
        layout.roll_up(&mut cells.counts);
        layout.roll_up(&mut cells.counted);
        layout.roll_up(&mut cells.visits.0);
        let rows = cells.rows(&layout, &dims);
        // Sorted as the table is: grain, period, then scope and profile
        // by their text.
        let text = |k: &RowKey| {
            let s = k.scope;
            (k.grain, k.period, s.scope().name(), dims.segment_name(s), dims.structure_id(s))
        };
        let mut sorted = rows.clone();
        sorted.sort_by(|(a, _), (b, _)| {
            (text(a), profile_name(a.profile)).cmp(&(text(b), profile_name(b.profile)))
        });
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            sorted.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        // Every scope and profile of each day with figures.
        let day_rows =
            |day| rows.iter().filter(|(k, _)| (k.grain, k.period) == (Grain::Day, day)).count();
        let scopes = layout.scopes().count();
        assert_eq!(
            [day_rows(march + 3), day_rows(march + 20), day_rows(march + 40)],
            [scopes * 7; 3]
        );
        // Visitors only where a day was counted: not in the day, nor the
        // week, holding only visits.
        for (k, m) in &rows {
            let counted = [march + 3, march + 40].iter().any(|&d| k.grain.period(d) == k.period);
            assert_eq!(m.unique_visitors, i64::from(counted), "{k:?}");
        }
        // Accounts go to the periods with rows only.
        let periods = cells.periods_with_rows(&layout);
        assert!(periods.contains(&(Grain::Day, march + 20)));
        assert!(!periods.contains(&(Grain::Day, march + 21)));
        assert_eq!(periods.iter().filter(|(g, _)| *g == Grain::Month).count(), 2);
    }
}
