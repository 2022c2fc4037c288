//! Every output table, listed once: `analyze` writes them, `merge`
//! rebuilds them, in this order.

use super::table::{Table, file_names};
use super::visits;
use super::{accounts, audience, hourly, http, modules, national, ode, structure_modules};
use super::{class_activity, classes, user_activity, user_modules, user_visits};

/// Every table, in the order a run writes them (`run.json` comes after).
pub const TABLES: [&dyn Table; 18] = [
    &audience::Audience,
    &accounts::ACCOUNTS,
    &user_activity::UserActivity,
    &user_visits::UserVisits,
    &user_modules::UserModules,
    &hourly::Hourly,
    &modules::Modules,
    &structure_modules::StructureModules,
    &visits::Visits,
    &http::Http,
    &national::PROFILS,
    &national::PROFILS_APPAREILS,
    &national::SERVICES,
    &ode::StatsAccounts,
    &ode::StatsAccess,
    &class_activity::ClassActivity,
    &accounts::CLASS_MEMBERS,
    &classes::Classes,
];

/// The names of every file and directory the tables take, in order.
pub fn output_names() -> Vec<&'static str> {
    TABLES.iter().flat_map(|&t| file_names(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::FastSet;

    #[test]
    fn names_and_columns_are_unique() {
        let names = output_names();
        assert_eq!(names.iter().collect::<FastSet<_>>().len(), names.len(), "{names:?}");
        for table in TABLES {
            let schema = table.schema();
            let columns: FastSet<&str> =
                schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(columns.len(), schema.fields().len(), "{}", table.name());
        }
    }
}
