//! Log formats: each turns one line into a borrowed [`Event`] or a
//! [`ParseError`].
//!
//! A parser never allocates for a well-formed line: strings are slices of
//! the input, and the caller reuses one `Event` for every line of a chunk.
//! Only strings holding JSON escapes are decoded into owned buffers.

mod entcore_json;
pub mod json;

use std::borrow::Cow;
use std::fmt;

/// What an event records, as far as the figures are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `LOGIN`: one connection.
    Login,
    /// `ACCESS`: the user opened an application.
    Access,
    /// `ACTIVATION`: an account was activated.
    Activation,
    /// Account administration (`CREATE_USER`, `DELETE_USER`, imports,
    /// merges, exports): its user is not a visitor.
    Admin,
    /// Any other activity of the user (`CONNECTOR`, ...).
    Other,
}

impl EventKind {
    /// Classifies an Entcore `event-type`.
    pub fn from_entcore(name: &[u8]) -> EventKind {
        match name {
            b"LOGIN" => EventKind::Login,
            b"ACCESS" => EventKind::Access,
            b"ACTIVATION" => EventKind::Activation,
            b"CREATE_USER" | b"DELETE_USER" | b"IMPORT" | b"MERGE_USER" | b"EXPORT"
            | b"BLOCK_USER" | b"UNBLOCK_USER" => EventKind::Admin,
            _ => EventKind::Other,
        }
    }
}

/// The user's profile (`profil` in Entcore).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// A pupil.
    Student = 0,
    /// A parent.
    Relative = 1,
    /// A teacher.
    Teacher = 2,
    /// School staff.
    Personnel = 3,
    /// A guest account.
    Guest = 4,
    /// Missing or not one of the above.
    Unknown = 5,
}

impl Profile {
    /// Every profile, in code order.
    pub const ALL: [Profile; 6] = [
        Profile::Student,
        Profile::Relative,
        Profile::Teacher,
        Profile::Personnel,
        Profile::Guest,
        Profile::Unknown,
    ];

    /// Reads an Entcore profile name; anything unrecognised is `Unknown`.
    pub fn from_name(name: &[u8]) -> Profile {
        match name {
            b"Student" => Profile::Student,
            b"Relative" => Profile::Relative,
            b"Teacher" => Profile::Teacher,
            b"Personnel" => Profile::Personnel,
            b"Guest" => Profile::Guest,
            _ => Profile::Unknown,
        }
    }

    /// The profile's small integer code (0..6).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The profile with this code; codes out of range give `Unknown`.
    pub fn from_code(code: u8) -> Profile {
        Profile::ALL.get(usize::from(code)).copied().unwrap_or(Profile::Unknown)
    }

    /// The name written in output tables.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Student => "Student",
            Profile::Relative => "Relative",
            Profile::Teacher => "Teacher",
            Profile::Personnel => "Personnel",
            Profile::Guest => "Guest",
            Profile::Unknown => "Unknown",
        }
    }
}

/// One parsed log record, borrowing from the line it came from.
#[derive(Debug)]
pub struct Event<'a> {
    /// Instant of the event, epoch milliseconds UTC.
    pub time_ms: i64,
    /// What happened.
    pub kind: EventKind,
    /// The raw user id (never written out).
    pub user: Cow<'a, [u8]>,
    /// The user's profile.
    pub profile: Profile,
    /// The `module` field: `Auth`, an OAuth client id, an app name.
    pub module: Cow<'a, [u8]>,
    /// Structure ids the event is attached to, as given (duplicates
    /// possible).
    pub structures: Vec<Cow<'a, [u8]>>,
}

impl Default for Event<'_> {
    fn default() -> Self {
        Event {
            time_ms: 0,
            kind: EventKind::Other,
            user: Cow::Borrowed(b""),
            profile: Profile::Unknown,
            module: Cow::Borrowed(b""),
            structures: Vec::with_capacity(8),
        }
    }
}

impl Event<'_> {
    /// Resets every field, keeping the structures' buffer.
    pub fn clear(&mut self) {
        self.time_ms = 0;
        self.kind = EventKind::Other;
        self.user = Cow::Borrowed(b"");
        self.profile = Profile::Unknown;
        self.module = Cow::Borrowed(b"");
        self.structures.clear();
    }
}

/// Why a line was rejected. Small and `Copy`: rejections are data, counted
/// and sampled, not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParseError {
    /// The line is not valid JSON.
    InvalidJson,
    /// The line is valid JSON but not an object.
    NotAnObject,
    /// The line is nested deeper than the parser accepts.
    TooDeep,
    /// A string is not valid UTF-8 (or holds a lone surrogate escape).
    InvalidUtf8,
    /// No `date` field.
    MissingDate,
    /// A `date` that is not a time the engine can read.
    InvalidDate,
    /// No `userId`, or an empty or non-string one.
    MissingUser,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::InvalidJson => "not valid JSON",
            ParseError::NotAnObject => "not a JSON object",
            ParseError::TooDeep => "JSON nested too deeply",
            ParseError::InvalidUtf8 => "invalid UTF-8 in a string",
            ParseError::MissingDate => "no date",
            ParseError::InvalidDate => "date is not a readable time",
            ParseError::MissingUser => "no userId",
        })
    }
}

/// A log format the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Entcore event store, one JSON object per line (`mongoexport`).
    EntcoreJson,
}

impl Format {
    /// The name used on the command line and in `run.json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::EntcoreJson => "entcore-json",
        }
    }

    /// Looks a format up by its command-line name.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "entcore-json" => Some(Format::EntcoreJson),
            _ => None,
        }
    }

    /// Guesses the format from the first bytes of an input (after
    /// decompression), or `None` when nothing matches.
    pub fn detect(head: &[u8]) -> Option<Format> {
        let first = head.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).find(|l| !l.is_empty())?;
        if first.starts_with(b"{") {
            return Some(Format::EntcoreJson);
        }
        None
    }

    /// Parses one line (without its terminator) into `ev`.
    #[inline]
    pub fn parse<'a>(self, line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
        match self {
            Format::EntcoreJson => entcore_json::parse(line, ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_json() {
        assert_eq!(Format::detect(b"\n  \n{\"a\":1}\n"), Some(Format::EntcoreJson));
        assert_eq!(Format::detect(b"127.0.0.1 - - [..."), None);
        assert_eq!(Format::detect(b""), None);
    }

    #[test]
    fn profile_codes_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::from_code(p.code()), p);
            assert_eq!(Profile::from_name(p.name().as_bytes()), p);
        }
        assert_eq!(Profile::from_name(b"SuperAdmin"), Profile::Unknown);
    }
}
