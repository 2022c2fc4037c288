//! The national school directory ("Annuaire de l'éducation",
//! `fr-en-annuaire-education` on data.education.gouv.fr, Licence Ouverte
//! 2.0), as downloaded: a `;`-separated CSV whose columns are read by
//! their published names. It gives the context columns of the national
//! audience datasets for every school code (UAI) it knows, and a school's
//! name and type where the referential lacks them.

use crate::error::{Error, ErrorKind, Result};
use crate::hash::FastMap;
use std::path::Path;

/// What the directory says of one school, as the national datasets write
/// it; `None` where the directory is silent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct School {
    /// `Libelle_academie`.
    pub academie: Option<String>,
    /// `Nom_commune`.
    pub commune: Option<String>,
    /// `Libelle_departement`.
    pub departement: Option<String>,
    /// `Libelle_region`.
    pub region: Option<String>,
    /// `ministere_tutelle`.
    pub ministere: Option<String>,
    /// `nom_circonscription`.
    pub circonscription: Option<String>,
    /// `code_nature`: the nature code of the UAI (`151` an elementary
    /// school, `340` a collège, ...).
    pub nature_uai: Option<String>,
    /// `PU` (public) or `PR` (private), from `Statut_public_prive`.
    pub secteur: Option<String>,
    /// `Nom_etablissement`.
    pub name: Option<String>,
    /// `Type_etablissement`, upper case without accents (`ECOLE`,
    /// `COLLEGE`, `LYCEE`): the referential's spelling of a segment.
    pub kind: Option<String>,
}

/// How a context column is read from a [`School`].
pub type Field = fn(&School) -> Option<&str>;

/// The context columns of the national datasets, in their order, with
/// each one's value in a [`School`].
pub const CONTEXT: [(&str, Field); 8] = [
    ("academie", |s| s.academie.as_deref()),
    ("commune", |s| s.commune.as_deref()),
    ("departement", |s| s.departement.as_deref()),
    ("region", |s| s.region.as_deref()),
    ("ministere", |s| s.ministere.as_deref()),
    ("circonscription", |s| s.circonscription.as_deref()),
    ("nature_uai", |s| s.nature_uai.as_deref()),
    ("secteur", |s| s.secteur.as_deref()),
];

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
        let names = [
            "Libelle_academie",
            "Nom_commune",
            "Libelle_departement",
            "Libelle_region",
            "ministere_tutelle",
            "nom_circonscription",
            "code_nature",
            "Statut_public_prive",
            "Nom_etablissement",
            "Type_etablissement",
        ];
        let cols = names.map(col);
        let mut schools = FastMap::default();
        for record in rdr.records() {
            let record =
                record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let cell = |c: Option<usize>| {
                c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty())
            };
            let Some(code) = cell(Some(uai)) else { continue };
            let text = |i: usize| cell(cols[i]).map(str::to_string);
            let school = School {
                academie: text(0),
                commune: text(1),
                departement: text(2),
                region: text(3),
                ministere: text(4),
                circonscription: text(5),
                nature_uai: text(6),
                secteur: cell(cols[7]).and_then(secteur),
                name: text(8),
                kind: cell(cols[9]).map(kind),
            };
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

    #[test]
    fn reads_the_published_columns() {
        let a = fixture();
        let s = a.school("0800319m").unwrap();
        assert_eq!(s.academie.as_deref(), Some("Amiens"));
        assert_eq!(s.departement.as_deref(), Some("Somme"));
        assert_eq!(s.region.as_deref(), Some("Hauts-de-France"));
        assert_eq!(s.secteur.as_deref(), Some("PU"));
        assert_eq!(s.kind.as_deref(), Some("ECOLE"));
        assert_eq!(s.nature_uai.as_deref(), Some("151"));
        let college = a.school("0800206P").unwrap();
        assert_eq!(
            (college.kind.as_deref(), college.secteur.as_deref()),
            (Some("COLLEGE"), Some("PU"))
        );
        let private = a.school("0801479U").unwrap();
        assert_eq!(private.secteur.as_deref(), Some("PR"));
    }

    #[test]
    fn a_byte_order_mark_and_the_case_of_names_do_not_matter() {
        let text = "\u{feff}identifiant_de_l_etablissement;STATUT_PUBLIC_PRIVE\n0800319M;Privé\n";
        let a = Annuaire::read(Path::new("a.csv"), text.as_bytes()).unwrap();
        assert_eq!(a.school("0800319M").unwrap().secteur.as_deref(), Some("PR"));
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
