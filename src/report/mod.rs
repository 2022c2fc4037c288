//! What people read: the terminal summary and the HTML report, both drawn
//! from the same [`data::ReportData`].

pub mod data;
pub mod html;
pub mod json;
pub mod lang;
pub mod summary;

use crate::error::{Error, Result};
use data::ReportData;
use lang::Lang;
use std::path::Path;

/// Writes the HTML report of `data` to `path`, atomically.
pub fn write_html(
    path: &Path,
    data: &ReportData,
    tz: &str,
    month: Option<i32>,
    lang: Lang,
) -> Result<()> {
    let page = html::render(data, tz, month, lang);
    crate::sink::atomic_write(path, |f| {
        std::io::Write::write_all(f, page.as_bytes()).map_err(|e| Error::io(path, e))
    })
}

/// The time zone a finished run in `dir` cut its periods in, from its
/// `run.json`.
pub fn run_time_zone(dir: &Path) -> Result<String> {
    let path = dir.join("run.json");
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let run: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| Error::output(&path, e))?;
    Ok(run["options"]["tz"].as_str().unwrap_or("Europe/Paris").to_string())
}
