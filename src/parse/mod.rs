//! Log formats: each turns one line into a borrowed [`Event`] or a
//! [`ParseError`].
//!
//! A parser never allocates for a well-formed line: strings are slices of
//! the input, and the caller reuses one `Event` for every line of a chunk.
//! Only strings holding JSON escapes are decoded into owned buffers.

pub mod access;
mod entcore_json;
mod event;
pub mod json;
mod pg_csv;

pub use access::Layout;
pub use event::{Event, EventKind, Http, ParseError, Profile};
pub use pg_csv::Columns;

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
                None if name == "nginx" => Err("nginx needs its log_format: \
                    --format nginx:'<the log_format of nginx.conf>' (entlog generate \
                    --format nginx writes it to log_format.conf)"
                    .to_string()),
                None => Err(format!(
                    "unknown format {name:?}; the formats are auto, entcore-json, \
                     entcore-pg-csv, entcore-access, common, combined and \
                     nginx:'<log_format>'"
                )),
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
