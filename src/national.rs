//! The vocabulary of the national audience measure's weekly per-school
//! datasets (DNMA): the column groups of `fr-en-dnma-par-uai-profils`,
//! `-profils-appareils` and `-services`, each a triplet `visites_X`,
//! `utilisateurs_X`, `duree_X`. The figures of every group are counted
//! together (see `aggregate::visits`); each dataset writes its range of
//! groups.

use crate::device::Device;
use crate::parse::Profile;
use crate::service::{SERVICES, ServiceId};
use std::ops::Range;

/// The profiles of the national datasets, in their column order, with
/// their column names: Entcore's own mapping (guests and unknown profiles
/// count in `globales` only).
pub const PROFILES: [(Profile, &str); 4] = [
    (Profile::Student, "eleve"),
    (Profile::Relative, "parent"),
    (Profile::Teacher, "enseignant"),
    (Profile::Personnel, "admin_vie_scol_tech"),
];

/// A column group: an index into every dataset's groups, laid end to end.
pub type Group = u16;

/// The profile groups: everyone (`globales`), then each of [`PROFILES`].
const PROFILE_GROUPS: Range<usize> = 0..1 + PROFILES.len();
/// The profile x device groups, profile-major.
const DEVICE_GROUPS: Range<usize> =
    PROFILE_GROUPS.end..PROFILE_GROUPS.end + PROFILES.len() * Device::ALL.len();
/// The service groups, in the order of [`SERVICES`].
const SERVICE_GROUPS: Range<usize> = DEVICE_GROUPS.end..DEVICE_GROUPS.end + SERVICES.len();

/// How many groups there are.
pub const GROUPS: usize = SERVICE_GROUPS.end;

/// The index of a national profile in [`PROFILES`].
fn national(profile: Profile) -> Option<usize> {
    PROFILES.iter().position(|(p, _)| *p == profile)
}

/// The groups a visit of `profile` from `device` counts in: `globales`,
/// its profile's, and its profile and device's.
pub fn visit_groups(profile: Profile, device: Device) -> impl Iterator<Item = Group> {
    let p = national(profile);
    let by_profile = p.map(|p| PROFILE_GROUPS.start + 1 + p);
    let by_device = p.map(|p| DEVICE_GROUPS.start + p * Device::ALL.len() + device as usize);
    std::iter::once(PROFILE_GROUPS.start).chain(by_profile).chain(by_device).map(|g| g as Group)
}

/// The group of a service.
pub fn service_group(service: ServiceId) -> Group {
    (SERVICE_GROUPS.start + usize::from(service)) as Group
}

/// The device of a profile x device group.
pub fn device_of(group: usize) -> Option<Device> {
    DEVICE_GROUPS.contains(&group).then(|| Device::ALL[(group - DEVICE_GROUPS.start) % 4])
}

/// The service (index in [`SERVICES`]) of a service group.
pub fn service_of(group: usize) -> Option<usize> {
    SERVICE_GROUPS.contains(&group).then(|| group - SERVICE_GROUPS.start)
}

/// One of the datasets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// The published name, which the files take (`.csv`, `.parquet`).
    pub name: &'static str,
    /// Its groups.
    pub groups: Range<usize>,
    /// Whether the school's context columns come right after `uai` (as in
    /// the profiles datasets) rather than at the end (as in the services
    /// dataset).
    pub context_first: bool,
}

/// The profiles dataset.
pub const PROFILS: Dataset =
    Dataset { name: "fr-en-dnma-par-uai-profils", groups: PROFILE_GROUPS, context_first: true };
/// The profiles x devices dataset.
pub const PROFILS_APPAREILS: Dataset = Dataset {
    name: "fr-en-dnma-par-uai-profils-appareils",
    groups: DEVICE_GROUPS,
    context_first: true,
};
/// The services dataset.
pub const SERVICES_DATASET: Dataset =
    Dataset { name: "fr-en-dnma-par-uai-services", groups: SERVICE_GROUPS, context_first: false };

/// The column suffix of a group (`globales`, `eleve`, `eleve_tablette`,
/// `cahier_textes`).
pub fn suffix(group: usize) -> String {
    if group == PROFILE_GROUPS.start {
        "globales".to_string()
    } else if PROFILE_GROUPS.contains(&group) {
        PROFILES[group - 1].1.to_string()
    } else if DEVICE_GROUPS.contains(&group) {
        let i = group - DEVICE_GROUPS.start;
        let (p, d) = (i / Device::ALL.len(), i % Device::ALL.len());
        format!("{}_{}", PROFILES[p].1, Device::ALL[d].name())
    } else {
        SERVICES[group - SERVICE_GROUPS.start].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_named_as_the_published_columns() {
        let names = |d: Dataset| d.groups.map(suffix).collect::<Vec<_>>();
        assert_eq!(
            names(PROFILS),
            ["globales", "eleve", "parent", "enseignant", "admin_vie_scol_tech"]
        );
        let devices = names(PROFILS_APPAREILS);
        assert_eq!(devices.len(), 16);
        assert_eq!(
            devices[..4],
            ["eleve_ordinateur", "eleve_smartphone", "eleve_tablette", "eleve_autresappareil"]
        );
        assert_eq!(names(SERVICES_DATASET)[0], "accueil");
        let g: Vec<_> = visit_groups(Profile::Teacher, Device::Tablet).map(usize::from).collect();
        assert_eq!(
            g.iter().map(|&g| suffix(g)).collect::<Vec<_>>(),
            ["globales", "enseignant", "enseignant_tablette"]
        );
        assert_eq!(visit_groups(Profile::Guest, Device::Tablet).count(), 1);
        assert_eq!(suffix(usize::from(service_group(2))), "cahier_textes");
    }
}
