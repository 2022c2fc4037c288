//! The platform's referential: what the event store does not say about a
//! structure (its school code, name and type) or a class (its name and
//! structure), and, for logs that do not carry them (access logs,
//! PostgreSQL exports), users' profiles, structures and classes.

use crate::annuaire::Annuaire;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::FastMap;
use crate::parse::Profile;
use std::path::{Path, PathBuf};

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

/// What the referential's `classes.csv` says of one class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassInfo {
    /// Display name (`6e B`, `CM1-CM2`), when known.
    pub name: Option<String>,
    /// The id of the class's structure, when known.
    pub structure: Option<String>,
}

/// The files a referential directory may hold, in the order the
/// referential's fingerprint reads them.
pub const FILES: [&str; 3] = ["structures.csv", "users.csv", "classes.csv"];

/// What the referential says of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user's id, as the logs write it.
    pub id: Vec<u8>,
    /// The user's profile.
    pub profile: Profile,
    /// Ids of the user's structures.
    pub structures: Vec<Vec<u8>>,
    /// Ids of the user's classes (the optional `classes` column).
    pub classes: Vec<Vec<u8>>,
    /// Whether the account is activated (the optional `activated` column:
    /// `true` or `false`; empty or absent is `false`).
    pub activated: bool,
}

/// Structures by id, read from `structures.csv`, users from `users.csv`
/// and classes from `classes.csv` when there are.
#[derive(Clone, Debug, Default)]
pub struct Referential {
    structures: FastMap<Vec<u8>, StructureInfo>,
    /// Users of `users.csv`, in file order.
    pub users: Vec<UserInfo>,
    /// Classes of `classes.csv`, by id.
    pub classes: FastMap<Vec<u8>, ClassInfo>,
}

impl Referential {
    /// An empty referential: every structure is unknown.
    pub fn empty() -> Referential {
        Referential::default()
    }

    /// Reads the referential directory `dir`, which holds
    /// `structures.csv` or `users.csv` or both, and perhaps
    /// `classes.csv`: `structures.csv`, a header row naming at least `id`,
    /// `uai` and `name` (and optionally `type`), then one structure per
    /// row (empty cells are unknown values); `users.csv`, a header naming
    /// `id`, `profile` and `structures` (structure ids separated by `;`),
    /// optionally `activated` and `classes` (class ids separated by `;`);
    /// `classes.csv`, a header naming `id`, `name` and `structure_id`.
    pub fn load(dir: &Path) -> Result<Referential> {
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "--referential {}: give the directory that holds structures.csv and/or \
                 users.csv{}",
                dir.display(),
                if dir.is_file() { ", not a file" } else { ": there is none" }
            )));
        }
        let open = |name: &str| {
            let path = dir.join(name);
            match std::fs::File::open(&path) {
                Ok(file) => Ok(Some((path, file))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(&path, e)),
            }
        };
        let [structures, users, classes] = FILES.map(open);
        let (structures, users, classes) = (structures?, users?, classes?);
        if structures.is_none() && users.is_none() {
            return Err(Error::usage(format!(
                "--referential {}: holds neither structures.csv nor users.csv",
                dir.display()
            )));
        }
        Referential::from_readers(given(&structures), given(&users), given(&classes))
    }

    /// Reads a referential from the contents of `structures.csv`,
    /// `users.csv` and `classes.csv` (any may be absent), each with the
    /// path its errors name.
    pub fn from_readers(
        structures: Option<(&Path, impl std::io::Read)>,
        users: Option<(&Path, impl std::io::Read)>,
        classes: Option<(&Path, impl std::io::Read)>,
    ) -> Result<Referential> {
        let mut referential = match structures {
            Some((path, input)) => Referential::read(path, input)?,
            None => Referential::empty(),
        };
        if let Some((path, input)) = users {
            referential.users = read_users(path, input)?;
        }
        if let Some((path, input)) = classes {
            referential.classes = read_classes(path, input)?;
        }
        Ok(referential)
    }

    fn read(path: &Path, input: impl std::io::Read) -> Result<Referential> {
        let mut structures = FastMap::default();
        read_rows(path, input, &["id", "uai", "name"], &["type"], |line, cell| {
            let Some(key) = cell(0) else {
                return Err(bad(path, line, "empty structure id"));
            };
            let info = StructureInfo { uai: cell(1), name: cell(2), segment: cell(3) };
            structures.insert(key.into_bytes(), info);
            Ok(())
        })?;
        Ok(Referential { structures, ..Referential::empty() })
    }

    /// What is known of the structure `id`, if anything.
    ///
    /// (Users are read separately, see [`Referential::load`].)
    pub fn structure(&self, id: &[u8]) -> Option<&StructureInfo> {
        self.structures.get(id)
    }

    /// Fills the name and type of structures whose school code the
    /// national directory knows, where the referential lacks them.
    pub fn fill_from(&mut self, annuaire: &Annuaire) {
        for s in self.structures.values_mut() {
            if let Some(school) = s.uai.as_deref().and_then(|u| annuaire.school(u)) {
                s.name = s.name.take().or_else(|| school.name.clone());
                s.segment = s.segment.take().or_else(|| school.kind.clone());
            }
        }
    }

    /// Whether some structure has a school code (UAI): only those appear
    /// in the national datasets.
    pub fn has_school_codes(&self) -> bool {
        self.structures.values().any(|s| s.uai.is_some())
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

/// A file opened by [`Referential::load`], as [`Referential::from_readers`]
/// takes it.
fn given(file: &Option<(PathBuf, std::fs::File)>) -> Option<(&Path, &std::fs::File)> {
    file.as_ref().map(|(p, f)| (p.as_path(), f))
}

fn bad(path: &Path, line: u64, message: impl Into<String>) -> Error {
    ErrorKind::Referential { path: path.to_path_buf(), line, message: message.into() }.into()
}

/// Reads a CSV file with a header naming the `required` columns (and
/// perhaps the `optional` ones), calling `row` with each row's line number
/// and a getter of its trimmed, non-empty cells by column (required ones
/// first, then optional ones).
fn read_rows(
    path: &Path,
    input: impl std::io::Read,
    required: &[&str],
    optional: &[&str],
    mut row: impl FnMut(u64, &dyn Fn(usize) -> Option<String>) -> Result<()>,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = rdr.headers().map_err(|e| bad(path, 1, e.to_string()))?.clone();
    let col = |name: &&str| headers.iter().position(|h| h.trim() == *name);
    let columns: Vec<Option<usize>> = required.iter().chain(optional).map(col).collect();
    if columns[..required.len()].iter().any(Option::is_none) {
        return Err(bad(path, 1, format!("header must name the columns {}", required.join(", "))));
    }
    for record in rdr.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(path, line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| {
            columns[i]
                .and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        row(line, &cell)?;
    }
    Ok(())
}

/// The ids of a cell that lists them separated by `;`, each trimmed.
fn id_list(cell: Option<String>) -> Vec<Vec<u8>> {
    cell.unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

/// Reads `classes.csv`: `id,name,structure_id`.
fn read_classes(path: &Path, input: impl std::io::Read) -> Result<FastMap<Vec<u8>, ClassInfo>> {
    let mut classes = FastMap::default();
    read_rows(path, input, &["id", "name", "structure_id"], &[], |line, cell| {
        let Some(id) = cell(0) else {
            return Err(bad(path, line, "empty class id"));
        };
        classes.insert(id.into_bytes(), ClassInfo { name: cell(1), structure: cell(2) });
        Ok(())
    })?;
    Ok(classes)
}

/// Reads `users.csv`: `id,profile,structures`, and optionally
/// `activated` and `classes`.
fn read_users(path: &Path, input: impl std::io::Read) -> Result<Vec<UserInfo>> {
    let mut users = Vec::new();
    let (required, optional) = (["id", "profile", "structures"], ["activated", "classes"]);
    read_rows(path, input, &required, &optional, |line, cell| {
        let Some(id) = cell(0) else {
            return Err(bad(path, line, "empty user id"));
        };
        let profile = Profile::from_name(cell(1).unwrap_or_default().as_bytes());
        let structures = id_list(cell(2));
        let activated = match cell(3).map(|a| a.to_ascii_lowercase()).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(bad(
                    path,
                    line,
                    format!("activated is {other:?}: write true or false"),
                ));
            }
        };
        let classes = id_list(cell(4));
        users.push(UserInfo { id: id.into_bytes(), profile, structures, classes, activated });
        Ok(())
    })?;
    Ok(users)
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

    #[test]
    fn the_national_directory_fills_what_the_referential_lacks() {
        let mut r =
            read("id,uai,name,type\ns1,0800319M,,\ns2,0800206P,Mon collège,COLLEGE\n").unwrap();
        let excerpt = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/annuaire/excerpt.csv");
        r.fill_from(&Annuaire::load(&excerpt).unwrap());
        let s1 = r.structure(b"s1").unwrap();
        assert_eq!(s1.name.as_deref(), Some("École primaire Jean Jaurès"));
        assert_eq!(s1.segment.as_deref(), Some("ECOLE"));
        let s2 = r.structure(b"s2").unwrap();
        assert_eq!(
            (s2.name.as_deref(), s2.segment.as_deref()),
            (Some("Mon collège"), Some("COLLEGE"))
        );
    }

    #[test]
    fn reads_classes() {
        let path = Path::new("classes.csv");
        let text = "structure_id,id,name\ns1,c1,\"6e B, option latin\"\n,c2,\n";
        let classes = read_classes(path, text.as_bytes()).unwrap();
        let c1 = &classes[&b"c1".to_vec()];
        assert_eq!(
            (c1.name.as_deref(), c1.structure.as_deref()),
            (Some("6e B, option latin"), Some("s1"))
        );
        assert_eq!(classes[&b"c2".to_vec()], ClassInfo::default());
        let e = read_classes(path, "id,name\nc1,A\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("classes.csv:1"), "{e}");
    }

    #[test]
    fn reads_users() {
        let path = Path::new("users.csv");
        let text = "id,profile,structures\nu1,Student,s1; s2\nu2,Relative,\nu3,Alien,s1\n";
        let users = read_users(path, text.as_bytes()).unwrap();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0].structures, vec![b"s1".to_vec(), b"s2".to_vec()]);
        assert_eq!((users[1].profile, users[1].structures.len()), (Profile::Relative, 0));
        assert_eq!(users[2].profile, Profile::Unknown);
        let text = "id,profile,structures,activated\nu1,Student,s1,TRUE\nu2,Student,s1,maybe\n";
        let e = read_users(path, text.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("users.csv:3"), "{e}");
        assert!(e.to_string().contains("write true or false"), "{e}");
        let text = "classes,id,profile,structures\n\"c1;c2\",u1,Student,s1\n";
        let users = read_users(path, text.as_bytes()).unwrap();
        assert_eq!(users[0].classes, vec![b"c1".to_vec(), b"c2".to_vec()]);
        let e = read_users(path, "id,profile\nu1,Student\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("users.csv:1"), "{e}");
    }
}
