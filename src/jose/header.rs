//! The JOSE protected header (RFC 7515 section 4): `alg` required; `kid`, `typ`, `cty` read;
//! `crit` enforced; `jwk`, `jku`, `x5u`, `x5c` accepted as members but never used to choose a
//! key (RFC 8725 section 3.10): keys come only from the caller's key set.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::alg::Algorithm;
use crate::jose::b64;
use crate::jose::error::{Error, Part};
use crate::jose::json::{Names, ParseFailure, Problem, Reader, Scalar};
use crate::jose::limits::Limits;

/// The parts of a protected header this verifier uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `alg`: the algorithm the signer claims. The policy and the key decide; this only has
    /// to agree.
    pub alg: Algorithm,
    /// `kid`: selects keys in the key set.
    pub kid: Option<String>,
    /// `typ`: media type of the whole token (`JWT`, `at+jwt`, ...).
    pub typ: Option<String>,
    /// `cty`: media type of the payload (`JWT` for nested tokens, which are not unwrapped).
    pub cty: Option<String>,
}

/// Header member names that RFC 7515/7518 register; `crit` must not list them.
const REGISTERED: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
    "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
];

fn malformed(reason: &'static str) -> Error {
    Error::MalformedJws {
        part: Part::Header,
        reason,
    }
}

/// Decodes and parses the base64url header segment.
pub(crate) fn parse(segment: &[u8], limits: &Limits) -> Result<Header, Error> {
    // Headers are small: decode onto the stack when the segment fits (typical headers do),
    // on the heap otherwise (an `x5c` chain).
    const STACK_SEGMENT_BYTES: usize = 2 * 1024;
    let mut stack = [0u8; STACK_SEGMENT_BYTES / 4 * 3 + 3];
    if segment.len() <= STACK_SEGMENT_BYTES {
        let n =
            b64::decode_to_slice(segment, &mut stack).ok_or(malformed("not strict base64url"))?;
        return parse_json(&stack[..n], limits);
    }
    let bytes = b64::decode(segment).ok_or(malformed("not strict base64url"))?;
    parse_json(&bytes, limits)
}

/// Parses header JSON (already decoded).
pub(crate) fn parse_json(bytes: &[u8], limits: &Limits) -> Result<Header, Error> {
    let text = core::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"))?;
    let raw = read(text, limits).map_err(|f| match f {
        ParseFailure::Syntax { .. } => malformed("not a JSON object"),
        ParseFailure::Problem(p) => malformed(p.as_str()),
    })?;
    raw.check()
}

/// The header as read, before the semantic checks; strings borrowed from the input.
struct Raw<'de> {
    alg: Option<Cow<'de, str>>,
    kid: Option<Cow<'de, str>>,
    typ: Option<Cow<'de, str>>,
    cty: Option<Cow<'de, str>>,
    crit: Option<Vec<String>>,
    b64: Option<bool>,
    names: Names<'de>,
}

impl Raw<'_> {
    fn check(self) -> Result<Header, Error> {
        if let Some(crit) = &self.crit {
            // RFC 7515 4.1.11: non-empty, no registered names, each one present.
            if crit.is_empty() {
                return Err(malformed("\"crit\" must not be empty"));
            }
            for name in crit {
                if REGISTERED.contains(&name.as_str()) {
                    return Err(malformed("\"crit\" lists a registered header parameter"));
                }
                if !self.names.contains(name) {
                    return Err(malformed("\"crit\" lists a parameter that is absent"));
                }
            }
            // No extension is implemented (RFC 7797 `b64` included), so any is refused.
            return Err(Error::NotSupported {
                reason: "critical header extension",
            });
        }
        if self.b64 == Some(false) {
            return Err(Error::NotSupported {
                reason: "unencoded payload (b64: false)",
            });
        }
        let alg = self.alg.ok_or(malformed("missing \"alg\""))?;
        let alg = match Algorithm::from_name(&alg) {
            Some(a) => a,
            // Names are case-sensitive, so "NONE" is not "none"; but it can only be an
            // attempt at an unsecured token, and is reported as one.
            None if alg.eq_ignore_ascii_case("none") => return Err(Error::AlgorithmNotAllowed),
            None => {
                return Err(Error::NotSupported {
                    reason: "unrecognized \"alg\"",
                })
            }
        };
        Ok(Header {
            alg,
            kid: self.kid.map(Cow::into_owned),
            typ: self.typ.map(Cow::into_owned),
            cty: self.cty.map(Cow::into_owned),
        })
    }
}

/// Reads the header object: the members this verifier uses typed, the others validated.
fn read<'a>(text: &'a str, limits: &Limits) -> Result<Raw<'a>, ParseFailure> {
    let mut r = Reader::new(text, limits.max_json_depth, limits.max_members);
    let mut object = r.object(1)?;
    let mut raw = Raw {
        alg: None,
        kid: None,
        typ: None,
        cty: None,
        crit: None,
        b64: None,
        names: Names::new(),
    };
    let depth = object.inner();
    while let Some(name) = object.next(&mut r)? {
        match &*name {
            "alg" => raw.alg = Some(string(&mut r, depth, "\"alg\" must be a string")?),
            "kid" => raw.kid = Some(string(&mut r, depth, "\"kid\" must be a string")?),
            "typ" => raw.typ = Some(string(&mut r, depth, "\"typ\" must be a string")?),
            "cty" => raw.cty = Some(string(&mut r, depth, "\"cty\" must be a string")?),
            "crit" => raw.crit = Some(string_list(&mut r, depth)?),
            "b64" => match r.scalar(depth)? {
                Scalar::Bool(b) => raw.b64 = Some(b),
                _ => return Err(Problem::Field("\"b64\" must be a boolean").into()),
            },
            _ => r.skip(depth)?,
        }
    }
    r.finish()?;
    raw.names = object.into_names();
    Ok(raw)
}

fn string<'a>(
    r: &mut Reader<'a>,
    depth: usize,
    reason: &'static str,
) -> Result<Cow<'a, str>, ParseFailure> {
    match r.scalar(depth)? {
        Scalar::Str(s) => Ok(s),
        _ => Err(Problem::Field(reason).into()),
    }
}

/// An array of strings (the `crit` header), bounded by the member limit.
fn string_list(r: &mut Reader<'_>, depth: usize) -> Result<Vec<String>, ParseFailure> {
    if r.peek() != Some(b'[') {
        return Err(Problem::Field("\"crit\" must be an array").into());
    }
    r.strings(depth, Cow::into_owned)?
        .ok_or(Problem::Field("\"crit\" must list strings").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(json: &str) -> Result<Header, Error> {
        parse_json(json.as_bytes(), &Limits::DEFAULT)
    }

    #[test]
    fn reads_alg_kid_typ_cty() {
        let h =
            p(r#"{"alg":"ES256","kid":"k1","typ":"at+jwt","cty":"JWT","x":[1,{"y":2}]}"#).unwrap();
        assert_eq!(h.alg, Algorithm::ES256);
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert_eq!(h.typ.as_deref(), Some("at+jwt"));
        assert_eq!(h.cty.as_deref(), Some("JWT"));
    }

    #[test]
    fn rejects_alg_none_as_not_allowed_and_unknown_as_unsupported() {
        assert_eq!(p(r#"{"alg":"none"}"#), Err(Error::AlgorithmNotAllowed));
        assert_eq!(
            p(r#"{"alg":"HS1"}"#).unwrap_err().code(),
            "ERR_JOSE_NOT_SUPPORTED"
        );
        assert_eq!(p(r#"{"typ":"JWT"}"#).unwrap_err().code(), "ERR_JWS_INVALID");
        assert_eq!(p(r#"{"alg":256}"#).unwrap_err().code(), "ERR_JWS_INVALID");
        assert_eq!(
            p(r#"{"alg":"HS256","kid":7}"#).unwrap_err().code(),
            "ERR_JWS_INVALID"
        );
    }

    #[test]
    fn rejects_duplicate_alg() {
        let e = p(r#"{"alg":"HS256","alg":"RS256"}"#).unwrap_err();
        assert_eq!(
            e,
            Error::MalformedJws {
                part: Part::Header,
                reason: "duplicate member name"
            }
        );
    }

    #[test]
    fn enforces_crit() {
        assert_eq!(
            p(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#)
                .unwrap_err()
                .code(),
            "ERR_JOSE_NOT_SUPPORTED"
        );
        assert_eq!(
            p(r#"{"alg":"HS256","crit":["b64"],"b64":false}"#)
                .unwrap_err()
                .code(),
            "ERR_JOSE_NOT_SUPPORTED"
        );
        assert_eq!(
            p(r#"{"alg":"HS256","crit":[]}"#).unwrap_err().code(),
            "ERR_JWS_INVALID"
        );
        assert_eq!(
            p(r#"{"alg":"HS256","crit":["alg"]}"#).unwrap_err().code(),
            "ERR_JWS_INVALID"
        );
        assert_eq!(
            p(r#"{"alg":"HS256","crit":["absent"]}"#)
                .unwrap_err()
                .code(),
            "ERR_JWS_INVALID"
        );
        assert_eq!(
            p(r#"{"alg":"HS256","crit":"x"}"#).unwrap_err().code(),
            "ERR_JWS_INVALID"
        );
    }

    #[test]
    fn rejects_b64_false_even_without_crit() {
        assert_eq!(
            p(r#"{"alg":"HS256","b64":false}"#).unwrap_err().code(),
            "ERR_JOSE_NOT_SUPPORTED"
        );
        assert!(p(r#"{"alg":"HS256","b64":true}"#).is_ok());
    }

    #[test]
    fn rejects_non_objects() {
        for j in ["[]", "\"alg\"", "null", "{", ""] {
            assert_eq!(p(j).unwrap_err().code(), "ERR_JWS_INVALID", "{j}");
        }
    }
}
