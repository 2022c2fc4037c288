//! One day of the scenario as the front's HTTP access log: NCSA combined,
//! or nginx with the client in X-Forwarded-For and request times.
//!
//! Every connection of the event store is one successful `POST
//! /auth/login` by its user, so the access log gives the same connections
//! and visitors as the dump of the same seed. Around it: the login page,
//! failed attempts, applications and their API calls, static assets,
//! activations and connectors, and the odd scanner, TLS probe and broken
//! line.

use super::agents::agent;
use super::population::Population;
use super::population::User;
use super::render::{DayOutput, Ev, Kind, itoa_buf};
use super::rng::Rng;
use crate::time::civil_from_days;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The nginx `log_format` of generated nginx logs.
pub const NGINX_LOG_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_response_time"#;

/// Which access log to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// NCSA combined: the client connects directly.
    Combined,
    /// [`NGINX_LOG_FORMAT`]: behind a load balancer, with request times.
    Nginx,
    /// `entcore-access`: combined, request times, and the user id header
    /// instead of `$remote_user`.
    EntcoreAccess,
}

/// The address of the load balancer in front of nginx.
const BALANCER: &str = "10.0.0.2";

/// One request to write.
struct Request<'a> {
    ms: i64,
    user: Option<&'a [u8; 36]>,
    client: u32,
    method: &'a str,
    path: &'a str,
    status: u16,
    bytes: u64,
    /// Typical time to answer, ms.
    work_ms: f64,
}

/// Writes one day's events as access log lines (`events` counts the valid
/// requests).
pub fn render(
    pop: &Population,
    evs: &[Ev],
    rng: &mut Rng,
    style: Style,
    tz: &TimeZone,
) -> DayOutput {
    let mut w = LineWriter { out: Vec::with_capacity(evs.len() * 600), style, tz, offset: None };
    let mut lines = 0;
    for e in evs {
        let reqs = requests(e, &pop.users[e.user as usize].id, rng);
        for r in &reqs {
            w.line(r, (&pop.users[e.user as usize], e.user), rng);
            lines += 1;
        }
        let odd = rng.unit();
        if odd < 0.0002 {
            // A TLS handshake sent to the plain HTTP port.
            w.raw_line(e.ms, "45.155.205.7", r"\x16\x03\x01\x02\x00\x01\x00\x01", 400);
            lines += 1;
        } else if odd < 0.0003 {
            // A line cut short, as when a log is rotated mid-write.
            let start = w.out.len();
            w.line(&reqs[0], (&pop.users[e.user as usize], e.user), rng);
            let keep = start + (w.out.len() - start) / 2;
            w.out.truncate(keep);
            w.out.push(b'\n');
        }
    }
    DayOutput { bytes: w.out, events: lines }
}

/// The requests a browser makes for event `e` of the user `user_id`.
fn requests<'a>(e: &'a Ev, user_id: &'a [u8; 36], rng: &mut Rng) -> Vec<Request<'a>> {
    // One home address per user, and a second one (school, phone) now
    // and then; some of them IPv6.
    let client = e.user.wrapping_mul(2_654_435_761) ^ u32::from(rng.chance(0.2));
    let id = Some(user_id);
    let mut reqs: Vec<Request<'_>> = Vec::with_capacity(8);
    let at = |d: i64| e.ms + d;
    let req = |ms, user, method, path, status, bytes, work_ms| Request {
        ms,
        user,
        client,
        method,
        path,
        status,
        bytes,
        work_ms,
    };
    match e.kind {
        Kind::Login => {
            reqs.push(req(at(-9000), None, "GET", "/auth/login", 200, 8_912, 15.0));
            reqs.push(req(at(-8500), None, "GET", "/assets/themes/entcore.css", 304, 0, 0.5));
            if rng.chance(0.03) {
                reqs.push(req(at(-4000), None, "POST", "/auth/login", 401, 8_950, 110.0));
            }
            let login = "/auth/login?callback=%2Ftimeline";
            reqs.push(req(at(0), id, "POST", login, 302, 0, 120.0));
            reqs.push(req(at(400), id, "GET", "/timeline/timeline", 200, 24_512, 45.0));
            reqs.push(req(at(700), id, "GET", "/userbook/api/person", 200, 1_204, 20.0));
        }
        Kind::Access => {
            let path = app_path(e.module);
            reqs.push(req(at(0), id, "GET", path, 200, 18_000 + rng.below(20_000), 40.0));
            let (status, work) = if rng.chance(0.002) { (502, 30_000.0) } else { (200, 25.0) };
            reqs.push(req(at(300), id, "GET", "/conversation/count/INBOX", status, 12, work));
        }
        Kind::Activation => reqs.push(req(at(0), id, "POST", "/auth/activation", 302, 0, 180.0)),
        Kind::Connector => reqs.push(req(at(0), id, "GET", "/cas/login?service=x", 302, 0, 60.0)),
    }
    if rng.chance(0.01) {
        reqs.push(req(at(50), None, "GET", "/favicon.ico", 404, 153, 0.3));
    }
    reqs
}

/// The page an application opens on.
fn app_path(app: &str) -> &'static str {
    match app {
        "Timeline" => "/timeline/timeline",
        "Conversation" => "/conversation/conversation",
        "Workspace" | "Worksapce" => "/workspace/workspace",
        "Schoolbook" => "/schoolbook",
        "Blog" => "/blog",
        "Homeworks" => "/homeworks",
        "Actualites" => "/actualites",
        "Calendar" => "/calendar",
        _ => "/rack",
    }
}

struct LineWriter<'a> {
    out: Vec<u8>,
    style: Style,
    tz: &'a TimeZone,
    /// The UTC offset of the last hour written: (hour since epoch, seconds).
    offset: Option<(i64, i32)>,
}

impl LineWriter<'_> {
    fn s(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn num(&mut self, n: i64) {
        self.out.extend_from_slice(itoa_buf(n).as_mut_slice());
    }

    /// Writes request `r` of `browser` (a user and their index: the
    /// device sending every request of theirs, logged in or not).
    fn line(&mut self, r: &Request<'_>, browser: (&User, u32), rng: &mut Rng) {
        self.prefix(r.client, r.user, r.ms);
        self.s("\"");
        self.s(r.method);
        self.s(" ");
        self.s(r.path);
        self.s(" HTTP/1.1\" ");
        self.num(i64::from(r.status));
        self.s(" ");
        self.num(r.bytes as i64);
        self.s(" \"https://ent.somme.example/\" \"");
        self.s(agent(browser.0, browser.1, rng.next_u64()));
        self.s("\"");
        self.suffix(r.client, r.user, r.work_ms, rng);
    }

    /// A request line that is not HTTP (logged as nginx does, escaped).
    fn raw_line(&mut self, ms: i64, addr: &str, request: &str, status: u16) {
        match self.style {
            Style::Combined | Style::EntcoreAccess => self.s(addr),
            Style::Nginx => self.s(BALANCER),
        }
        self.s(" - - ");
        self.time(ms);
        self.s(" \"");
        self.s(request);
        self.s("\" ");
        self.num(i64::from(status));
        self.s(" 157 \"-\" \"-\"");
        match self.style {
            Style::Combined => self.s("\n"),
            Style::Nginx => {
                self.s(" \"");
                self.s(addr);
                self.s("\" 0.001 -\n");
            }
            Style::EntcoreAccess => self.s(" 0.001 - -\n"),
        }
    }

    fn prefix(&mut self, client: u32, user: Option<&[u8; 36]>, ms: i64) {
        match self.style {
            Style::Combined | Style::EntcoreAccess => self.address(client),
            Style::Nginx => self.s(BALANCER),
        }
        self.s(" - ");
        match user {
            Some(id) if self.style != Style::EntcoreAccess => self.out.extend_from_slice(id),
            _ => self.s("-"),
        }
        self.s(" ");
        self.time(ms);
        self.s(" ");
    }

    fn suffix(&mut self, client: u32, user: Option<&[u8; 36]>, work_ms: f64, rng: &mut Rng) {
        match self.style {
            Style::Combined => {}
            Style::Nginx => {
                self.s(" \"");
                self.address(client);
                self.s(", ");
                self.s(BALANCER);
                self.s("\" ");
                self.times(work_ms, rng);
            }
            Style::EntcoreAccess => {
                self.s(" ");
                self.times(work_ms, rng);
                self.s(" ");
                match user {
                    Some(id) => self.out.extend_from_slice(id),
                    None => self.s("-"),
                }
            }
        }
        self.s("\n");
    }

    /// `$request_time $upstream_response_time`.
    fn times(&mut self, work_ms: f64, rng: &mut Rng) {
        // A heavy tail: most requests near their typical time, a few far
        // slower.
        let u = rng.unit().max(1e-9);
        let ms = work_ms * (0.3 + 0.7 / u.sqrt());
        let request_ms = (ms.min(120_000.0)).round() as i64;
        self.seconds(request_ms);
        if work_ms < 1.0 {
            // Static files are served by nginx itself.
            self.s(" -");
        } else {
            self.s(" ");
            self.seconds((request_ms - 1).max(0));
        }
    }

    /// Milliseconds as nginx writes seconds: `0.123`.
    fn seconds(&mut self, ms: i64) {
        self.num(ms / 1000);
        self.s(".");
        let frac = ms % 1000;
        for d in [frac / 100, frac / 10 % 10, frac % 10] {
            self.out.push(b'0' + d as u8);
        }
    }

    /// A client address: IPv4 mostly, IPv6 for one in eight.
    fn address(&mut self, client: u32) {
        if client.is_multiple_of(8) {
            let text = format!("2001:db8:{:x}:{:x}::1", client >> 16, client & 0xFFFF);
            self.s(&text);
        } else {
            let [a, b, c, _] = client.to_be_bytes();
            for (i, octet) in
                [u32::from(a % 200) + 20, u32::from(b), u32::from(c), 1 + client % 250]
                    .into_iter()
                    .enumerate()
            {
                if i > 0 {
                    self.out.push(b'.');
                }
                self.num(i64::from(octet));
            }
        }
    }

    /// `[16/Mar/2020:08:12:33 +0100]` in the scenario's time zone.
    fn time(&mut self, ms: i64) {
        let hour = ms.div_euclid(3_600_000);
        let offset = match self.offset {
            Some((h, o)) if h == hour => o,
            _ => {
                let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
                let o = self.tz.to_offset(ts).seconds();
                self.offset = Some((hour, o));
                o
            }
        };
        let local = ms.div_euclid(1000) + i64::from(offset);
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days as i32);
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let sign = if offset < 0 { '-' } else { '+' };
        let (oh, om) = (offset.abs() / 3600, offset.abs() / 60 % 60);
        let text = format!(
            "[{d:02}/{}/{y:04}:{:02}:{:02}:{:02} {sign}{oh:02}{om:02}]",
            MONTHS[m as usize - 1],
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        self.s(&text);
    }
}
