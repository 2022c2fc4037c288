//! Application names: the `module` of `ACCESS` events, normalized where
//! the platform is known to misspell them, raw spellings kept, interned.

use super::intern::{Intern, LocalCache};
use crate::hash::FastMap;
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
