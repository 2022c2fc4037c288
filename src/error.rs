//! The library's error type: one boxed kind, carrying where it happened.
//!
//! Malformed log lines are not errors (they are counted as rejections, see
//! [`crate::parse::ParseError`]); these are the failures that stop an input
//! or a run: unreadable files, bad options, a referential that cannot be
//! read, an output that cannot be written.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An error of the engine; see [`ErrorKind`].
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file or stream could not be opened, read or written.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file concerned (`-` for stdin).
        path: PathBuf,
        /// The underlying error (in the message, not a separate source, so
        /// that a chain of causes does not print it twice).
        cause: io::Error,
    },
    /// A line of a referential file is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Referential {
        /// The referential file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// An option is invalid (time zone, format name, ...).
    #[error("{0}")]
    Usage(String),
    /// An output table could not be encoded.
    #[error("{}: {message}", path.display())]
    Output {
        /// The table being written.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The file the error is about, if one.
    pub fn path(&self) -> Option<&Path> {
        match &*self.0 {
            ErrorKind::Io { path, .. }
            | ErrorKind::Referential { path, .. }
            | ErrorKind::Output { path, .. } => Some(path),
            ErrorKind::Usage(_) => None,
        }
    }

    /// The message without the file it is about (for reports that already
    /// name the file).
    pub fn cause(&self) -> String {
        match &*self.0 {
            ErrorKind::Io { cause, .. } => cause.to_string(),
            ErrorKind::Output { message, .. } => message.clone(),
            _ => self.to_string(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Error {
        ErrorKind::Io { path: path.as_ref().to_path_buf(), cause: source }.into()
    }

    /// An invalid option.
    pub fn usage(message: impl Into<String>) -> Error {
        ErrorKind::Usage(message.into()).into()
    }

    /// A failure to encode the output table at `path`.
    pub fn output(path: impl AsRef<Path>, message: impl fmt::Display) -> Error {
        let path = path.as_ref().to_path_buf();
        ErrorKind::Output { path, message: message.to_string() }.into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

/// Result with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
