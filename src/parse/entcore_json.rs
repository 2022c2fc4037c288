//! The Entcore event store as `mongoexport` writes it: one JSON object per
//! line, fields in any order.

use super::event::{Event, EventKind, ParseError, Profile};
use super::json::{JsonError, JsonResult, JsonStr, Scanner, number_to_i64, parse_long};
use crate::time::parse_iso_ms;
use std::borrow::Cow;

impl From<JsonError> for ParseError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::Syntax => ParseError::InvalidJson,
            JsonError::TooDeep => ParseError::TooDeep,
            JsonError::Utf8 => ParseError::InvalidUtf8,
        }
    }
}

/// What a `date` field held.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DateField {
    Missing,
    Invalid,
    Ms(i64),
}

/// Parses one event-store line into `ev`.
pub(super) fn parse<'a>(line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
    ev.clear();
    let mut sc = Scanner::new(line);
    if sc.peek() != Some(b'{') {
        // Tell a JSON value that is not an object from garbage.
        let mut probe = Scanner::new(line);
        return Err(match probe.skip(0).and_then(|()| probe.end()) {
            Ok(()) => ParseError::NotAnObject,
            Err(e) => e.into(),
        });
    }
    let mut date = DateField::Missing;
    let mut has_user = false;
    sc.object(0, |sc, key| member(sc, key, ev, &mut date, &mut has_user))?;
    sc.end()?;
    match date {
        DateField::Missing => return Err(ParseError::MissingDate),
        DateField::Invalid => return Err(ParseError::InvalidDate),
        DateField::Ms(ms) => ev.time_ms = ms,
    }
    if !has_user || ev.user.is_empty() {
        return Err(ParseError::MissingUser);
    }
    Ok(())
}

/// Reads one top-level member. Later duplicates of a key win, as in most
/// JSON readers.
#[inline]
fn member<'a>(
    sc: &mut Scanner<'a>,
    key: JsonStr<'a>,
    ev: &mut Event<'a>,
    date: &mut DateField,
    has_user: &mut bool,
) -> JsonResult<()> {
    // Keys are compared after unescaping, so `"user\u0049d"` is `userId`.
    let key = key.value();
    match &*key {
        b"event-type" => {
            ev.kind = match optional_string(sc)? {
                Some(s) => EventKind::from_entcore(&s.value()),
                None => EventKind::Other,
            }
        }
        b"userId" => match optional_string(sc)? {
            Some(s) => {
                ev.user = s.value();
                *has_user = true;
            }
            None => *has_user = false,
        },
        b"profil" => {
            ev.profile = match optional_string(sc)? {
                Some(s) => Profile::from_name(&s.value()),
                None => Profile::Unknown,
            }
        }
        b"module" => ev.module = optional_string(sc)?.map(JsonStr::value).unwrap_or_default(),
        b"ua" => ev.ua = optional_string(sc)?.map(JsonStr::value).unwrap_or_default(),
        b"structures" => id_array(sc, &mut ev.structures)?,
        b"classes" => id_array(sc, &mut ev.classes)?,
        b"date" => *date = date_value(sc, 1)?,
        b"_id" => ev.id = id_value(sc)?,
        _ => sc.skip(1)?,
    }
    Ok(())
}

/// An array of ids (`structures`, `classes`) into `ids`: its strings, in
/// order; other elements, and a value that is no array, give nothing.
fn id_array<'a>(sc: &mut Scanner<'a>, ids: &mut Vec<Cow<'a, [u8]>>) -> JsonResult<()> {
    ids.clear();
    if sc.peek() != Some(b'[') {
        return sc.skip(1);
    }
    sc.array(1, |sc| {
        if sc.peek() == Some(b'"') {
            ids.push(sc.string()?.value());
            Ok(())
        } else {
            sc.skip(2)
        }
    })
}

/// An `_id` as `mongoexport` writes it: a string, or `{"$oid":"..."}`;
/// empty when it is anything else.
fn id_value<'a>(sc: &mut Scanner<'a>) -> JsonResult<Cow<'a, [u8]>> {
    if sc.peek() != Some(b'{') {
        return Ok(optional_string(sc)?.map(JsonStr::value).unwrap_or_default());
    }
    let mut id = Cow::Borrowed(&b""[..]);
    sc.object(1, |sc, key| {
        if key.is(b"$oid") {
            id = optional_string(sc)?.map(JsonStr::value).unwrap_or_default();
            Ok(())
        } else {
            sc.skip(2)
        }
    })?;
    Ok(id)
}

/// A string value, or `None` for `null` or any other type (skipped).
#[inline]
fn optional_string<'a>(sc: &mut Scanner<'a>) -> JsonResult<Option<JsonStr<'a>>> {
    if sc.peek() == Some(b'"') {
        return sc.string().map(Some);
    }
    sc.skip(1)?;
    Ok(None)
}

/// Reads a `date` in any of the shapes `mongoexport` writes: a number of
/// milliseconds, `{"$numberLong":"ms"}`, `{"$date":"ISO-8601"}`,
/// `{"$date":ms}` or `{"$date":{"$numberLong":"ms"}}`.
fn date_value(sc: &mut Scanner<'_>, depth: u32) -> JsonResult<DateField> {
    match sc.peek() {
        Some(b'{') => {
            let mut found = DateField::Invalid;
            sc.object(depth, |sc, key| {
                if key.is(b"$numberLong") {
                    found = match optional_string(sc)? {
                        Some(s) => ms_field(parse_long(&s.value())),
                        None => DateField::Invalid,
                    };
                } else if key.is(b"$date") {
                    found = match sc.peek() {
                        Some(b'"') => ms_field(parse_iso_ms(&sc.string()?.value())),
                        _ => date_value(sc, depth + 1)?,
                    };
                } else {
                    sc.skip(depth + 1)?;
                }
                Ok(())
            })?;
            Ok(found)
        }
        Some(b'-' | b'0'..=b'9') => Ok(ms_field(number_to_i64(sc.number()?))),
        _ => {
            sc.skip(depth)?;
            Ok(DateField::Invalid)
        }
    }
}

/// Instants the calendar code handles: years 1 to 9999.
fn ms_field(ms: Option<i64>) -> DateField {
    const MIN: i64 = -62_135_596_800_000;
    const MAX: i64 = 253_402_300_799_999;
    match ms {
        Some(ms) if (MIN..=MAX).contains(&ms) => DateField::Ms(ms),
        _ => DateField::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> (i64, EventKind, String, Profile, Vec<String>) {
        let mut ev = Event::default();
        parse(line.as_bytes(), &mut ev).unwrap_or_else(|e| panic!("{line}: {e}"));
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let structures = ev.structures.iter().map(|s| text(s)).collect();
        (ev.time_ms, ev.kind, text(&ev.user), ev.profile, structures)
    }

    fn err(line: &str) -> ParseError {
        let mut ev = Event::default();
        parse(line.as_bytes(), &mut ev).unwrap_err()
    }

    #[test]
    fn reads_a_typical_event() {
        let (t, k, u, p, s) = ok(
            r#"{"_id":"x","event-type":"LOGIN","module":"Auth","date":1710835212345,"userId":"u1","profil":"Student","structures":["s1"],"classes":["c"],"ua":"Mozilla/5.0 {x}","ip":"203.0.113.7"}"#,
        );
        assert_eq!(
            (t, k, u.as_str(), p),
            (1_710_835_212_345, EventKind::Login, "u1", Profile::Student)
        );
        assert_eq!(s, ["s1"]);
    }

    #[test]
    fn reads_the_id_as_a_string_or_an_object_id() {
        for (id, expected) in [
            (r#""e-1""#, "e-1"),
            (r#"{"$oid":"5e6f1c2a"}"#, "5e6f1c2a"),
            (r#"{"x":1,"$oid":"a\u0062"}"#, "ab"),
            (r#"42"#, ""),
            (r#"{"$oid":7}"#, ""),
        ] {
            let line = format!(r#"{{"_id":{id},"userId":"u","date":1}}"#);
            let mut ev = Event::default();
            parse(line.as_bytes(), &mut ev).unwrap();
            assert_eq!(&*ev.id, expected.as_bytes(), "{id}");
        }
    }

    #[test]
    fn reads_every_date_shape() {
        for d in [
            r#"1584345600000"#,
            r#"{"$numberLong":"1584345600000"}"#,
            r#"{"$date":"2020-03-16T08:00:00.000Z"}"#,
            r#"{"$date":"2020-03-16T09:00:00.000+01:00"}"#,
            r#"{"$date":1584345600000}"#,
            r#"{"$date":{"$numberLong":"1584345600000"}}"#,
        ] {
            let line = format!(r#"{{"userId":"u","date":{d}}}"#);
            assert_eq!(ok(&line).0, 1_584_345_600_000, "{d}");
        }
    }

    #[test]
    fn tolerates_real_dump_quirks() {
        // Any order, whitespace, escapes, nested unknown fields with braces
        // inside strings, duplicate structures, null and missing fields.
        let (_, k, u, p, s) = ok(concat!(
            " {\t\"structures\" : [ \"s\\/1\", \"s\\/1\" ] , \"x\":{\"y\":[{\"z\":\"}{][\"}]},",
            r#""userId":"u\"\\\u00e9","date":{"$date":{"$numberLong":"0"}},"event-type":"ACCESS"}  "#
        ));
        assert_eq!((k, u.as_str(), p), (EventKind::Access, "u\"\\\u{e9}", Profile::Unknown));
        assert_eq!(s, ["s/1", "s/1"]);
        let (.., s) = ok(r#"{"userId":"u","date":1,"profil":null,"structures":null}"#);
        assert!(s.is_empty());
        let (.., s) = ok(r#"{"userId":"u","date":1,"structures":[]}"#);
        assert!(s.is_empty());
    }

    #[test]
    fn never_panics_on_cut_or_corrupted_lines() {
        let line = concat!(
            r#"{"_id":"x","event-type":"LOGIN","date":{"$date":{"$numberLong":"1"}},"#,
            r#""userId":"u\"\u00e9\ud83d\ude00","structures":["a","b"],"x":[{"y":-1.5e3}]}"#
        );
        let mut ev = Event::default();
        assert!(parse(line.as_bytes(), &mut ev).is_ok());
        for cut in 0..line.len() {
            let mut ev = Event::default();
            assert!(parse(&line.as_bytes()[..cut], &mut ev).is_err(), "cut at {cut}");
        }
        // Every byte replaced by every troublesome byte.
        for i in 0..line.len() {
            for b in [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', 0, 0xff, b'\n'] {
                let mut bytes = line.as_bytes().to_vec();
                bytes[i] = b;
                let mut ev = Event::default();
                let _ = parse(&bytes, &mut ev);
            }
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        assert_eq!(err(r#"{"userId":"u","date":1"#), ParseError::InvalidJson);
        assert_eq!(err(r#"[1,2]"#), ParseError::NotAnObject);
        assert_eq!(err(r#"garbage"#), ParseError::InvalidJson);
        assert_eq!(err(r#"{"userId":"u"}"#), ParseError::MissingDate);
        assert_eq!(err(r#"{"userId":"u","date":"yesterday"}"#), ParseError::InvalidDate);
        assert_eq!(
            err(r#"{"userId":"u","date":{"$date":"2020-13-01T00:00:00Z"}}"#),
            ParseError::InvalidDate
        );
        assert_eq!(err(r#"{"userId":"u","date":1e300}"#), ParseError::InvalidDate);
        // A `$numberLong` is a sign and digits, nothing else.
        for long in ["15848149-5724", "1584211696687-", "1.5e12", " 1", ""] {
            let line = format!(r#"{{"userId":"u","date":{{"$numberLong":"{long}"}}}}"#);
            assert_eq!(err(&line), ParseError::InvalidDate, "{long:?}");
        }
        assert_eq!(err(r#"{"date":1}"#), ParseError::MissingUser);
        assert_eq!(err(r#"{"date":1,"userId":""}"#), ParseError::MissingUser);
        assert_eq!(err(r#"{"date":1,"userId":null}"#), ParseError::MissingUser);
        assert_eq!(err(r#"{"date":1,"userId":42}"#), ParseError::MissingUser);
        assert_eq!(err(r#"{"date":1,"userId":"u"} x"#), ParseError::InvalidJson);
    }
}
