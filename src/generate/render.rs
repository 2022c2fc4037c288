//! One day of the event store, rendered as `mongoexport` writes it,
//! quirks included.

use super::agents::agent;
use super::calendar::{self, hour_weights};
use super::population::{Population, User};
use super::rng::Rng;
use crate::hash::FastSet;
use crate::time::{LocalDays, civil_from_days, days_from_civil};
use jiff::civil::date;

/// Applications opened after a login, with their weights.
const APPS: [(&str, f64); 9] = [
    ("Timeline", 0.25),
    ("Conversation", 0.22),
    ("Workspace", 0.15),
    ("Schoolbook", 0.10),
    ("Blog", 0.08),
    ("Homeworks", 0.08),
    ("Actualites", 0.05),
    ("Calendar", 0.04),
    ("Rack", 0.03),
];
const CONNECTORS: [&str; 3] = ["Pronote", "Educ'Horus", "BRNE"];
/// A user agent as it sometimes appears: escaped slashes, quotes, and
/// non-ASCII written as `\u` escapes.
const ESCAPED_UA: &str =
    r#"Mozilla\/5.0 (Linux; Android 10; \"Redmi Note 8\") ENT-Mobile\/2.5.1 (caf\u00e9)"#;
/// An unknown nested field holding braces and brackets inside strings.
const NESTED: &str = r#""meta":{"tags":["}{",{"k":"]["}],"n":null,"ok":true,"x":-1.5e3}"#;
const PROFILES: [&str; 5] = ["Student", "Relative", "Teacher", "Personnel", "Guest"];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Login,
    Access,
    Activation,
    Connector,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Login => "LOGIN",
            Kind::Access => "ACCESS",
            Kind::Activation => "ACTIVATION",
            Kind::Connector => "CONNECTOR",
        }
    }
}

/// One event of the scenario, before it is written in some format.
pub(super) struct Ev {
    pub ms: i64,
    pub kind: Kind,
    pub user: u32,
    pub module: &'static str,
}

/// What a day produced.
pub struct DayOutput {
    /// The lines.
    pub bytes: Vec<u8>,
    /// Valid lines written (events, or requests of an access log).
    pub events: u64,
}

/// Writes one day's events as the event store, one `mongoexport` line
/// each, quirks and bad lines included.
pub fn event_store(pop: &Population, evs: &[Ev], rng: &mut Rng) -> DayOutput {
    let mut out = Vec::with_capacity(evs.len() * 330);
    let mut w = Writer { out: &mut out, rng, pop, fields: Vec::with_capacity(12) };
    for e in evs {
        w.event(e);
    }
    DayOutput { events: evs.len() as u64, bytes: out }
}

/// The events of one day: the logins of `users`, each with the application
/// accesses, connector uses and activations that go with it, in time
/// order; and the day's random stream, for the rendering that follows.
pub(super) fn day_events(
    pop: &Population,
    day: i32,
    users: &[u32],
    first_login: &[i32],
    seed: u64,
    days: &LocalDays,
) -> (Vec<Ev>, Rng) {
    let mut rng = Rng::new(seed, 1_000_000 + day as u64);
    let closure = day >= calendar::closure_day();
    let hours: Vec<Vec<f64>> =
        (0..5).map(|p| calendar::cumulative(&hour_weights(p, closure))).collect();
    let apps = calendar::cumulative(&APPS.map(|(_, w)| w));
    let (y, m, d) = civil_from_days(day);
    let early = day < days_from_civil(2019, 11, 1);
    let next = civil_from_days(day + 1);
    let midnight = date(next.0 as i16, next.1 as i8, next.2 as i8).at(0, 0, 0, 0);
    // Follow-up events stay within the day, so that no month is observed
    // through stray events alone.
    let day_end = days.local_to_ms(midnight).unwrap_or(i64::MAX) - 1;
    let mut activated = FastSet::default();
    let mut evs = Vec::with_capacity(users.len() * 3);
    for &u in users {
        let user = &pop.users[u as usize];
        let hour = rng.weighted(&hours[usize::from(user.profile.min(4))]) as i8;
        let sec = rng.below(3600) as i32;
        let local =
            date(y as i16, m as i8, d as i8).at(hour, (sec / 60) as i8, (sec % 60) as i8, 0);
        let ms = days.local_to_ms(local).unwrap_or(0) + rng.below(1000) as i64;
        let module = if user.mobile && rng.chance(0.8) { "app-e" } else { "Auth" };
        // Accounts are activated at their first login of the school year.
        if early && first_login[u as usize] == day && activated.insert(u) && u % 5 < 2 {
            let at = ms - 1000 - rng.below(60_000) as i64;
            evs.push(Ev { ms: at, kind: Kind::Activation, user: u, module: "Auth" });
        }
        evs.push(Ev { ms, kind: Kind::Login, user: u, module });
        let accesses = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3][rng.below(12) as usize];
        for _ in 0..accesses {
            let mut app = APPS[rng.weighted(&apps)].0;
            // Old mobile builds send this typo.
            if app == "Workspace" && module == "app-e" && rng.chance(0.3) {
                app = "Worksapce";
            }
            let at = (ms + 1000 + rng.below(600_000) as i64).min(day_end);
            evs.push(Ev { ms: at, kind: Kind::Access, user: u, module: app });
        }
        if rng.chance(0.04) {
            let c = CONNECTORS[rng.below(3) as usize];
            let at = (ms + 2000 + rng.below(900_000) as i64).min(day_end);
            evs.push(Ev { ms: at, kind: Kind::Connector, user: u, module: c });
        }
    }
    evs.sort_by_key(|e| e.ms);
    (evs, rng)
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    rng: &'a mut Rng,
    pop: &'a Population,
    /// The fields of the event being written, reused from event to event.
    fields: Vec<Field>,
}

#[derive(Clone, Copy)]
enum Field {
    Id,
    Type,
    Module,
    Date,
    User,
    Profil,
    Structures,
    Classes,
    Ua,
    Ip,
    Device,
    Nested,
}

impl Writer<'_> {
    fn s(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn num(&mut self, n: i64) {
        let mut buf = itoa_buf(n);
        self.out.extend_from_slice(buf.as_mut_slice());
    }

    fn event(&mut self, e: &Ev) {
        let user = &self.pop.users[e.user as usize];
        let r = self.rng.unit();
        // Quirks are rare and independent of the figures.
        let reorder = r < 0.01;
        let nested = (0.01..0.015).contains(&r);
        let mut fields = std::mem::take(&mut self.fields);
        fields.clear();
        fields.extend([Field::Id, Field::Type, Field::Module, Field::Date, Field::User]);
        if user.profile != 4 || self.rng.chance(0.6) {
            fields.push(Field::Profil);
        }
        // Platform admins' events carry no structures, or an empty list.
        if !user.structures.is_empty() || self.rng.chance(0.5) {
            fields.push(Field::Structures);
        }
        if user.profile == 0 {
            fields.push(Field::Classes);
        }
        fields.extend([Field::Ua, Field::Ip]);
        if e.kind == Kind::Login && e.module == "app-e" {
            fields.push(Field::Device);
        }
        if nested {
            fields.insert(3, Field::Nested);
        }
        if reorder {
            fields.reverse();
        }
        let start = self.out.len();
        self.out.push(b'{');
        for (i, &f) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.field(f, e, user);
        }
        self.fields = fields;
        self.out.push(b'}');
        let end = self.rng.unit();
        if end < 0.003 {
            self.out.push(b'\r');
        }
        self.out.push(b'\n');
        if end > 0.9998 {
            self.s("  \n");
        }
        self.bad_lines(start, e.ms);
    }

    /// Now and then, a line the engine must reject (and count).
    fn bad_lines(&mut self, start: usize, ms: i64) {
        let r = self.rng.unit();
        if r < 0.00004 {
            // A line cut short, as when a dump is interrupted.
            let line = self.out[start..].to_vec();
            self.out.extend_from_slice(&line[..line.len() / 2]);
            self.out.push(b'\n');
        } else if r < 0.00006 {
            self.s(r#"{"event-type":"LOGIN","module":"Auth","date":"#);
            self.num(ms);
            self.s("}\n");
        } else if r < 0.00007 {
            self.s(r#"{"event-type":"LOGIN","date":{"$date":"31/03/2020"},"userId":"x"}"#);
            self.out.push(b'\n');
        }
    }

    fn field(&mut self, f: Field, e: &Ev, user: &User) {
        match f {
            Field::Id => {
                self.s(r#""_id":""#);
                let id = self.rng.uuid();
                self.out.extend_from_slice(&id);
                self.out.push(b'"');
            }
            Field::Type => {
                self.s(r#""event-type":""#);
                self.s(e.kind.name());
                self.out.push(b'"');
            }
            Field::Module => {
                self.s(r#""module":""#);
                self.s(e.module);
                self.out.push(b'"');
            }
            Field::Date => self.date(e.ms),
            Field::User => {
                self.s(r#""userId":""#);
                self.out.extend_from_slice(&user.id);
                self.out.push(b'"');
            }
            Field::Profil => {
                self.s(r#""profil":""#);
                self.s(PROFILES[usize::from(user.profile)]);
                self.out.push(b'"');
            }
            Field::Structures => {
                self.s(r#""structures":["#);
                let dup = self.rng.chance(0.005);
                for (i, &s) in user.structures.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.quoted_id(&self.pop.structures[s as usize].id);
                }
                if dup && let Some(&s) = user.structures.first() {
                    self.out.push(b',');
                    self.quoted_id(&self.pop.structures[s as usize].id);
                }
                self.out.push(b']');
            }
            Field::Classes => {
                self.s(r#""classes":["#);
                if let Some(class) = self.pop.class_of(user) {
                    self.quoted_id(class);
                }
                self.out.push(b']');
            }
            Field::Ua => {
                self.s(r#""ua":""#);
                if self.rng.chance(0.01) {
                    self.s(ESCAPED_UA);
                } else {
                    let draw = self.rng.next_u64();
                    self.s(agent(user, e.user, draw));
                }
                self.out.push(b'"');
            }
            Field::Ip => {
                self.s(r#""ip":"203.0.113."#);
                let host = self.rng.below(256) as i64;
                self.num(host);
                if self.rng.chance(0.05) {
                    self.s(", 10.0.0.");
                    let proxy = self.rng.below(256) as i64;
                    self.num(proxy);
                }
                self.out.push(b'"');
            }
            Field::Device => self.s(
                r#""sessionId":"9f86d081884c7d65","deviceType":"Smartphone","deviceName":"Unknown","osName":"Android","osVersion":"10""#,
            ),
            Field::Nested => self.s(NESTED),
        }
    }

    fn quoted_id(&mut self, id: &[u8; 36]) {
        self.out.push(b'"');
        self.out.extend_from_slice(id);
        self.out.push(b'"');
    }

    /// `date` in one of the shapes `mongoexport` versions write.
    fn date(&mut self, ms: i64) {
        self.s(r#""date":"#);
        let r = self.rng.unit();
        if r < 0.97 {
            self.num(ms);
        } else if r < 0.98 {
            self.s(r#"{"$numberLong":""#);
            self.num(ms);
            self.s(r#""}"#);
        } else if r < 0.99 {
            self.s(r#"{"$date":""#);
            self.iso(ms);
            self.s(r#""}"#);
        } else {
            self.s(r#"{"$date":{"$numberLong":""#);
            self.num(ms);
            self.s(r#""}}"#);
        }
    }

    /// RFC 3339 UTC with milliseconds, as `mongoexport --jsonFormat=relaxed`.
    fn iso(&mut self, ms: i64) {
        let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        let (y, m, d) = civil_from_days(days as i32);
        let (h, mi, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
        let text = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z");
        self.s(&text);
    }
}

/// Decimal digits of `n` without allocating.
pub(super) fn itoa_buf(n: i64) -> DigitBuf {
    let mut buf = DigitBuf { bytes: [0; 20], start: 20 };
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        buf.start -= 1;
        buf.bytes[buf.start] = b'-';
    }
    buf
}

pub(super) struct DigitBuf {
    bytes: [u8; 20],
    start: usize,
}

impl DigitBuf {
    pub(super) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..]
    }
}
