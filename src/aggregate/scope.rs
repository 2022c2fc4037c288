//! Scopes (platform, segment, structure) and the interning of structure
//! ids.
//!
//! Structure ids are 36-byte UUIDs seen millions of times; the hot path
//! turns each into a small integer once per worker through a local cache,
//! backed by one shared table so that every worker uses the same numbers
//! and states merge without remapping. The numbers depend on which worker
//! saw a structure first, so they never reach an output: rows are sorted
//! by the ids' text.

use super::app_names::{AppEntry, Apps};
use super::class_names::ClassEntry;
use super::intern::{Intern, LocalCache};
use crate::hash::FastMap;
use crate::referential::Referential;
use std::sync::Mutex;

/// Index of an interned structure.
pub type StructureId = u32;
/// Index of an interned segment (structure type).
pub type SegmentId = u32;
/// Marks "no structure" where a `StructureId` is expected.
pub const NO_STRUCTURE: StructureId = u32::MAX;

/// A scope packed in 32 bits: the kind in the top two bits, the segment or
/// structure index below. The derived order (platform, segment, structure)
/// is the alphabetical order of the scope names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeKey(u32);

const KIND_SHIFT: u32 = 30;
const ID_MASK: u32 = (1 << KIND_SHIFT) - 1;

/// The three kinds of scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every event of the platform.
    Platform,
    /// Every structure of one type.
    Segment(SegmentId),
    /// One structure.
    Structure(StructureId),
}

impl Scope {
    /// The name written in output tables (`platform`, `segment`,
    /// `structure`); alphabetical order is the order of the kinds.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Platform => "platform",
            Scope::Segment(_) => "segment",
            Scope::Structure(_) => "structure",
        }
    }
}

impl ScopeKey {
    /// The platform scope.
    pub const PLATFORM: ScopeKey = ScopeKey(0);

    /// The scope of one segment.
    pub fn segment(id: SegmentId) -> ScopeKey {
        ScopeKey(1 << KIND_SHIFT | (id & ID_MASK))
    }

    /// The scope of one structure.
    pub fn structure(id: StructureId) -> ScopeKey {
        ScopeKey(2 << KIND_SHIFT | (id & ID_MASK))
    }

    /// Unpacks the scope.
    pub fn scope(self) -> Scope {
        match self.0 >> KIND_SHIFT {
            0 => Scope::Platform,
            1 => Scope::Segment(self.0 & ID_MASK),
            _ => Scope::Structure(self.0 & ID_MASK),
        }
    }
}

/// What the engine knows of an interned structure.
#[derive(Clone, Debug)]
pub struct StructureEntry {
    /// The id as it appeared in the logs (lossily decoded if not UTF-8).
    pub id: String,
    /// Its segment, when the referential gives a type.
    pub segment: Option<SegmentId>,
    /// School code from the referential.
    pub uai: Option<String>,
    /// Name from the referential.
    pub name: Option<String>,
}

/// The shared table of structures and segments.
#[derive(Debug, Default)]
pub struct Interner {
    inner: Mutex<Tables>,
    referential: Referential,
}

#[derive(Debug, Default, Clone)]
struct Tables {
    by_id: FastMap<Vec<u8>, StructureId>,
    structures: Vec<StructureEntry>,
    segments: Vec<String>,
}

/// A frozen copy of the interner's tables, for the final stage.
#[derive(Debug, Default, Clone)]
pub struct Dimensions {
    /// Structures by index.
    pub structures: Vec<StructureEntry>,
    /// Segment names by index.
    pub segments: Vec<String>,
    /// Applications by index.
    pub apps: Vec<AppEntry>,
    /// Classes by index.
    pub classes: Vec<ClassEntry>,
}

impl Dimensions {
    /// The text of a row's segment: the segment itself, or the segment of
    /// its structure.
    pub fn segment_name(&self, scope: ScopeKey) -> Option<&str> {
        let seg = match scope.scope() {
            Scope::Platform => None,
            Scope::Segment(s) => Some(s),
            Scope::Structure(s) => self.structures[s as usize].segment,
        };
        seg.map(|s| self.segments[s as usize].as_str())
    }

    /// The structure of a row, when its scope is a structure.
    pub fn structure(&self, scope: ScopeKey) -> Option<&StructureEntry> {
        match scope.scope() {
            Scope::Structure(s) => Some(&self.structures[s as usize]),
            _ => None,
        }
    }

    /// The structure id of a row, when its scope is a structure.
    pub fn structure_id(&self, scope: ScopeKey) -> Option<&str> {
        self.structure(scope).map(|s| s.id.as_str())
    }

    /// The distinct scopes of something naming `structures` (never
    /// [`NO_STRUCTURE`]), into `out`: the platform, each structure, and
    /// each of their segments once (a segment named by two structures
    /// counts once).
    pub fn scopes_naming(&self, structures: &[StructureId], out: &mut Vec<ScopeKey>) {
        out.clear();
        out.push(ScopeKey::PLATFORM);
        for &s in structures {
            out.push(ScopeKey::structure(s));
            if let Some(seg) = self.structures[s as usize].segment
                && !out.contains(&ScopeKey::segment(seg))
            {
                out.push(ScopeKey::segment(seg));
            }
        }
    }

    /// The id of structure `s` as written, `None` for [`NO_STRUCTURE`]:
    /// the `structure_id` column of per-user rows, and their order.
    pub fn structure_text(&self, s: StructureId) -> Option<&str> {
        (s != NO_STRUCTURE).then(|| self.structures[s as usize].id.as_str())
    }
}

impl Interner {
    /// A table that fills structure details from `referential`.
    pub fn new(referential: Referential) -> Interner {
        Interner { inner: Mutex::default(), referential }
    }

    /// Returns the index of structure `id` and its segment, adding it on
    /// first sight.
    pub fn intern(&self, id: &[u8]) -> (StructureId, Option<SegmentId>) {
        // A poisoned lock only means another worker panicked; the tables
        // are still consistent (every update is a single push + insert).
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&s) = t.by_id.get(id) {
            return (s, t.structures[s as usize].segment);
        }
        let info = self.referential.structure(id).cloned().unwrap_or_default();
        let segment = info.segment.map(|name| match t.segments.iter().position(|s| *s == name) {
            Some(i) => i as SegmentId,
            None => {
                t.segments.push(name);
                (t.segments.len() - 1) as SegmentId
            }
        });
        let s = t.structures.len() as StructureId;
        t.structures.push(StructureEntry {
            id: String::from_utf8_lossy(id).into_owned(),
            segment,
            uai: info.uai,
            name: info.name,
        });
        t.by_id.insert(id.to_vec(), s);
        (s, segment)
    }

    /// A copy of the tables as they are now, with the applications of
    /// `apps`.
    pub fn dimensions(&self, apps: &Apps) -> Dimensions {
        let t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Dimensions {
            structures: t.structures.clone(),
            segments: t.segments.clone(),
            apps: apps.entries(),
            classes: Vec::new(),
        }
    }
}

/// A worker's cache in front of the shared [`Interner`].
pub type LocalInterner = LocalCache<Interner>;

impl Intern for Interner {
    type Value = (StructureId, Option<SegmentId>);

    fn intern(&self, id: &[u8]) -> Self::Value {
        Interner::intern(self, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_keys_round_trip_and_order() {
        assert_eq!(ScopeKey::PLATFORM.scope(), Scope::Platform);
        assert_eq!(ScopeKey::segment(3).scope(), Scope::Segment(3));
        assert_eq!(ScopeKey::structure(7).scope(), Scope::Structure(7));
        assert!(ScopeKey::PLATFORM < ScopeKey::segment(9));
        assert!(ScopeKey::segment(9) < ScopeKey::structure(0));
    }

    #[test]
    fn interning_is_shared() {
        let shared = Interner::new(Referential::empty());
        let (mut a, mut b) = (LocalInterner::default(), LocalInterner::default());
        let x = a.get(&shared, b"x");
        assert_eq!(b.get(&shared, b"y").0, 1);
        assert_eq!(b.get(&shared, b"x"), x);
        assert_eq!(shared.dimensions(&Apps::default()).structures[1].id, "y");
    }
}
