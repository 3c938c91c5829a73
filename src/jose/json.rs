//! Strict JSON reading on top of serde_json's RFC 8259 grammar: duplicate member names
//! (RFC 8725 section 3.2 / RFC 7515 section 5.2), nesting depth and member counts are checked
//! while parsing, so nothing ambiguous or unbounded is ever built.
//!
//! serde's error type cannot carry our typed problem, so visitors record it in [`Ctx`] and
//! return a generic serde error; the caller asks the context what happened.

use alloc::borrow::Cow;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A structural problem found while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// An object has the same member name twice.
    DuplicateMember,
    /// Nesting deeper than the limit.
    TooDeep,
    /// An object or array with more entries than the limit.
    TooManyMembers,
    /// A typed field had the wrong type or value (set by typed visitors).
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

/// Parsing context shared by the seeds of one document.
pub(crate) struct Ctx {
    problem: Cell<Option<Problem>>,
    pub(crate) max_depth: usize,
    pub(crate) max_members: usize,
}

impl Ctx {
    pub(crate) fn new(max_depth: usize, max_members: usize) -> Self {
        Ctx {
            problem: Cell::new(None),
            max_depth,
            max_members,
        }
    }

    /// Records `problem` (the first one wins) and returns a serde error to abort parsing.
    pub(crate) fn fail<E: de::Error>(&self, problem: Problem) -> E {
        if self.problem.get().is_none() {
            self.problem.set(Some(problem));
        }
        E::custom(problem.as_str())
    }

    /// The recorded problem, if any.
    pub(crate) fn problem(&self) -> Option<Problem> {
        self.problem.get()
    }

    pub(crate) fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            Err(self.fail(Problem::TooDeep))
        } else {
            Ok(())
        }
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
            self.tree = Some(
                core::mem::take(&mut self.list)
                    .into_iter()
                    .map(|(_, n)| n)
                    .collect(),
            );
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

    /// All names (in input order while short, sorted once the tree took over).
    pub(crate) fn into_inner(self) -> Vec<Cow<'de, str>> {
        match self.tree {
            Some(tree) => tree.into_iter().collect(),
            None => self.list.into_iter().map(|(_, n)| n).collect(),
        }
    }
}

/// Reads a member name, borrowing it from the input when it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(String::from(v)))
    }
}

/// Reads one object's member names and checks them: no duplicates, not too many.
/// Returns the next name, or `None` at the end of the object.
pub(crate) fn next_name<'de, A: MapAccess<'de>>(
    ctx: &Ctx,
    map: &mut A,
    names: &mut Names<'de>,
) -> Result<Option<Cow<'de, str>>, A::Error> {
    let Some(name) = map.next_key_seed(KeySeed)? else {
        return Ok(None);
    };
    if !names.insert(name.clone()) {
        return Err(ctx.fail(Problem::DuplicateMember));
    }
    if names.len() > ctx.max_members {
        return Err(ctx.fail(Problem::TooManyMembers));
    }
    Ok(Some(name))
}

/// Validates any JSON value (depth, duplicates, counts) without building it.
#[derive(Clone, Copy)]
pub(crate) struct Skip<'c> {
    pub(crate) ctx: &'c Ctx,
    /// Depth of the value about to be read.
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = Skip {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut n = 0usize;
        while seq.next_element_seed(inner)?.is_some() {
            n += 1;
            if n > self.ctx.max_members {
                return Err(self.ctx.fail(Problem::TooManyMembers));
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = Skip {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut names = Names::new();
        while next_name(self.ctx, &mut map, &mut names)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// Builds a [`Value`] under the same checks as [`Skip`].
#[derive(Clone, Copy)]
pub(crate) struct Build<'c> {
    pub(crate) ctx: &'c Ctx,
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(String::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = Build {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
            if out.len() > self.ctx.max_members {
                return Err(self.ctx.fail(Problem::TooManyMembers));
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = Build {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut names = Names::new();
        let mut out = Map::new();
        while let Some(name) = next_name(self.ctx, &mut map, &mut names)? {
            let v = map.next_value_seed(inner)?;
            out.insert(name.into_owned(), v);
        }
        Ok(Value::Object(out))
    }
}

/// Why a strict parse failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseFailure {
    /// A structural problem found by our checks.
    Problem(Problem),
    /// Not JSON (serde_json's grammar), with its position.
    Syntax { line: usize, column: usize },
}

impl ParseFailure {
    pub(crate) fn from_serde(ctx: &Ctx, e: &serde_json::Error) -> Self {
        match ctx.problem() {
            Some(p) => ParseFailure::Problem(p),
            None => ParseFailure::Syntax {
                line: e.line(),
                column: e.column(),
            },
        }
    }
}

/// Runs a seed over a whole document (trailing characters other than whitespace rejected).
fn run<'de, R, S>(
    ctx: &Ctx,
    mut de: serde_json::Deserializer<R>,
    seed: S,
) -> Result<S::Value, ParseFailure>
where
    R: serde_json::de::Read<'de>,
    S: DeserializeSeed<'de>,
{
    let v = seed
        .deserialize(&mut de)
        .map_err(|e| ParseFailure::from_serde(ctx, &e))?;
    de.end().map_err(|e| ParseFailure::from_serde(ctx, &e))?;
    Ok(v)
}

/// [`run`] over bytes (serde_json validates the UTF-8 of strings).
pub(crate) fn parse_with<'de, S: DeserializeSeed<'de>>(
    ctx: &Ctx,
    input: &'de [u8],
    seed: S,
) -> Result<S::Value, ParseFailure> {
    run(ctx, serde_json::Deserializer::from_slice(input), seed)
}

/// [`run`] over text already known to be UTF-8 (serde_json then skips its own validation of
/// strings, and hands out borrowed slices of `input`).
pub(crate) fn parse_str_with<'de, S: DeserializeSeed<'de>>(
    ctx: &Ctx,
    input: &'de str,
    seed: S,
) -> Result<S::Value, ParseFailure> {
    run(ctx, serde_json::Deserializer::from_str(input), seed)
}

/// Parses a whole document into a [`Value`] with strict checks.
pub(crate) fn parse_value(
    input: &[u8],
    max_depth: usize,
    max_members: usize,
) -> Result<Value, ParseFailure> {
    let ctx = Ctx::new(max_depth, max_members);
    parse_with(
        &ctx,
        input,
        Build {
            ctx: &ctx,
            depth: 1,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn rejects_trailing_garbage_and_bad_grammar() {
        assert!(matches!(
            parse_value(br#"{"a":1} x"#, 8, 10),
            Err(ParseFailure::Syntax { .. })
        ));
        assert!(matches!(
            parse_value(br#"{"a":1,}"#, 8, 10),
            Err(ParseFailure::Syntax { .. })
        ));
    }
}
