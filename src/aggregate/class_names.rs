//! Class ids, interned, with the names and structures the referential's
//! `classes.csv` gives them.

use super::intern::{Intern, LocalCache};
use crate::hash::FastMap;
use crate::referential::ClassInfo;
use std::sync::Mutex;

/// Index of an interned class.
pub type ClassId = u32;

/// Stands for "the classes the directory gives the user" where a class is
/// expected: events that name no class count in those, resolved once at
/// the end rather than looked up event by event.
pub const DIRECTORY_CLASSES: ClassId = ClassId::MAX;

/// What the engine knows of an interned class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassEntry {
    /// The id as it appeared in the logs or the directory.
    pub id: String,
    /// Its name, from the referential's `classes.csv`.
    pub name: Option<String>,
    /// Its structure's id, from `classes.csv`.
    pub structure: Option<String>,
}

/// Classes by id and by index.
type ClassTable = (FastMap<Vec<u8>, ClassId>, Vec<ClassEntry>);

/// The shared table of classes, with what `classes.csv` says of them.
#[derive(Debug, Default)]
pub struct Classes {
    inner: Mutex<ClassTable>,
    known: FastMap<Vec<u8>, ClassInfo>,
}

impl Classes {
    /// A table that names classes from `known` (by id).
    pub fn new(known: FastMap<Vec<u8>, ClassInfo>) -> Classes {
        Classes { inner: Mutex::default(), known }
    }

    /// The index of class `id`, adding it on first sight.
    pub fn intern(&self, id: &[u8]) -> ClassId {
        // A poisoned lock only means another worker panicked; the table is
        // still consistent (every update is one push and one insert).
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&c) = t.0.get(id) {
            return c;
        }
        let info = self.known.get(id).cloned().unwrap_or_default();
        let c = t.1.len() as ClassId;
        t.1.push(ClassEntry {
            id: String::from_utf8_lossy(id).into_owned(),
            name: info.name,
            structure: info.structure,
        });
        t.0.insert(id.to_vec(), c);
        c
    }

    /// A copy of the table, by index.
    pub fn entries(&self) -> Vec<ClassEntry> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1.clone()
    }
}

impl Intern for Classes {
    type Value = ClassId;

    fn intern(&self, id: &[u8]) -> ClassId {
        Classes::intern(self, id)
    }
}

/// A worker's cache in front of [`Classes`].
pub type LocalClasses = LocalCache<Classes>;
