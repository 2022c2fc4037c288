/*!
entlog turns the connection logs of French school digital workspaces (ENT)
into the audience figures their operators publish, and into Parquet tables
data teams query.

# Brief overview

The pipeline is one pass over the data:

```text
inputs -> input -> split -> parse -> aggregate -> finish -> sink
```

- [`input`] opens files (memory-mapped), directories and stdin; gzip and
  zstd are detected by magic bytes and decompressed as streams.
- [`split`] cuts bytes into line-aligned chunks.
- [`parse`] turns a line into a borrowed [`parse::Event`] or a
  [`parse::ParseError`] (counted, never fatal).
- [`aggregate`] folds events into per-worker state, merges states, and
  finishes them into rows; distinct users are counted from keyed user
  pseudonyms ([`keys`]), never summed.
- [`sink`] writes the tables and `run.json` into a staging directory
  that replaces the output directory as a whole.

# Example

```
use entlog::analyze::{analyze, AnalyzeOptions};

let dir = tempfile::tempdir()?;
let log = dir.path().join("events.json");
std::fs::write(&log, concat!(
    r#"{"event-type":"LOGIN","date":1584345600000,"userId":"u1","profil":"Student"}"#, "\n",
    r#"{"event-type":"LOGIN","date":1584349200000,"userId":"u1","profil":"Student"}"#, "\n",
    "not json\n",
))?;
let run = analyze(&AnalyzeOptions::new(vec![log], dir.path().join("out")))?;
assert_eq!(run.report.records, 2);
assert_eq!(run.report.rejected, 1);
assert_eq!(run.report.inputs[0].rejected_samples[0].line, 3);
// One line in three rejected is over the default --max-rejected (1%): the
// run failed, its tables are set aside and `out` is left as it was.
assert!(run.report.problems[0].contains("more than --max-rejected"));
assert!(dir.path().join("out.failed/audience.parquet").exists());
assert!(!dir.path().join("out").exists());
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod aggregate;
pub mod alloc;
pub mod analyze;
pub mod annuaire;
pub mod cli;
pub mod demo;
pub mod device;
pub mod error;
pub mod generate;
pub mod hash;
pub mod input;
pub mod keys;
pub mod merge;
pub mod national;
pub mod parse;
pub mod referential;
pub mod report;
pub mod scan;
pub mod service;
pub mod sink;
pub mod sketch;
pub mod spill;
pub mod split;
pub mod stored;
pub mod time;

pub use error::{Error, ErrorKind, Result};
