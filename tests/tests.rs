//! Integration tests: one binary, topic modules.

mod accounts;
mod algebra;
mod cli;
mod code;
mod codecs;
mod crosscheck;
mod dates;
mod demo;
mod determinism;
mod formats;
mod generate;
mod memory;
mod merge;
mod national;
mod outdir;
mod overlap;
mod quirks;
mod report;
mod util;
