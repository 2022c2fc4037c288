//! What the reports show, gathered either from the tables of a run just
//! made or from the Parquet files of a finished run, so that `analyze` and
//! `report` print the same thing.

use crate::aggregate::finish::Tables;
use crate::aggregate::key::{ALL_PROFILES, Grain, Metrics, profile_name};
use crate::aggregate::visits::NationalMetrics;
use crate::error::Result;
use crate::national;
use crate::service::SERVICES;
use crate::sink::audience::{self, Audience};
use crate::sink::hourly::{self, Hourly};
use crate::sink::modules::{self, Modules};
use crate::sink::national::{PROFILS_APPAREILS, SERVICES as SERVICES_TABLE};
use crate::sink::table::Table;
use crate::sink::visits::{self, Visits};
use crate::time::month_start;
use std::collections::BTreeMap;
use std::path::Path;

/// One month of one scope.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MonthFigures {
    /// First day of the month.
    pub month: i32,
    /// `LOGIN` events.
    pub connections: i64,
    /// Distinct visitors, by profile name (and `All`).
    pub visitors: BTreeMap<String, i64>,
    /// Visits starting in the month (0 when visits were not computed).
    pub visits: i64,
    /// Accounts of the directory loaded and activated by the month's end,
    /// by profile name (and `All`); empty without `users.csv`.
    pub accounts: BTreeMap<String, [i64; 2]>,
    /// The data cover only part of the month: they start after its first
    /// day or end before its last (a dump cut mid-month, tonight's month
    /// in progress). Growth figures leave such a month out.
    pub partial: bool,
}

impl MonthFigures {
    /// Distinct visitors of `profile` (a profile name or `All`), 0 when
    /// there are none.
    pub fn visitors_of(&self, profile: &str) -> i64 {
        self.visitors.get(profile).copied().unwrap_or(0)
    }

    /// Visits per distinct visitor (`All`), or `None` without visits or
    /// visitors.
    pub fn visits_per_visitor(&self) -> Option<f64> {
        let visitors = self.visitors_of(ALL_PROFILES);
        (self.visits > 0 && visitors > 0).then(|| self.visits as f64 / visitors as f64)
    }

    /// Of the accounts of `profile` (a name or `All`), the share
    /// activated and the share that logged in during the month (distinct
    /// visitors over accounts), in percent; `None` without accounts.
    pub fn account_rates(&self, profile: &str) -> Option<[f64; 2]> {
        let &[loaded, activated] = self.accounts.get(profile)?;
        let visitors = self.visitors_of(profile);
        let pct = |n: i64| 100.0 * n as f64 / loaded as f64;
        (loaded > 0).then(|| [pct(activated), pct(visitors)])
    }
}

/// Monthly figures of one scope: the platform or a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeMonths {
    /// `platform` or the segment's name.
    pub label: String,
    /// Months in order.
    pub months: Vec<MonthFigures>,
}

/// One school in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    /// First day of the month.
    pub month: i32,
    /// Structure id.
    pub id: String,
    /// School code, when known.
    pub uai: Option<String>,
    /// Name, when known.
    pub name: Option<String>,
    /// `LOGIN` events.
    pub connections: i64,
    /// Distinct pupils with a `LOGIN`.
    pub pupils: i64,
    /// Distinct parents with a `LOGIN`.
    pub parents: i64,
}

/// Visits of one month and profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFigures {
    /// First day of the month.
    pub month: i32,
    /// Profile name or `All`.
    pub profile: String,
    /// Visits.
    pub visits: i64,
    /// Duration percentiles 50, 90, 99 and the maximum, seconds.
    pub seconds: [i64; 4],
}

/// Everything a report shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportData {
    /// The platform first, then each segment by name.
    pub scopes: Vec<ScopeMonths>,
    /// Platform connections by local day and profile name.
    pub daily: BTreeMap<i32, BTreeMap<String, i64>>,
    /// Platform connections by (local day, hour), all profiles.
    pub hourly: BTreeMap<(i32, u8), i64>,
    /// Applications by month: (name, access, distinct users).
    pub apps: BTreeMap<i32, Vec<(String, i64, i64)>>,
    /// Visit durations by month and profile.
    pub visits: Vec<VisitFigures>,
    /// Schools by month.
    pub schools: Vec<School>,
    /// Visits and their seconds by device, summed over the schools of the
    /// national datasets, by the month of the week's Monday.
    pub devices: BTreeMap<i32, [(i64, i64); 4]>,
    /// Visits and their seconds by national service, the same way.
    pub services: BTreeMap<i32, [(i64, i64); SERVICES.len()]>,
}

impl ReportData {
    /// Gathers the report of the tables of a run.
    pub fn from_tables(t: &Tables) -> ReportData {
        let mut d = Collector::default();
        for (k, m) in &t.audience {
            let structure = t.structure(k.scope);
            d.audience(audience::Record {
                grain: k.grain.name(),
                period: k.period,
                scope: k.scope.scope().name(),
                segment: t.segment_name(k.scope),
                structure_id: structure.map(|s| s.id.as_str()),
                uai: structure.and_then(|s| s.uai.as_deref()),
                name: structure.and_then(|s| s.name.as_deref()),
                profile: profile_name(k.profile),
                metrics: *m,
                sketch: None,
            });
        }
        for r in t.hourly.iter().filter(|r| r.profile.is_none()) {
            *d.data.hourly.entry((r.day, r.hour)).or_default() += r.connections;
        }
        for (k, m) in &t.apps {
            if k.grain == Grain::Month && k.profile.is_none() {
                let name = t.dims.apps[k.app as usize].name.clone();
                d.data.apps.entry(k.period).or_default().push((name, m.access, m.unique_users));
            }
        }
        for r in &t.national {
            for (g, m) in r.figures.iter().enumerate() {
                d.national(r.week, g, *m);
            }
        }
        for v in &t.visits {
            let h = &v.histogram;
            let q = |x| h.value_at_quantile(x) as i64;
            d.data.visits.push(VisitFigures {
                month: v.month,
                profile: profile_name(v.profile).to_string(),
                visits: h.len() as i64,
                seconds: [q(0.5), q(0.9), q(0.99), h.max() as i64],
            });
        }
        d.finish()
    }

    /// Reads the report of a finished run from the Parquet tables in `dir`.
    pub fn load(dir: &Path) -> Result<ReportData> {
        let mut d = Collector::default();
        audience::read(&dir.join(Audience.name()), |r| {
            d.audience(r);
            Ok(())
        })?;
        hourly::read(&dir.join(Hourly.name()), |day, hour, profile, n| {
            if profile == ALL_PROFILES {
                *d.data.hourly.entry((day, hour)).or_default() += n;
            }
        })?;
        modules::read(&dir.join(Modules.name()), |r| {
            if r.grain == Grain::Month.name() && r.profile == ALL_PROFILES {
                let row = (r.module.to_string(), r.access, r.unique_users);
                d.data.apps.entry(r.period).or_default().push(row);
            }
        })?;
        visits::read(&dir.join(Visits.name()), |month, profile, visits, seconds| {
            let profile = profile.to_string();
            d.data.visits.push(VisitFigures { month, profile, visits, seconds });
        })?;
        for dataset in [&PROFILS_APPAREILS, &SERVICES_TABLE] {
            dataset.read(dir, |week, g, m| d.national(week, g, m))?;
        }
        Ok(d.finish())
    }

    /// The schools of `month`, most connections first (then by id).
    pub fn schools_of(&self, month: i32) -> Vec<&School> {
        let mut rows: Vec<&School> = self.schools.iter().filter(|s| s.month == month).collect();
        rows.sort_by(|a, b| b.connections.cmp(&a.connections).then_with(|| a.id.cmp(&b.id)));
        rows
    }

    /// The months observed, in order.
    pub fn months(&self) -> Vec<i32> {
        self.scopes.first().map(|s| s.months.iter().map(|m| m.month).collect()).unwrap_or_default()
    }
}

#[derive(Default)]
struct Collector {
    data: ReportData,
    scopes: BTreeMap<(bool, String), BTreeMap<i32, MonthFigures>>,
    schools: BTreeMap<(i32, String), School>,
}

impl Collector {
    /// The figures of group `g` of a national row of the week `week`.
    fn national(&mut self, week: i32, g: usize, m: NationalMetrics) {
        let month = month_start(week);
        let add = |cell: &mut (i64, i64)| {
            cell.0 += m.visits;
            cell.1 += m.seconds;
        };
        if let Some(device) = national::device_of(g) {
            add(&mut self.data.devices.entry(month).or_default()[usize::from(device.code())]);
        } else if let Some(s) = national::service_of(g) {
            let row = self.data.services.entry(month).or_insert([(0, 0); SERVICES.len()]);
            add(&mut row[s]);
        }
    }

    fn audience(&mut self, r: audience::Record<'_>) {
        let m = &r.metrics;
        let accounts_only =
            Metrics { accounts: 0, activated_accounts: 0, ..*m } == Metrics::default();
        if r.grain == "day" && r.scope == "platform" && r.profile != ALL_PROFILES && !accounts_only
        {
            *self.data.daily.entry(r.period).or_default().entry(r.profile.into()).or_default() +=
                r.metrics.connections;
        }
        if r.grain != "month" {
            return;
        }
        if r.scope == "structure" {
            let id = r.structure_id.unwrap_or_default().to_string();
            let s = self.schools.entry((r.period, id.clone())).or_insert_with(|| School {
                month: r.period,
                id,
                uai: r.uai.map(str::to_string),
                name: r.name.map(str::to_string),
                connections: 0,
                pupils: 0,
                parents: 0,
            });
            match r.profile {
                ALL_PROFILES => s.connections = r.metrics.connections,
                "Student" => s.pupils = r.metrics.unique_visitors,
                "Relative" => s.parents = r.metrics.unique_visitors,
                _ => {}
            }
            return;
        }
        let label = if r.scope == "platform" { "platform" } else { r.segment.unwrap_or("?") };
        let key = (r.scope != "platform", label.to_string());
        let fig = self.scopes.entry(key).or_default().entry(r.period).or_default();
        fig.month = r.period;
        if r.profile == ALL_PROFILES {
            fig.connections = r.metrics.connections;
            fig.visits = r.metrics.visits;
        }
        fig.visitors.insert(r.profile.to_string(), r.metrics.unique_visitors);
        if m.accounts > 0 {
            fig.accounts.insert(r.profile.to_string(), [m.accounts, m.activated_accounts]);
        }
    }

    fn finish(mut self) -> ReportData {
        // The days the data cover: the platform's first and last days with
        // connections.
        let first = self.data.daily.keys().next().copied().unwrap_or(i32::MIN);
        let last = self.data.daily.keys().next_back().copied().unwrap_or(i32::MAX);
        self.data.scopes = self
            .scopes
            .into_iter()
            .map(|((_, label), months)| ScopeMonths {
                label,
                months: months
                    .into_values()
                    .map(|m| MonthFigures {
                        partial: first > m.month || last < next_month(m.month) - 1,
                        ..m
                    })
                    .collect(),
            })
            .collect();
        self.data.schools = self.schools.into_values().collect();
        for apps in self.data.apps.values_mut() {
            apps.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        self.data.visits.sort_by(|a, b| (a.month, &a.profile).cmp(&(b.month, &b.profile)));
        self.data
    }
}

/// The first day of the month after the one starting on `month`.
pub fn next_month(month: i32) -> i32 {
    // Day 32 of any month is in the next one.
    month_start(month + 31)
}
