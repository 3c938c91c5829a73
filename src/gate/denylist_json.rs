//! The denylist's JSON format (see [`crate::gate::denylist`]), read strictly in one pass:
//! unknown members refused, `null` taken as absent for the optional fields, numbers only as
//! integers.

use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::error::ConfigError;
use crate::jose::json::{self, ParseFailure, Reader, Scalar};

/// A `jti` or `sub` entry.
pub(crate) struct Entry {
    pub(crate) value: String,
    pub(crate) iss: Option<String>,
    pub(crate) expires_at: Option<i64>,
}

/// A `sub_issued_before` entry.
pub(crate) struct Cutoff {
    pub(crate) sub: String,
    pub(crate) before: i64,
    pub(crate) iss: Option<String>,
    pub(crate) expires_at: Option<i64>,
}

/// A denylist document as read, before its entries are checked and indexed.
#[derive(Default)]
pub(crate) struct Document {
    pub(crate) jti: Vec<Entry>,
    pub(crate) sub: Vec<Entry>,
    pub(crate) sub_issued_before: Vec<Cutoff>,
}

/// Why reading stopped: not JSON, or JSON not in the format.
enum Fail {
    Parse(ParseFailure),
    Format,
}

impl From<ParseFailure> for Fail {
    fn from(f: ParseFailure) -> Self {
        Fail::Parse(f)
    }
}

/// Reads a denylist document of at most `max_entries` entries per list.
pub(crate) fn read(text: &str, max_entries: usize) -> Result<Document, ConfigError> {
    let mut r = Reader::new(text, 8, max_entries);
    document(&mut r)
        .and_then(|doc| r.finish().map(|()| doc).map_err(Fail::Parse))
        .map_err(|f| match f {
            Fail::Parse(f) => f.config_error("denylist", |reason| ConfigError::Denylist { reason }),
            Fail::Format => ConfigError::Denylist {
                reason: "not in the denylist format (jti, sub, sub_issued_before)",
            },
        })
}

fn document(r: &mut Reader<'_>) -> Result<Document, Fail> {
    let Some(mut object) = r.top_object()? else {
        return Err(Fail::Format);
    };
    let depth = object.inner();
    let mut doc = Document::default();
    while let Some(name) = object.next(r)? {
        match &*name {
            "jti" => doc.jti = list(r, depth, entry)?,
            "sub" => doc.sub = list(r, depth, entry)?,
            "sub_issued_before" => doc.sub_issued_before = list(r, depth, cutoff)?,
            _ => return Err(Fail::Format),
        }
    }
    Ok(doc)
}

fn list<T>(
    r: &mut Reader<'_>,
    depth: usize,
    item: fn(&mut Reader<'_>, usize) -> Result<T, Fail>,
) -> Result<Vec<T>, Fail> {
    if r.peek() != Some(b'[') {
        return Err(Fail::Format);
    }
    let mut array = r.array(depth)?;
    let mut out = Vec::new();
    while array.next(r)? {
        out.push(item(r, array.inner())?);
    }
    Ok(out)
}

fn string(r: &mut Reader<'_>, depth: usize) -> Result<String, Fail> {
    match r.scalar(depth)? {
        Scalar::Str(s) => Ok(s.into_owned()),
        _ => Err(Fail::Format),
    }
}

fn optional_string(r: &mut Reader<'_>, depth: usize) -> Result<Option<String>, Fail> {
    match r.scalar(depth)? {
        Scalar::Str(s) => Ok(Some(s.into_owned())),
        Scalar::Null => Ok(None),
        _ => Err(Fail::Format),
    }
}

fn optional_integer(r: &mut Reader<'_>, depth: usize) -> Result<Option<i64>, Fail> {
    match r.scalar(depth)? {
        Scalar::Num(n) => json::integer(n).map(Some).ok_or(Fail::Format),
        Scalar::Null => Ok(None),
        _ => Err(Fail::Format),
    }
}

/// A bare string, or `{"value", "iss"?, "expires_at"?}`.
fn entry(r: &mut Reader<'_>, depth: usize) -> Result<Entry, Fail> {
    if r.peek() == Some(b'"') {
        return Ok(Entry {
            value: string(r, depth)?,
            iss: None,
            expires_at: None,
        });
    }
    if r.peek() != Some(b'{') {
        return Err(Fail::Format);
    }
    let mut object = r.object(depth)?;
    let inner = object.inner();
    let (mut value, mut iss, mut expires_at) = (None, None, None);
    while let Some(name) = object.next(r)? {
        match &*name {
            "value" => value = Some(string(r, inner)?),
            "iss" => iss = optional_string(r, inner)?,
            "expires_at" => expires_at = optional_integer(r, inner)?,
            _ => return Err(Fail::Format),
        }
    }
    Ok(Entry {
        value: value.ok_or(Fail::Format)?,
        iss,
        expires_at,
    })
}

/// `{"sub", "before", "iss"?, "expires_at"?}`.
fn cutoff(r: &mut Reader<'_>, depth: usize) -> Result<Cutoff, Fail> {
    if r.peek() != Some(b'{') {
        return Err(Fail::Format);
    }
    let mut object = r.object(depth)?;
    let inner = object.inner();
    let (mut sub, mut before, mut iss, mut expires_at) = (None, None, None, None);
    while let Some(name) = object.next(r)? {
        match &*name {
            "sub" => sub = Some(string(r, inner)?),
            "before" => before = Some(optional_integer(r, inner)?.ok_or(Fail::Format)?),
            "iss" => iss = optional_string(r, inner)?,
            "expires_at" => expires_at = optional_integer(r, inner)?,
            _ => return Err(Fail::Format),
        }
    }
    Ok(Cutoff {
        sub: sub.ok_or(Fail::Format)?,
        before: before.ok_or(Fail::Format)?,
        iss,
        expires_at,
    })
}
