//! The JWT claims set (RFC 7519 section 4): registered claims typed in one strict pass, the
//! rest kept as validated JSON text that is turned into a value only when asked for.
//!
//! Parsing into typed fields is ~2.5x cheaper than building a `serde_json::Value`, and most
//! requests need only the registered claims, so the full object is built lazily
//! ([`Claims::to_object`], [`Claims::lookup`]). String claims and member names are kept as
//! spans of the payload text (a copy only when the JSON escaped them), which saves an
//! allocation per claim on the hot path.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::jose::error::{Claim, ClaimReason, Error};
use crate::jose::json::{self, ParseFailure, Reader, Scalar};
use crate::jose::limits::Limits;

/// Largest accepted NumericDate: 9999-12-31T23:59:59Z. Larger values are almost certainly
/// garbage (or attempts to overflow arithmetic) and are rejected as invalid.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// A string from the payload: a span of the JSON text, or a copy when it had escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Text {
    Span(u32, u32),
    Owned(Box<str>),
}

impl Text {
    /// `s` is either borrowed from `base` (the JSON reader hands out slices of its input
    /// for strings without escapes) or owned.
    fn new(base: &str, s: Cow<'_, str>) -> Text {
        if let Cow::Borrowed(b) = &s {
            let start = (b.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
            let end = start.wrapping_add(b.len());
            if end <= base.len() && start <= end {
                if let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) {
                    return Text::Span(start, end);
                }
            }
        }
        Text::Owned(s.into_owned().into_boxed_str())
    }

    fn get<'a>(&'a self, base: &'a str) -> &'a str {
        match self {
            Text::Span(s, e) => base.get(*s as usize..*e as usize).unwrap_or(""),
            Text::Owned(o) => o,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum StrClaim {
    /// One string (for `scope`: space-delimited words).
    One(Text),
    /// An array of strings.
    Many(Vec<Text>),
}

/// An iterator over the strings of a list-valued claim (`aud`, `scope`).
#[derive(Debug, Clone)]
pub struct Strings<'a> {
    base: &'a str,
    inner: StringsInner<'a>,
}

#[derive(Debug, Clone)]
enum StringsInner<'a> {
    List(core::slice::Iter<'a, Text>),
    Words(core::str::Split<'a, char>),
    One(Option<&'a str>),
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match &mut self.inner {
            StringsInner::List(it) => it.next().map(|t| t.get(self.base)),
            StringsInner::Words(it) => it.find(|w| !w.is_empty()),
            StringsInner::One(s) => s.take(),
        }
    }
}

/// A verified (or, from [`crate::decode_unverified`], unverified) JWT claims set.
#[derive(Clone, PartialEq)]
pub struct Claims {
    json: String,
    r: Registered,
}

/// The member names and registered claims, as spans of the JSON text.
#[derive(Debug, Clone, Default, PartialEq)]
struct Registered {
    names: Vec<Text>,
    iss: Option<Text>,
    sub: Option<Text>,
    jti: Option<Text>,
    aud: Option<StrClaim>,
    /// `scope`, or `scp` when `scope` is absent.
    scope: Option<StrClaim>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claim values can be personal data; Debug shows only the member names and times.
        f.debug_struct("Claims")
            .field("members", &self.names().collect::<Vec<_>>())
            .field("exp", &self.r.exp)
            .field("iat", &self.r.iat)
            .finish_non_exhaustive()
    }
}

impl Claims {
    fn text<'a>(&'a self, t: &'a Option<Text>) -> Option<&'a str> {
        t.as_ref().map(|t| t.get(&self.json))
    }

    fn strings<'a>(&'a self, c: &'a StrClaim, words: bool) -> Strings<'a> {
        let inner = match c {
            StrClaim::Many(v) => StringsInner::List(v.iter()),
            StrClaim::One(t) if words => StringsInner::Words(t.get(&self.json).split(' ')),
            StrClaim::One(t) => StringsInner::One(Some(t.get(&self.json))),
        };
        Strings {
            base: &self.json,
            inner,
        }
    }

    /// `iss`
    pub fn issuer(&self) -> Option<&str> {
        self.text(&self.r.iss)
    }
    /// `sub`
    pub fn subject(&self) -> Option<&str> {
        self.text(&self.r.sub)
    }
    /// `jti`
    pub fn jwt_id(&self) -> Option<&str> {
        self.text(&self.r.jti)
    }
    /// `aud` as a list (a single string is one element); `None` if absent.
    pub fn audiences(&self) -> Option<Strings<'_>> {
        self.r.aud.as_ref().map(|a| self.strings(a, false))
    }
    /// `exp`, seconds since the epoch (fractions truncated).
    pub fn expiration(&self) -> Option<i64> {
        self.r.exp
    }
    /// `nbf`, seconds since the epoch (fractions truncated).
    pub fn not_before(&self) -> Option<i64> {
        self.r.nbf
    }
    /// `iat`, seconds since the epoch (fractions truncated).
    pub fn issued_at(&self) -> Option<i64> {
        self.r.iat
    }
    /// The granted scopes: `scope` (RFC 8693/9068, a space-delimited string, or an array) or,
    /// when absent, `scp` (an array or string, as Azure AD and Okta send it).
    pub fn scopes(&self) -> Strings<'_> {
        match &self.r.scope {
            Some(s) => self.strings(s, true),
            None => Strings {
                base: &self.json,
                inner: StringsInner::One(None),
            },
        }
    }
    /// Whether a scope was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
    /// Whether the claims set has a top-level member of that name.
    pub fn contains(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }
    /// Top-level member names.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.r.names.iter().map(|t| t.get(&self.json))
    }
    /// The claims set as JSON text, exactly as signed (already checked strictly).
    pub fn json(&self) -> &str {
        &self.json
    }
    /// Builds the whole claims set as a JSON object. Call once and keep it when several
    /// claims are needed.
    pub fn to_object(&self) -> Map<String, Value> {
        // The text passed the strict parse, so this cannot fail; an empty map is returned if
        // it somehow did rather than panicking.
        match json::parse_value(self.json.as_bytes(), usize::MAX, usize::MAX) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
    /// Looks a claim up by a dotted path (`realm_access.roles`). See [`lookup_path`].
    pub fn lookup(&self, path: &str) -> Option<Value> {
        lookup_path(&self.to_object(), path).cloned()
    }
}

/// Finds a value by a dotted path in a claims object. A member whose own name contains dots
/// (`https://example.com/roles`) is found too: at each level the whole remaining path is
/// tried as a name first, then each dot from the left as a split point.
pub fn lookup_path<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    for (i, _) in path.match_indices('.') {
        let (head, rest) = (&path[..i], &path[i + 1..]);
        if let Some(Value::Object(inner)) = object.get(head) {
            if let Some(v) = lookup_path(inner, rest) {
                return Some(v);
            }
        }
    }
    None
}

/// Parses the decoded payload as a JWT claims set.
pub(crate) fn parse(payload: Vec<u8>, limits: &Limits) -> Result<Claims, Error> {
    let json = String::from_utf8(payload).map_err(|_| Error::MalformedClaims {
        reason: "payload is not UTF-8",
    })?;
    let (mut r, scp) = match read(&json, limits) {
        Ok(read) => read,
        Err(Fail::Claim(claim)) => {
            return Err(Error::ClaimInvalid {
                claim,
                reason: ClaimReason::Invalid,
            })
        }
        Err(Fail::Parse(f)) => {
            return Err(Error::MalformedClaims {
                reason: match f {
                    ParseFailure::Syntax { .. } => "payload is not a JSON object",
                    ParseFailure::Problem(p) => p.as_str(),
                },
            })
        }
    };
    if r.scope.is_none() {
        r.scope = scp;
    }
    Ok(Claims { json, r })
}

/// Why reading the claims stopped: bad JSON, or a registered claim of the wrong type.
enum Fail {
    Parse(ParseFailure),
    Claim(Claim),
}

impl From<ParseFailure> for Fail {
    fn from(f: ParseFailure) -> Self {
        Fail::Parse(f)
    }
}

/// Reads the claims object in one pass: the registered claims typed, `scp` kept apart until
/// `scope` is known to be absent, everything else validated.
fn read(base: &str, limits: &Limits) -> Result<(Registered, Option<StrClaim>), Fail> {
    let mut reader = Reader::new(base, limits.max_json_depth, limits.max_members);
    let r = &mut reader;
    let mut object = r.object_with(1, 24)?;
    let depth = object.inner();
    let mut reg = Registered::default();
    let mut scp = None;
    let string = |r: &mut Reader<'_>, claim| match r.scalar(depth)? {
        Scalar::Str(s) => Ok(Text::new(base, s)),
        _ => Err(Fail::Claim(claim)),
    };
    let date = |r: &mut Reader<'_>, claim| match r.scalar(depth)? {
        Scalar::Num(n) => json::numeric_date(n, MAX_NUMERIC_DATE).ok_or(Fail::Claim(claim)),
        _ => Err(Fail::Claim(claim)),
    };
    let strings =
        |r: &mut Reader<'_>, claim| one_or_many(r, depth, base)?.ok_or(Fail::Claim(claim));
    while let Some(name) = object.next(r)? {
        match &*name {
            "iss" => reg.iss = Some(string(r, Claim::Iss)?),
            "sub" => reg.sub = Some(string(r, Claim::Sub)?),
            "jti" => reg.jti = Some(string(r, Claim::Jti)?),
            "aud" => reg.aud = Some(strings(r, Claim::Aud)?),
            "exp" => reg.exp = Some(date(r, Claim::Exp)?),
            "nbf" => reg.nbf = Some(date(r, Claim::Nbf)?),
            "iat" => reg.iat = Some(date(r, Claim::Iat)?),
            "scope" => reg.scope = Some(strings(r, Claim::Scope)?),
            "scp" => scp = Some(strings(r, Claim::Scope)?),
            _ => r.skip(depth)?,
        }
    }
    r.finish()?;
    let names = object.into_names();
    reg.names = Vec::with_capacity(names.len());
    names.for_each(|n| reg.names.push(Text::new(base, n)));
    Ok((reg, scp))
}

/// A string or an array of strings; `None` for anything else (after validating it).
fn one_or_many(
    r: &mut Reader<'_>,
    depth: usize,
    base: &str,
) -> Result<Option<StrClaim>, ParseFailure> {
    match r.peek() {
        Some(b'"') => Ok(Some(StrClaim::One(Text::new(base, r.string()?)))),
        Some(b'[') => Ok(r
            .strings(depth, |s| Text::new(base, s))?
            .map(StrClaim::Many)),
        _ => {
            r.skip(depth)?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn p(json: &str) -> Result<Claims, Error> {
        parse(json.as_bytes().to_vec(), &Limits::DEFAULT)
    }

    fn invalid(claim: Claim) -> Error {
        Error::ClaimInvalid {
            claim,
            reason: ClaimReason::Invalid,
        }
    }

    #[test]
    fn types_registered_claims() {
        let c = p(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":20.9,"nbf":10,"iat":5,
                      "jti":"j","scope":"read  write","x":{"y":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(c.issuer(), Some("i"));
        assert_eq!(c.subject(), Some("s"));
        assert_eq!(c.audiences().unwrap().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(c.expiration(), Some(20));
        assert_eq!(c.not_before(), Some(10));
        assert_eq!(c.issued_at(), Some(5));
        assert_eq!(c.jwt_id(), Some("j"));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["read", "write"]);
        assert!(c.contains("x") && !c.contains("y"));
    }

    #[test]
    fn escaped_strings_and_names_are_decoded() {
        let c = p(r#"{"i\u0073s":"a\"b","sub":"\u00e9","aud":["x\\y"]}"#).unwrap();
        assert_eq!(c.issuer(), Some("a\"b"));
        assert_eq!(c.subject(), Some("é"));
        assert_eq!(c.audiences().unwrap().collect::<Vec<_>>(), ["x\\y"]);
        assert!(c.contains("iss"));
    }

    #[test]
    fn single_audience_becomes_a_list_and_scp_is_a_fallback() {
        let c = p(r#"{"aud":"only","scp":["a","b"]}"#).unwrap();
        assert_eq!(c.audiences().unwrap().collect::<Vec<_>>(), ["only"]);
        assert!(c.has_scope("b"));
        let c = p(r#"{"aud":"a b"}"#).unwrap();
        assert_eq!(c.audiences().unwrap().collect::<Vec<_>>(), ["a b"]);
        assert_eq!(c.scopes().count(), 0);
    }

    #[test]
    fn rejects_wrongly_typed_registered_claims() {
        assert_eq!(p(r#"{"iss":1}"#).unwrap_err(), invalid(Claim::Iss));
        assert_eq!(p(r#"{"sub":["s"]}"#).unwrap_err(), invalid(Claim::Sub));
        assert_eq!(p(r#"{"jti":null}"#).unwrap_err(), invalid(Claim::Jti));
        assert_eq!(p(r#"{"aud":1}"#).unwrap_err(), invalid(Claim::Aud));
        assert_eq!(p(r#"{"aud":["a",1]}"#).unwrap_err(), invalid(Claim::Aud));
        assert_eq!(p(r#"{"exp":"1"}"#).unwrap_err(), invalid(Claim::Exp));
        assert_eq!(p(r#"{"nbf":-1}"#).unwrap_err(), invalid(Claim::Nbf));
        assert_eq!(p(r#"{"iat":1e300}"#).unwrap_err(), invalid(Claim::Iat));
        assert_eq!(
            p(r#"{"exp":253402300800}"#).unwrap_err(),
            invalid(Claim::Exp)
        );
    }

    #[test]
    fn rejects_non_objects_duplicates_depth_and_bad_utf8() {
        for j in ["[]", "1", "\"x\"", "{", "{\"a\":1}x"] {
            assert_eq!(p(j).unwrap_err().code(), "ERR_JWT_INVALID", "{j}");
        }
        assert_eq!(
            p(r#"{"sub":"a","sub":"b"}"#).unwrap_err(),
            Error::MalformedClaims {
                reason: "duplicate member name"
            }
        );
        let deep = "{\"a\":".repeat(20) + "1" + &"}".repeat(20);
        assert_eq!(p(&deep).unwrap_err().code(), "ERR_JWT_INVALID");
        let bad = parse(
            vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'],
            &Limits::DEFAULT,
        );
        assert_eq!(bad.unwrap_err().code(), "ERR_JWT_INVALID");
    }

    #[test]
    fn looks_up_dotted_paths_including_names_with_dots() {
        let c = p(r#"{"realm":{"roles":["r1"]},"https://x.io/roles":["admin"],"a.b":{"c":1}}"#)
            .unwrap();
        assert_eq!(c.lookup("realm.roles"), Some(serde_json::json!(["r1"])));
        assert_eq!(
            c.lookup("https://x.io/roles"),
            Some(serde_json::json!(["admin"]))
        );
        assert_eq!(c.lookup("a.b.c"), Some(serde_json::json!(1)));
        assert_eq!(c.lookup("realm.missing"), None);
        assert_eq!(c.names().count(), 3);
    }
}
