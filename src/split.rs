//! Cutting input into line-aligned chunks that workers parse
//! independently.
//!
//! A chunk always ends just after a `\n` or at the end of the input, so no
//! line is ever split between two workers. Lines end at `\n`; a `\r`
//! before it is dropped; the last line may lack its terminator.

use std::io::{self, Read};

/// Default chunk size: large enough to amortise scheduling, small enough
/// to balance two to a few dozen workers on a gigabyte.
pub const CHUNK_SIZE: usize = 4 << 20;

/// Cuts `data` into consecutive chunks of about `target` bytes (at least
/// one byte each), each ending at a line end or at the end of `data`.
pub fn chunks(data: &[u8], target: usize) -> Vec<&[u8]> {
    let target = target.max(1);
    let mut out = Vec::with_capacity(data.len() / target + 1);
    let mut rest = data;
    while !rest.is_empty() {
        let cut = if rest.len() <= target {
            rest.len()
        } else {
            match memchr::memchr(b'\n', &rest[target - 1..]) {
                Some(i) => target + i,
                None => rest.len(),
            }
        };
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// Iterates over the lines of a chunk, without terminators (`\n` or
/// `\r\n`). Blank lines are yielded too, so that line numbers stay true.
pub fn lines(chunk: &[u8]) -> Lines<'_> {
    Lines { rest: chunk }
}

/// Iterator returned by [`lines`]; finds line ends with `memchr`.
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// Reads a stream (decompressed data, stdin) into owned, line-aligned
/// chunks of about `target` bytes, holding at most one chunk plus one
/// partial line in memory.
pub struct StreamChunker<R> {
    reader: R,
    target: usize,
    /// Bytes read after the last line end of the previous chunk.
    carry: Vec<u8>,
    done: bool,
    /// A read error held back until the lines read before it are out.
    error: Option<io::Error>,
}

impl<R: Read> StreamChunker<R> {
    /// Wraps `reader`.
    pub fn new(reader: R, target: usize) -> Self {
        StreamChunker { reader, target: target.max(1), carry: Vec::new(), done: false, error: None }
    }

    /// Returns the next chunk, or `None` at the end of the stream. A line
    /// longer than `target` makes its chunk grow to hold it whole. On a
    /// read error, the complete lines read before it come out first, then
    /// the error (a partial line before the error is dropped).
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(self.target + self.target / 8);
        loop {
            let want = buf.len().max(self.target) + (self.target / 8).max(1);
            let start = buf.len();
            buf.resize(want, 0);
            let (n, err) = read_full(&mut self.reader, &mut buf[start..]);
            buf.truncate(start + n);
            if let Some(e) = err {
                self.done = true;
                let whole = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                if whole == 0 {
                    return Err(e);
                }
                self.error = Some(e);
                buf.truncate(whole);
                return Ok(Some(buf));
            }
            if n == 0 {
                self.done = true;
                return Ok(if buf.is_empty() { None } else { Some(buf) });
            }
            if buf.len() < self.target {
                continue;
            }
            // Cut after the last line end; keep the partial line for later.
            if let Some(i) = memchr::memrchr(b'\n', &buf[start..]) {
                self.carry = buf[start + i + 1..].to_vec();
                buf.truncate(start + i + 1);
                return Ok(Some(buf));
            }
        }
    }
}

/// Reads until `buf` is full, the stream ends or fails; retries
/// interruptions. Returns the bytes read, and the error if one stopped it.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs with every kind of line end, including none at the end.
    fn samples() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n".to_vec(),
            b"a".to_vec(),
            b"a\n".to_vec(),
            b"a\r\nbb\r\n\r\nccc".to_vec(),
            b"\n\n\nx\n\n".to_vec(),
        ];
        let mut x = 7u64;
        let mut big = Vec::new();
        for i in 0..5000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (x >> 58) as usize;
            big.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
            big.extend_from_slice(if x & 1 == 0 { b"\n" } else { b"\r\n" });
        }
        v.push(big.clone());
        big.extend_from_slice(b"tail-without-newline");
        v.push(big);
        v
    }

    fn all_lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        chunks.iter().flat_map(|c| lines(c)).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn chunks_concatenate_to_the_input_and_end_at_line_ends() {
        for data in samples() {
            for target in [1, 2, 3, 7, 64, 1000, 1 << 20] {
                let parts = chunks(&data, target);
                assert_eq!(parts.concat(), data);
                for (i, c) in parts.iter().enumerate() {
                    assert!(!c.is_empty());
                    if i + 1 < parts.len() {
                        assert_eq!(c.last(), Some(&b'\n'), "chunk {i} splits a line");
                    }
                }
                // The lines are the same as those of the whole input.
                assert_eq!(all_lines(&parts), all_lines(&[&data]));
            }
        }
    }

    /// A reader that fails after its data.
    struct Failing(io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("corrupt")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn stream_keeps_whole_lines_read_before_an_error() {
        let reader = Failing(io::Cursor::new(b"one\ntwo\nthr".to_vec()));
        let mut sc = StreamChunker::new(reader, 1 << 20);
        assert_eq!(sc.next_chunk().unwrap().unwrap(), b"one\ntwo\n");
        assert_eq!(sc.next_chunk().unwrap_err().to_string(), "corrupt");
        assert!(sc.next_chunk().unwrap().is_none());
    }

    #[test]
    fn lines_strip_terminators() {
        let got: Vec<&[u8]> = lines(b"a\r\n\nb\r").collect();
        assert_eq!(got, [&b"a"[..], b"", b"b"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\n").count(), 1);
        assert_eq!(lines(b"x").count(), 1);
    }

    #[test]
    fn stream_chunks_match_the_input() {
        for data in samples() {
            for target in [1, 5, 100, 4096] {
                // A reader that returns few bytes at a time.
                let reader = io::Cursor::new(data.clone()).take(u64::MAX);
                let mut sc = StreamChunker::new(reader, target);
                let mut parts = Vec::new();
                while let Some(c) = sc.next_chunk().unwrap() {
                    parts.push(c);
                }
                assert_eq!(parts.concat(), data);
                for (i, c) in parts.iter().enumerate() {
                    if i + 1 < parts.len() {
                        assert_eq!(c.last(), Some(&b'\n'));
                    }
                }
            }
        }
    }
}
