//! The national school directory ("Annuaire de l'éducation",
//! `fr-en-annuaire-education` on data.education.gouv.fr, Licence Ouverte
//! 2.0), as downloaded: a `;`-separated CSV whose columns are read by
//! their published names. It gives the context columns of the national
//! audience datasets for every school code (UAI) it knows, and a school's
//! name and type where the referential lacks them.

use crate::error::{Error, ErrorKind, Result};
use crate::hash::FastMap;
use std::path::Path;

/// The context columns of the national datasets, in their order, each
/// with the directory's column it comes from: `code_nature` is the nature
/// code of the UAI (`151` an elementary school, `340` a collège, ...), and
/// `secteur` is `PU` (public) or `PR` (private) from `Public` or `Privé`.
pub const CONTEXT: [(&str, &str); 8] = [
    ("academie", "Libelle_academie"),
    ("commune", "Nom_commune"),
    ("departement", "Libelle_departement"),
    ("region", "Libelle_region"),
    ("ministere", "ministere_tutelle"),
    ("circonscription", "nom_circonscription"),
    ("nature_uai", "code_nature"),
    ("secteur", "Statut_public_prive"),
];

/// The index of `secteur` in [`CONTEXT`], the one value not copied as
/// written.
const SECTEUR: usize = 7;

/// What the directory says of one school; `None` where it is silent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct School {
    /// The context columns, in the order of [`CONTEXT`], as the national
    /// datasets write them.
    pub context: [Option<String>; CONTEXT.len()],
    /// `Nom_etablissement`.
    pub name: Option<String>,
    /// `Type_etablissement`, upper case without accents (`ECOLE`,
    /// `COLLEGE`, `LYCEE`): the referential's spelling of a segment.
    pub kind: Option<String>,
}

/// The directory's column of the school code, the only one required.
const UAI: &str = "Identifiant_de_l_etablissement";

/// Schools by UAI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annuaire(FastMap<String, School>);

impl Annuaire {
    /// Reads the directory's CSV at `path`.
    pub fn load(path: &Path) -> Result<Annuaire> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Annuaire::read(path, std::io::BufReader::new(file))
    }

    /// Reads the directory's CSV from `input`; errors name `path`.
    pub fn read(path: &Path, input: impl std::io::Read) -> Result<Annuaire> {
        let bad = |line: u64, message: String| -> Error {
            ErrorKind::Referential { path: path.to_path_buf(), line, message }.into()
        };
        let mut rdr = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(input);
        let headers = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        // Published names, compared without case: the directory's own
        // export has changed the case of some over the years.
        let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let uai = col(UAI).ok_or_else(|| bad(1, format!("header must name the column {UAI}")))?;
        let context = CONTEXT.map(|(_, source)| col(source));
        let (name, kind_col) = (col("Nom_etablissement"), col("Type_etablissement"));
        let mut schools = FastMap::default();
        for record in rdr.records() {
            let record =
                record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let cell = |c: Option<usize>| {
                c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty())
            };
            let Some(code) = cell(Some(uai)) else { continue };
            let mut school = School {
                context: context.map(|c| cell(c).map(str::to_string)),
                name: cell(name).map(str::to_string),
                kind: cell(kind_col).map(kind),
            };
            school.context[SECTEUR] = cell(context[SECTEUR]).and_then(secteur);
            schools.insert(code.to_uppercase(), school);
        }
        Ok(Annuaire(schools))
    }

    /// Adds what is known of the school `uai`, unless it is known already
    /// (the contexts a merge reads back from its runs, which share one
    /// directory).
    pub fn add(&mut self, uai: &str, school: School) {
        self.0.entry(uai.to_uppercase()).or_insert(school);
    }

    /// What the directory says of the school `uai`.
    pub fn school(&self, uai: &str) -> Option<&School> {
        self.0.get(&uai.to_uppercase())
    }

    /// Number of schools.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no school is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `PU` or `PR` from the directory's `Public` or `Privé`.
fn secteur(text: &str) -> Option<String> {
    let t = text.to_lowercase();
    match () {
        _ if t.starts_with("pub") => Some("PU".to_string()),
        _ if t.starts_with("priv") => Some("PR".to_string()),
        _ => None,
    }
}

/// A type of school as the referential writes segments: upper case, the
/// accents of French taken off (`Collège` -> `COLLEGE`).
fn kind(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'Î' | 'Ï' => 'I',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed excerpt of the directory, with its published header.
    fn fixture() -> Annuaire {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/annuaire/excerpt.csv");
        Annuaire::load(&path).unwrap()
    }

    /// The context column `name` of `s`.
    fn get<'s>(s: &'s School, name: &str) -> Option<&'s str> {
        let i = CONTEXT.iter().position(|(n, _)| *n == name).unwrap();
        s.context[i].as_deref()
    }

    #[test]
    fn reads_the_published_columns() {
        let a = fixture();
        let s = a.school("0800319m").unwrap();
        assert_eq!(get(s, "academie"), Some("Amiens"));
        assert_eq!(get(s, "departement"), Some("Somme"));
        assert_eq!(get(s, "region"), Some("Hauts-de-France"));
        assert_eq!(get(s, "secteur"), Some("PU"));
        assert_eq!(s.kind.as_deref(), Some("ECOLE"));
        assert_eq!(get(s, "nature_uai"), Some("151"));
        let college = a.school("0800206P").unwrap();
        assert_eq!(
            (college.kind.as_deref(), get(college, "secteur")),
            (Some("COLLEGE"), Some("PU"))
        );
        let private = a.school("0801479U").unwrap();
        assert_eq!(get(private, "secteur"), Some("PR"));
    }

    #[test]
    fn a_byte_order_mark_and_the_case_of_names_do_not_matter() {
        let text = "\u{feff}identifiant_de_l_etablissement;STATUT_PUBLIC_PRIVE\n0800319M;Privé\n";
        let a = Annuaire::read(Path::new("a.csv"), text.as_bytes()).unwrap();
        assert_eq!(get(a.school("0800319M").unwrap(), "secteur"), Some("PR"));
    }

    #[test]
    fn a_file_without_the_uai_column_is_refused() {
        let e =
            Annuaire::read(Path::new("a.csv"), "Nom_etablissement;Nom_commune\nA;B\n".as_bytes())
                .unwrap_err();
        assert!(e.to_string().contains("a.csv:1"), "{e}");
        assert!(e.to_string().contains(UAI), "{e}");
    }
}
