//! The class figure: connections, distinct visitors, access, activations,
//! accounts and activated accounts by (grain, period, class, profile), the
//! class level of the platform's own statistics module, by week and by
//! month (a row of every class and profile with accounts for every day
//! made 3.4 million rows at `--scale 1`).
//!
//! An event counts in the classes it names (`classes` of the event store),
//! else in the classes the directory (`users.csv`) gives its user; a user
//! in two classes counts once in each. Workers keep facts by (user, week
//! part, class, profile), a week part being the days of an ISO week within
//! one month: each lies in one week and one month, so this is all a
//! distinct count by week or month needs, with one or two facts a week
//! where days would make one a day. Runs write them
//! (`class_activity.parquet`) and a merge counts from the runs' facts as
//! one run counts from its own. Accounts come from the directory, one row
//! per account and class (`class_members.parquet`), combined across runs
//! as the accounts of structures are.

use super::accounts::{self, AccountRow, Directory};
use super::by_day::ByDay;
use super::class_names::{ClassEntry, ClassId, DIRECTORY_CLASSES};
use super::key::Counts;
use super::key::{Grain, profile_name};
use crate::alloc::HandBack;
use crate::hash::FastMap;
use crate::parse::Profile;
use crate::time::{month_start, week_start};
use rayon::prelude::*;

/// The grains of class rows.
pub const CLASS_GRAINS: [Grain; 2] = [Grain::Month, Grain::Week];

/// The first day of the week part holding `day`: the days of its ISO
/// week within its month.
pub fn week_part(day: i32) -> i32 {
    week_start(day).max(month_start(day))
}

/// Key of a class fact: one user's week part in one class under one
/// profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassFactKey {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// First day of the week part (see [`week_part`]).
    pub part: i32,
    /// The class.
    pub class: ClassId,
    /// The profile of the events.
    pub profile: Profile,
}

/// Key of a class fact within its week part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PartKey {
    user: u64,
    class: ClassId,
    profile: Profile,
}

/// Class facts: a worker's state, a run's partial, and what a merge
/// gathers from runs. Kept by week part, as the facts of users are by
/// day: the table of the days being read stays in cache.
#[derive(Clone, Debug, Default)]
pub struct ClassActivity {
    parts: ByDay<FastMap<PartKey, Counts>>,
    /// The tables of other workers (see [`ClassActivity::merge`]), beside
    /// these rather than merged into them.
    beside: Vec<ByDay<FastMap<PartKey, Counts>>>,
    /// The last day folded in and its week part: logs come in time order,
    /// and the calendar arithmetic is then done once a day.
    last: Option<(i32, i32)>,
}

impl ClassActivity {
    /// Adds the counts of one event of `user`, `day` and `profile` to each
    /// of its distinct `classes`.
    #[inline]
    pub fn add(
        &mut self,
        user: u64,
        day: i32,
        profile: Profile,
        delta: Counts,
        classes: &[ClassId],
    ) {
        let part = match self.last {
            Some((d, p)) if d == day => p,
            _ => {
                let p = week_part(day);
                self.last = Some((day, p));
                p
            }
        };
        let facts = self.parts.at(part);
        for &class in classes {
            *facts.entry(PartKey { user, class, profile }).or_default() += delta;
        }
    }

    /// Adds one fact (a row read back from a run).
    pub fn add_fact(&mut self, k: ClassFactKey, counts: Counts) {
        let key = PartKey { user: k.user, class: k.class, profile: k.profile };
        *self.parts.at(k.part).entry(key).or_default() += counts;
    }

    /// The facts with [`DIRECTORY_CLASSES`] counted in the classes
    /// `directory` gives their user instead (in none if it gives none).
    pub fn resolved(mut self, directory: &Directory) -> ClassActivity {
        if directory.is_empty() {
            // Without a directory, workers mark no fact so.
            return self;
        }
        let parts: Vec<&mut FastMap<PartKey, Counts>> =
            self.tables_mut().flat_map(|t| t.iter_mut().map(|(_, facts)| facts)).collect();
        parts.into_par_iter().for_each(|facts| {
            let from_directory: Vec<(PartKey, Counts)> =
                facts.extract_if(|k, _| k.class == DIRECTORY_CLASSES).collect();
            for (k, f) in from_directory {
                let classes = directory.get(&k.user).map_or(&[][..], |u| &u.classes);
                for &class in classes {
                    *facts.entry(PartKey { class, ..k }).or_default() += f;
                }
            }
        });
        self
    }

    /// Adds the facts of `other`, a worker whose users are none of these
    /// (workers own disjoint users): no key is in both, so its tables are
    /// kept beside these, not hashed again into tables grown to hold both
    /// (the merge of two workers' states at `--scale 0.4`: 70.0M
    /// instructions before, 26.2M after).
    pub fn merge(&mut self, mut other: ClassActivity) {
        self.beside.push(other.parts);
        self.beside.append(&mut other.beside);
    }

    /// Every table of facts: this worker's, then those kept beside it.
    fn tables_mut(&mut self) -> impl Iterator<Item = &mut ByDay<FastMap<PartKey, Counts>>> {
        std::iter::once(&mut self.parts).chain(&mut self.beside)
    }

    /// The facts sorted by user, week part, class id and profile name: the
    /// rows of `class_activity.parquet`, and the order [`count`] needs.
    pub fn rows(mut self, classes: &[ClassEntry]) -> Vec<(ClassFactKey, Counts)> {
        // Made at its size (its pages are touched as it fills), each
        // part's table freed once read and handed back: the rows would
        // otherwise end on top of every table, the final stage's peak.
        let tables: Vec<_> = self.tables_mut().map(std::mem::take).collect();
        let len = tables.iter().flat_map(ByDay::iter).map(|(_, t)| t.len()).sum();
        let mut rows = Vec::with_capacity(len);
        let mut hand_back = HandBack::default();
        for (part, facts) in tables.into_iter().flat_map(ByDay::into_days) {
            let bytes = facts.capacity() * size_of::<(PartKey, Counts)>();
            rows.extend(facts.into_iter().map(|(k, f)| {
                (ClassFactKey { user: k.user, part, class: k.class, profile: k.profile }, f)
            }));
            hand_back.freed(bytes);
        }
        let rank = ranks(classes, |c| (c.id.as_str(), ""));
        rows.par_sort_unstable_by_key(|(k, _)| {
            (k.user, k.part, rank[k.class as usize], k.profile.name_rank())
        });
        rows
    }
}

/// The rank of each class in the order of `key`: rows sort by numbers
/// rather than by texts compared on every comparison.
fn ranks<'c>(
    classes: &'c [ClassEntry],
    key: impl Fn(&'c ClassEntry) -> (&'c str, &'c str),
) -> Vec<u32> {
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by_key(|&i| key(&classes[i]));
    let mut rank = vec![0; classes.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    rank
}

/// Identifies one row of `classes.parquet`; `profile` is `None` for `All`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassRowKey {
    /// Grain of the period.
    pub grain: Grain,
    /// First day of the period.
    pub period: i32,
    /// The class.
    pub class: ClassId,
    /// One profile, or `None` for all of them.
    pub profile: Option<Profile>,
}

/// The figures of one class row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassMetrics {
    /// `LOGIN` events.
    pub connections: i64,
    /// Distinct users with a `LOGIN`.
    pub unique_visitors: i64,
    /// `ACCESS` events.
    pub access: i64,
    /// `ACTIVATION` events.
    pub activations: i64,
    /// Accounts of the class ("comptes chargés").
    pub accounts: i64,
    /// Of those, the ones activated by the last day of the period.
    pub activated_accounts: i64,
}

impl ClassMetrics {
    /// Adds the counts of `o`, accounts aside (disjoint users: distinct
    /// visitors add up).
    fn add_counts(&mut self, o: &ClassMetrics) {
        self.connections += o.connections;
        self.unique_visitors += o.unique_visitors;
        self.access += o.access;
        self.activations += o.activations;
    }
}

/// The class tables of a run or a merge.
#[derive(Debug, Default)]
pub struct ClassTables {
    /// `classes.parquet` rows, sorted by grain, period, structure id, class
    /// id and profile name.
    pub rows: Vec<(ClassRowKey, ClassMetrics)>,
    /// `class_activity.parquet` rows (see [`ClassActivity::rows`]).
    pub facts: Vec<(ClassFactKey, Counts)>,
    /// `class_members.parquet` rows (see [`accounts::combine`]).
    pub members: Vec<AccountRow>,
}

/// The class figures counted from the facts, before the accounts: what
/// needs nothing of the other figures, done while they are made.
pub struct Counted {
    /// Tables of disjoint rows: class `c`'s are in table
    /// [`share_of`]`(c, rows.len())`.
    rows: Vec<FastMap<ClassRowKey, ClassMetrics>>,
    facts: Vec<(ClassFactKey, Counts)>,
    members: Vec<AccountRow>,
}

/// Counts `facts` into each of [`CLASS_GRAINS`], classes in parallel, and
/// combines `members`.
pub fn count(facts: ClassActivity, members: Vec<AccountRow>, classes: &[ClassEntry]) -> Counted {
    let facts = facts.rows(classes);
    // The tables of the week parts, freed, were blocks small enough for
    // the allocator to keep: handed back before the rows are counted.
    crate::alloc::release_free_memory();
    let members = accounts::combine(members, |c| Some(classes[c as usize].id.as_str()));
    // Each thread counts the rows of its share of the classes, over every
    // user's facts: tables of disjoint rows, none merged. (Pieces of users
    // made a table of nearly every row each, since users of every class
    // are in every piece, and merging them made the final stage's peak.)
    let shares = rayon::current_num_threads().max(1);
    let rows = (0..shares)
        .into_par_iter()
        .map(|share| count_users(&facts, |class| share_of(class, shares) == share))
        .collect();
    Counted { rows, facts, members }
}

/// The share, out of `shares`, that counts the rows of `class`.
fn share_of(class: ClassId, shares: usize) -> usize {
    class as usize % shares
}

/// The rows of the classes `picked` chooses, from `facts` (sorted by
/// user).
fn count_users(
    facts: &[(ClassFactKey, Counts)],
    picked: impl Fn(ClassId) -> bool,
) -> FastMap<ClassRowKey, ClassMetrics> {
    let mut rows: FastMap<ClassRowKey, ClassMetrics> = FastMap::default();
    // One user's rows: their days reach the same few weeks and months again
    // and again, which a short list finds without a lookup in the table.
    // Facts come by week part, so a part's rows are the last ones made:
    // the list is searched from its end.
    let mut mine: Vec<(ClassRowKey, ClassMetrics)> = Vec::new();
    for user in facts.chunk_by(|a, b| a.0.user == b.0.user) {
        mine.clear();
        for (k, f) in user.iter().filter(|(k, _)| picked(k.class)) {
            for grain in CLASS_GRAINS {
                for profile in [Some(k.profile), None] {
                    let key = ClassRowKey {
                        grain,
                        period: grain.period(k.part),
                        class: k.class,
                        profile,
                    };
                    let m = match mine.iter().rposition(|(k, _)| *k == key) {
                        Some(i) => &mut mine[i].1,
                        None => {
                            mine.push((key, ClassMetrics::default()));
                            &mut mine.last_mut().expect("just pushed").1
                        }
                    };
                    m.connections += f.connections as i64;
                    m.access += f.access as i64;
                    m.activations += f.activations as i64;
                    // A user counts once per row, however many days of it
                    // they came.
                    m.unique_visitors = m.unique_visitors.max(i64::from(f.connections > 0));
                }
            }
        }
        for (key, m) in &mine {
            rows.entry(*key).or_default().add_counts(m);
        }
    }
    rows
}

impl Counted {
    /// The class tables, with the accounts of every class and profile
    /// that has accounts in every period of [`CLASS_GRAINS`] in `periods`
    /// (the periods with data of the run); rows sorted by grain, period,
    /// structure id, class id and profile name.
    pub fn finish(self, periods: &[(Grain, i32)], classes: &[ClassEntry]) -> ClassTables {
        let Counted { mut rows, facts, members } = self;
        fill_accounts(&mut rows, &members, periods);
        // Grown table by table, each freed once read (as the facts are).
        let mut rows: Vec<_> = rows.into_iter().flatten().collect();
        // Classes without a structure sort first, as nulls do.
        let rank = ranks(classes, |c| (c.structure.as_deref().unwrap_or(""), c.id.as_str()));
        rows.par_sort_unstable_by_key(|(k, _)| {
            (k.grain, k.period, rank[k.class as usize], profile_name(k.profile))
        });
        ClassTables { rows, facts, members }
    }
}

/// Sets `accounts` and `activated_accounts` of every class and profile
/// with accounts in every period of [`CLASS_GRAINS`] in `periods`.
fn fill_accounts(
    rows: &mut [FastMap<ClassRowKey, ClassMetrics>],
    members: &[AccountRow],
    periods: &[(Grain, i32)],
) {
    let cells = accounts::cell_days(members, |account, cells| {
        for r in account {
            cells.extend([Some(r.profile), None].map(|profile| (r.place, profile)));
        }
    });
    let periods: Vec<(Grain, i32)> =
        periods.iter().copied().filter(|(g, _)| CLASS_GRAINS.contains(g)).collect();
    accounts::fill_periods(&cells, &periods, |grain, period, &(class, profile), n, activated| {
        let share = share_of(class, rows.len());
        let m = rows[share].entry(ClassRowKey { grain, period, class, profile }).or_default();
        (m.accounts, m.activated_accounts) = (n, activated);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventKind;
    use crate::time::days_from_civil;

    fn classes() -> Vec<ClassEntry> {
        ["6A", "6B"]
            .iter()
            .map(|id| ClassEntry { id: id.to_string(), ..ClassEntry::default() })
            .collect()
    }

    #[test]
    fn workers_merged_give_the_rows_of_one_state_holding_every_user() {
        let march = days_from_civil(2020, 3, 2);
        let login = Counts::of(EventKind::Login).unwrap();
        let access = Counts::of(EventKind::Access).unwrap();
        // (user, day, profile, counts, classes): users 1 and 3 on one
        // worker, 2 on another, as workers own disjoint users.
        let events = [
            (1, march, Profile::Student, login, &[0, 1][..]),
            (2, march, Profile::Relative, login, &[0]),
            (1, march + 1, Profile::Student, access, &[0]),
            (3, march + 8, Profile::Teacher, login, &[1]),
            (2, march + 30, Profile::Relative, access, &[0]),
        ];
        let mut one = ClassActivity::default();
        let (mut first, mut second) = (one.clone(), one.clone());
        for &(user, day, profile, counts, classes) in &events {
            one.add(user, day, profile, counts, classes);
            let worker = if user == 2 { &mut second } else { &mut first };
            worker.add(user, day, profile, counts, classes);
        }
        first.merge(second);
        let names = classes();
        let merged = count(first, Vec::new(), &names).finish(&[], &names);
        let single = count(one, Vec::new(), &names).finish(&[], &names);
        assert_eq!(merged.facts, single.facts);
        assert_eq!(merged.facts.len(), 5);
        assert_eq!(merged.rows, single.rows);
    }

    #[test]
    fn a_user_in_two_classes_counts_once_in_each() {
        let march = days_from_civil(2020, 3, 2);
        let mut a = ClassActivity::default();
        a.add(1, march, Profile::Student, Counts::of(EventKind::Login).unwrap(), &[0, 1]);
        a.add(1, march + 1, Profile::Student, Counts::of(EventKind::Login).unwrap(), &[0]);
        a.add(2, march, Profile::Relative, Counts::of(EventKind::Login).unwrap(), &[0]);
        a.add(2, march, Profile::Relative, Counts::of(EventKind::Access).unwrap(), &[0]);
        a.add(1, march, Profile::Student, Counts::of(EventKind::Login).unwrap(), &[1]);
        // Tuesday 31 March and Wednesday 1 April: one ISO week, two week
        // parts.
        a.add(1, march + 29, Profile::Student, Counts::of(EventKind::Login).unwrap(), &[0]);
        a.add(1, march + 30, Profile::Student, Counts::of(EventKind::Login).unwrap(), &[0]);
        let names = classes();
        let tables = count(a, Vec::new(), &names).finish(&[], &names);
        let parts: Vec<i32> = tables.facts.iter().map(|(k, _)| k.part - march).collect();
        assert_eq!(parts, [0, 0, 28, 30, 0], "{:?}", tables.facts);
        let rows: FastMap<_, _> = tables.rows.into_iter().collect();
        let row = |grain, period, class, profile| {
            let m: ClassMetrics = rows[&ClassRowKey { grain, period, class, profile }];
            (m.connections, m.unique_visitors, m.access)
        };
        let month = |class, profile| row(Grain::Month, march - 1, class, profile);
        assert_eq!(month(0, None), (4, 2, 1));
        assert_eq!(month(1, Some(Profile::Student)), (2, 1, 0));
        assert_eq!(month(0, Some(Profile::Relative)), (1, 1, 1));
        assert_eq!(row(Grain::Week, march + 28, 0, None), (2, 1, 0));
        assert_eq!(row(Grain::Month, march + 30, 0, None), (1, 1, 0));
    }

    #[test]
    fn members_count_in_every_period_and_activate_mid_month() {
        let march = days_from_civil(2020, 3, 1);
        let member = |user, activated, on| AccountRow {
            user_key: user,
            profile: Profile::Student,
            place: 0,
            activated,
            activated_on: on,
        };
        let names = classes();
        let members = vec![
            member(1, true, Some(march + 20)),
            member(1, true, Some(march + 15)),
            member(2, true, None),
            member(3, false, None),
        ];
        let periods = [(Grain::Day, march + 14), (Grain::Month, march), (Grain::Week, march + 15)];
        let figures = |members: &[AccountRow], periods: &[(Grain, i32)]| {
            let counted = count(ClassActivity::default(), members.to_vec(), &names);
            counted.finish(periods, &names)
        };
        let tables = figures(&members, &periods);
        assert_eq!(tables.members.len(), 3);
        let rows: FastMap<_, _> = tables.rows.into_iter().collect();
        let at = |(grain, period): (Grain, i32)| {
            let m = rows[&ClassRowKey { grain, period, class: 0, profile: None }];
            (m.accounts, m.activated_accounts)
        };
        assert!(!rows.keys().any(|k| k.grain == Grain::Day));
        assert_eq!([at(periods[1]), at(periods[2])], [(3, 2), (3, 2)]);
        // The week of 16 March (from Monday 16) counts the activation of
        // the 16th; the week before does not.
        let before = figures(&members, &[(Grain::Week, march + 8)]).rows;
        assert_eq!((before[0].1.accounts, before[0].1.activated_accounts), (3, 1));
    }
}
