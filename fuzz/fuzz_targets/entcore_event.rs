//! The event-store reader against a reference built on serde_json: the
//! same lines accepted, and the same time, user, kind, profile, module,
//! user agent, structures, classes and id read from them.
#![no_main]

use entlog::parse::json::{number_to_i64, parse_long};
use entlog::parse::{Event, EventKind, Format, ParseError, Profile};
use entlog::time::parse_iso_ms;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// Instants the engine reads: years 1 to 9999.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_300_799_999;

/// What the reference reads from a line.
#[derive(Debug, PartialEq)]
struct Fields {
    time_ms: i64,
    kind: EventKind,
    user: Vec<u8>,
    profile: Profile,
    module: Vec<u8>,
    ua: Vec<u8>,
    structures: Vec<Vec<u8>>,
    classes: Vec<Vec<u8>>,
    id: Vec<u8>,
}

/// A date value as milliseconds; `Err(())` when the reference cannot tell
/// (an object naming both `$date` and `$numberLong`, whose order
/// serde_json's map does not keep for duplicates).
fn date(v: &Value) -> Result<Option<i64>, ()> {
    let ms = match v {
        Value::Number(n) => number(n),
        Value::Object(m) => match (m.get("$numberLong"), m.get("$date")) {
            (Some(_), Some(_)) => return Err(()),
            (Some(Value::String(s)), None) => parse_long(s.as_bytes()),
            (None, Some(Value::String(s))) => parse_iso_ms(s.as_bytes()),
            (None, Some(inner)) => date(inner)?,
            _ => None,
        },
        _ => None,
    };
    Ok(ms.filter(|ms| (MIN_MS..=MAX_MS).contains(ms)))
}

fn number(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    // What the engine does with a fraction or an exponent.
    number_to_i64(n.to_string().as_bytes())
}

/// The strings of the array `key` (nothing when it is no array).
fn strings(m: &Map<String, Value>, key: &str) -> Vec<Vec<u8>> {
    match m.get(key) {
        Some(Value::Array(a)) => {
            a.iter().filter_map(Value::as_str).map(|s| s.as_bytes().to_vec()).collect()
        }
        _ => Vec::new(),
    }
}

fn string(m: &Map<String, Value>, key: &str) -> Option<Vec<u8>> {
    m.get(key).and_then(Value::as_str).map(|s| s.as_bytes().to_vec())
}

/// The reference reading; `None` when it cannot tell.
fn reference(line: &[u8]) -> Option<Result<Fields, ParseError>> {
    let m = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Some(Err(ParseError::NotAnObject)),
        // A number too large for serde_json is valid JSON to the engine,
        // which refuses it later by value.
        Err(e) if e.to_string().contains("out of range") => return None,
        Err(_) => return Some(Err(ParseError::InvalidJson)),
    };
    let time_ms = match m.get("date").map(date) {
        None => return Some(Err(ParseError::MissingDate)),
        Some(Err(())) => return None,
        Some(Ok(None)) => return Some(Err(ParseError::InvalidDate)),
        Some(Ok(Some(ms))) => ms,
    };
    let user = match string(&m, "userId") {
        Some(user) if !user.is_empty() => user,
        _ => return Some(Err(ParseError::MissingUser)),
    };
    Some(Ok(Fields {
        time_ms,
        kind: string(&m, "event-type").map_or(EventKind::Other, |k| EventKind::from_entcore(&k)),
        user,
        profile: string(&m, "profil").map_or(Profile::Unknown, |p| Profile::from_name(&p)),
        module: string(&m, "module").unwrap_or_default(),
        ua: string(&m, "ua").unwrap_or_default(),
        structures: strings(&m, "structures"),
        classes: strings(&m, "classes"),
        id: match m.get("_id") {
            Some(Value::Object(oid)) => string(oid, "$oid").unwrap_or_default(),
            _ => string(&m, "_id").unwrap_or_default(),
        },
    }))
}

fuzz_target!(|line: &[u8]| {
    let mut ev = Event::default();
    let ours = Format::EntcoreJson.parse(line, &mut ev).map(|()| Fields {
        time_ms: ev.time_ms,
        kind: ev.kind,
        user: ev.user.to_vec(),
        profile: ev.profile,
        module: ev.module.to_vec(),
        ua: ev.ua.to_vec(),
        structures: ev.structures.iter().map(|s| s.to_vec()).collect(),
        classes: ev.classes.iter().map(|s| s.to_vec()).collect(),
        id: ev.id.to_vec(),
    });
    let Some(expected) = reference(line) else { return };
    match (&ours, &expected) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(line)),
        // Syntax errors come in several kinds (bad UTF-8, a lone
        // surrogate): only the verdict is compared. The reader stops at 64
        // levels of nesting, serde_json at 128.
        (Err(_), Err(ParseError::InvalidJson)) | (Err(ParseError::TooDeep), _) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(line)),
        _ => {
            panic!("reader {ours:?}, reference {expected:?} on {:?}", String::from_utf8_lossy(line))
        }
    }
});
