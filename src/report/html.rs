//! The HTML report: one self-contained file (inline CSS, SVG charts drawn
//! here from the data, a few lines of script to sort the school table), so
//! it opens offline in any browser and can be mailed to members. The markup
//! is also well-formed XML.

use super::data::{MonthFigures, ReportData};
use super::lang::Lang;
use super::summary::{duration, growth, month_label, peak_hours, sentence_in};
use crate::aggregate::key::ALL_PROFILES;
use crate::service::SERVICES;
use crate::time::{format_day, month_start, week_start};
use std::fmt::Write;

/// Profiles drawn, in stacking order (as the tables name them, and as
/// [`super::lang::HtmlWords::profiles`] lists them), with their colours.
const PROFILES: [(&str, &str); 6] = [
    ("Student", "#4e79a7"),
    ("Relative", "#f28e2b"),
    ("Teacher", "#59a14f"),
    ("Personnel", "#b07aa1"),
    ("Guest", "#9c755f"),
    ("Unknown", "#bab0ac"),
];

/// Escapes text for HTML and XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Renders the report in `lang`; `month` (first day) is the month the
/// details are about (default: the latest).
pub fn render(d: &ReportData, tz: &str, month: Option<i32>, lang: Lang) -> String {
    let chosen = month.or_else(|| d.months().last().copied()).unwrap_or(0);
    let t = lang.html();
    let title = format!("{}, {}", t.title, lang.month_name(chosen));
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"/>\
         <title>entlog: {}</title><style>{STYLE}</style></head><body>\n",
        lang.code(),
        esc(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(h, "<p class=\"note\">{} {}.</p><ul>", t.cut, esc(tz));
    for s in &d.scopes {
        if let Some(i) = s.months.iter().position(|m| m.month == chosen) {
            let _ = writeln!(h, "<li>{}</li>", esc(&sentence_in(lang, s, i)));
        }
    }
    h.push_str("</ul>\n");
    monthly(&mut h, d, lang);
    daily(&mut h, d, lang);
    heatmap(&mut h, d, chosen, lang);
    apps(&mut h, d, chosen, lang);
    visits(&mut h, d, chosen, lang);
    devices_and_services(&mut h, d, chosen, lang);
    schools(&mut h, d, chosen, lang);
    let _ = write!(h, "<script>//<![CDATA[\n{SCRIPT}\n//]]></script>\n</body></html>\n");
    h
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}\
h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse}\
td,th{padding:2px 8px;text-align:right}th{background:#eee;cursor:pointer}\
td.t,th.t{text-align:left}.note{color:#666}svg text{font-size:11px}\
.legend span{display:inline-block;margin-right:1em}\
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}";

/// Sorts the school table by the clicked column (numbers as numbers), and
/// marks the page ready (the headless browser test looks for it).
const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var down = th.getAttribute('data-down') !== '1';
      th.setAttribute('data-down', down ? '1' : '0');
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = Number(x), ny = Number(y);
        var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return down ? -c : c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.setAttribute('data-ready', '1');";

fn legend(h: &mut String, lang: Lang) {
    h.push_str("<p class=\"legend\">");
    for ((_, c), p) in PROFILES.iter().zip(lang.html().profiles) {
        let _ = write!(h, "<span><i style=\"background:{c}\"></i>{p}</span>");
    }
    h.push_str("</p>\n");
}

/// Monthly connections (bars) and distinct users (line), with growth.
fn monthly(h: &mut String, d: &ReportData, lang: Lang) {
    let (t, words) = (lang.html(), lang.words());
    let Some(platform) = d.scopes.first() else { return };
    let months = &platform.months;
    let (w, ht, pad) = (900.0, 260.0, 40.0);
    let max_c = months.iter().map(|m| m.connections).max().unwrap_or(1).max(1) as f64;
    let users = |m: &MonthFigures| m.visitors_of(ALL_PROFILES);
    let max_u = months.iter().map(users).max().unwrap_or(1).max(1) as f64;
    let step = (w - 2.0 * pad) / months.len().max(1) as f64;
    let _ = writeln!(h, "<h2>{}</h2>", t.monthly[0]);
    let _ = write!(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\">");
    let mut line = String::new();
    for (i, m) in months.iter().enumerate() {
        let x = pad + step * i as f64;
        let bh = (ht - 2.0 * pad) * m.connections as f64 / max_c;
        let (_, others) = growth(months, i);
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4e79a7\">\
             <title>{}: {} {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x + step * 0.1,
            ht - pad - bh,
            step * 0.8,
            esc(&lang.month_name(m.month)),
            lang.thousands(m.connections),
            words.columns[1],
            x + step / 2.0,
            ht - pad + 14.0,
            month_label(m.month),
            x + step / 2.0,
            ht - pad - bh - 4.0,
            esc(&lang.percent(others)),
        );
        let uy = ht - pad - (ht - 2.0 * pad) * users(m) as f64 / max_u;
        let _ = write!(line, "{:.1},{uy:.1} ", x + step / 2.0);
    }
    let _ = write!(
        h,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"2\"/></svg>\n\
         <p class=\"note\">{}</p>\n",
        line.trim_end(),
        t.monthly[1]
    );
    monthly_table(h, months, lang);
}

/// The monthly table under the chart: connections, growth, visitors,
/// visits per visitor, and the shares of accounts activated and connected
/// when the directory gives accounts.
fn monthly_table(h: &mut String, months: &[MonthFigures], lang: Lang) {
    let words = lang.words();
    let c = &words.columns;
    let _ = write!(
        h,
        "<table><tr><th class=\"t\">{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th>",
        c[0], c[1], c[2], c[3], c[4], words.per_visitor
    );
    // Shares of the directory's accounts, when there is one.
    let accounts = months.iter().any(|m| !m.accounts.is_empty());
    let [label, _, activated, connected] = words.accounts;
    if accounts {
        let _ = write!(h, "<th>{label} {activated}</th><th>{label} {connected}</th>");
    }
    h.push_str("</tr>");
    for (i, m) in months.iter().enumerate() {
        let (prev, others) = growth(months, i);
        let _ = write!(
            h,
            "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td>",
            month_label(m.month) + if m.partial { "*" } else { "" },
            lang.thousands(m.connections),
            esc(&lang.percent(prev)),
            esc(&lang.percent(others)),
            lang.thousands(m.visitors_of(ALL_PROFILES)),
            lang.decimal(m.visits_per_visitor()),
        );
        if accounts {
            let rates = m.account_rates(ALL_PROFILES);
            let share = |i: usize| esc(&lang.share(rates.map(|r| r[i])));
            let _ = write!(h, "<td>{}</td><td>{}</td>", share(0), share(1));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n");
    if months.iter().any(|m| m.partial) {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(words.partial));
    }
}

/// Daily connections, stacked by profile.
fn daily(h: &mut String, d: &ReportData, lang: Lang) {
    if d.daily.is_empty() {
        return;
    }
    let (w, ht, pad) = (1100.0, 280.0, 30.0);
    let first = *d.daily.keys().next().unwrap_or(&0);
    let last = *d.daily.keys().last().unwrap_or(&0);
    let n = (last - first + 1) as f64;
    let max = d.daily.values().map(|p| p.values().sum::<i64>()).max().unwrap_or(1).max(1) as f64;
    let bw = (w - 2.0 * pad) / n;
    let _ = writeln!(h, "<h2>{}</h2>", lang.html().daily);
    legend(h, lang);
    let _ = write!(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\">");
    for (&day, by_profile) in &d.daily {
        let x = pad + bw * (day - first) as f64;
        let mut y = ht - pad;
        for (p, c) in PROFILES {
            let v = by_profile.get(p).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let bh = (ht - 2.0 * pad) * v as f64 / max;
            y -= bh;
            let _ = write!(
                h,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{bh:.2}\" fill=\"{c}\"><title>{} {p}: {}</title></rect>",
                bw.max(0.5),
                format_day(day),
                lang.thousands(v)
            );
        }
        if day == month_start(day) {
            let _ = write!(
                h,
                "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
                ht - pad + 14.0,
                month_label(day)
            );
        }
    }
    h.push_str("</svg>\n");
}

/// Connections by hour of day and weekday, in the chosen month.
fn heatmap(h: &mut String, d: &ReportData, month: i32, lang: Lang) {
    let t = lang.html();
    let mut cells = [[0i64; 24]; 7];
    for (&(day, hour), &n) in d.hourly.range((month, 0)..) {
        if month_start(day) != month {
            break;
        }
        cells[(day - week_start(day)) as usize][usize::from(hour % 24)] += n;
    }
    let max = cells.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let peak = peak_hours(d).get(&month).copied();
    let _ = writeln!(h, "<h2>{}, {}</h2>", t.heatmap[0], esc(&lang.month_name(month)));
    if let Some(p) = peak {
        let _ = writeln!(h, "<p>{}: {p:02}h</p>", t.heatmap[1]);
    }
    let (cw, ch) = (36.0, 22.0);
    let _ = write!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\">",
        40.0 + 24.0 * cw,
        20.0 + 7.0 * ch
    );
    for (wd, row) in cells.iter().enumerate() {
        let y = 20.0 + wd as f64 * ch;
        let _ = write!(h, "<text x=\"0\" y=\"{:.1}\">{}</text>", y + 15.0, t.weekdays[wd]);
        for (hour, &n) in row.iter().enumerate() {
            let a = n as f64 / max;
            let _ = write!(
                h,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e15759\" fill-opacity=\"{a:.3}\"><title>{} {hour:02}h: {}</title></rect>",
                40.0 + hour as f64 * cw,
                cw - 2.0,
                ch - 2.0,
                t.weekdays[wd],
                lang.thousands(n)
            );
        }
    }
    for hour in (0..24).step_by(3) {
        let _ = write!(h, "<text x=\"{:.1}\" y=\"12\">{hour:02}h</text>", 40.0 + hour as f64 * cw);
    }
    h.push_str("</svg>\n");
}

/// Top applications of the month.
fn apps(h: &mut String, d: &ReportData, month: i32, lang: Lang) {
    let t = lang.html();
    let Some(apps) = d.apps.get(&month) else { return };
    let top = &apps[..apps.len().min(10)];
    let max = top.first().map_or(1, |a| a.1).max(1) as f64;
    let _ = writeln!(h, "<h2>{}, {}</h2>", t.apps[0], esc(&lang.month_name(month)));
    let _ = write!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"{}\">",
        24 * top.len() + 4
    );
    for (i, (name, access, users)) in top.iter().enumerate() {
        let y = 4 + 24 * i;
        let bw = 500.0 * *access as f64 / max;
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"130\" y=\"{y}\" width=\"{bw:.1}\" height=\"18\" fill=\"#59a14f\"/>\
             <text x=\"{:.1}\" y=\"{}\">{} ({} {})</text>",
            y + 14,
            esc(name),
            136.0 + bw,
            y + 14,
            lang.thousands(*access),
            lang.thousands(*users),
            t.apps[1]
        );
    }
    h.push_str("</svg>\n");
}

/// Visit duration percentiles of the month.
fn visits(h: &mut String, d: &ReportData, month: i32, lang: Lang) {
    let t = lang.html();
    let rows: Vec<_> = d.visits.iter().filter(|v| v.month == month).collect();
    if rows.is_empty() {
        return;
    }
    let v = &t.visits;
    let _ = writeln!(h, "<h2>{}, {} ({})</h2>", v[0], esc(&lang.month_name(month)), v[1]);
    let _ = write!(
        h,
        "<table><tr><th class=\"t\">{}</th><th>{}</th><th>{}</th><th>p90</th><th>p99</th><th>max</th></tr>",
        v[2], v[3], v[4]
    );
    for v in rows {
        let _ = write!(
            h,
            "<tr><td class=\"t\">{}</td><td>{}</td>",
            esc(&profile_label(&v.profile, &t)),
            lang.thousands(v.visits)
        );
        for s in v.seconds {
            let _ = write!(h, "<td>{}</td>", lang.thousands(s));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n");
}

/// Visits by device and by service of the weeks starting in the month.
fn devices_and_services(h: &mut String, d: &ReportData, month: i32, lang: Lang) {
    let t = lang.html();
    let n = &t.national;
    let Some(devices) = d.devices.get(&month) else { return };
    let total: i64 = devices.iter().map(|c| c.0).sum();
    if total == 0 {
        return;
    }
    let _ = writeln!(h, "<h2>{}, {}</h2>", n[0], esc(&lang.month_name(month)));
    let _ = writeln!(h, "<p class=\"note\">{}.</p>", n[1]);
    let rows = t.devices.iter().zip(devices).map(|(name, c)| (name.to_string(), *c));
    table_of_visits(h, n[2], rows, total, lang);
    let services = d.services.get(&month).copied().unwrap_or([(0, 0); SERVICES.len()]);
    let mut used: Vec<(String, (i64, i64))> = SERVICES
        .iter()
        .zip(services)
        .filter(|(_, c)| c.0 > 0)
        .map(|(name, c)| (name.replace('_', " "), c))
        .collect();
    used.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    table_of_visits(h, n[3], used.into_iter(), total, lang);
}

/// A table of (name, (visits, seconds)) rows, with each row's share of
/// `total` visits.
fn table_of_visits(
    h: &mut String,
    first: &str,
    rows: impl Iterator<Item = (String, (i64, i64))>,
    total: i64,
    lang: Lang,
) {
    let n = &lang.html().national;
    let _ = write!(
        h,
        "<table><tr><th class=\"t\">{first}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        n[4], n[5], n[6]
    );
    for (name, (visits, seconds)) in rows {
        let share = 100.0 * visits as f64 / total as f64;
        let _ = write!(
            h,
            "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&name),
            lang.thousands(visits),
            lang.share(Some(share)),
            duration(seconds)
        );
    }
    h.push_str("</table>\n");
}

/// Schools of the month, most connections first, sortable.
fn schools(h: &mut String, d: &ReportData, month: i32, lang: Lang) {
    let (t, c) = (lang.html(), lang.words().schools);
    let rows = d.schools_of(month);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<h2>{}, {} ({} {})</h2>",
        t.schools[0],
        esc(&lang.month_name(month)),
        rows.len(),
        t.schools[1]
    );
    let _ = write!(
        h,
        "<table class=\"sortable\"><thead><tr><th class=\"t\">{}</th><th class=\"t\">{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        c[1], c[2], c[3], c[4], c[5]
    );
    for s in rows {
        let uai = s.uai.as_deref().unwrap_or("");
        let name = s.name.as_deref().unwrap_or(&s.id);
        let _ = write!(
            h,
            "<tr><td class=\"t\" data-v=\"{0}\">{0}</td><td class=\"t\" data-v=\"{1}\">{1}</td>\
             <td data-v=\"{2}\">{3}</td><td data-v=\"{4}\">{5}</td><td data-v=\"{6}\">{7}</td></tr>",
            esc(uai),
            esc(name),
            s.connections,
            lang.thousands(s.connections),
            s.pupils,
            lang.thousands(s.pupils),
            s.parents,
            lang.thousands(s.parents)
        );
    }
    h.push_str("</tbody></table>\n");
}

/// A profile's name in the report's language (`All` and names of no
/// known profile as they are).
fn profile_label(profile: &str, t: &super::lang::HtmlWords) -> String {
    match PROFILES.iter().position(|(p, _)| *p == profile) {
        Some(i) => t.profiles[i].to_string(),
        None => profile.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("École \"A\" & <B>'s"), "École &quot;A&quot; &amp; &lt;B&gt;&#39;s");
    }
}
