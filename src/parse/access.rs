//! HTTP access logs of the front: NCSA `common` and `combined`, and any
//! nginx `log_format` the user pastes.
//!
//! A format is a [`Layout`]: literal text and fields in order. A line is
//! read left to right: a literal must be there as written; a field runs up
//! to the first byte of the literal that follows it, or, inside quotes, up
//! to the first quote that is not escaped (`\"`, as Apache writes it;
//! nginx writes `\x22` and needs nothing special). Nothing is allocated:
//! the fields are slices of the line.

use super::event::{Event, EventKind, Http, ParseError};
use crate::time::{days_from_civil, parse_iso_ms};

/// A field of an access log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `$remote_addr` / `%h`: the client address.
    RemoteAddr,
    /// `$remote_user` / `%u`: the logged user, `-` when none.
    RemoteUser,
    /// A header carrying the logged user's id (any variable whose name
    /// ends in `user_id`, such as `$upstream_http_x_user_id`); when set,
    /// it is the user rather than `$remote_user`.
    UserId,
    /// `$time_local` / `%t`: `16/Mar/2020:08:12:33 +0100`.
    TimeLocal,
    /// `$time_iso8601`: `2020-03-16T08:12:33+01:00`.
    TimeIso,
    /// `$msec`: epoch seconds with milliseconds, `1584343953.123`.
    Msec,
    /// `$request`: `POST /auth/login HTTP/1.1`.
    Request,
    /// `$status`.
    Status,
    /// `$body_bytes_sent` (`-` is 0).
    BodyBytes,
    /// `$http_x_forwarded_for`: the client is its first address.
    ForwardedFor,
    /// `$request_time`: seconds with milliseconds.
    RequestTime,
    /// `$upstream_response_time`: seconds, a list when several upstreams
    /// answered (their times are added).
    UpstreamTime,
    /// `$http_user_agent`.
    UserAgent,
    /// Anything else (`$http_referer`, ident, ...).
    Skip,
}

impl Field {
    /// The field of an nginx variable name (without `$`).
    fn of_nginx(name: &str) -> Field {
        match name {
            "remote_addr" => Field::RemoteAddr,
            "remote_user" => Field::RemoteUser,
            "time_local" => Field::TimeLocal,
            "time_iso8601" => Field::TimeIso,
            "msec" => Field::Msec,
            "request" => Field::Request,
            "status" => Field::Status,
            "body_bytes_sent" => Field::BodyBytes,
            "http_x_forwarded_for" => Field::ForwardedFor,
            "request_time" => Field::RequestTime,
            "upstream_response_time" => Field::UpstreamTime,
            "http_user_agent" => Field::UserAgent,
            n if n.to_ascii_lowercase().ends_with("user_id") => Field::UserId,
            _ => Field::Skip,
        }
    }

    fn is_time(self) -> bool {
        matches!(self, Field::TimeLocal | Field::TimeIso | Field::Msec)
    }
}

/// One element of a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Literal(Vec<u8>),
    Field(Field, End),
}

/// Where a field's value ends, known once the layout is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// At the first unescaped `"` (a field between quotes).
    Quote,
    /// At the first occurrence of this byte, the start of the literal
    /// that follows.
    Byte(u8),
    /// At the next space or the end of the line (the last field of a
    /// layout that accepts trailing text).
    Space,
    /// At the end of the line.
    Eol,
}

/// The shape of an access log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    name: &'static str,
    items: Vec<Item>,
    /// Whether text after the last item is accepted (and ignored): the
    /// NCSA presets allow the fields servers commonly append.
    trailing: bool,
    /// Which NCSA preset this is, if one: read by [`parse_ncsa`].
    ncsa: Option<Ncsa>,
}

/// The NCSA presets, which have a reader of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ncsa {
    Common,
    Combined,
}

/// Which requests are logins: a method and a path (the query string is
/// not compared), answered 2xx or 3xx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRule {
    method: Vec<u8>,
    path: Vec<u8>,
}

impl Default for LoginRule {
    fn default() -> Self {
        LoginRule { method: b"POST".to_vec(), path: b"/auth/login".to_vec() }
    }
}

impl LoginRule {
    /// Reads `METHOD /path`, as `--login-request` takes it.
    pub fn parse(text: &str) -> Result<LoginRule, String> {
        match text.split_whitespace().collect::<Vec<_>>()[..] {
            [m, p] if p.starts_with('/') && m.bytes().all(|b| b.is_ascii_uppercase()) => {
                Ok(LoginRule { method: m.as_bytes().to_vec(), path: p.as_bytes().to_vec() })
            }
            _ => Err(format!("{text:?}: expected a method and a path, as in \"POST /auth/login\"")),
        }
    }

    /// Whether the request is a successful login.
    #[inline]
    pub fn matches(&self, h: &Http<'_>) -> bool {
        // The query string is cut only for the few requests that could be
        // logins.
        (200..400).contains(&h.status)
            && h.method == self.method
            && h.path.split(|&b| b == b'?').next() == Some(&self.path[..])
    }
}

/// Why a `log_format` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError(pub String);

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// nginx's predefined `combined` format, which is Apache's too.
const COMBINED: &str = r#"$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
/// Entcore's front: combined, then the request times and the id of the
/// logged user that the platform returns in a response header.
const ENTCORE_ACCESS: &str = r#"$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_http_x_user_id"#;
/// NCSA common: combined without referer and user agent.
const COMMON: &str =
    r#"$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#;

impl Layout {
    /// NCSA combined (Apache `%h %l %u %t "%r" %>s %b "%{Referer}i"
    /// "%{User-agent}i"`); fields appended after it are ignored.
    pub fn combined() -> Layout {
        Layout { ncsa: Some(Ncsa::Combined), ..Layout::preset("combined", COMBINED, true) }
    }

    /// NCSA common (`%h %l %u %t "%r" %>s %b`); fields appended after it
    /// are ignored.
    pub fn common() -> Layout {
        Layout { ncsa: Some(Ncsa::Common), ..Layout::preset("common", COMMON, true) }
    }

    /// The access log of Entcore's front ([`ENTCORE_ACCESS`]): combined,
    /// `$request_time`, `$upstream_response_time` and the user id header.
    pub fn entcore_access() -> Layout {
        Layout::preset("entcore-access", ENTCORE_ACCESS, false)
    }

    /// A preset; `$ident` (Apache's `%l`, `-` in practice but free text)
    /// is not an nginx variable and is skipped like any unknown one.
    fn preset(name: &'static str, format: &str, trailing: bool) -> Layout {
        Layout::read(name, format, trailing)
            .unwrap_or_else(|e| unreachable!("preset does not parse: {e}"))
    }

    /// Reads an nginx `log_format`: either the whole directive as it
    /// stands in nginx.conf (`log_format main '...' '...';`) or just its
    /// format string. Variables the engine does not use are skipped.
    pub fn nginx(text: &str) -> Result<Layout, LayoutError> {
        Layout::read("nginx", &format_string(text), false)
    }

    /// Reads a format string into literals and fields, and works out where
    /// each field ends.
    fn read(name: &'static str, format: &str, trailing: bool) -> Result<Layout, LayoutError> {
        let mut items = Vec::new();
        let mut literal = Vec::new();
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'$' {
                literal.push(b[i]);
                i += 1;
                continue;
            }
            let (name, next) = if b.get(i + 1) == Some(&b'{') {
                let end = format[i..].find('}').map(|e| i + e).ok_or_else(|| {
                    LayoutError(format!("unclosed ${{ in log_format at byte {i}"))
                })?;
                (&format[i + 2..end], end + 1)
            } else {
                let len = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                (&format[i + 1..i + 1 + len], i + 1 + len)
            };
            if name.is_empty() {
                return Err(LayoutError(format!("a `$` without a variable name at byte {i}")));
            }
            if !literal.is_empty() {
                items.push(Item::Literal(std::mem::take(&mut literal)));
            }
            if matches!(items.last(), Some(Item::Field(..))) {
                return Err(LayoutError(format!(
                    "${name} follows another variable with nothing between them"
                )));
            }
            // The end is set below, once the next literal is known.
            items.push(Item::Field(Field::of_nginx(name), End::Eol));
            i = next;
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        let has = |f: Field| items.iter().any(|it| matches!(it, Item::Field(g, _) if *g == f));
        if !items.iter().any(|it| matches!(it, Item::Field(f, _) if f.is_time())) {
            return Err(LayoutError(
                "log_format has no time ($time_local, $time_iso8601 or $msec)".into(),
            ));
        }
        if !has(Field::Status) || !has(Field::Request) {
            return Err(LayoutError("log_format needs $request and $status".into()));
        }
        for k in 0..items.len() {
            let quoted = k > 0 && matches!(&items[k - 1], Item::Literal(l) if l.ends_with(b"\""));
            let end = match items.get(k + 1) {
                Some(Item::Literal(next)) if quoted && next[0] == b'"' => End::Quote,
                Some(Item::Literal(next)) => End::Byte(next[0]),
                _ if trailing => End::Space,
                _ => End::Eol,
            };
            if let Item::Field(_, e) = &mut items[k] {
                *e = end;
            }
        }
        Ok(Layout { name, items, trailing, ncsa: None })
    }

    /// The access log preset that reads `sample` (whole lines of an
    /// input's head), chosen only on unambiguous evidence: it reads every
    /// line (all but one of five or more) exactly, with no text after its
    /// last field, and every field as its type (a time field that is not
    /// a time is a mismatch; a user id that reads as a duration is no user
    /// id). Presets read exactly are exclusive: `combined` leaves text
    /// after `common`'s fields, `entcore-access` after `combined`'s. When
    /// none qualifies, the error says how far each went and what to pass.
    pub fn detect(sample: &[&[u8]]) -> Result<Layout, String> {
        let n = sample.len();
        let need = if n >= 5 { n - 1 } else { n };
        let reads = |layout: &Layout, typed: bool| {
            let mut ev = Event::default();
            let mut count = 0;
            for line in sample {
                if layout.parse(line, &mut ev).is_ok() && (!typed || plausible(&ev)) {
                    count += 1;
                }
            }
            count
        };
        let mut seen = Vec::new();
        for (preset, format) in [
            (Layout::entcore_access(), ENTCORE_ACCESS),
            (Layout::combined(), COMBINED),
            (Layout::common(), COMMON),
        ] {
            let exact = Layout::read(preset.name, format, false)
                .unwrap_or_else(|e| unreachable!("preset does not parse: {e}"));
            let (exactly, loosely) = (reads(&exact, true), reads(&preset, false));
            if exactly >= need {
                return Ok(preset);
            }
            let mut fit = format!("{}: {exactly}/{n} exactly", preset.name);
            if loosely > exactly {
                fit.push_str(&format!(", {loosely}/{n} with text after it"));
            }
            seen.push(fit);
        }
        Err(format!(
            "no known layout reads its first lines exactly ({}); pass --format with the log's \
             layout, such as --format nginx:'<log_format of nginx.conf>', or --format combined \
             to ignore fields after combined's",
            seen.join("; ")
        ))
    }

    /// The format's name in `run.json` (`common`, `combined`, `nginx`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether lines carry a request time (latency figures).
    pub fn has_latency(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i, Item::Field(Field::RequestTime | Field::UpstreamTime, _)))
    }

    /// Parses one line into `ev`.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
        match self.ncsa {
            Some(ncsa) => parse_ncsa(line, ev, ncsa),
            None => self.walk(line, ev),
        }
    }

    /// Parses one line into `ev` by walking the layout's items, whatever
    /// the layout: the reference [`Layout::parse`] must agree with (the
    /// NCSA presets have a faster reader of their own; a unit test and a
    /// fuzz target hold the two to the same result).
    pub fn walk<'a>(&self, line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
        ev.clear();
        let mut http = Http::default();
        let (mut addr, mut forwarded): (&[u8], &[u8]) = (b"", b"");
        let (mut request_time, mut upstream_time) = (None, None);
        let mut time = None;
        let mut p = 0;
        for item in &self.items {
            let (field, end) = match *item {
                Item::Literal(ref lit) => {
                    // Literals are a few bytes: compared in place rather
                    // than through a memcmp call.
                    let here = line.get(p..p + lit.len()).ok_or(ParseError::Mismatch)?;
                    if here.iter().zip(lit).any(|(a, b)| a != b) {
                        return Err(ParseError::Mismatch);
                    }
                    p += lit.len();
                    continue;
                }
                Item::Field(f, end) => (f, end),
            };
            let end = field_end(line, p, field, end)?;
            let value = &line[p..end];
            p = end;
            match field {
                Field::RemoteAddr => addr = value,
                Field::RemoteUser => {
                    if value != b"-" && ev.user.is_empty() {
                        ev.user = value.into();
                    }
                }
                Field::UserId => {
                    if value != b"-" && !value.is_empty() {
                        ev.user = value.into();
                    }
                }
                Field::TimeLocal => {
                    time = Some(time_local_ms(value).ok_or(ParseError::InvalidDate)?)
                }
                Field::TimeIso => time = Some(parse_iso_ms(value).ok_or(ParseError::InvalidDate)?),
                Field::Msec => {
                    let us = seconds_to_us(value).ok_or(ParseError::InvalidDate)?;
                    time = Some(i64::try_from(us / 1000).map_err(|_| ParseError::InvalidDate)?);
                }
                Field::Request => (http.method, http.path) = request_target(value),
                Field::Status => http.status = status(value).ok_or(ParseError::InvalidStatus)?,
                Field::BodyBytes => {
                    http.bytes =
                        if value == b"-" { 0 } else { digits(value).ok_or(ParseError::Mismatch)? }
                }
                Field::ForwardedFor => forwarded = value,
                Field::RequestTime => {
                    request_time = match value {
                        b"-" => None,
                        v => Some(seconds_to_us(v).ok_or(ParseError::Mismatch)?),
                    }
                }
                Field::UpstreamTime => upstream_time = upstream_us(value)?,
                Field::UserAgent => ev.ua = value.into(),
                Field::Skip => {}
            }
        }
        if p != line.len() && !self.trailing {
            return Err(ParseError::Mismatch);
        }
        ev.time_ms = time.ok_or(ParseError::MissingDate)?;
        http.client = client(addr, forwarded);
        http.latency_us = request_time.or(upstream_time);
        ev.kind = EventKind::Other;
        ev.http = Some(http);
        Ok(())
    }
}

/// Where the value of `field`, starting at `p`, ends in `line`.
#[inline]
fn field_end(line: &[u8], p: usize, field: Field, end: End) -> Result<usize, ParseError> {
    Ok(match end {
        End::Quote => closing_quote(line, p)?,
        End::Byte(next) => {
            // `$time_local` has a fixed width; other unquoted fields are
            // short: a word-at-a-time scan beats setting up a vector search.
            let fixed = p + TIME_LOCAL_LEN;
            let mut e = if field == Field::TimeLocal && line.get(fixed) == Some(&next) {
                fixed
            } else {
                find_byte(line, p, next).ok_or(ParseError::Mismatch)?
            };
            // Lists (`a, b`, `a : b`) hold spaces even when the format
            // leaves them unquoted.
            if matches!(field, Field::UpstreamTime | Field::ForwardedFor) {
                while e > p && line[e] == b' ' && continues_list(line, e) {
                    match memchr::memchr(b' ', &line[e + 1..]) {
                        Some(n) => e += 1 + n,
                        None => e = line.len(),
                    }
                    if e == line.len() {
                        return Err(ParseError::Mismatch);
                    }
                }
            }
            e
        }
        End::Space => memchr::memchr(b' ', &line[p..]).map_or(line.len(), |e| p + e),
        End::Eol => line.len(),
    })
}

/// Whether the fields of a parsed line are what their names say: a user
/// id that reads as a duration (`0.012`) is a request time in the wrong
/// column.
fn plausible(ev: &Event<'_>) -> bool {
    !(ev.user.contains(&b'.') && seconds_to_us(&ev.user).is_some())
}

/// Parses an NCSA line into `ev`: the fields, ends and checks of the
/// preset's layout walk ([`Layout::walk`]), in the same order, written out
/// as straight code. The walk matches and dispatches on every item of
/// every line; a combined log is most often all an operator has, and this
/// reads it in about half the time. A unit test holds the two to the same
/// result and event on every prefix and one-byte change of edge-case
/// lines; the integration tests check the figures this gives on the real
/// Apache log and on generated logs against Python.
fn parse_ncsa<'a>(line: &'a [u8], ev: &mut Event<'a>, ncsa: Ncsa) -> Result<(), ParseError> {
    use ParseError::Mismatch;
    ev.clear();
    let addr_end = find_byte(line, 0, b' ').ok_or(Mismatch)?;
    // `%l`, the ident, is skipped.
    let ident_end = find_byte(line, addr_end + 1, b' ').ok_or(Mismatch)?;
    let user_end = find_byte(line, ident_end + 1, b' ').ok_or(Mismatch)?;
    let user = &line[ident_end + 1..user_end];
    if user != b"-" {
        ev.user = user.into();
    }
    expect(line, user_end, b" [")?;
    let t = user_end + 2;
    let time_end = match line.get(t + TIME_LOCAL_LEN) {
        Some(b']') => t + TIME_LOCAL_LEN,
        _ => find_byte(line, t, b']').ok_or(Mismatch)?,
    };
    ev.time_ms = time_local_ms(&line[t..time_end]).ok_or(ParseError::InvalidDate)?;
    expect(line, time_end, b"] \"")?;
    let r = time_end + 3;
    let r_end = closing_quote(line, r)?;
    let (method, path) = request_target(&line[r..r_end]);
    expect(line, r_end, b"\" ")?;
    let s = r_end + 2;
    let s_end = find_byte(line, s, b' ').ok_or(Mismatch)?;
    let status = status(&line[s..s_end]).ok_or(ParseError::InvalidStatus)?;
    expect(line, s_end, b" ")?;
    let b = s_end + 1;
    let b_end = match ncsa {
        Ncsa::Combined => find_byte(line, b, b' ').ok_or(Mismatch)?,
        // The last field: up to a space or the end of the line.
        Ncsa::Common => memchr::memchr(b' ', &line[b..]).map_or(line.len(), |e| b + e),
    };
    let bytes = match &line[b..b_end] {
        b"-" => 0,
        v => digits(v).ok_or(Mismatch)?,
    };
    if ncsa == Ncsa::Combined {
        // The referer, skipped, then the user agent.
        expect(line, b_end, b" \"")?;
        let referer_end = closing_quote(line, b_end + 2)?;
        expect(line, referer_end, b"\" \"")?;
        let ua_end = closing_quote(line, referer_end + 3)?;
        ev.ua = line[referer_end + 3..ua_end].into();
    }
    // Text after the last field is accepted, as by the walk.
    let client = &line[..addr_end];
    ev.kind = EventKind::Other;
    ev.http = Some(Http { client, method, path, status, bytes, latency_us: None });
    Ok(())
}

/// Whether `line` holds `lit` at `at`; a mismatch otherwise.
#[inline]
fn expect<const N: usize>(line: &[u8], at: usize, lit: &[u8; N]) -> Result<(), ParseError> {
    match line.get(at..at + N) {
        Some(here) if here == lit => Ok(()),
        _ => Err(ParseError::Mismatch),
    }
}

/// The format string of a `log_format` directive: the quoted pieces
/// joined, or the text itself when it is not quoted.
fn format_string(text: &str) -> String {
    let t = text.trim().trim_end_matches(';').trim();
    let t = t.strip_prefix("log_format").map_or(t, |rest| {
        // Drop the format's name (and nginx's optional `escape=`).
        let rest = rest.trim_start();
        let after_name = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]).trim_start();
        after_name.strip_prefix("escape=").map_or(after_name, |r| {
            r.find(char::is_whitespace).map_or("", |i| &r[i..]).trim_start()
        })
    });
    if !t.starts_with(['\'', '"']) {
        return t.to_string();
    }
    // Concatenate the quoted pieces, as nginx does.
    let mut out = String::new();
    let mut rest = t;
    while let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = &rest[1..];
        let end = body.find(q).unwrap_or(body.len());
        out.push_str(&body[..end]);
        rest = body.get(end + 1..).unwrap_or("").trim_start();
    }
    out
}

/// Index of the first `byte` of `line` at or after `from`, eight bytes at
/// a time. In a word XORed with the byte repeated, the classic zero-byte
/// test flags the matching bytes; it can also flag a byte above a true
/// match (the subtraction borrows), never one below, so the lowest flag
/// of a little-endian word is the first match.
#[inline]
fn find_byte(line: &[u8], from: usize, byte: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut i = from;
    while let Some(word) = line.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ pattern;
        let found = w.wrapping_sub(ONES) & !w & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    line[i..].iter().position(|&b| b == byte).map(|k| i + k)
}

/// Whether the space at `at` is inside a list: after a `,` or `:`, or
/// before a `:` separator.
fn continues_list(line: &[u8], at: usize) -> bool {
    matches!(line[at - 1], b',' | b':') || line[at + 1..].starts_with(b": ")
}

/// Index of the quote closing a field that starts at `from`, skipping
/// backslash escapes.
fn closing_quote(line: &[u8], from: usize) -> Result<usize, ParseError> {
    let mut i = from;
    while let Some(j) = memchr::memchr2(b'"', b'\\', &line[i..]) {
        let at = i + j;
        if line[at] == b'"' {
            return Ok(at);
        }
        i = at + 2;
        if i > line.len() {
            break;
        }
    }
    Err(ParseError::UnterminatedQuote)
}

/// Method and target of a request line; garbage (TLS probes, empty
/// requests) gives empty slices and is still a request.
fn request_target(r: &[u8]) -> (&[u8], &[u8]) {
    match find_byte(r, 0, b' ') {
        Some(m) if m > 0 && r[..m].iter().all(u8::is_ascii_uppercase) => {
            let t = find_byte(r, m + 1, b' ').unwrap_or(r.len());
            (&r[..m], &r[m + 1..t])
        }
        _ => (b"", b""),
    }
}

/// The client: the first address of X-Forwarded-For when there is one,
/// else the connecting address.
fn client<'a>(addr: &'a [u8], forwarded: &'a [u8]) -> &'a [u8] {
    let first = forwarded.split(|&b| b == b',').next().unwrap_or(b"").trim_ascii();
    if first.is_empty() || first == b"-" { addr } else { first }
}

fn status(v: &[u8]) -> Option<u16> {
    if v.len() != 3 {
        return None;
    }
    digits(v).map(|n| n as u16)
}

/// A non-empty run of ASCII digits as a number.
fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |n, &c| c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0')))
}

/// Seconds with an optional fraction (`0.123`, `1584343953.123`) in
/// microseconds; `-` and garbage give `None`.
fn seconds_to_us(v: &[u8]) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', v) {
        Some(d) => (&v[..d], &v[d + 1..]),
        None => (v, &b""[..]),
    };
    let mut us = digits(int)?.checked_mul(1_000_000)?;
    if !frac.is_empty() {
        let f = digits(frac)?;
        let scale = [100_000, 10_000, 1_000, 100, 10, 1];
        // Digits beyond microseconds are dropped.
        let kept = frac.len().min(6);
        let f = f / 10u64.pow((frac.len() - kept) as u32);
        us += f * scale[kept - 1];
    }
    Some(us)
}

/// `$upstream_response_time`: times of the upstreams tried, separated by
/// `, ` (retries) or ` : ` (internal redirects); their sum in µs, `None`
/// when no upstream answered (every part `-`). A part that is neither a
/// time nor `-` makes the line a mismatch.
fn upstream_us(v: &[u8]) -> Result<Option<u64>, ParseError> {
    let mut total = None;
    for part in v.split(|&b| b == b',' || b == b':').map(<[u8]>::trim_ascii) {
        if part != b"-" {
            let us = seconds_to_us(part).ok_or(ParseError::Mismatch)?;
            total = Some(total.unwrap_or(0) + us);
        }
    }
    Ok(total)
}

/// Length of a `$time_local` value.
const TIME_LOCAL_LEN: usize = 26;

/// `16/Mar/2020:08:12:33 +0100` in epoch ms.
fn time_local_ms(v: &[u8]) -> Option<i64> {
    if v.len() != TIME_LOCAL_LEN || v[2] != b'/' || v[6] != b'/' || v[11] != b':' || v[20] != b' ' {
        return None;
    }
    let n = |a: usize, b: usize| digits(&v[a..b]).map(|x| x as i64);
    let month = match &v[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let (day, year) = (n(0, 2)?, n(7, 11)?);
    let (h, m, s) = (n(12, 14)?, n(15, 17)?, n(18, 20)?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    if day > i64::from(crate::time::days_in_month(year as i32, month)) {
        return None;
    }
    let sign = match v[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = sign * (n(22, 24)? * 60 + n(24, 26)?) * 60;
    let days = i64::from(days_from_civil(year as i32, month, day as u32));
    Some((days * 86_400 + h * 3600 + m * 60 + s.min(59) - offset) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Event;

    fn parse<'a>(layout: &Layout, line: &'a str) -> Result<Event<'a>, ParseError> {
        let mut ev = Event::default();
        layout.parse(line.as_bytes(), &mut ev).map(|()| ev)
    }

    #[test]
    fn combined_line() {
        let line = r#"203.0.113.7 - u-42 [16/Mar/2020:08:12:33 +0100] "POST /auth/login?callback=%2F HTTP/1.1" 302 0 "https://ent.example/" "Mozilla/5.0 (X11) \"quoted\"""#;
        let ev = parse(&Layout::combined(), line).unwrap();
        let h = ev.http.unwrap();
        assert_eq!(ev.time_ms, 1_584_342_753_000);
        assert_eq!(&*ev.user, b"u-42");
        assert_eq!((h.method, h.path), (&b"POST"[..], &b"/auth/login?callback=%2F"[..]));
        assert_eq!((h.status, h.bytes, h.client), (302, 0, &b"203.0.113.7"[..]));
        assert_eq!(h.latency_us, None);
    }

    #[test]
    fn common_ipv6_garbage_request_and_trailing_fields() {
        let line =
            r#"2001:db8::1 - - [01/Jan/2020:00:00:00 -0000] "\x16\x03\x01" 400 157 0.001 extra"#;
        let ev = parse(&Layout::common(), line).unwrap();
        let h = ev.http.unwrap();
        assert!(ev.user.is_empty());
        assert_eq!(h.client, b"2001:db8::1");
        assert_eq!((h.method, h.path, h.status), (&b""[..], &b""[..], 400));
    }

    #[test]
    fn ncsa_reader_agrees_with_the_layout_walk() {
        // Every prefix and every one-byte change (to bytes that end or
        // open fields) of lines with escapes, IPv6, a TLS probe, `-`
        // fields and appended fields: every accept and reject path.
        let lines = [
            r#"203.0.113.7 - u-42 [16/Mar/2020:08:12:33 +0100] "POST /auth/login?callback=%2F HTTP/1.1" 302 0 "https://ent.example/" "Mozilla/5.0 (X11) \"quoted\"""#,
            r#"2001:db8::1 - - [01/Jan/2020:00:00:00 -0000] "\x16\x03\x01" 400 - "-" "-" 0.001 extra"#,
            r#"1.2.3.4 ident user [29/Feb/2020:23:59:60 +1400] "GET /" 200 12345"#,
        ];
        let specials = [b' ', b'"', b'\\', b'[', b']', b'-', b'x', b'0', b':', b'/'];
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for line in lines.map(str::as_bytes) {
            variants.extend((0..=line.len()).map(|n| line[..n].to_vec()));
            for at in 0..line.len() {
                for &b in &specials {
                    let mut v = line.to_vec();
                    v[at] = b;
                    variants.push(v);
                }
            }
        }
        let (mut accepted, mut rejected) = (0, 0);
        for layout in [Layout::combined(), Layout::common()] {
            for v in &variants {
                let (mut fast, mut walked) = (Event::default(), Event::default());
                let a = layout.parse(v, &mut fast);
                let b = layout.walk(v, &mut walked);
                assert_eq!(a, b, "{}: {}", layout.name(), String::from_utf8_lossy(v));
                if a.is_ok() {
                    assert_eq!(format!("{fast:?}"), format!("{walked:?}"));
                    accepted += 1;
                } else {
                    rejected += 1;
                }
            }
        }
        assert!(accepted > 1000 && rejected > 1000, "{accepted} accepted, {rejected} rejected");
    }

    #[test]
    fn find_byte_agrees_with_a_plain_scan() {
        // Bytes next to the searched one and to its borrow: 0x01 above a
        // match is where the zero-byte test flags falsely.
        let alphabet = [b' ', b'!', 0x1f, 0x01, 0x00, 0x80, 0xa0, b'a'];
        let mut state = 7u32;
        for len in 0..40 {
            for _ in 0..50 {
                let line: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        alphabet[(state >> 16) as usize % alphabet.len()]
                    })
                    .collect();
                for from in 0..=len {
                    for byte in [b' ', 0x00, 0x80] {
                        let plain = line[from..].iter().position(|&b| b == byte).map(|k| from + k);
                        assert_eq!(find_byte(&line, from, byte), plain, "{line:?} from {from}");
                    }
                }
            }
        }
    }

    #[test]
    fn rejections() {
        let c = Layout::combined();
        let ok = r#"1.2.3.4 - - [16/Mar/2020:08:12:33 +0100] "GET / HTTP/1.1" 200 5 "-" "ua""#;
        assert!(parse(&c, ok).is_ok());
        let unterminated =
            r#"1.2.3.4 - - [16/Mar/2020:08:12:33 +0100] "GET / HTTP/1.1" 200 5 "-" "ua"#;
        assert_eq!(parse(&c, unterminated).unwrap_err(), ParseError::UnterminatedQuote);
        let bad_date = ok.replace("16/Mar", "31/Feb");
        assert_eq!(parse(&c, &bad_date).unwrap_err(), ParseError::InvalidDate);
        let bad_status = ok.replace(" 200 ", " OK ");
        assert_eq!(parse(&c, &bad_status).unwrap_err(), ParseError::InvalidStatus);
        assert_eq!(parse(&c, "hello world").unwrap_err(), ParseError::Mismatch);
        assert_eq!(parse(&c, "").unwrap_err(), ParseError::Mismatch);
    }

    #[test]
    fn nginx_directive_with_times_and_forwarded_for() {
        let conf = r#"log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                     '"$http_x_forwarded_for" $request_time $upstream_response_time $pipe';"#;
        let layout = Layout::nginx(conf).unwrap();
        assert!(layout.has_latency());
        let line = r#"10.0.0.2 - - [16/Mar/2020:08:12:33 +0100] "GET /timeline HTTP/2.0" 200 1234 "-" "ua" "198.51.100.9, 10.0.0.2" 0.250 0.120, 0.003 ."#;
        let h = parse(&layout, line).unwrap().http.unwrap();
        assert_eq!(h.client, b"198.51.100.9");
        assert_eq!(h.latency_us, Some(250_000));
        let upstream_only = line.replace(" 0.250 ", " - ");
        assert_eq!(parse(&layout, &upstream_only).unwrap().http.unwrap().latency_us, Some(123_000));
        let cut = &line[..line.find(" \"198").unwrap()];
        assert_eq!(parse(&layout, cut).unwrap_err(), ParseError::Mismatch);
    }

    #[test]
    fn entcore_access_takes_the_user_header() {
        let e = Layout::entcore_access();
        let line = r#"203.0.113.7 - - [16/Mar/2020:08:12:33 +0100] "GET /timeline HTTP/1.1" 200 5 "-" "ua" 0.012 0.010 ext-42"#;
        let ev = parse(&e, line).unwrap();
        assert_eq!((&*ev.user, ev.http.unwrap().latency_us), (&b"ext-42"[..], Some(12_000)));
        let anonymous = line.replace(" ext-42", " -");
        assert!(parse(&e, &anonymous).unwrap().user.is_empty());
        // A plain combined line is not this format.
        let combined = &line[..line.find(" 0.012").unwrap()];
        assert_eq!(parse(&e, combined).unwrap_err(), ParseError::Mismatch);
    }

    #[test]
    fn nginx_iso_and_msec_times() {
        let iso = Layout::nginx("$remote_addr [$time_iso8601] \"$request\" $status").unwrap();
        let ev = parse(&iso, r#"::1 [2020-03-16T08:12:33+01:00] "GET / HTTP/1.1" 204"#).unwrap();
        assert_eq!(ev.time_ms, 1_584_342_753_000);
        let msec = Layout::nginx("${msec} \"$request\" $status").unwrap();
        let ev = parse(&msec, r#"1584342753.123 "GET / HTTP/1.1" 204"#).unwrap();
        assert_eq!(ev.time_ms, 1_584_342_753_123);
    }

    #[test]
    fn unusable_formats_are_refused() {
        assert!(Layout::nginx("$remote_addr $status").is_err());
        assert!(Layout::nginx("$time_local$status \"$request\"").is_err());
        assert!(Layout::nginx("[$time_local] \"$request\" $status ${oops").is_err());
    }

    #[test]
    fn login_rule() {
        let rule = LoginRule::default();
        let h = |method, path, status| Http { method, path, status, ..Http::default() };
        assert!(rule.matches(&h(b"POST", b"/auth/login", 302)));
        assert!(rule.matches(&h(b"POST", b"/auth/login?callback=x", 200)));
        assert!(!rule.matches(&h(b"POST", b"/auth/login", 401)));
        assert!(!rule.matches(&h(b"GET", b"/auth/login", 200)));
        assert!(!rule.matches(&h(b"POST", b"/auth/login/x", 200)));
        assert_eq!(LoginRule::parse("POST /auth/login"), Ok(rule));
        assert!(LoginRule::parse("/auth/login").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(seconds_to_us(b"0.123"), Some(123_000));
        assert_eq!(seconds_to_us(b"12"), Some(12_000_000));
        assert_eq!(seconds_to_us(b"0.1234567"), Some(123_456));
        assert_eq!(seconds_to_us(b"-"), None);
        assert_eq!(upstream_us(b"0.5 : 0.25, -"), Ok(Some(750_000)));
        assert_eq!(upstream_us(b"-"), Ok(None));
        assert_eq!(upstream_us(b"0.5, x"), Err(ParseError::Mismatch));
        assert_eq!(upstream_us(b"\"10.0.0.1\""), Err(ParseError::Mismatch));
    }
}
