//! CSV exports of Entcore's PostgreSQL event tables
//! (`events.login_events`, `events.access_events`), as `COPY ... TO ...
//! (FORMAT csv, HEADER)` or `\copy` write them.
//!
//! The header row names the columns, in any order; the engine reads
//! `date` and `user_id` (required), and `event_type`, `profile`, `module`
//! when present. Without an `event_type` column every row is a `LOGIN` (a
//! `login_events` export). `date` is a `timestamp without time zone` in
//! the platform's local time, converted with `--tz`; a date written with
//! an offset (`timestamptz`) is taken as the instant it names. Fields may
//! be quoted, with `""` for a quote; a row must not span lines.

use super::event::{Event, EventKind, ParseError, Profile};
use crate::time::parse_iso_ms;
use std::borrow::Cow;

/// Most columns a header may have (the tables have about ten).
const MAX_COLUMNS: usize = 64;

/// Where the columns the engine reads are, from an input's header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    header: Vec<u8>,
    count: usize,
    date: usize,
    user: usize,
    event_type: Option<usize>,
    profile: Option<usize>,
    module: Option<usize>,
    ua: Option<usize>,
    id: Option<usize>,
}

/// Bounds of one field in a line, and whether it holds `""` escapes.
#[derive(Clone, Copy, Default)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Columns {
    /// Reads a header row; `None` unless it names `date` and `user_id`.
    pub fn from_header(line: &[u8]) -> Option<Columns> {
        let line = line.trim_ascii();
        let mut spans = [Span::default(); MAX_COLUMNS];
        let count = split(line, &mut spans).ok()?;
        let names: Vec<Cow<'_, [u8]>> = spans[..count].iter().map(|s| value(line, *s)).collect();
        let find = |name: &str| {
            names.iter().position(|n| n.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
        };
        Some(Columns {
            header: line.to_vec(),
            count,
            date: find("date")?,
            user: find("user_id")?,
            event_type: find("event_type"),
            profile: find("profile"),
            module: find("module"),
            ua: find("ua"),
            id: find("id"),
        })
    }

    /// The header row, to skip where it appears.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Parses one row into `ev`.
    pub fn parse<'a>(&self, line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
        ev.clear();
        let mut spans = [Span::default(); MAX_COLUMNS];
        if split(line, &mut spans)? != self.count {
            return Err(ParseError::CsvFields);
        }
        let field = |i: usize| value(line, spans[i]);
        let date = field(self.date);
        let date = date.trim_ascii();
        if date.is_empty() {
            return Err(ParseError::MissingDate);
        }
        ev.time_ms = parse_iso_ms(date).ok_or(ParseError::InvalidDate)?;
        ev.naive_time = !has_offset(date);
        ev.user = field(self.user);
        if ev.user.is_empty() {
            return Err(ParseError::MissingUser);
        }
        ev.kind = self.event_type.map_or(EventKind::Login, |i| EventKind::from_entcore(&field(i)));
        if let Some(i) = self.profile {
            ev.profile = Profile::from_name(&field(i));
        }
        if let Some(i) = self.module {
            ev.module = field(i);
        }
        if let Some(i) = self.ua {
            ev.ua = field(i);
        }
        if let Some(i) = self.id {
            ev.id = field(i);
        }
        Ok(())
    }
}

/// Whether a date written as PostgreSQL does ends with a UTC offset.
fn has_offset(date: &[u8]) -> bool {
    // After `YYYY-MM-DD HH:MM:SS` and an optional fraction.
    let rest = date.get(19..).unwrap_or(b"");
    let rest = rest
        .strip_prefix(b".")
        .map_or(rest, |r| &r[r.iter().take_while(|c| c.is_ascii_digit()).count()..]);
    !rest.is_empty()
}

/// Cuts a CSV line into `spans`; returns the number of fields.
fn split(line: &[u8], spans: &mut [Span; MAX_COLUMNS]) -> Result<usize, ParseError> {
    let mut n = 0;
    let mut i = 0;
    loop {
        if n == MAX_COLUMNS {
            return Err(ParseError::CsvFields);
        }
        let span = if line.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                match memchr::memchr(b'"', &line[j..]) {
                    None => return Err(ParseError::UnterminatedQuote),
                    Some(q) if line.get(j + q + 1) == Some(&b'"') => {
                        escaped = true;
                        j += q + 2;
                    }
                    Some(q) => {
                        j += q;
                        break;
                    }
                }
            }
            i = j + 1;
            if i < line.len() && line[i] != b',' {
                return Err(ParseError::CsvFields);
            }
            Span { start, end: j, escaped }
        } else {
            let end = memchr::memchr(b',', &line[i..]).map_or(line.len(), |e| i + e);
            let s = Span { start: i, end, escaped: false };
            i = end;
            s
        };
        spans[n] = span;
        n += 1;
        if i >= line.len() {
            return Ok(n);
        }
        i += 1; // the comma
        if i == line.len() {
            // A trailing comma: one more, empty field.
            if n == MAX_COLUMNS {
                return Err(ParseError::CsvFields);
            }
            spans[n] = Span { start: i, end: i, escaped: false };
            return Ok(n + 1);
        }
    }
}

/// The text of a field, with `""` turned back into `"`.
fn value(line: &[u8], s: Span) -> Cow<'_, [u8]> {
    let raw = &line[s.start..s.end];
    if !s.escaped {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut k = 0;
    while k < raw.len() {
        out.push(raw[k]);
        k += if raw[k] == b'"' { 2 } else { 1 };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[u8] =
        b"id,date,platform_id,user_id,profile,module,event_type,ua,ip,device_type";

    #[test]
    fn rows_of_an_export() {
        let c = Columns::from_header(HEADER).unwrap();
        assert_eq!(c.header(), HEADER);
        let mut ev = Event::default();
        let row = br#"7,2020-03-16 08:12:33.5,p,"u-1",Student,Conversation,ACCESS,"Mozilla/5.0 (X11, ""x"")",203.0.113.7,"#;
        c.parse(row, &mut ev).unwrap();
        assert_eq!((ev.time_ms, ev.naive_time), (1_584_346_353_500, true));
        assert_eq!(
            (&*ev.user, ev.profile, ev.kind),
            (&b"u-1"[..], Profile::Student, EventKind::Access)
        );
        assert_eq!(&*ev.module, b"Conversation");
        let tz = b"8,2020-03-16 08:12:33+01,p,u-2,Relative,Auth,LOGIN,ua,ip,d";
        c.parse(tz, &mut ev).unwrap();
        assert_eq!((ev.time_ms, ev.naive_time), (1_584_342_753_000, false));
        assert_eq!(ev.kind, EventKind::Login);
    }

    #[test]
    fn rejected_rows() {
        let c = Columns::from_header(HEADER).unwrap();
        let err = |row: &[u8]| c.parse(row, &mut Event::default()).unwrap_err();
        assert_eq!(err(b"1,2020-03-16 08:00:00,p,u"), ParseError::CsvFields);
        assert_eq!(
            err(b"1,2020-03-16 08:00:00,p,u,S,M,LOGIN,\"ua,ip,d"),
            ParseError::UnterminatedQuote
        );
        assert_eq!(err(b"1,,p,u,S,M,LOGIN,ua,ip,d"), ParseError::MissingDate);
        assert_eq!(err(b"1,16/03/2020,p,u,S,M,LOGIN,ua,ip,d"), ParseError::InvalidDate);
        assert_eq!(err(b"1,2020-03-16 08:00:00,p,,S,M,LOGIN,ua,ip,d"), ParseError::MissingUser);
    }

    #[test]
    fn login_export_without_event_type() {
        let c = Columns::from_header(b"\"user_id\",\"date\"").unwrap();
        let mut ev = Event::default();
        c.parse(b"u,2020-03-16T08:00:00", &mut ev).unwrap();
        assert_eq!((ev.kind, ev.profile), (EventKind::Login, Profile::Unknown));
        assert!(Columns::from_header(b"id,when,who").is_none());
    }
}
