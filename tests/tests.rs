//! Integration tests: one binary, topic modules.

mod cli;
mod codecs;
mod crosscheck;
mod demo;
mod determinism;
mod generate;
mod quirks;
mod report;
mod util;
