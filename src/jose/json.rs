//! Strict JSON reading (RFC 8259), our own: a pull reader over UTF-8 text that checks
//! duplicate member names (RFC 8725 section 3.2 / RFC 7515 section 5.2), nesting depth and
//! member counts while it reads, so nothing ambiguous or unbounded is ever built.
//!
//! Callers walk a document themselves ([`Reader::object`], [`Object::next`],
//! [`Reader::scalar`], [`Reader::skip`]) and keep only what they need: strings are borrowed
//! from the input (copied only when the JSON escaped them) and numbers are handed over as their
//! text, turned into integers by [`integer`] and [`numeric_date`] exactly, without floating
//! point. This replaced serde_json under the verifier: the npm module no longer carries its
//! deserializer, the serde visitors and the float parser and formatter (see BENCHMARKS.md).
//! serde_json stays for the gate's configuration, built into [`parse_value`]'s trees.

use alloc::borrow::Cow;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::error::ConfigError;

/// A structural problem found while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// An object has the same member name twice.
    DuplicateMember,
    /// Nesting deeper than the limit.
    TooDeep,
    /// An object or array with more entries than the limit.
    TooManyMembers,
    /// A typed field had the wrong type or value.
    Field(&'static str),
}

impl Problem {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Problem::DuplicateMember => "duplicate member name",
            Problem::TooDeep => "JSON nested too deeply",
            Problem::TooManyMembers => "too many JSON members",
            Problem::Field(reason) => reason,
        }
    }
}

/// Why a strict read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseFailure {
    /// A structural problem found by our checks.
    Problem(Problem),
    /// Not JSON, with the position (1-based line, and column in characters).
    Syntax { line: usize, column: usize },
}

impl ParseFailure {
    /// As the error of configuration `document`: a syntax failure as [`ConfigError::Json`]
    /// with its position, a structural problem as `problem` makes it.
    pub(crate) fn config_error(
        self,
        document: &'static str,
        problem: impl FnOnce(&'static str) -> ConfigError,
    ) -> ConfigError {
        match self {
            ParseFailure::Syntax { line, column } => ConfigError::Json {
                document,
                line,
                column,
            },
            ParseFailure::Problem(p) => problem(p.as_str()),
        }
    }
}

impl From<Problem> for ParseFailure {
    fn from(p: Problem) -> Self {
        ParseFailure::Problem(p)
    }
}

/// The member names seen in one object, for duplicate detection: while short (the common
/// case, a dozen claims) a list of `(hash, name)` scanned by hash, so almost every comparison
/// is one integer compare; past 32 names a tree, so a large object costs O(n log n).
pub(crate) struct Names<'de> {
    list: Vec<(u64, Cow<'de, str>)>,
    /// One bit per seen hash modulo 64: a name whose bit is clear is new without a scan.
    seen: u64,
    tree: Option<BTreeSet<Cow<'de, str>>>,
}

/// A constant-time prefilter hash of a name (its length and first and last eight bytes).
/// Names are compared in full whenever hashes are equal, so collisions cost time, never
/// correctness; a per-byte hash (FNV) measured ~3x slower here.
fn quick_hash(s: &str) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let b = s.as_bytes();
    let k = b.len().min(8);
    let mut head = [0u8; 8];
    let mut tail = [0u8; 8];
    head[..k].copy_from_slice(&b[..k]);
    tail[..k].copy_from_slice(&b[b.len() - k..]);
    let h = u64::from_le_bytes(head)
        ^ u64::from_le_bytes(tail).rotate_left(29)
        ^ (b.len() as u64).wrapping_mul(K);
    h.wrapping_mul(K)
}

impl<'de> Names<'de> {
    pub(crate) fn new() -> Self {
        Names::with_capacity(0)
    }

    /// Room for `n` names without reallocating (the top-level claims object).
    pub(crate) fn with_capacity(n: usize) -> Self {
        Names {
            list: Vec::with_capacity(n),
            seen: 0,
            tree: None,
        }
    }

    /// Adds a name; `false` if it was already present.
    pub(crate) fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if let Some(tree) = &mut self.tree {
            return tree.insert(name);
        }
        let h = quick_hash(&name);
        let bit = 1u64 << (h >> 58);
        if self.seen & bit != 0 && self.list.iter().any(|(hh, n)| *hh == h && *n == name) {
            return false;
        }
        self.seen |= bit;
        self.list.push((h, name));
        if self.list.len() > 32 {
            // One insertion at a time: `collect` would sort the names first, and link a sort
            // (5 KB of wasm) for this one use.
            let mut tree = BTreeSet::new();
            for (_, n) in core::mem::take(&mut self.list) {
                tree.insert(n);
            }
            self.tree = Some(tree);
        }
        true
    }

    /// Number of names.
    pub(crate) fn len(&self) -> usize {
        self.tree.as_ref().map_or(self.list.len(), BTreeSet::len)
    }

    /// Whether `name` is present.
    pub(crate) fn contains(&self, name: &str) -> bool {
        match &self.tree {
            Some(tree) => tree.contains(name),
            None => {
                let h = quick_hash(name);
                self.list.iter().any(|(hh, n)| *hh == h && n == name)
            }
        }
    }

    /// Passes every name to `f` (in input order while short, sorted once the tree took over),
    /// without collecting them first.
    pub(crate) fn for_each(self, mut f: impl FnMut(Cow<'de, str>)) {
        match self.tree {
            Some(tree) => tree.into_iter().for_each(f),
            None => self.list.into_iter().for_each(|(_, n)| f(n)),
        }
    }
}

/// One JSON value reduced to what typed fields need: strings and booleans kept, numbers as
/// their text (grammar checked), containers validated and reported as `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Num(&'a str),
    Bool(bool),
    Null,
    Other,
}

/// A strict JSON reader over one document.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    max_depth: usize,
    max_members: usize,
}

/// An object being read: see [`Reader::object`].
pub(crate) struct Object<'a> {
    names: Names<'a>,
    first: bool,
    depth: usize,
}

/// An array being read: see [`Reader::array`].
pub(crate) struct Array {
    count: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `text` refusing containers nested deeper than `max_depth` (the top level
    /// is depth 1) and objects or arrays of more than `max_members` entries.
    pub(crate) fn new(text: &'a str, max_depth: usize, max_members: usize) -> Self {
        Reader {
            text,
            pos: 0,
            max_depth,
            max_members,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after whitespace, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    /// A syntax failure at the current position.
    pub(crate) fn syntax(&self) -> ParseFailure {
        let before = self.text.get(..self.pos).unwrap_or(self.text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        ParseFailure::Syntax {
            line: 1 + before.bytes().filter(|&c| c == b'\n').count(),
            column: 1 + before.get(line_start..).map_or(0, |l| l.chars().count()),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ParseFailure> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn enter(&self, depth: usize) -> Result<(), ParseFailure> {
        if depth > self.max_depth {
            Err(Problem::TooDeep.into())
        } else {
            Ok(())
        }
    }

    /// Opens the object that must come next, at `depth`.
    pub(crate) fn object(&mut self, depth: usize) -> Result<Object<'a>, ParseFailure> {
        self.object_with(depth, 0)
    }

    /// [`Reader::object`] with room for `names` member names.
    pub(crate) fn object_with(
        &mut self,
        depth: usize,
        names: usize,
    ) -> Result<Object<'a>, ParseFailure> {
        self.expect(b'{')?;
        self.enter(depth)?;
        Ok(Object {
            names: Names::with_capacity(names),
            first: true,
            depth,
        })
    }

    /// Opens the document's top-level object; `None`, after checking the whole document, when
    /// it is some other value (so that a document that is not JSON at all says so first).
    pub(crate) fn top_object(&mut self) -> Result<Option<Object<'a>>, ParseFailure> {
        if self.peek() == Some(b'{') {
            return self.object(1).map(Some);
        }
        self.skip(1)?;
        self.finish()?;
        Ok(None)
    }

    /// Opens the array that must come next, at `depth`.
    pub(crate) fn array(&mut self, depth: usize) -> Result<Array, ParseFailure> {
        self.expect(b'[')?;
        self.enter(depth)?;
        Ok(Array { count: 0, depth })
    }

    /// Reads the array that must come next, at `depth`: its strings, each passed through `f`,
    /// or `None` (after validating the rest) when any element is not a string.
    pub(crate) fn strings<T>(
        &mut self,
        depth: usize,
        mut f: impl FnMut(Cow<'a, str>) -> T,
    ) -> Result<Option<Vec<T>>, ParseFailure> {
        let mut array = self.array(depth)?;
        let mut out = Some(Vec::new());
        while array.next(self)? {
            match (self.scalar(array.inner())?, &mut out) {
                (Scalar::Str(s), Some(list)) => list.push(f(s)),
                _ => out = None,
            }
        }
        Ok(out)
    }

    /// Reads the string that must come next.
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, ParseFailure> {
        self.expect(b'"')?;
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        // Eight bytes at a time up to the first that ends the plain run (BENCHMARKS.md, "tenth
        // stop"); the byte loop below decides on it.
        while let Some(word) = b.get(i..i + 8) {
            let word = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            if ends_plain_run(word) {
                break;
            }
            i += 8;
        }
        // The common case: no escape, so the string is a slice of the input.
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return self.slice(start, i).map(Cow::Borrowed);
                }
                Some(b'\\') => break,
                Some(&c) if c >= 0x20 => i += 1,
                _ => {
                    self.pos = i;
                    return Err(self.syntax());
                }
            }
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.slice(start, i)?);
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    let escaped = match b.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let (c, used) = self.unicode_escape(i)?;
                            i += used;
                            out.push(c);
                            continue;
                        }
                        _ => {
                            self.pos = i;
                            return Err(self.syntax());
                        }
                    };
                    out.push(escaped);
                    i += 2;
                }
                Some(&c) if c >= 0x20 => {
                    let run = i;
                    while b
                        .get(i)
                        .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
                    {
                        i += 1;
                    }
                    out.push_str(self.slice(run, i)?);
                }
                _ => {
                    self.pos = i;
                    return Err(self.syntax());
                }
            }
        }
    }

    /// `\uXXXX` at `at` (a surrogate pair as two of them): the character and the bytes used.
    /// A lone surrogate is refused, as it is no character.
    fn unicode_escape(&mut self, at: usize) -> Result<(char, usize), ParseFailure> {
        let hex4 = |from: usize| -> Option<u32> {
            let digits = self.bytes().get(from..from + 4)?;
            digits
                .iter()
                .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
        };
        let fail = |r: &mut Self| {
            r.pos = at;
            Err(r.syntax())
        };
        let Some(high) = hex4(at + 2) else {
            return fail(self);
        };
        let (code, used) = match high {
            0xD800..=0xDBFF => {
                let b = self.bytes();
                let low = if b.get(at + 6) == Some(&b'\\') && b.get(at + 7) == Some(&b'u') {
                    hex4(at + 8)
                } else {
                    None
                };
                match low {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), 12)
                    }
                    _ => return fail(self),
                }
            }
            0xDC00..=0xDFFF => return fail(self),
            c => (c, 6),
        };
        match char::from_u32(code) {
            Some(c) => Ok((c, used)),
            None => fail(self),
        }
    }

    /// `text[start..end]`, where both ends sit next to ASCII bytes (so on char boundaries).
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, ParseFailure> {
        self.text.get(start..end).ok_or_else(|| self.syntax())
    }

    /// Reads the number that must come next, returning its text.
    fn number(&mut self) -> Result<&'a str, ParseFailure> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let integer_part = match b.get(i) {
            Some(b'0') => {
                i += 1;
                true
            }
            Some(b'1'..=b'9') => digits(&mut i),
            _ => false,
        };
        let integer_end = i;
        let valid = integer_part
            && (b.get(i) != Some(&b'.') || {
                i += 1;
                digits(&mut i)
            })
            && (!matches!(b.get(i), Some(b'e' | b'E')) || {
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                digits(&mut i)
            });
        if !valid {
            self.pos = i;
            return Err(self.syntax());
        }
        let text = self.slice(start, i)?;
        // A number beyond the doubles' range is refused, as serde_json and every consumer
        // that reads the document again into doubles (claim rules, a JavaScript caller) would.
        // An integer (no fraction or exponent followed its digits) of at most 308 digits is
        // below 10^308: the common case, decided here.
        let short_integer = i == integer_end && text.len() <= 308;
        if !short_integer && !finite(text) {
            return Err(self.syntax());
        }
        self.pos = i;
        Ok(text)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ParseFailure> {
        if self.bytes().get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// Reads any value at `depth`: scalars kept, containers validated and reported as
    /// [`Scalar::Other`].
    pub(crate) fn scalar(&mut self, depth: usize) -> Result<Scalar<'a>, ParseFailure> {
        Ok(match self.peek() {
            Some(b'"') => Scalar::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => Scalar::Num(self.number()?),
            Some(b't') => {
                self.literal(b"true")?;
                Scalar::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Scalar::Bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Scalar::Null
            }
            Some(b'{' | b'[') => {
                self.skip(depth)?;
                Scalar::Other
            }
            _ => return Err(self.syntax()),
        })
    }

    /// Validates any value at `depth` (grammar, duplicates, depth, counts) without keeping it.
    pub(crate) fn skip(&mut self, depth: usize) -> Result<(), ParseFailure> {
        match self.peek() {
            Some(b'{') => {
                let mut object = self.object(depth)?;
                while object.next(self)?.is_some() {
                    self.skip(depth + 1)?;
                }
            }
            Some(b'[') => {
                let mut array = self.array(depth)?;
                while array.next(self)? {
                    self.skip(depth + 1)?;
                }
            }
            _ => {
                self.scalar(depth)?;
            }
        }
        Ok(())
    }

    /// Ends the document: nothing but whitespace may follow.
    pub(crate) fn finish(&mut self) -> Result<(), ParseFailure> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax()),
        }
    }
}

impl<'a> Object<'a> {
    /// The next member's name, with the reader at its value (which the caller must read or
    /// skip); `None` after the closing brace.
    pub(crate) fn next(
        &mut self,
        r: &mut Reader<'a>,
    ) -> Result<Option<Cow<'a, str>>, ParseFailure> {
        match (r.peek(), self.first) {
            (Some(b'}'), _) => {
                r.pos += 1;
                return Ok(None);
            }
            (Some(b','), false) => r.pos += 1,
            (_, true) => {}
            _ => return Err(r.syntax()),
        }
        self.first = false;
        let name = r.string()?;
        r.expect(b':')?;
        if !self.names.insert(name.clone()) {
            return Err(Problem::DuplicateMember.into());
        }
        if self.names.len() > r.max_members {
            return Err(Problem::TooManyMembers.into());
        }
        Ok(Some(name))
    }

    /// The depth of this object's member values.
    pub(crate) fn inner(&self) -> usize {
        self.depth + 1
    }

    /// The member names read.
    pub(crate) fn into_names(self) -> Names<'a> {
        self.names
    }
}

impl Array {
    /// Whether another element follows (the reader is then at it, and the caller must read or
    /// skip it); `false` after the closing bracket.
    pub(crate) fn next(&mut self, r: &mut Reader<'_>) -> Result<bool, ParseFailure> {
        match (r.peek(), self.count) {
            (Some(b']'), _) => {
                r.pos += 1;
                return Ok(false);
            }
            (Some(b','), 1..) => r.pos += 1,
            (_, 0) => {}
            _ => return Err(r.syntax()),
        }
        self.count += 1;
        if self.count > r.max_members {
            return Err(Problem::TooManyMembers.into());
        }
        Ok(true)
    }

    /// The depth of this array's elements.
    pub(crate) fn inner(&self) -> usize {
        self.depth + 1
    }
}

/// Whether any of the eight bytes of `word` ends a run of plain string bytes: a quote, a
/// backslash or a control character (below 0x20). Exact: each test is the classic "has a byte
/// below n" bit trick (n = 1 after an XOR for the two characters, n = 0x20 for control
/// characters), which never reports a byte that is not there.
fn ends_plain_run(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    (below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1)
        | below(word, 0x20))
        != 0
}

/// The digits of 2^1024 - 2^970, halfway between the largest double and 2^1024: a number of
/// at least this magnitude rounds to infinity.
const DOUBLE_OVERFLOW: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether a number's text (grammar already checked) denotes a finite double, decided on the
/// decimal text without parsing it.
fn finite(text: &str) -> bool {
    let digits = text.trim_start_matches('-');
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(at) => (&digits[..at], &digits[at + 1..]),
        // Fewer than 309 integer digits: below 10^308.
        None if digits.len() <= 308 => return true,
        None => (digits, ""),
    };
    let (exp_negative, exp_digits) = match exponent.as_bytes().first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let exp = exp_digits.bytes().fold(0i64, |e, d| {
        (e * 10 + i64::from(d.wrapping_sub(b'0'))).min(1 << 40)
    });
    let (int_part, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = int_part.bytes().chain(fraction.bytes());
    let Some(leading_zeros) = all.clone().position(|d| d != b'0') else {
        return true; // zero
    };
    // The value is 0.D x 10^magnitude, D the significant digits.
    let magnitude =
        int_part.len() as i64 - leading_zeros as i64 + if exp_negative { -exp } else { exp };
    match magnitude.cmp(&(DOUBLE_OVERFLOW.len() as i64)) {
        core::cmp::Ordering::Less => true,
        core::cmp::Ordering::Greater => false,
        core::cmp::Ordering::Equal => {
            let mut significant = all.skip(leading_zeros);
            for &b in DOUBLE_OVERFLOW {
                let d = significant.next().unwrap_or(b'0');
                if d != b {
                    return d < b;
                }
            }
            // The boundary itself, or above it by later digits.
            false
        }
    }
}

/// The integer a number's text spells without fraction or exponent (`-0` is 0); `None` for
/// any other number, or one out of range.
pub(crate) fn integer(text: &str) -> Option<i64> {
    if text.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        return None;
    }
    text.parse().ok()
}

/// A NumericDate (RFC 7519 section 2): a number of seconds from 0 to `max`, fractions
/// truncated. Decided exactly on the decimal text: `1e3`, `1000.9` and `0.1e4` are 1000;
/// anything negative but zero, or above `max` even by a fraction, is `None`.
pub(crate) fn numeric_date(text: &str, max: i64) -> Option<i64> {
    let max = u64::try_from(max).ok()?;
    // The common case, plain digits that fit: their value, read in one pass.
    if !text.is_empty() && text.len() <= 18 {
        let plain = text.bytes().try_fold(0u64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        });
        if let Some(whole) = plain {
            return if whole <= max {
                i64::try_from(whole).ok()
            } else {
                None
            };
        }
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    // The exponent saturates far beyond any date, so a long one cannot overflow.
    let (exp_negative, exp_digits) = match exponent.as_bytes().first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let mut exp: i64 = 0;
    for d in exp_digits.bytes() {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        exp = (exp * 10 + i64::from(d)).min(1 << 40);
    }
    let (int_part, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // How many of the written digits come before the decimal point.
    let point = int_part.len() as i64 + if exp_negative { -exp } else { exp };
    let mut whole: u64 = 0;
    let mut has_fraction = false;
    let written = int_part.bytes().chain(fraction.bytes());
    for (i, d) in written.enumerate() {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        if (i as i64) < point {
            whole = whole * 10 + u64::from(d);
            if whole > max {
                return None;
            }
        } else if d != 0 {
            has_fraction = true;
        }
    }
    // Zeros the exponent appends after the written digits.
    let count = (int_part.len() + fraction.len()) as i64;
    if whole != 0 {
        for _ in count..point {
            whole *= 10;
            if whole > max {
                return None;
            }
        }
    }
    if negative && (whole != 0 || has_fraction) || (whole == max && has_fraction) {
        return None;
    }
    i64::try_from(whole).ok()
}

/// The document as text: JSON is UTF-8 (RFC 8259 section 8.1), and a document that is not is
/// a syntax failure at its first invalid byte.
pub(crate) fn utf8(input: &[u8]) -> Result<&str, ParseFailure> {
    core::str::from_utf8(input).map_err(|e| {
        let valid = core::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or_default();
        let mut r = Reader::new(valid, 0, 0);
        r.pos = valid.len();
        r.syntax()
    })
}

/// Checks a whole document (grammar, duplicate member names, depth, member counts) without
/// building anything, for documents another deserializer then types.
pub(crate) fn validate(
    input: &[u8],
    max_depth: usize,
    max_members: usize,
) -> Result<(), ParseFailure> {
    let mut r = Reader::new(utf8(input)?, max_depth, max_members);
    r.skip(1)?;
    r.finish()
}

/// Parses a whole document into a serde_json [`serde_json::Value`] with the strict checks
/// (for the gate's configuration and OIDC discovery metadata).
pub(crate) fn parse_value(
    input: &[u8],
    max_depth: usize,
    max_members: usize,
) -> Result<serde_json::Value, ParseFailure> {
    let text = utf8(input)?;
    let mut r = Reader::new(text, max_depth, max_members);
    let v = build(&mut r, 1)?;
    r.finish()?;
    Ok(v)
}

fn build(r: &mut Reader<'_>, depth: usize) -> Result<serde_json::Value, ParseFailure> {
    use serde_json::{Map, Number, Value};
    Ok(match r.peek() {
        Some(b'{') => {
            let mut object = r.object(depth)?;
            let mut out = Map::new();
            while let Some(name) = object.next(r)? {
                out.insert(name.into_owned(), build(r, depth + 1)?);
            }
            Value::Object(out)
        }
        Some(b'[') => {
            let mut array = r.array(depth)?;
            let mut out = Vec::new();
            while array.next(r)? {
                out.push(build(r, depth + 1)?);
            }
            Value::Array(out)
        }
        _ => match r.scalar(depth)? {
            Scalar::Str(s) => Value::String(s.into_owned()),
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Null | Scalar::Other => Value::Null,
            Scalar::Num(text) => {
                let exact = if text.starts_with('-') {
                    text.parse::<i64>().ok().map(Number::from)
                } else {
                    text.parse::<u64>().ok().map(Number::from)
                };
                // As serde_json: integers that fit are exact, others are doubles, and a
                // number beyond the doubles' range is refused.
                match exact.or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64)) {
                    Some(n) => Value::Number(n),
                    None => return Err(r.syntax()),
                }
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(doc: &str, depth: usize, members: usize) -> Result<(), ParseFailure> {
        let mut r = Reader::new(doc, depth, members);
        r.skip(1)?;
        r.finish()
    }

    #[test]
    fn rejects_duplicate_members_at_any_depth() {
        assert_eq!(
            parse_value(br#"{"a":1,"a":2}"#, 8, 100),
            Err(ParseFailure::Problem(Problem::DuplicateMember))
        );
        assert_eq!(
            parse_value(br#"{"x":{"a":1,"b":{"c":1,"c":1}}}"#, 8, 100),
            Err(ParseFailure::Problem(Problem::DuplicateMember))
        );
        // An escaped spelling of the same name is the same name.
        assert_eq!(
            parse_value(br#"{"a":1,"\u0061":2}"#, 8, 100),
            Err(ParseFailure::Problem(Problem::DuplicateMember))
        );
    }

    #[test]
    fn detects_duplicates_in_large_objects() {
        let mut doc = String::from("{");
        for i in 0..40 {
            doc.push_str(&alloc::format!("\"k{i}\":{i},"));
        }
        doc.push_str("\"k7\":0}");
        assert_eq!(
            parse_value(doc.as_bytes(), 8, 100),
            Err(ParseFailure::Problem(Problem::DuplicateMember))
        );
    }

    #[test]
    fn bounds_depth_and_members() {
        assert!(parse_value(br#"{"a":[[1]]}"#, 3, 10).is_ok());
        assert_eq!(
            parse_value(br#"{"a":[[[1]]]}"#, 3, 10),
            Err(ParseFailure::Problem(Problem::TooDeep))
        );
        assert_eq!(
            parse_value(br#"[1,2,3]"#, 3, 2),
            Err(ParseFailure::Problem(Problem::TooManyMembers))
        );
        assert_eq!(
            parse_value(br#"{"a":1,"b":2,"c":3}"#, 3, 2),
            Err(ParseFailure::Problem(Problem::TooManyMembers))
        );
        // Deep nesting is refused at the limit, not by exhausting the stack.
        let deep = "[".repeat(100_000);
        assert_eq!(
            skip_all(&deep, 64, 10),
            Err(ParseFailure::Problem(Problem::TooDeep))
        );
    }

    #[test]
    fn follows_the_rfc_8259_grammar() {
        let good = [
            r#"{}"#,
            r#"[]"#,
            " \t\r\n{ \"a\" : [ 1 , -0 , 0.5 , -1.25e+3 , 2E-2 , 1e-400 ] } \n",
            r#"["", "\"\\\/\b\f\n\r\t", "\u00e9\uD83D\uDE00", "é😀"]"#,
            r#"[true,false,null,{"a":{"b":[]}}]"#,
            r#"0"#,
            r#""x""#,
        ];
        for doc in good {
            assert_eq!(skip_all(doc, 8, 100), Ok(()), "{doc}");
        }
        let bad = [
            "",
            " ",
            "{",
            "}",
            "[",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "{a:1}",
            "{'a':1}",
            "[01]",
            "[1.]",
            "[.5]",
            "[-]",
            "[1e]",
            "[1e+]",
            "[+1]",
            "[0x1]",
            "[NaN]",
            "[Infinity]",
            "[tru]",
            "[nul]",
            "[True]",
            "[\"\\x\"]",
            "[\"\\u12\"]",
            "[\"\\uD800\"]",
            "[\"\\uDC00\"]",
            "[\"\\uD800\\u0041\"]",
            "[\"a\tb\"]",
            "[\"a\nb\"]",
            "[\"a",
            "{\"a\":1} x",
            "[1] [2]",
            "[1 2]",
            "\u{feff}[]",
        ];
        for doc in bad {
            assert!(
                matches!(skip_all(doc, 8, 100), Err(ParseFailure::Syntax { .. })),
                "{doc:?}"
            );
        }
    }

    #[test]
    fn decodes_escapes_and_borrows_plain_strings() {
        let doc = r#"["plain", "a\"b\\c\/d\u00e9\uD83D\uDE00\n"]"#;
        let mut r = Reader::new(doc, 4, 10);
        let mut a = r.array(1).unwrap();
        assert!(a.next(&mut r).unwrap());
        assert!(matches!(r.string().unwrap(), Cow::Borrowed("plain")));
        assert!(a.next(&mut r).unwrap());
        assert_eq!(r.string().unwrap(), "a\"b\\c/dé😀\n");
        assert!(!a.next(&mut r).unwrap());
        r.finish().unwrap();
    }

    #[test]
    fn reports_where_the_syntax_broke() {
        assert_eq!(
            skip_all("{\n  \"a\": 1,\n  \"é\": x\n}", 8, 10),
            Err(ParseFailure::Syntax { line: 3, column: 8 })
        );
    }

    #[test]
    fn the_word_test_finds_exactly_the_bytes_that_end_a_plain_run() {
        let ends = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        let mut words = 0;
        // Every byte value at every position, among fillers that are plain (and among fillers
        // next to the boundaries of each test: 0x21, 0x23, 0x5B, 0x5D, 0x20, 0x7F, 0x80, 0xFF).
        for filler in [b'a', 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF] {
            for at in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    assert_eq!(
                        ends_plain_run(u64::from_le_bytes(bytes)),
                        bytes.iter().any(|&c| ends(c)),
                        "{bytes:?}"
                    );
                    words += 1;
                }
            }
        }
        // Pseudo-random words, with two special bytes (a borrow from one must not hide or
        // invent another).
        let mut rng = crate::test_rng::Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let x = rng.next();
            let bytes = x.to_le_bytes();
            assert_eq!(
                ends_plain_run(x),
                bytes.iter().any(|&c| ends(c)),
                "{bytes:?}"
            );
            words += 1;
        }
        assert!(words > 200_000);
    }

    #[test]
    fn plain_integer_dates_read_as_the_general_reading_does() {
        const MAX: i64 = 253_402_300_799;
        for text in [
            "0",
            "7",
            "1700000000",
            "253402300799",
            "253402300800",
            "999999999999999999",
            "100000000000000000",
        ] {
            // A zero fraction takes the general reading.
            let general = numeric_date(&alloc::format!("{text}.0"), MAX);
            assert_eq!(numeric_date(text, MAX), general, "{text}");
        }
        assert_eq!(numeric_date("1700000000", i64::MAX), Some(1_700_000_000));
    }

    #[test]
    fn numeric_dates_are_decided_on_the_decimal_text() {
        const MAX: i64 = 253_402_300_799;
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("-0.0e5", Some(0)),
            ("1700000000", Some(1_700_000_000)),
            ("1700000000.999", Some(1_700_000_000)),
            ("1.7e9", Some(1_700_000_000)),
            ("17E8", Some(1_700_000_000)),
            ("0.17e10", Some(1_700_000_000)),
            ("1700000000e-0", Some(1_700_000_000)),
            ("17000000000e-1", Some(1_700_000_000)),
            ("1e-400", Some(0)),
            ("20.9", Some(20)),
            ("253402300799", Some(MAX)),
            ("253402300799.0", Some(MAX)),
            ("253402300799.5", None),
            ("253402300800", None),
            ("2.534023008e11", None),
            ("1e300", None),
            ("1e99999999999999999999", None),
            ("99999999999999999999999", None),
            ("-1", None),
            ("-0.5", None),
            ("-1e-400", None),
        ];
        for &(text, want) in cases {
            assert_eq!(numeric_date(text, MAX), want, "{text}");
        }
        // Agrees with the double-based reading where doubles are exact.
        for n in [0u64, 1, 59, 86_400, 1_234_567_890, 253_402_300_798] {
            for text in [
                alloc::format!("{n}"),
                alloc::format!("{n}.25"),
                alloc::format!("{n}e0"),
            ] {
                assert_eq!(numeric_date(&text, MAX), Some(n as i64), "{text}");
            }
        }
    }

    #[test]
    fn numbers_beyond_the_doubles_range_are_refused_exactly() {
        let b = core::str::from_utf8(DOUBLE_OVERFLOW).unwrap();
        let below = alloc::format!("{}1e-1", &b[..b.len() - 1]);
        let cases: [String; 22] = [
            "1e308".into(),
            "-1e308".into(),
            "1.7976931348623157e308".into(),
            "1.7976931348623158e308".into(),
            "1.797693134862315807e308".into(),
            "1.7976931348623159e308".into(),
            "1e309".into(),
            "-1e400".into(),
            "1e-400".into(),
            "0e999999".into(),
            "0.0001e312".into(),
            "0.0001e313".into(),
            b[..308].into(),
            b.into(),
            below,
            alloc::format!("{b}.0"),
            alloc::format!("{b}1e-1"),
            alloc::format!("0.{b}e309"),
            alloc::format!("00.{b}e309"),
            alloc::format!("0.0{b}e310"),
            "1e99999999999999999999999".into(),
            "1e-99999999999999999999999".into(),
        ];
        let mut refused = 0;
        for text in &cases {
            let reference = text.parse::<f64>().unwrap().is_finite();
            assert_eq!(finite(text), reference, "{text}");
            let doc = alloc::format!("[{text}]");
            assert_eq!(skip_all(&doc, 4, 4).is_ok(), reference, "{text}");
            refused += usize::from(!reference);
        }
        assert!(refused >= 8, "{refused}");
    }

    #[test]
    fn integers_are_written_as_integers() {
        assert_eq!(integer("60"), Some(60));
        assert_eq!(integer("-7"), Some(-7));
        assert_eq!(integer("-0"), Some(0));
        assert_eq!(integer("60.0"), None);
        assert_eq!(integer("6e1"), None);
        assert_eq!(integer("9223372036854775808"), None);
    }

    #[test]
    fn builds_values_as_serde_json_does() {
        let doc = br#"{"a":[1,-2,1.5,18446744073709551615,1e3,"s",true,null,{"b":{}}]}"#;
        let ours = parse_value(doc, 8, 100).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(doc).unwrap();
        assert_eq!(ours, theirs);
        assert!(matches!(
            parse_value(b"[1e400]", 8, 100),
            Err(ParseFailure::Syntax { .. })
        ));
        assert!(matches!(
            parse_value(b"[\"\xff\"]", 8, 100),
            Err(ParseFailure::Syntax { .. })
        ));
    }
}
