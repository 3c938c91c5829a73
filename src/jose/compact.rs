//! The JWS compact serialization: size limits, then a split into three borrowed segments.
//! Nothing is decoded here.

use crate::jose::error::{Error, Part};
use crate::jose::limits::Limits;

/// The three base64url segments of a compact JWS, borrowed from the token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segments<'a> {
    /// `BASE64URL(header)`
    pub header: &'a [u8],
    /// `BASE64URL(payload)`
    pub payload: &'a [u8],
    /// `BASE64URL(signature)`
    pub signature: &'a [u8],
    /// `header '.' payload`: the bytes the signature covers.
    pub signing_input: &'a [u8],
}

/// Splits a compact JWS after checking its size. The JSON serializations and JWE (five
/// segments) are reported as unsupported, anything else that is not three segments as
/// malformed.
pub(crate) fn split<'a>(token: &'a [u8], limits: &Limits) -> Result<Segments<'a>, Error> {
    limits.check_token_size(token.len())?;
    if token.is_empty() {
        return Err(Error::MalformedJws {
            part: Part::Token,
            reason: "empty token",
        });
    }
    if token.first() == Some(&b'{') {
        return Err(Error::NotSupported {
            reason: "JWS JSON serialization (only the compact serialization is accepted)",
        });
    }
    let mut dots = [0usize; 2];
    let mut count = 0usize;
    for i in memchr::memchr_iter(b'.', token) {
        if count < 2 {
            dots[count] = i;
        }
        count += 1;
        if count > 4 {
            break;
        }
    }
    match count {
        2 => {}
        4 => {
            return Err(Error::NotSupported {
                reason: "JWE (encrypted tokens)",
            })
        }
        _ => {
            return Err(Error::MalformedJws {
                part: Part::Token,
                reason: "expected three dot-separated segments",
            })
        }
    }
    let header = &token[..dots[0]];
    if header.len() > limits.max_header_bytes {
        return Err(Error::TooLarge {
            part: Part::Header,
            limit: limits.max_header_bytes,
        });
    }
    Ok(Segments {
        header,
        payload: &token[dots[0] + 1..dots[1]],
        signature: &token[dots[1] + 1..],
        signing_input: &token[..dots[1]],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_segments() {
        let s = split(b"aa.bb.cc", &Limits::DEFAULT).unwrap();
        assert_eq!(s.header, b"aa");
        assert_eq!(s.payload, b"bb");
        assert_eq!(s.signature, b"cc");
        assert_eq!(s.signing_input, b"aa.bb");
    }

    #[test]
    fn rejects_wrong_segment_counts() {
        for t in [&b"aa.bb"[..], b"aa", b"a.b.c.d", b"a.b.c.d.e.f"] {
            assert_eq!(
                split(t, &Limits::DEFAULT).unwrap_err().code(),
                "ERR_JWS_INVALID"
            );
        }
        assert_eq!(
            split(b"a.b.c.d.e", &Limits::DEFAULT).unwrap_err().code(),
            "ERR_JOSE_NOT_SUPPORTED"
        );
    }

    #[test]
    fn rejects_json_serialization_as_unsupported() {
        let e = split(br#"{"payload":"x","signatures":[]}"#, &Limits::DEFAULT).unwrap_err();
        assert_eq!(e.code(), "ERR_JOSE_NOT_SUPPORTED");
    }

    #[test]
    fn checks_size_before_anything_else() {
        let limits = Limits {
            max_token_bytes: 8,
            ..Limits::DEFAULT
        };
        let e = split(b"{not even a token", &limits).unwrap_err();
        assert_eq!(
            e,
            Error::TooLarge {
                part: Part::Token,
                limit: 8
            }
        );
        let limits = Limits {
            max_header_bytes: 2,
            ..Limits::DEFAULT
        };
        let e = split(b"aaa.b.c", &limits).unwrap_err();
        assert_eq!(
            e,
            Error::TooLarge {
                part: Part::Header,
                limit: 2
            }
        );
    }
}
