//! What a parsed line is: an [`Event`] borrowing from its line, or the
//! [`ParseError`] it was rejected for.

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

    /// The rank of [`Profile::name`] in alphabetical order: rows sort by
    /// profile name without comparing strings.
    pub fn name_rank(self) -> u8 {
        match self {
            Profile::Guest => 0,
            Profile::Personnel => 1,
            Profile::Relative => 2,
            Profile::Student => 3,
            Profile::Teacher => 4,
            Profile::Unknown => 5,
        }
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
    /// The user agent (`ua` of the event store and of a PostgreSQL
    /// export, `$http_user_agent` of an access log), empty when unknown.
    pub ua: Cow<'a, [u8]>,
    /// The event's own id (`_id` of the event store, `id` of a PostgreSQL
    /// export), empty when the format has none; `--dedup` reads it.
    pub id: Cow<'a, [u8]>,
    /// Structure ids the event is attached to, as given (duplicates
    /// possible).
    pub structures: Vec<Cow<'a, [u8]>>,
    /// Class ids the event is attached to (`classes` of the event store),
    /// as given.
    pub classes: Vec<Cow<'a, [u8]>>,
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
            ua: Cow::Borrowed(b""),
            id: Cow::Borrowed(b""),
            structures: Vec::with_capacity(8),
            classes: Vec::with_capacity(4),
            naive_time: false,
            http: None,
        }
    }
}

impl Event<'_> {
    /// Resets every field, keeping the buffers of structures and classes.
    pub fn clear(&mut self) {
        self.time_ms = 0;
        self.kind = EventKind::Other;
        self.user = Cow::Borrowed(b"");
        self.profile = Profile::Unknown;
        self.module = Cow::Borrowed(b"");
        self.ua = Cow::Borrowed(b"");
        self.id = Cow::Borrowed(b"");
        self.structures.clear();
        self.classes.clear();
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
    /// A line longer than [`crate::split::MAX_LINE`].
    LineTooLong,
    /// An event whose id was already read (`--dedup`): skipped, not
    /// rejected.
    Duplicate,
    /// An event outside `--since` / `--until`: skipped, not rejected.
    OutsidePeriod,
}

impl ParseError {
    /// Whether the line was left out on purpose, by an option, rather
    /// than rejected as bad data: such lines are counted apart and never
    /// fail a run.
    pub fn is_skip(self) -> bool {
        matches!(self, ParseError::Duplicate | ParseError::OutsidePeriod)
    }
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
            ParseError::LineTooLong => "line longer than 64 MiB",
            ParseError::Duplicate => "event id already read (--dedup)",
            ParseError::OutsidePeriod => "outside --since/--until",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_ranks_follow_the_names() {
        let mut by_name = Profile::ALL;
        by_name.sort_by_key(|p| p.name());
        let ranks: Vec<u8> = by_name.iter().map(|p| p.name_rank()).collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 5]);
    }
}
