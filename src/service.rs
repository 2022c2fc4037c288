//! The services of the national audience measure (`accueil`,
//! `courrier_electronique`, `cahier_textes`, ...) and which Entcore
//! application counts for which: a documented default, or the
//! `application,service` CSV of `--services`.

use crate::error::{Error, ErrorKind, Result};
use crate::hash::FastMap;
use std::path::Path;

/// The national services, in the column order of the services dataset.
pub const SERVICES: [&str; 25] = [
    "accueil",
    "actualites",
    "cahier_textes",
    "cahier_liaison",
    "courrier_electronique",
    "messagerie_instantanee",
    "visioconference",
    "stockage_partage",
    "production_collaborative",
    "documentation_cdi",
    "parcours_pedagogique",
    "reservation_salles_materiels",
    "service_collectivite",
    "services_vie_scolaire",
    "gestion_temps",
    "absences",
    "gestion_competences",
    "notes",
    "manuel_numerique",
    "ressource_multimedia",
    "ressource_orientation",
    "ressource_production",
    "ressource_accompagnement_entrainement",
    "ressource_reference_dictionnaire",
    "ressource_documentaire",
];

/// A service: its index in [`SERVICES`].
pub type ServiceId = u8;

/// The service named `name` (as [`SERVICES`] spells it), if one is.
pub fn service_id(name: &str) -> Option<ServiceId> {
    SERVICES.iter().position(|&s| s == name).map(|i| i as ServiceId)
}

/// The default mapping: Entcore applications (the `module` of events, the
/// first segment of an access log's path), compared without regard to
/// case, and the service each counts for. Applications not listed count
/// for no service.
pub const DEFAULT: [(&str, &str); 42] = [
    ("Timeline", "accueil"),
    ("Portal", "accueil"),
    ("Welcome", "accueil"),
    ("Actualites", "actualites"),
    ("News", "actualites"),
    ("Homeworks", "cahier_textes"),
    ("Diary", "cahier_textes"),
    ("CahierDeTextes", "cahier_textes"),
    ("Schoolbook", "cahier_liaison"),
    ("Conversation", "courrier_electronique"),
    ("Zimbra", "courrier_electronique"),
    ("Messagerie", "courrier_electronique"),
    ("Chat", "messagerie_instantanee"),
    ("Rocketchat", "messagerie_instantanee"),
    ("Visio", "visioconference"),
    ("Webconference", "visioconference"),
    ("Workspace", "stockage_partage"),
    ("Worksapce", "stockage_partage"),
    ("Rack", "stockage_partage"),
    ("Blog", "production_collaborative"),
    ("Wiki", "production_collaborative"),
    ("Pad", "production_collaborative"),
    ("Collaborativewall", "production_collaborative"),
    ("Collaborativeeditor", "production_collaborative"),
    ("Mindmap", "production_collaborative"),
    ("Scrapbook", "production_collaborative"),
    ("Forum", "production_collaborative"),
    ("Community", "production_collaborative"),
    ("Esidoc", "documentation_cdi"),
    ("Exercizer", "parcours_pedagogique"),
    ("Rbs", "reservation_salles_materiels"),
    ("Pronote", "services_vie_scolaire"),
    ("Educ'Horus", "services_vie_scolaire"),
    ("Calendar", "gestion_temps"),
    ("Edt", "gestion_temps"),
    ("Presences", "absences"),
    ("Competences", "gestion_competences"),
    ("Notes", "notes"),
    ("Mediacentre", "manuel_numerique"),
    ("BRNE", "ressource_accompagnement_entrainement"),
    ("Onisep", "ressource_orientation"),
    ("Library", "ressource_documentaire"),
];

/// Which application counts for which service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceMap {
    /// Lower-cased application name -> service.
    by_app: FastMap<Vec<u8>, ServiceId>,
}

impl Default for ServiceMap {
    /// The documented default, [`DEFAULT`].
    fn default() -> Self {
        let mut map = ServiceMap { by_app: FastMap::default() };
        for (app, service) in DEFAULT {
            map.insert(app, service).unwrap_or_else(|e| unreachable!("{e}"));
        }
        map
    }
}

impl ServiceMap {
    /// Maps `app` to `service`; fails on a service that is not one of
    /// [`SERVICES`], naming it.
    fn insert(&mut self, app: &str, service: &str) -> std::result::Result<(), String> {
        let Some(id) = service_id(service) else {
            return Err(format!("{service:?} is not a service of the national measure"));
        };
        self.by_app.insert(app.to_ascii_lowercase().into_bytes(), id);
        Ok(())
    }

    /// Reads an `application,service` CSV (with that header): the whole
    /// mapping, in place of the default. Errors name the file and line.
    pub fn load(path: &Path) -> Result<ServiceMap> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        ServiceMap::read(path, file)
    }

    /// Reads the mapping from `input`; errors name `path`.
    pub fn read(path: &Path, input: impl std::io::Read) -> Result<ServiceMap> {
        let bad = |line: u64, message: String| -> Error {
            ErrorKind::Referential { path: path.to_path_buf(), line, message }.into()
        };
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(input);
        let mut map = ServiceMap { by_app: FastMap::default() };
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 1;
            let record = record.map_err(|e| bad(line, e.to_string()))?;
            let field = |k: usize| record.get(k).unwrap_or("").trim();
            if line == 1 {
                if (field(0).trim_start_matches('\u{feff}'), field(1)) != ("application", "service")
                {
                    return Err(bad(line, "the header must be `application,service`".into()));
                }
            } else if field(0).is_empty() {
                return Err(bad(line, "no application".into()));
            } else {
                map.insert(field(0), field(1)).map_err(|e| bad(line, e))?;
            }
        }
        Ok(map)
    }

    /// The service `app` counts for, if any (`app` compared without
    /// regard to ASCII case).
    pub fn service_of(&self, app: &[u8]) -> Option<ServiceId> {
        // Lower-cased on the stack: this runs for every event.
        let mut lower = [0u8; 64];
        let lower = lower.get_mut(..app.len())?;
        lower.copy_from_slice(app);
        lower.make_ascii_lowercase();
        self.by_app.get(&*lower).copied()
    }
}

/// The application an access log's request opens: the first segment of
/// its path (`/conversation/threads?x` opens `conversation`).
pub fn app_of_path(path: &[u8]) -> &[u8] {
    let path = path.strip_prefix(b"/").unwrap_or(path);
    let end = path.iter().position(|&b| b == b'/' || b == b'?' || b == b'#').unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_maps_applications_without_regard_to_case() {
        let map = ServiceMap::default();
        let id = service_id;
        assert_eq!(map.service_of(b"Conversation"), id("courrier_electronique"));
        assert_eq!(map.service_of(b"conversation"), id("courrier_electronique"));
        assert_eq!(map.service_of(b"Auth"), None);
        assert_eq!(
            map.service_of(app_of_path(b"/timeline/lastNotifications?page=0")),
            id("accueil")
        );
        assert_eq!(app_of_path(b"/"), b"");
    }

    #[test]
    fn a_mapping_file_replaces_the_default_and_unknown_services_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("services.csv");
        std::fs::write(&path, "application,service\nMyApp,notes\n").unwrap();
        let map = ServiceMap::load(&path).unwrap();
        assert_eq!(map.service_of(b"myapp"), Some(17));
        assert_eq!(map.service_of(b"Timeline"), None);
        std::fs::write(&path, "application,service\nMyApp,gazette\n").unwrap();
        let err = ServiceMap::load(&path).unwrap_err().to_string();
        assert!(err.contains("services.csv:2: \"gazette\" is not a service"), "{err}");
    }
}
