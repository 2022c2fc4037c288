//! A validating, allocation-free JSON scanner for one line.
//!
//! The event store has a dozen fields of which the engine reads six, so a
//! tree-building parser would spend most of its time on what is thrown
//! away. This scanner walks the line once, checks the JSON grammar
//! (RFC 8259) of everything, including the values it skips, and hands
//! strings back as borrowed slices of the input; only a string holding
//! escapes is decoded, and only when the caller asks for it.

use std::borrow::Cow;

/// Deepest nesting accepted; deeper input is rejected rather than risking
/// the stack.
const MAX_DEPTH: u32 = 64;

/// Why a line is not valid JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The grammar is broken (truncated line, stray byte, bad escape...).
    Syntax,
    /// Nesting deeper than the scanner accepts.
    TooDeep,
    /// A string is not valid UTF-8.
    Utf8,
}

/// Result of a scanner step.
pub type JsonResult<T> = Result<T, JsonError>;

/// A JSON string as it appears in the input, without its quotes.
#[derive(Clone, Copy, Debug)]
pub struct JsonStr<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The string's value: borrowed when it has no escapes, decoded
    /// otherwise.
    pub fn value(self) -> Cow<'a, [u8]> {
        if !self.escaped {
            return Cow::Borrowed(self.raw);
        }
        Cow::Owned(unescape(self.raw))
    }

    /// True if and only if the string's value equals `lit`.
    pub fn is(self, lit: &[u8]) -> bool {
        if self.escaped { unescape(self.raw) == lit } else { self.raw == lit }
    }
}

/// Decodes the escapes of a string the scanner has already validated.
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => 0,
        };
        if e != b'u' {
            out.push(simple);
            continue;
        }
        let hi = hex4(&raw[i..i + 4]).unwrap_or(0xfffd);
        i += 4;
        let code = if (0xd800..0xdc00).contains(&hi) {
            // Validation guaranteed the low surrogate follows.
            let lo = hex4(&raw[i + 2..i + 6]).unwrap_or(0xdc00);
            i += 6;
            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
        } else {
            hi
        };
        let ch = char::from_u32(code).unwrap_or('\u{fffd}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    out
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// A cursor over one line of JSON.
pub struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// Starts scanning `s` at its first byte.
    pub fn new(s: &'a [u8]) -> Scanner<'a> {
        Scanner { s, pos: 0 }
    }

    /// Skips JSON whitespace.
    #[inline]
    pub fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, c: u8) -> JsonResult<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    /// Succeeds if and only if nothing but whitespace is left.
    pub fn end(&mut self) -> JsonResult<()> {
        if self.peek().is_none() { Ok(()) } else { Err(JsonError::Syntax) }
    }

    /// Reads a string; the next non-whitespace byte must be `"`.
    ///
    /// Inlined: a line holds about twenty strings, nearly all plain ASCII,
    /// which end at the first byte the scan stops at; the rest (escapes,
    /// non-ASCII bytes, a line that ends inside the string) is out of line.
    #[inline(always)]
    pub fn string(&mut self) -> JsonResult<JsonStr<'a>> {
        self.expect(b'"')?;
        let (s, start) = (self.s, self.pos);
        let end = next_stop(s, start);
        if s.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return Ok(JsonStr { raw: &s[start..end], escaped: false });
        }
        self.string_from(start, end)
    }

    /// Reads the rest of the string that starts at `start`, from `i`, the
    /// first byte of it that is not plain ASCII or the end of the line.
    #[inline(never)]
    fn string_from(&mut self, start: usize, mut i: usize) -> JsonResult<JsonStr<'a>> {
        let s = self.s;
        let (mut escaped, mut ascii) = (false, true);
        loop {
            match s.get(i) {
                None => return Err(JsonError::Syntax),
                Some(b'"') => {
                    let raw = &s[start..i];
                    self.pos = i + 1;
                    if !ascii && std::str::from_utf8(raw).is_err() {
                        return Err(JsonError::Utf8);
                    }
                    return Ok(JsonStr { raw, escaped });
                }
                Some(b'\\') => {
                    escaped = true;
                    i += escape_len(&s[i..])?;
                }
                Some(0..=0x1f) => return Err(JsonError::Syntax),
                Some(&c) => {
                    ascii &= c < 0x80;
                    i += 1;
                }
            }
            i = next_stop(s, i);
        }
    }

    /// Reads a number and returns its text; the grammar is checked.
    pub fn number(&mut self) -> JsonResult<&'a [u8]> {
        self.ws();
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(JsonError::Syntax),
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return Err(JsonError::Syntax);
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(JsonError::Syntax);
            }
        }
        self.pos = i;
        Ok(&s[start..i])
    }

    /// Reads `null`, returning true, or leaves the cursor and returns false.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.s[self.pos..].starts_with(b"null") {
            self.pos += 4;
            return true;
        }
        false
    }

    /// Reads an object, calling `member` with each key; `member` must
    /// consume the value (possibly with [`Scanner::skip`]).
    #[inline]
    pub fn object(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&mut Self, JsonStr<'a>) -> JsonResult<()>,
    ) -> JsonResult<()> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            member(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// Reads an array, calling `item` for each element; `item` must
    /// consume it.
    pub fn array(
        &mut self,
        depth: u32,
        mut item: impl FnMut(&mut Self) -> JsonResult<()>,
    ) -> JsonResult<()> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// Validates and skips any value; `depth` is the nesting level of the
    /// value itself.
    pub fn skip(&mut self, depth: u32) -> JsonResult<()> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(depth, |sc, _| sc.skip(depth + 1)),
            Some(b'[') => self.array(depth, |sc| sc.skip(depth + 1)),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn literal(&mut self, lit: &[u8]) -> JsonResult<()> {
        if self.s[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }
}

/// Length of the escape sequence at the start of `s` (which holds `\`).
fn escape_len(s: &[u8]) -> JsonResult<usize> {
    match s.get(1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(2),
        Some(b'u') => {
            let cp = s.get(2..6).and_then(hex4).ok_or(JsonError::Syntax)?;
            match cp {
                0xd800..=0xdbff => {
                    // A high surrogate must be followed by a low one.
                    if s.get(6) != Some(&b'\\') || s.get(7) != Some(&b'u') {
                        return Err(JsonError::Utf8);
                    }
                    match s.get(8..12).and_then(hex4) {
                        Some(0xdc00..=0xdfff) => Ok(12),
                        _ => Err(JsonError::Utf8),
                    }
                }
                0xdc00..=0xdfff => Err(JsonError::Utf8),
                _ => Ok(6),
            }
        }
        _ => Err(JsonError::Syntax),
    }
}

/// The position of the first byte of `s` from `from` on that a string scan
/// stops at (`"`, `\\`, control characters and non-ASCII bytes), or the
/// length of `s` if there is none.
///
/// Sixteen bytes at a time with SSE2 (every x86-64): most strings are
/// short ASCII keys and ids, where a byte loop or a memchr call per string
/// costs more than the string, but the user agents, a third of an event's
/// bytes, are long.
#[inline]
fn next_stop(s: &[u8], from: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let mut i = from;
        while let Some(block) = s.get(i..i + 16) {
            let stops = sse2::stops(block);
            if stops != 0 {
                return i + stops.trailing_zeros() as usize;
            }
            i += 16;
        }
        // The last bytes, padded with NULs, which are stops: the last
        // string of every line ends there.
        let rest = s.get(i..).unwrap_or_default();
        let mut block = [0u8; 16];
        block[..rest.len()].copy_from_slice(rest);
        i + sse2::stops(&block).trailing_zeros() as usize
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        // A byte at a time elsewhere: x86-64 is where entlog is measured.
        let stop = |c: &u8| matches!(c, b'"' | b'\\' | 0..=0x1f | 0x80..);
        s.get(from..).unwrap_or_default().iter().position(stop).map_or(s.len(), |p| from + p)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// One bit per byte of the first 16 bytes of `block`, set for the bytes
    /// a string scan stops at: `"`, `\\`, control characters and non-ASCII
    /// bytes.
    #[inline]
    #[allow(unsafe_code)]
    pub(super) fn stops(block: &[u8]) -> u32 {
        assert!(block.len() >= 16);
        // SAFETY: the block holds at least 16 readable bytes (checked
        // above; the load takes any alignment), and SSE2 is enabled, as on
        // every x86-64 (the `cfg` of this module).
        unsafe {
            let x = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
            // Compared as signed bytes, non-ASCII bytes (0x80 and up) are
            // negative, so below 0x20 with the control characters.
            let low = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low)) as u32
        }
    }
}

/// Parses a decimal integer written strictly: an optional sign (`+` or
/// `-`) then one or more ASCII digits, nothing else (what Python's `int()`
/// accepts, less its underscores and spaces); `None` when the text is
/// anything else or the value does not fit in an `i64`.
pub fn parse_long(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Up to 18 digits cannot overflow (every event's date has 13): the
    // checks are only for longer numbers.
    let checked = digits.len() > 18;
    // Accumulated negative, so that `i64::MIN` fits.
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        v = if checked { v.checked_mul(10)?.checked_sub(d)? } else { v * 10 - d };
    }
    if neg { Some(v) } else { v.checked_neg() }
}

/// Parses the text of a JSON number (already checked against the JSON
/// grammar by [`Scanner::number`]) as an integer: exact for integers,
/// truncated toward zero for fractions and exponents; `None` when the
/// value does not fit in an `i64`.
pub fn number_to_i64(text: &[u8]) -> Option<i64> {
    // Integers, every event's date among them, are read without a scan
    // for a fraction or an exponent first.
    if let Some(v) = parse_long(text) {
        return Some(v);
    }
    if !text.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        return None;
    }
    let f: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    if f.is_finite() && f.abs() < 9.2e18 { Some(f.trunc() as i64) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(s: &str) -> bool {
        let mut sc = Scanner::new(s.as_bytes());
        sc.skip(0).and_then(|()| sc.end()).is_ok()
    }

    #[test]
    fn accepts_json() {
        for s in [
            r#"{}"#,
            r#" { "a" : [1, -2.5e3, true, false, null, "x\"}{"] } "#,
            r#"{"a":{"b":{"c":[[],{}]}}}"#,
            r#""\u00e9\ud83d\ude00\/\\\b\f\n\r\t""#,
            "\"caf\u{e9}\"",
            "0",
            "-0.0E+1",
        ] {
            assert!(valid(s), "{s}");
        }
    }

    #[test]
    fn rejects_broken_json() {
        for s in [
            r#"{"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":tru}"#,
            r#"{"a":"x}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{} {}"#,
            r#"[1 2]"#,
            "",
        ] {
            assert!(!valid(s), "{s}");
        }
        assert!(!valid(&"[".repeat(100)));
        let mut sc = Scanner::new(b"\"\xff\"");
        assert_eq!(sc.string().unwrap_err(), JsonError::Utf8);
    }

    #[test]
    fn decodes_escapes() {
        let mut sc = Scanner::new(br#""a\"b\\c\/d\u00e9\ud83d\ude00""#);
        let s = sc.string().unwrap();
        assert_eq!(&*s.value(), "a\"b\\c/d\u{e9}\u{1f600}".as_bytes());
        let mut sc = Scanner::new(br#""plain""#);
        assert!(matches!(sc.string().unwrap().value(), Cow::Borrowed(b"plain")));
        let mut sc = Scanner::new(br#""\u004cOGIN""#);
        assert!(sc.string().unwrap().is(b"LOGIN"));
    }

    #[test]
    fn next_stop_skips_only_plain_bytes() {
        let mut rng = 0x0fed_cba9_8765_4321u64;
        for round in 0..20_000 {
            // Mostly plain bytes, so that runs longer than a block occur.
            let len = round % 70;
            let mut line = Vec::with_capacity(len + 8);
            while line.len() < len {
                let w = biased_word(&mut rng);
                line.extend(
                    w.iter().map(|&c| if rng.is_multiple_of(5) || !is_stop(c) { c } else { b'a' }),
                );
            }
            line.truncate(len);
            for from in 0..=len {
                let at = next_stop(&line, from);
                assert!(line[from..at].iter().all(|&c| !is_stop(c)), "{line:?} from {from}");
                let first = line[from..].iter().position(|&c| is_stop(c)).map_or(len, |p| from + p);
                assert_eq!(at, first, "{line:?} from {from}");
            }
        }
    }

    /// A byte a string scan stops at.
    fn is_stop(c: u8) -> bool {
        c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c)
    }

    /// Eight pseudo-random bytes (xorshift on `x`), biased towards the
    /// bytes a string scan stops at.
    fn biased_word(x: &mut u64) -> [u8; 8] {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        x.to_le_bytes().map(|b| match b % 8 {
            0 => b'"',
            1 => b'\\',
            2 => b % 0x20,
            3 => 0x80 | b,
            _ => 0x20 + b % 0x5f,
        })
    }

    #[test]
    fn numbers() {
        assert_eq!(number_to_i64(b"1584345600000"), Some(1_584_345_600_000));
        assert_eq!(number_to_i64(b"-12"), Some(-12));
        assert_eq!(number_to_i64(b"999999999999999999"), Some(999_999_999_999_999_999));
        assert_eq!(number_to_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(number_to_i64(b"9223372036854775808"), None);
        assert_eq!(number_to_i64(b""), None);
        assert_eq!(number_to_i64(b"1.5843456e12"), Some(1_584_345_600_000));
        assert_eq!(number_to_i64(b"99999999999999999999"), None);
        assert_eq!(number_to_i64(b"1e400"), None);
    }

    #[test]
    fn long_integers_are_a_sign_and_digits_only() {
        assert_eq!(parse_long(b"1584345600000"), Some(1_584_345_600_000));
        assert_eq!(parse_long(b"-12"), Some(-12));
        assert_eq!(parse_long(b"+12"), Some(12));
        assert_eq!(parse_long(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_long(b"9223372036854775808"), None);
        // Refused by Python's int(), and so here.
        for bad in ["15848149-5724", "1584211696687-", "-", "+", "", "--1", "1 ", "1.0", "0x10"] {
            assert_eq!(parse_long(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
