//! The platform's referential: what the event store does not say about a
//! structure (its school code, name and type).

use crate::error::{Error, ErrorKind, Result};
use crate::hash::FastMap;
use std::path::Path;

/// What the referential says of one structure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StructureInfo {
    /// National school code (UAI), when known.
    pub uai: Option<String>,
    /// Display name, when known.
    pub name: Option<String>,
    /// Structure type (`ECOLE`, `COLLEGE`, ...): the segment it rolls up
    /// to.
    pub segment: Option<String>,
}

/// Structures by id, read from `structures.csv`.
#[derive(Clone, Debug, Default)]
pub struct Referential {
    structures: FastMap<Vec<u8>, StructureInfo>,
}

impl Referential {
    /// An empty referential: every structure is unknown.
    pub fn empty() -> Referential {
        Referential::default()
    }

    /// Reads `DIR/structures.csv`: a header row naming at least `id`,
    /// `uai` and `name` (and optionally `type`), then one structure per
    /// row. Empty cells are unknown values.
    pub fn load(dir: &Path) -> Result<Referential> {
        let path = dir.join("structures.csv");
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        Referential::read(&path, file)
    }

    fn read(path: &Path, input: impl std::io::Read) -> Result<Referential> {
        let bad = |line: u64, message: String| -> Error {
            ErrorKind::Referential { path: path.to_path_buf(), line, message }.into()
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(id), Some(uai), Some(name)) = (col("id"), col("uai"), col("name")) else {
            return Err(bad(1, "header must name the columns id, uai, name".into()));
        };
        let kind = col("type");
        let mut structures = FastMap::default();
        for row in rdr.records() {
            let row = row.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                bad(line, e.to_string())
            })?;
            let line = row.position().map_or(0, |p| p.line());
            let cell = |i: Option<usize>| {
                i.and_then(|i| row.get(i))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let Some(key) = cell(Some(id)) else {
                return Err(bad(line, "empty structure id".into()));
            };
            let info =
                StructureInfo { uai: cell(Some(uai)), name: cell(Some(name)), segment: cell(kind) };
            structures.insert(key.into_bytes(), info);
        }
        Ok(Referential { structures })
    }

    /// What is known of the structure `id`, if anything.
    pub fn structure(&self, id: &[u8]) -> Option<&StructureInfo> {
        self.structures.get(id)
    }

    /// Number of structures known.
    pub fn len(&self) -> usize {
        self.structures.len()
    }

    /// True if and only if no structure is known.
    pub fn is_empty(&self) -> bool {
        self.structures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Referential> {
        Referential::read(Path::new("structures.csv"), text.as_bytes())
    }

    #[test]
    fn reads_structures_with_quoted_names() {
        let r = read("id,uai,name,type\ns1,0801234A,\"Ecole A, Amiens\",ECOLE\ns2,,B,\n").unwrap();
        let s1 = r.structure(b"s1").unwrap();
        assert_eq!(s1.uai.as_deref(), Some("0801234A"));
        assert_eq!(s1.name.as_deref(), Some("Ecole A, Amiens"));
        assert_eq!(s1.segment.as_deref(), Some("ECOLE"));
        let s2 = r.structure(b"s2").unwrap();
        assert_eq!((s2.uai.as_deref(), s2.segment.as_deref()), (None, None));
        assert!(r.structure(b"s3").is_none());
    }

    #[test]
    fn type_column_is_optional() {
        let r = read("name,id,uai\nA,s1,0801234A\n").unwrap();
        assert_eq!(r.structure(b"s1").unwrap().segment, None);
    }

    #[test]
    fn errors_say_where() {
        let e = read("id,name\ns1,A\n").unwrap_err();
        assert!(e.to_string().contains("structures.csv:1"), "{e}");
        let e = read("id,uai,name\n,0801234A,A\n").unwrap_err();
        assert!(e.to_string().contains("structures.csv:2"), "{e}");
    }
}
