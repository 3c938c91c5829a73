//! Finding the token in a request: a header with an auth scheme (`Authorization: Bearer ..`,
//! RFC 6750 section 2.1), a header holding the bare token, a cookie, a query parameter. All
//! on raw bytes, because a request can carry any byte.
//!
//! The answer is [`Presented`]: nothing there, one token, or a credential that is there but
//! cannot be used ([`Error::MalformedCredential`], [`Error::Ambiguous`]). The last is what keeps
//! `allow_missing` honest: a request that presents something token-like and broken is a
//! present, failing token, never "no token".

use alloc::vec::Vec;

use crate::gate::request_path::hex;
use crate::jose::error::Error;

/// What one token location, or a provider's locations together, presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No credential for this provider.
    Absent,
    /// One token (its characters checked: base64url, `.`, and the RFC 6750 `b64token` set).
    Token(&'a str),
    /// A credential that is present but unusable.
    Invalid(Error),
}

impl<'a> Presented<'a> {
    /// Combines the locations of one provider: any invalid one wins, two tokens are ambiguous
    /// (RFC 6750 section 2: one method per request, even when both carry the same token).
    pub fn combine(self, other: Presented<'a>) -> Presented<'a> {
        match (self, other) {
            (Presented::Invalid(e), _) | (_, Presented::Invalid(e)) => Presented::Invalid(e),
            (Presented::Absent, p) | (p, Presented::Absent) => p,
            (Presented::Token(_), Presented::Token(_)) => Presented::Invalid(Error::Ambiguous),
        }
    }
}

/// RFC 6750 `b64token` characters (a JWS compact serialization uses a subset).
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// `bytes` as a token when every byte is a token character.
fn token(bytes: &[u8]) -> Presented<'_> {
    if bytes.is_empty() || !bytes.iter().all(|&b| is_token_char(b)) {
        return Presented::Invalid(Error::MalformedCredential);
    }
    match core::str::from_utf8(bytes) {
        Ok(t) => Presented::Token(t),
        Err(_) => Presented::Invalid(Error::MalformedCredential),
    }
}

/// A cookie or parameter value: empty is nothing presented, anything else must be a token.
fn optional_token(value: &[u8]) -> Presented<'_> {
    if value.is_empty() {
        Presented::Absent
    } else {
        token(value)
    }
}

fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The token in one header value.
///
/// With a `prefix` such as `"Bearer "`, its scheme word (`Bearer`) is compared
/// case-insensitively (RFC 7235). `Bearer <token>` (one or more spaces) is a token. A value that
/// starts with the scheme word in any other way (`Bearer\t..`, `Bearer:..`, `Bearer`, `Bearerx
/// ..`) or whose token holds a byte no token can hold is [`Error::MalformedCredential`]. A
/// value listing several credentials (`Basic ..,Bearer ..`: Envoy folds a repeated header into
/// one comma-separated value) that include the scheme is [`Error::Ambiguous`]. A value with
/// another scheme (`Basic ..`) is [`Presented::Absent`]: not this provider's credential. Any byte
/// outside visible ASCII makes the value malformed, whatever the scheme.
///
/// Without a prefix the whole value (trimmed) is the token; an empty value is absent.
pub fn from_header_value<'a>(value: &'a [u8], prefix: Option<&str>) -> Presented<'a> {
    let value = trim_ows(value);
    if value
        .iter()
        .any(|&b| !(0x20..0x7f).contains(&b) && b != b'\t')
    {
        return Presented::Invalid(Error::MalformedCredential);
    }
    let scheme = prefix
        .map(|p| p.trim().as_bytes())
        .filter(|s| !s.is_empty());
    let Some(scheme) = scheme else {
        if value.is_empty() {
            return Presented::Absent;
        }
        return token(value);
    };
    if value.contains(&b',') {
        let names_scheme = value.split(|&b| b == b',').any(|element| {
            let element = trim_ows(element);
            starts_with_ignore_case(element, scheme)
                && element
                    .get(scheme.len())
                    .is_none_or(|&b| !b.is_ascii_alphanumeric())
        });
        return if names_scheme {
            Presented::Invalid(Error::Ambiguous)
        } else {
            Presented::Absent
        };
    }
    if !starts_with_ignore_case(value, scheme) {
        return Presented::Absent;
    }
    match &value[scheme.len()..] {
        [b' ', rest @ ..] => token(trim_ows(rest)),
        _ => Presented::Invalid(Error::MalformedCredential),
    }
}

/// The cookie `name` in a `Cookie` header value (all `Cookie` headers of the request joined
/// with `;`). The name compares exactly (RFC 6265); a value may be quoted. The cookie twice is
/// [`Error::Ambiguous`]; an empty value is absent; other cookies' bytes are not looked at.
pub fn from_cookies<'a>(header: &'a [u8], name: &str) -> Presented<'a> {
    let mut found = Presented::Absent;
    for pair in header.split(|&b| b == b';') {
        let pair = trim_ows(pair);
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        if trim_ows(&pair[..eq]) != name.as_bytes() {
            continue;
        }
        let mut value = trim_ows(&pair[eq + 1..]);
        if let [b'"', inner @ .., b'"'] = value {
            value = inner;
        }
        found = found.combine(optional_token(value));
    }
    found
}

/// The query parameter `name` in a request target. A parameter name that only matches once
/// percent-decoded (`access%5Ftoken`) counts as the parameter; a value with a `%` (a token
/// never needs one) is malformed; the parameter twice is ambiguous.
pub fn from_query<'a>(target: &'a [u8], name: &str) -> Presented<'a> {
    let Some(q) = target.iter().position(|&b| b == b'?') else {
        return Presented::Absent;
    };
    let query = &target[q + 1..];
    let query = &query[..query.iter().position(|&b| b == b'#').unwrap_or(query.len())];
    let mut found = Presented::Absent;
    for pair in query.split(|&b| b == b'&') {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        if !decoded_equals(key, name.as_bytes()) {
            continue;
        }
        found = found.combine(optional_token(value));
    }
    found
}

/// `target` without every query parameter that [`from_query`] reads as `name` (for
/// `forward: false`). Other parameters keep their bytes and order.
pub fn without_query_param(target: &[u8], name: &str) -> Vec<u8> {
    let Some(q) = target.iter().position(|&b| b == b'?') else {
        return target.to_vec();
    };
    let mut out = target[..q].to_vec();
    let mut first = true;
    for pair in target[q + 1..].split(|&b| b == b'&') {
        let key = &pair[..pair.iter().position(|&b| b == b'=').unwrap_or(pair.len())];
        if decoded_equals(key, name.as_bytes()) {
            continue;
        }
        out.push(if first { b'?' } else { b'&' });
        out.extend_from_slice(pair);
        first = false;
    }
    out
}

/// A `Cookie` header value without every cookie named `name` (`None` when nothing is left).
pub fn without_cookie(header: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for pair in header.split(|&b| b == b';') {
        let pair = trim_ows(pair);
        if pair.is_empty() {
            continue;
        }
        let key = &pair[..pair.iter().position(|&b| b == b'=').unwrap_or(pair.len())];
        if trim_ows(key) == name.as_bytes() {
            continue;
        }
        if !out.is_empty() {
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(pair);
    }
    (!out.is_empty()).then_some(out)
}

/// Whether `encoded` (form-urlencoded: `%XX`, `+` for space) decodes to `plain`. Invalid
/// escapes never match.
fn decoded_equals(encoded: &[u8], plain: &[u8]) -> bool {
    let mut i = 0;
    let mut j = 0;
    while i < encoded.len() {
        let b = match encoded[i] {
            b'%' => {
                let digit = |k: usize| encoded.get(k).copied().and_then(hex);
                let (Some(h), Some(l)) = (digit(i + 1), digit(i + 2)) else {
                    return false;
                };
                i += 3;
                h << 4 | l
            }
            b'+' => {
                i += 1;
                b' '
            }
            b => {
                i += 1;
                b
            }
        };
        if plain.get(j) != Some(&b) {
            return false;
        }
        j += 1;
    }
    j == plain.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEARER: Option<&str> = Some("Bearer ");
    const MALFORMED: Presented<'static> = Presented::Invalid(Error::MalformedCredential);
    const AMBIGUOUS: Presented<'static> = Presented::Invalid(Error::Ambiguous);

    #[test]
    fn bearer_scheme() {
        let t = |v: &'static str| from_header_value(v.as_bytes(), BEARER);
        assert_eq!(t("Bearer a.b.c"), Presented::Token("a.b.c"));
        assert_eq!(t("bearer a.b.c "), Presented::Token("a.b.c"));
        assert_eq!(t("BEARER   a.b.c"), Presented::Token("a.b.c"));
        assert_eq!(t("Basic dXNlcjpwYXNz"), Presented::Absent);
        assert_eq!(t(""), Presented::Absent);
        for bad in [
            "Bearer\ta.b.c",
            "Bearer:a.b.c",
            "Bearer",
            "Bearer ",
            "Bearerx a.b.c",
            "Bearer a.b.c extra",
            "Bearer a.b\tc",
            "Bearer a.b.c\"",
        ] {
            assert_eq!(t(bad), MALFORMED, "{bad:?}");
        }
        assert_eq!(t("Basic dXNl,Bearer a.b.c"), AMBIGUOUS);
        assert_eq!(t("Bearer a.b.c, Bearer d.e.f"), AMBIGUOUS);
        assert_eq!(t("Digest a=1, b=2"), Presented::Absent);
        assert_eq!(from_header_value(b"Bearer \xff", BEARER), MALFORMED);
        assert_eq!(from_header_value(b"Basic \x80", BEARER), MALFORMED);
    }

    #[test]
    fn bare_header() {
        assert_eq!(
            from_header_value(b" a.b.c ", None),
            Presented::Token("a.b.c")
        );
        assert_eq!(from_header_value(b"", None), Presented::Absent);
        assert_eq!(from_header_value(b"a.b c", None), MALFORMED);
        assert_eq!(from_header_value(b"a.b.c,d.e.f", None), MALFORMED);
        assert_eq!(from_header_value(b"\xff", None), MALFORMED);
    }

    #[test]
    fn cookies() {
        assert_eq!(
            from_cookies(b"a=1; at=x.y.z; b=2", "at"),
            Presented::Token("x.y.z")
        );
        assert_eq!(
            from_cookies(b"at=\"x.y.z\"", "at"),
            Presented::Token("x.y.z")
        );
        assert_eq!(
            from_cookies(b"a=\xff; at=x.y.z", "at"),
            Presented::Token("x.y.z")
        );
        assert_eq!(from_cookies(b"AT=x.y.z", "at"), Presented::Absent);
        assert_eq!(from_cookies(b"at=", "at"), Presented::Absent);
        assert_eq!(from_cookies(b"at=x.y.z; at=x.y.z", "at"), AMBIGUOUS);
        assert_eq!(from_cookies(b"at=\xff", "at"), MALFORMED);
    }

    #[test]
    fn query() {
        assert_eq!(
            from_query(b"/x?a=1&access_token=t.u.v", "access_token"),
            Presented::Token("t.u.v")
        );
        assert_eq!(
            from_query(b"/x?access_token=t%2E", "access_token"),
            MALFORMED
        );
        assert_eq!(
            from_query(b"/x?access%5Ftoken=t.u", "access_token"),
            Presented::Token("t.u")
        );
        assert_eq!(
            from_query(b"/x?access_token=a.b&access_token=c.d", "access_token"),
            AMBIGUOUS
        );
        assert_eq!(from_query(b"/x", "access_token"), Presented::Absent);
        assert_eq!(
            from_query(b"/x?access_token=", "access_token"),
            Presented::Absent
        );
    }

    #[test]
    fn removal_matches_extraction() {
        assert_eq!(
            without_query_param(b"/x?a=1&access_token=t&access%5Ftoken=u&b", "access_token"),
            b"/x?a=1&b"
        );
        assert_eq!(
            without_query_param(b"/x?access_token=t", "access_token"),
            b"/x"
        );
        assert_eq!(without_query_param(b"/x", "access_token"), b"/x");
        assert_eq!(
            without_cookie(b"a=1; at=tok; b=\xff; at=2", "at").unwrap(),
            b"a=1; b=\xff"
        );
        assert_eq!(without_cookie(b"at=tok", "at"), None);
    }

    #[test]
    fn combining_locations() {
        let a = Presented::Token("a.b.c");
        assert_eq!(a.clone().combine(Presented::Absent), a);
        assert_eq!(a.clone().combine(a.clone()), AMBIGUOUS);
        assert_eq!(Presented::Absent.combine(MALFORMED), MALFORMED);
    }
}
