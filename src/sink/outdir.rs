//! The output directory, replaced as a whole.
//!
//! A run writes every table and `run.json` into a staging directory next
//! to its output directory, makes them durable (every file and directory
//! synced), then swaps the two in one step (`renameat2` with
//! `RENAME_EXCHANGE`) and removes the previous set. Readers see either
//! the previous complete set or the new one, never tables of two runs;
//! an error, a full disk, a kill or a power loss before the swap leaves
//! the previous set as it was. Staging directories left by a killed run
//! are removed by the next run into the same directory.
//!
//! Files of the output directory that no run wrote (a report the operator
//! keeps there, say) are carried over into the new set: the previous
//! `run.json` says which entries are the engine's.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Marker in the names of staging (`new`) and replaced (`old`) directories.
const MARK: &str = ".entlog-";

/// A staging directory that becomes an output directory on commit, and
/// is removed if dropped before.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates a staging directory for the output directory `dest` (its
    /// parent is created if missing), removing stale ones of runs that
    /// were killed.
    pub fn new(dest: &Path) -> Result<Staging> {
        let (parent, name) = split(dest)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        remove_stale(&parent, &name);
        let dir = parent.join(format!(".{name}{MARK}new-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Staging { dir, committed: false })
    }

    /// Where the outputs are written.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Makes the staged outputs durable and puts them in place of `dest`
    /// (created, or replaced as a whole with its foreign entries carried
    /// over).
    pub fn commit(mut self, dest: &Path) -> Result<()> {
        let (parent, name) = split(dest)?;
        if dest.is_dir() {
            carry_foreign(dest, &self.dir)?;
        } else if dest.exists() {
            return Err(Error::usage(format!("{}: exists and is not a directory", dest.display())));
        }
        sync_tree(&self.dir)?;
        if dest.is_dir() {
            let old = parent.join(format!(".{name}{MARK}old-{}", std::process::id()));
            let old = swap(&self.dir, dest, &old)?;
            self.committed = true;
            sync(&parent)?;
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        } else {
            std::fs::rename(&self.dir, dest).map_err(|e| Error::io(dest, e))?;
            self.committed = true;
            sync(&parent)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a leftover is removed by the next run anyway.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The parent directory and file name of an output directory.
fn split(dest: &Path) -> Result<(PathBuf, String)> {
    let bad = || Error::usage(format!("{}: not a usable output directory", dest.display()));
    let abs = std::path::absolute(dest).map_err(|e| Error::io(dest, e))?;
    let name = abs.file_name().ok_or_else(bad)?.to_str().ok_or_else(bad)?.to_string();
    let parent = abs.parent().ok_or_else(bad)?.to_path_buf();
    Ok((parent, name))
}

/// Puts `staged` at `dest` and the previous `dest` at `staged`'s name, in
/// one step where the file system can; otherwise by two renames through
/// `old` (a reader may then find no directory for an instant, never a
/// mixed one). Returns where the previous set now is.
fn swap(staged: &Path, dest: &Path, old: &Path) -> Result<PathBuf> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, staged, CWD, dest, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(staged.to_path_buf()),
        Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::NOTSUP => {
            std::fs::rename(dest, old).map_err(|e| Error::io(dest, e))?;
            std::fs::rename(staged, dest).map_err(|e| Error::io(dest, e))?;
            Ok(old.to_path_buf())
        }
        Err(e) => Err(Error::io(dest, e.into())),
    }
}

/// Links into `staged` the entries of `dest` that the run which wrote it
/// did not write (its `run.json` lists its outputs): they are the
/// operator's, and survive the swap.
fn carry_foreign(dest: &Path, staged: &Path) -> Result<()> {
    let ours: Vec<String> = std::fs::read(dest.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["outputs"].as_array().map(|a| {
                a.iter().filter_map(|o| o.as_str().map(str::to_string)).collect::<Vec<_>>()
            })
        })
        .unwrap_or_default();
    for entry in std::fs::read_dir(dest).map_err(|e| Error::io(dest, e))? {
        let entry = entry.map_err(|e| Error::io(dest, e))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text == "run.json" || ours.iter().any(|o| *o == text) || staged.join(&name).exists() {
            continue;
        }
        link_tree(&entry.path(), &staged.join(&name))?;
    }
    Ok(())
}

/// Hard-links the file `from` to `to`, or recreates the directory `from`
/// at `to` with its files hard-linked.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir(to).map_err(|e| Error::io(to, e))?;
        for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
            let entry = entry.map_err(|e| Error::io(from, e))?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to).map_err(|e| Error::io(from, e))
    }
}

/// Syncs every file and directory under `dir` to disk, `dir` last.
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            sync(&path)?;
        }
    }
    sync(dir)
}

/// Syncs a file, or a directory's entries, to disk.
pub(crate) fn sync(path: &Path) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Removes the staging and replaced directories of `name` in `parent`
/// whose process is gone (killed before it could clean up).
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{name}{MARK}");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let pid = rest.strip_prefix("new-").or_else(|| rest.strip_prefix("old-"));
        let alive = |pid: &str| Path::new("/proc").join(pid).exists();
        if pid.is_some_and(|p| p.parse::<u32>().is_ok() && !alive(p)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                let text =
                    if p.is_dir() { "<dir>".into() } else { std::fs::read_to_string(&p).unwrap() };
                (name, text)
            })
            .collect();
        out.sort();
        out
    }

    /// A staging directory for `out` holding `files` (name, text).
    fn staged(out: &Path, files: &[(&str, &str)]) -> Staging {
        let s = Staging::new(out).unwrap();
        for (name, text) in files {
            std::fs::write(s.path().join(name), text).unwrap();
        }
        s
    }

    #[test]
    fn a_commit_replaces_the_whole_set_and_keeps_foreign_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let run = |table| format!(r#"{{"outputs":["{table}","run.json"]}}"#);
        staged(&out, &[("a.parquet", "1"), ("run.json", &run("a.parquet"))]).commit(&out).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        staged(&out, &[("b.parquet", "2"), ("run.json", &run("b.parquet"))]).commit(&out).unwrap();
        let names: Vec<String> = files(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["b.parquet", "notes.txt", "run.json"]);
        // Nothing is left beside the output directory.
        assert_eq!(files(tmp.path()).len(), 1);
    }

    #[test]
    fn a_dropped_staging_leaves_the_previous_set() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        staged(&out, &[("run.json", "{}")]).commit(&out).unwrap();
        let before = files(&out);
        drop(staged(&out, &[("run.json", "{\"other\":1}")]));
        assert_eq!(files(&out), before);
        assert_eq!(files(tmp.path()).len(), 1);
    }

    #[test]
    fn stale_staging_of_a_killed_run_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        // No process has this pid (above the kernel's maximum).
        let stale = tmp.path().join(".out.entlog-new-4294967295");
        std::fs::create_dir(&stale).unwrap();
        let s = Staging::new(&out).unwrap();
        assert!(!stale.exists());
        drop(s);
    }
}
