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

/// Longest line read: an event is a few hundred bytes, and a stream
/// without line ends (a corrupt or hostile input) must not take all the
/// memory. A longer line is rejected as too long; a stream holds at most
/// its first `MAX_LINE + 1` bytes.
pub const MAX_LINE: usize = 64 << 20;

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
/// partial line (of at most [`MAX_LINE`] + 1 bytes) in memory.
pub struct StreamChunker<R> {
    reader: R,
    target: usize,
    /// Lines longer than this are cut to `max_line + 1` bytes.
    max_line: usize,
    /// Bytes read after the last line end of the previous chunk.
    carry: Vec<u8>,
    /// Bytes read past the end of an overlong line, to be read again.
    pending: Vec<u8>,
    done: bool,
    /// A read error held back until the lines read before it are out.
    error: Option<io::Error>,
}

impl<R: Read> StreamChunker<R> {
    /// Wraps `reader`.
    pub fn new(reader: R, target: usize) -> Self {
        StreamChunker {
            reader,
            target: target.max(1),
            max_line: MAX_LINE,
            carry: Vec::new(),
            pending: Vec::new(),
            done: false,
            error: None,
        }
    }

    /// Sets the longest line kept whole (default [`MAX_LINE`]).
    pub fn max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    /// Returns the next chunk, or `None` at the end of the stream. A line
    /// longer than `target` makes its chunk grow to hold it whole, up to
    /// the longest line kept: past it, the line's first `max_line + 1`
    /// bytes are kept (the scan rejects the line as too long) and the rest
    /// is read and dropped. On a read error, the complete lines read
    /// before it come out first, then the error (a partial line before the
    /// error is dropped).
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(self.target + self.target / 8);
        // Where the last line of `buf` starts: the carry holds no line end.
        let mut line_start = 0;
        loop {
            let want = buf.len().max(self.target) + (self.target / 8).max(1);
            let start = buf.len();
            buf.resize(want, 0);
            let (n, err) = self.fill(&mut buf[start..]);
            buf.truncate(start + n);
            if let Some(e) = err {
                return self.fail(buf, e);
            }
            if n == 0 {
                self.done = true;
                return Ok(if buf.is_empty() { None } else { Some(buf) });
            }
            if let Some(i) = memchr::memrchr(b'\n', &buf[start..]) {
                line_start = start + i + 1;
            }
            if buf.len() - line_start > self.max_line {
                buf.truncate(line_start + self.max_line + 1);
                if let Some(e) = self.drop_rest_of_line(&mut buf) {
                    return self.fail(buf, e);
                }
                // `buf` now ends with a line end.
                if buf.len() >= self.target {
                    return Ok(Some(buf));
                }
                line_start = buf.len();
                continue;
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

    /// Ends the stream on a read error: the whole lines of `buf` come out
    /// now, the error with the next call.
    fn fail(&mut self, mut buf: Vec<u8>, e: io::Error) -> io::Result<Option<Vec<u8>>> {
        self.done = true;
        let whole = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
        if whole == 0 {
            return Err(e);
        }
        self.error = Some(e);
        buf.truncate(whole);
        Ok(Some(buf))
    }

    /// Fills `buf` from the pending bytes, then from the reader.
    fn fill(&mut self, buf: &mut [u8]) -> (usize, Option<io::Error>) {
        let k = self.pending.len().min(buf.len());
        buf[..k].copy_from_slice(&self.pending[..k]);
        self.pending.drain(..k);
        if k == buf.len() {
            return (k, None);
        }
        let (n, err) = read_full(&mut self.reader, &mut buf[k..]);
        (k + n, err)
    }

    /// Reads and drops the rest of an overlong line, then ends the line in
    /// `buf`; what followed the line is read again. Returns the read error
    /// that stopped it, if one did.
    fn drop_rest_of_line(&mut self, buf: &mut Vec<u8>) -> Option<io::Error> {
        let mut scratch = vec![0u8; 1 << 16];
        loop {
            let (n, err) = self.fill(&mut scratch);
            if let Some(i) = memchr::memchr(b'\n', &scratch[..n]) {
                buf.push(b'\n');
                let mut rest = scratch[i + 1..n].to_vec();
                rest.append(&mut self.pending);
                self.pending = rest;
                return err;
            }
            if err.is_some() || n == 0 {
                return err;
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

    #[test]
    fn stream_cuts_overlong_lines_and_keeps_the_others() {
        // Lines of 0 to 40 bytes among lines of 1,000 to 3,000 bytes, one
        // with no line end at the very end; the longest kept is 25 bytes.
        // A longer line comes out longer than that (the scan rejects it),
        // cut short where it had to be for memory's sake.
        let mut data = Vec::new();
        let mut expected: Vec<Vec<u8>> = Vec::new();
        for i in 0..200usize {
            let len = if i % 7 == 3 { 1000 + i * 10 } else { i % 41 };
            expected.push(vec![b'a' + (i % 26) as u8; len]);
            data.extend_from_slice(expected.last().unwrap());
            data.push(b'\n');
        }
        data.extend_from_slice(&[b'z'; 3000]);
        expected.push(vec![b'z'; 3000]);
        for target in [1, 7, 64, 4096] {
            let mut sc = StreamChunker::new(io::Cursor::new(data.clone()), target).max_line(25);
            let mut got = Vec::new();
            while let Some(c) = sc.next_chunk().unwrap() {
                // A chunk's reads, and a line cut short on either side.
                assert!(c.len() <= target + target / 8 + 2 * 27, "{}", c.len());
                got.extend(lines(&c).map(<[u8]>::to_vec));
            }
            assert_eq!(got.len(), expected.len());
            for (got, line) in got.iter().zip(&expected) {
                if line.len() <= 25 {
                    assert_eq!(got, line);
                } else {
                    assert!(got.len() > 25 && line.starts_with(got), "target {target}");
                }
            }
        }
    }
}
