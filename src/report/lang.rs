//! The language of the terminal summary: English, or French for French
//! users (numbers with a narrow no-break space between thousands, French
//! month and profile names, the operator's sentence as a French operator
//! writes it).

use crate::time::civil_from_days;

/// Narrow no-break space: French thousands separator, and before `%`.
const NNBSP: char = '\u{202F}';

/// A language of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

/// The words the summary uses.
pub struct Words {
    /// Heading of the monthly tables.
    pub monthly: &'static str,
    /// Column headings: month, connections, vs prev, vs others, visitors,
    /// peak hour.
    pub columns: [&'static str; 6],
    /// Profiles shown as columns (`Student`, `Relative`, `Teacher`,
    /// `Personnel`), as named in the column headings.
    pub profiles: [&'static str; 4],
    /// "peak hour", "top apps", "users", "visits", "duration median".
    pub details: [&'static str; 5],
    /// Shown when there is no connection.
    pub nothing: &'static str,
    /// The row of a month without data between months with data.
    pub no_data: &'static str,
    /// The note under a table with partial months (marked `*`).
    pub partial: &'static str,
    /// Heading of the schools table (`--by-school`), then its columns:
    /// UAI, name, connections, distinct pupils, distinct parents.
    pub schools: [&'static str; 6],
    /// Heading of the column of visits per distinct visitor.
    pub per_visitor: &'static str,
    /// The accounts line: "accounts", "loaded", "activated", "connected".
    pub accounts: [&'static str; 4],
}

/// The texts of the HTML report in one language.
pub struct HtmlWords {
    /// Page title and first heading ("ENT audience").
    pub title: &'static str,
    /// "Periods cut at local midnight in" (a time zone follows).
    pub cut: &'static str,
    /// Heading of the monthly chart and its note.
    pub monthly: [&'static str; 2],
    /// Heading of the daily chart.
    pub daily: &'static str,
    /// Heading of the hour by weekday map, and "peak hour".
    pub heatmap: [&'static str; 2],
    /// Monday to Sunday, abbreviated.
    pub weekdays: [&'static str; 7],
    /// Heading of the applications chart, and "users".
    pub apps: [&'static str; 2],
    /// Heading of the visit durations (then "seconds"), and the columns:
    /// profile, visits, median.
    pub visits: [&'static str; 5],
    /// Heading of the devices and services tables, their note, then the
    /// columns: device, service, visits, share, total duration.
    pub national: [&'static str; 7],
    /// Computer, smartphone, tablet, other devices.
    pub devices: [&'static str; 4],
    /// Heading of the school table, and its note on sorting.
    pub schools: [&'static str; 2],
    /// Student, Relative, Teacher, Personnel, Guest, Unknown.
    pub profiles: [&'static str; 6],
}

impl Lang {
    /// Reads `fr` or `en`.
    pub fn parse(text: &str) -> Result<Lang, String> {
        match text {
            "fr" => Ok(Lang::Fr),
            "en" => Ok(Lang::En),
            _ => Err(format!("{text:?}: the languages are fr and en")),
        }
    }

    /// The language of the environment: French when `LC_ALL`,
    /// `LC_MESSAGES` or `LANG` (the first one set) starts with `fr`.
    pub fn from_env() -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_default();
        if locale.starts_with("fr") { Lang::Fr } else { Lang::En }
    }

    /// The `lang` attribute of an HTML page in this language.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The summary's words.
    pub fn words(self) -> Words {
        match self {
            Lang::En => Words {
                monthly: "Monthly audience",
                columns: ["month", "connections", "vs prev", "vs others", "visitors", "peak hour"],
                profiles: ["Student", "Relative", "Teacher", "Personnel"],
                details: ["peak hour", "top apps", "users", "visits", "duration median"],
                nothing: "No connections found.",
                no_data: "no data",
                partial: "* partial month (the data start after its first day or end before its \
                          last): not compared",
                schools: ["Schools", "UAI", "name", "connections", "pupils", "parents"],
                per_visitor: "visits per visitor",
                accounts: ["accounts", "loaded", "activated", "connected"],
            },
            Lang::Fr => Words {
                monthly: "Audience mensuelle",
                columns: ["mois", "connexions", "vs préc.", "vs autres", "visiteurs", "pointe"],
                profiles: ["élèves", "parents", "enseignants", "personnels"],
                details: [
                    "heure de pointe",
                    "applications",
                    "utilisateurs",
                    "visites",
                    "durée médiane",
                ],
                nothing: "Aucune connexion.",
                no_data: "aucune donnée",
                partial: "* mois partiel (les données commencent après son premier jour ou \
                          s'arrêtent avant son dernier) : non comparé",
                schools: ["Établissements", "UAI", "nom", "connexions", "élèves", "parents"],
                per_visitor: "visites par visiteur",
                accounts: ["comptes", "chargés", "activés", "connectés"],
            },
        }
    }

    /// The texts of the HTML report.
    pub fn html(self) -> HtmlWords {
        match self {
            Lang::En => HtmlWords {
                title: "ENT audience",
                cut: "Periods cut at local midnight in",
                monthly: [
                    "Monthly connections and distinct users",
                    "Bars: connections, labelled with the growth against the mean of the other \
                     months. Red line: distinct users (All).",
                ],
                daily: "Daily connections by profile",
                heatmap: ["Connections by hour and weekday", "Peak hour"],
                weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                apps: ["Top applications", "users"],
                visits: ["Visit durations", "seconds", "profile", "visits", "median"],
                national: [
                    "Devices and services",
                    "visits of the weeks starting in the month, in the schools of the national \
                     datasets (a visit to two schools counts in each)",
                    "device",
                    "service",
                    "visits",
                    "share",
                    "total duration",
                ],
                devices: ["computer", "smartphone", "tablet", "other devices"],
                schools: ["Schools", "structures; click a column to sort"],
                profiles: ["Student", "Relative", "Teacher", "Personnel", "Guest", "Unknown"],
            },
            Lang::Fr => HtmlWords {
                title: "Audience de l'ENT",
                cut: "Périodes coupées à minuit, heure locale de",
                monthly: [
                    "Connexions mensuelles et utilisateurs distincts",
                    "Barres : connexions, avec leur évolution par rapport à la moyenne des autres \
                     mois. Ligne rouge : utilisateurs distincts (tous).",
                ],
                daily: "Connexions quotidiennes par profil",
                heatmap: ["Connexions par heure et jour de la semaine", "Heure de pointe"],
                weekdays: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
                apps: ["Applications les plus utilisées", "utilisateurs"],
                visits: ["Durée des visites", "secondes", "profil", "visites", "médiane"],
                national: [
                    "Appareils et services",
                    "visites des semaines commençant dans le mois, dans les établissements des \
                     jeux de données nationaux (une visite dans deux établissements compte dans \
                     chacun)",
                    "appareil",
                    "service",
                    "visites",
                    "part",
                    "durée totale",
                ],
                devices: ["ordinateur", "smartphone", "tablette", "autres appareils"],
                schools: ["Établissements", "structures ; cliquer sur une colonne pour trier"],
                profiles: ["élèves", "parents", "enseignants", "personnels", "invités", "inconnus"],
            },
        }
    }

    /// An integer with its thousands separated: `1,780,781` or
    /// `1 780 781` (narrow no-break spaces).
    pub fn thousands(self, n: i64) -> String {
        let sep = match self {
            Lang::En => ',',
            Lang::Fr => NNBSP,
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() * 2);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// A signed percentage rounded to the unit (`+1500%`, `+1500 %`), or
    /// `-` when undefined.
    pub fn percent(self, p: Option<f64>) -> String {
        match (p, self) {
            (Some(p), Lang::En) => format!("{:+}%", p.round() as i64),
            (Some(p), Lang::Fr) => format!("{:+}{NNBSP}%", p.round() as i64),
            (None, _) => "-".to_string(),
        }
    }

    /// A share rounded to the unit (`86%`, `86 %`), or `-` when
    /// undefined.
    pub fn share(self, p: Option<f64>) -> String {
        match (p, self) {
            (Some(p), Lang::En) => format!("{}%", p.round() as i64),
            (Some(p), Lang::Fr) => format!("{}{NNBSP}%", p.round() as i64),
            (None, _) => "-".to_string(),
        }
    }

    /// `1.9`, `1,9`: one decimal, `-` for none.
    pub fn decimal(self, x: Option<f64>) -> String {
        match (x, self) {
            (Some(x), Lang::En) => format!("{x:.1}"),
            (Some(x), Lang::Fr) => format!("{x:.1}").replace('.', ","),
            (None, _) => "-".to_string(),
        }
    }

    /// `March 2020`, `mars 2020`.
    pub fn month_name(self, day: i32) -> String {
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        let (y, m, _) = civil_from_days(day);
        let names = if self == Lang::En { EN } else { FR };
        format!("{} {y}", names[m as usize - 1])
    }

    /// The operator's sentence: scope, month, connections, their growth
    /// against the mean of the other months, distinct pupils and parents.
    pub fn sentence(
        self,
        scope: &str,
        month: i32,
        connections: i64,
        growth: Option<f64>,
        pupils: i64,
        parents: i64,
    ) -> String {
        let (m, n) = (self.month_name(month), |x| self.thousands(x));
        let g = self.percent(growth);
        match self {
            Lang::En => format!(
                "{scope}, {m}: {} connections ({g} vs the mean of the other months), {} distinct \
                 pupils, {} distinct parents.",
                n(connections),
                n(pupils),
                n(parents)
            ),
            Lang::Fr => format!(
                "{scope}, {m}\u{a0}: {} connexions ({g} par rapport à la moyenne des autres mois), \
                 {} élèves distincts, {} parents distincts.",
                n(connections),
                n(pupils),
                n(parents)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers_months_and_sentence() {
        assert_eq!(Lang::Fr.thousands(1_780_781), "1\u{202F}780\u{202F}781");
        assert_eq!(Lang::En.thousands(-1000), "-1,000");
        assert_eq!(Lang::Fr.percent(Some(1499.6)), "+1500\u{202F}%");
        let march = crate::time::days_from_civil(2020, 3, 1);
        assert_eq!(Lang::Fr.month_name(march), "mars 2020");
        let s = Lang::Fr.sentence("ECOLE", march, 1_780_781, Some(1500.0), 31_640, 22_437);
        assert_eq!(
            s.replace(['\u{202F}', '\u{a0}'], " "),
            "ECOLE, mars 2020 : 1 780 781 connexions (+1500 % par rapport à la moyenne des \
             autres mois), 31 640 élèves distincts, 22 437 parents distincts."
        );
        assert_eq!(Lang::parse("fr"), Ok(Lang::Fr));
        assert!(Lang::parse("de").is_err());
    }
}
