//! Applications (the `module` of `ACCESS` events): names normalized where
//! the platform is known to misspell them, raw spellings kept.

use super::AppFactKey;
use super::finish::Grain;
use super::intern::{Intern, LocalCache};
use crate::hash::FastMap;
use crate::parse::Profile;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Index of an interned application (after normalization).
pub type AppId = u32;

/// Spellings sent by some clients, and the name they mean.
const MISSPELLINGS: [(&str, &str); 1] = [
    // Old builds of the mobile app.
    ("Worksapce", "Workspace"),
];

/// The name an application is counted under.
pub fn normalize(raw: &str) -> &str {
    MISSPELLINGS.iter().find(|(bad, _)| *bad == raw).map_or(raw, |(_, good)| good)
}

/// An interned application.
#[derive(Clone, Debug, Default)]
pub struct AppEntry {
    /// Normalized name.
    pub name: String,
    /// Every spelling seen in the logs.
    pub raw: BTreeSet<String>,
}

/// The shared table of applications.
#[derive(Debug, Default)]
pub struct Apps {
    inner: Mutex<(FastMap<String, AppId>, Vec<AppEntry>)>,
}

impl Apps {
    /// The application a raw `module` value counts under.
    pub fn intern(&self, raw: &[u8]) -> AppId {
        let raw = String::from_utf8_lossy(raw).into_owned();
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let name = normalize(&raw).to_string();
        let id = match t.0.get(&name) {
            Some(&id) => id,
            None => {
                let id = t.1.len() as AppId;
                t.1.push(AppEntry { name: name.clone(), raw: BTreeSet::new() });
                t.0.insert(name, id);
                id
            }
        };
        t.1[id as usize].raw.insert(raw);
        id
    }

    /// A copy of the table.
    pub fn entries(&self) -> Vec<AppEntry> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1.clone()
    }
}

/// A worker's cache in front of [`Apps`].
pub type LocalApps = LocalCache<Apps>;

impl Intern for Apps {
    type Value = AppId;

    fn intern(&self, raw: &[u8]) -> AppId {
        Apps::intern(self, raw)
    }
}

/// Identifies one row of `modules.parquet`; `profile` is `None` for `All`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppRowKey {
    /// Grain of the period.
    pub grain: Grain,
    /// First day of the period.
    pub period: i32,
    /// One profile, or `None` for all of them.
    pub profile: Option<Profile>,
    /// The application.
    pub app: AppId,
}

/// Figures of one row of `modules.parquet`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppMetrics {
    /// `ACCESS` events.
    pub access: i64,
    /// Distinct users with at least one `ACCESS` to the application.
    pub unique_users: i64,
}

/// Counts the rows of the users of one shard: access events are summed,
/// each user counts once per row.
pub fn count_shard(shard: FastMap<AppFactKey, u32>) -> FastMap<AppRowKey, AppMetrics> {
    let mut facts: Vec<(AppFactKey, u32)> = shard.into_iter().collect();
    facts.sort_unstable_by_key(|(k, _)| *k);
    let mut rows: FastMap<AppRowKey, AppMetrics> = FastMap::default();
    let mut keys: Vec<(AppRowKey, u32)> = Vec::new();
    for user_facts in facts.chunk_by(|a, b| a.0.user == b.0.user) {
        // The user's rows with their access counts; then one update per
        // distinct row, where the user counts once.
        keys.clear();
        for &(k, n) in user_facts {
            for grain in Grain::ALL {
                for profile in [Some(k.profile), None] {
                    let key = AppRowKey { grain, period: grain.period(k.day), profile, app: k.app };
                    keys.push((key, n));
                }
            }
        }
        keys.sort_unstable_by_key(|(k, _)| *k);
        for same in keys.chunk_by(|a, b| a.0 == b.0) {
            let row = rows.entry(same[0].0).or_default();
            row.access += same.iter().map(|&(_, n)| i64::from(n)).sum::<i64>();
            row.unique_users += 1;
        }
    }
    rows
}

/// Adds the rows of `b` into `a`.
pub fn merge_rows(
    mut a: FastMap<AppRowKey, AppMetrics>,
    b: FastMap<AppRowKey, AppMetrics>,
) -> FastMap<AppRowKey, AppMetrics> {
    for (k, m) in b {
        let e = a.entry(k).or_default();
        e.access += m.access;
        e.unique_users += m.unique_users;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_count_under_the_right_name_and_are_kept() {
        let apps = Apps::default();
        let mut local = LocalApps::default();
        let a = local.get(&apps, b"Workspace");
        assert_eq!(local.get(&apps, b"Worksapce"), a);
        assert_ne!(local.get(&apps, b"Blog"), a);
        let e = &apps.entries()[a as usize];
        assert_eq!(e.name, "Workspace");
        assert_eq!(e.raw.iter().collect::<Vec<_>>(), ["Worksapce", "Workspace"]);
    }
}
