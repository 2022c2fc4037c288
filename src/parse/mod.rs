//! Log formats: each turns one line into a borrowed [`Event`] or a
//! [`ParseError`].
//!
//! A parser never allocates for a well-formed line: strings are slices of
//! the input, and the caller reuses one `Event` for every line of a chunk.
//! Only strings holding JSON escapes are decoded into owned buffers.

pub mod access;
mod entcore_json;
pub mod json;
mod pg_csv;

pub use access::Layout;
pub use pg_csv::Columns;

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
    /// `time_ms` is a wall-clock time in the run's time zone (milliseconds
    /// since 1970-01-01 00:00 local), not an instant: the aggregator
    /// converts it.
    pub naive_time: bool,
    /// What an HTTP access log says of the request.
    pub http: Option<Http<'a>>,
}

/// One HTTP request of an access log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Http<'a> {
    /// The client address (first X-Forwarded-For address when given).
    pub client: &'a [u8],
    /// Request method, empty when the request line is garbage.
    pub method: &'a [u8],
    /// Request target (path and query), empty when the request line is
    /// garbage.
    pub path: &'a [u8],
    /// Response status.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Request time in microseconds, when the format carries it.
    pub latency_us: Option<u64>,
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
            naive_time: false,
            http: None,
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
        self.naive_time = false;
        self.http = None;
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
    /// A readable date outside the run's plausibility window
    /// (`--valid-from`, `--valid-until`).
    OutsideWindow,
    /// No `userId`, or an empty or non-string one.
    MissingUser,
    /// An access log line that does not have the shape of its format.
    Mismatch,
    /// A quoted field without its closing quote.
    UnterminatedQuote,
    /// An HTTP status that is not three digits.
    InvalidStatus,
    /// A CSV row without as many fields as its header.
    CsvFields,
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
            ParseError::OutsideWindow => "date outside --valid-from/--valid-until",
            ParseError::MissingUser => "no user id",
            ParseError::Mismatch => "line does not match the log format",
            ParseError::UnterminatedQuote => "quoted field without closing quote",
            ParseError::InvalidStatus => "HTTP status is not three digits",
            ParseError::CsvFields => "CSV row does not have the header's fields",
        })
    }
}

/// A log format the engine reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Entcore event store, one JSON object per line (`mongoexport`).
    EntcoreJson,
    /// An HTTP access log: `common`, `combined` or an nginx `log_format`.
    Access(Layout),
    /// A CSV export of Entcore's PostgreSQL event tables; the columns are
    /// known once the input's header row is read ([`Format::bind`]).
    EntcorePgCsv(Option<Columns>),
}

/// Lines of an input's head that detection looks at.
const DETECT_LINES: usize = 20;

impl Format {
    /// The name used on the command line and in `run.json`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::EntcoreJson => "entcore-json",
            Format::Access(layout) => layout.name(),
            Format::EntcorePgCsv(_) => "entcore-pg-csv",
        }
    }

    /// Reads a format given on the command line: `entcore-json`,
    /// `entcore-pg-csv`, `entcore-access`, `common`, `combined`, or
    /// `nginx:<log_format>`.
    pub fn from_name(name: &str) -> Result<Format, String> {
        match name {
            "entcore-json" => Ok(Format::EntcoreJson),
            "entcore-pg-csv" => Ok(Format::EntcorePgCsv(None)),
            "combined" => Ok(Format::Access(Layout::combined())),
            "common" => Ok(Format::Access(Layout::common())),
            "entcore-access" => Ok(Format::Access(Layout::entcore_access())),
            _ => match name.strip_prefix("nginx:") {
                Some(f) => Layout::nginx(f).map(Format::Access).map_err(|e| e.to_string()),
                None => Err(format!("unknown format {name:?}")),
            },
        }
    }

    /// Detects the format from the first bytes of an input (after
    /// decompression): JSON objects are the event store, a header row
    /// naming `date` and `user_id` a PostgreSQL export, and otherwise the
    /// access log preset that reads the first lines exactly
    /// ([`Layout::detect`]). Fails, saying why, when nothing qualifies.
    pub fn detect(head: &[u8]) -> Result<Format, String> {
        // The head may end inside a line: only whole lines are read, unless
        // there is a single line.
        let whole = match head.iter().rposition(|&b| b == b'\n') {
            Some(i) => &head[..i],
            None => head,
        };
        let mut lines =
            whole.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).filter(|l| !l.is_empty());
        let first = lines.next().ok_or("no line to detect the format from")?;
        if first.starts_with(b"{") {
            return Ok(Format::EntcoreJson);
        }
        if Columns::from_header(first).is_some() {
            return Ok(Format::EntcorePgCsv(None));
        }
        let sample: Vec<&[u8]> = std::iter::once(first).chain(lines).take(DETECT_LINES).collect();
        Layout::detect(&sample).map(Format::Access)
    }

    /// The format ready for one input whose first bytes are `head`: a
    /// PostgreSQL export learns its columns from its header row.
    pub fn bind(self, head: &[u8]) -> Result<Format, String> {
        match self {
            Format::EntcorePgCsv(None) => {
                let first = head
                    .split(|&b| b == b'\n')
                    .map(<[u8]>::trim_ascii)
                    .find(|l| !l.is_empty())
                    .unwrap_or(b"");
                Columns::from_header(first).map(|c| Format::EntcorePgCsv(Some(c))).ok_or_else(
                    || "the CSV export has no header row naming date and user_id".to_string(),
                )
            }
            f => Ok(f),
        }
    }

    /// A line to skip wherever it appears (the header row of a CSV export,
    /// repeated when exports are concatenated).
    pub fn header(&self) -> Option<&[u8]> {
        match self {
            Format::EntcorePgCsv(Some(c)) => Some(c.header()),
            _ => None,
        }
    }

    /// Parses one line (without its terminator) into `ev`.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8], ev: &mut Event<'a>) -> Result<(), ParseError> {
        match self {
            Format::EntcoreJson => entcore_json::parse(line, ev),
            Format::Access(layout) => layout.parse(line, ev),
            Format::EntcorePgCsv(Some(c)) => c.parse(line, ev),
            Format::EntcorePgCsv(None) => Err(ParseError::CsvFields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        let name = |head: &[u8]| Format::detect(head).map(|f| f.name());
        assert_eq!(name(b"\n  \n{\"a\":1}\n"), Ok("entcore-json"));
        assert!(name(b"127.0.0.1 - - [...").is_err());
        assert!(name(b"").is_err());
        let csv = b"id,date,user_id,profile\n1,2020-03-16 08:00:00,u,Student\n";
        assert_eq!(name(csv), Ok("entcore-pg-csv"));
        let common = b"::1 - - [16/Mar/2020:08:12:33 +0100] \"GET / HTTP/1.1\" 200 5\n";
        assert_eq!(name(common), Ok("common"));
        let combined = [&common[..common.len() - 1], b" \"-\" \"ua\"\n"].concat();
        assert_eq!(name(&combined), Ok("combined"));
        let entcore = [&combined[..combined.len() - 1], b" 0.012 0.010 ext-42\n"].concat();
        assert_eq!(name(&entcore), Ok("entcore-access"));
        // A line cut by the end of the head is not held against a format.
        let cut = [&combined[..], &combined[..40]].concat();
        assert_eq!(name(&cut), Ok("combined"));
        // nginx with X-Forwarded-For and two times: entcore-access would
        // read the forwarded address as a time and a time as the user id.
        let nginx = [&combined[..combined.len() - 1], b" \"10.1.2.3\" 0.012 0.010\n"].concat();
        let err = name(&nginx).unwrap_err();
        assert!(err.contains("combined: 0/1 exactly, 1/1 with text after it"), "{err}");
        assert!(err.contains("--format nginx:"), "{err}");
        // Times in the right columns, but a duration where the user id is.
        let timed = [&combined[..combined.len() - 1], b" 0.020 0.012 0.010\n"].concat();
        assert!(name(&timed).is_err());
    }

    #[test]
    fn format_names() {
        for name in ["entcore-json", "entcore-pg-csv", "entcore-access", "common", "combined"] {
            assert_eq!(Format::from_name(name).unwrap().name(), name);
        }
        let nginx = Format::from_name("nginx:$msec \"$request\" $status").unwrap();
        assert_eq!(nginx.name(), "nginx");
        assert!(Format::from_name("nginx:$status").is_err());
        assert!(Format::from_name("apache").is_err());
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
