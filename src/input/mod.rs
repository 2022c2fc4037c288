//! Opening inputs: files, directories and stdin, plain or compressed.
//!
//! Compression is detected from magic bytes, never from the file name.
//! Plain files are memory-mapped (unless `--no-mmap`) and parsed in place;
//! compressed files and stdin are decompressed as a stream into bounded,
//! line-aligned chunks, so a 50 GB `.gz` never needs 50 GB of memory.

pub mod fingerprint;
mod mmap;

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Compression of an input, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or several concatenated members).
    Gzip,
    /// Zstandard (one or several frames).
    Zstd,
}

impl Compression {
    /// Detects the compression from the first bytes of an input.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name written in `run.json`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Where the bytes of an opened input come from.
pub enum Source {
    /// A mapped plain file, or an empty one (`None`).
    Mapped(Option<memmap2::Mmap>),
    /// A stream to read in chunks (decompressed or stdin).
    Stream(Box<dyn BufRead + Send>),
}

/// An opened input.
pub struct Input {
    /// The path given (or found in a directory); `-` is stdin.
    pub path: PathBuf,
    /// How the bytes are stored.
    pub compression: Compression,
    /// Size on disk, when the input is a file.
    pub bytes_on_disk: Option<u64>,
    /// The bytes.
    pub source: Source,
}

/// Expands the command-line inputs: directories are walked recursively in
/// name order (hidden entries skipped), `-` stays stdin. Paths that cannot
/// be listed are returned as errors beside the files found.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            files.push(p.clone());
        } else {
            walk(p, &mut files, &mut errors);
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Error>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd.collect::<io::Result<Vec<_>>>(),
        Err(e) => Err(e),
    };
    let mut entries = match entries {
        Ok(v) => v,
        Err(e) => return errors.push(Error::io(dir, e)),
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        if path.is_dir() { walk(&path, files, errors) } else { files.push(path) }
    }
}

/// Opens one input. `mmap` allows memory-mapping plain files.
pub fn open(path: &Path, mmap: bool) -> Result<Input> {
    let err = |e| Error::io(path, e);
    if path.as_os_str() == "-" {
        let reader = BufReader::with_capacity(1 << 16, io::stdin());
        return from_reader(path, None, Box::new(reader)).map_err(err);
    }
    let file = File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    if meta.is_dir() {
        return Err(err(io::Error::other("is a directory")));
    }
    let mut head = [0u8; 4];
    let n = read_head(&file, &mut head).map_err(err)?;
    let compression = Compression::detect(&head[..n]);
    if compression == Compression::None && mmap && meta.is_file() {
        let map = mmap::map(&file).map_err(err)?;
        return Ok(Input {
            path: path.to_path_buf(),
            compression,
            bytes_on_disk: Some(meta.len()),
            source: Source::Mapped(map),
        });
    }
    let file = File::open(path).map_err(err)?;
    let reader = BufReader::with_capacity(1 << 16, file);
    from_reader(path, Some(meta.len()), Box::new(reader)).map_err(err)
}

/// Reads up to `buf.len()` bytes from the start of `file`.
fn read_head(mut file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Opens an input read from `reader` (stdin, a file that is not mapped),
/// wrapped in the decompressor its first bytes call for; `path` names it.
pub fn from_reader(
    path: &Path,
    bytes_on_disk: Option<u64>,
    mut reader: Box<dyn BufRead + Send>,
) -> io::Result<Input> {
    let compression = Compression::detect(reader.fill_buf()?);
    let source: Box<dyn BufRead + Send> = match compression {
        Compression::None => reader,
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(reader),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            1 << 16,
            zstd::stream::read::Decoder::with_buffer(reader)?,
        )),
    };
    Ok(Input {
        path: path.to_path_buf(),
        compression,
        bytes_on_disk,
        source: Source::Stream(source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_compression_by_magic() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(Compression::detect(b"{\"a\""), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }

    fn read_all(input: Input) -> Vec<u8> {
        match input.source {
            Source::Mapped(m) => m.map(|m| m.to_vec()).unwrap_or_default(),
            Source::Stream(mut r) => {
                let mut v = Vec::new();
                r.read_to_end(&mut v).unwrap();
                v
            }
        }
    }

    #[test]
    fn opens_every_codec_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"line one\nline two\n".repeat(1000);
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, &data).unwrap();
        // Misleading extensions on purpose: detection is by content.
        let gz = dir.path().join("b.log");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = dir.path().join("c.gz");
        std::fs::write(&zst, zstd::encode_all(&data[..], 1).unwrap()).unwrap();
        let empty = dir.path().join("d.log");
        std::fs::write(&empty, b"").unwrap();
        for (p, c) in
            [(&plain, Compression::None), (&gz, Compression::Gzip), (&zst, Compression::Zstd)]
        {
            for mmap in [true, false] {
                let input = open(p, mmap).unwrap();
                assert_eq!(input.compression, c);
                assert_eq!(read_all(input), data);
            }
        }
        assert!(read_all(open(&empty, true).unwrap()).is_empty());
        assert!(open(&dir.path().join("missing"), true).is_err());
    }

    #[test]
    fn walks_directories_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b", "a", "sub/c", ".hidden"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let (files, errors) = expand(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        let names: Vec<_> =
            files.iter().map(|p| p.strip_prefix(dir.path()).unwrap().to_owned()).collect();
        assert_eq!(names, [PathBuf::from("a"), "b".into(), "sub/c".into()]);
    }
}
