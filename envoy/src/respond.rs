//! Denials as HTTP: status, RFC 6750 `WWW-Authenticate`, and a small JSON body. The token is
//! never echoed; only the stable error code is.

use tokengate::Error;

/// What to send back for a denial.
pub struct Denial {
    pub status: u32,
    pub www_authenticate: String,
    pub body: String,
}

/// RFC 6750 section 3: no `error` when no token was presented; `invalid_token` (401) for a bad
/// token; `insufficient_scope` (403, with `scope`) when it is genuine but not enough.
pub fn denial(realm: &str, e: &Error) -> Denial {
    let code = e.code();
    if e.is_bad_request() {
        // RFC 6750 3.1: a malformed request is `invalid_request`, HTTP 400.
        return Denial {
            status: 400,
            www_authenticate: format!(
                "Bearer realm=\"{realm}\", error=\"invalid_request\", error_description=\"{code}\""
            ),
            body: format!("{{\"error\":\"invalid_request\",\"code\":\"{code}\"}}"),
        };
    }
    if *e == Error::Missing {
        return Denial {
            status: 401,
            www_authenticate: format!("Bearer realm=\"{realm}\""),
            body: format!("{{\"error\":\"unauthorized\",\"code\":\"{code}\"}}"),
        };
    }
    if e.is_authorization_failure() {
        let mut header = format!(
            "Bearer realm=\"{realm}\", error=\"insufficient_scope\", error_description=\"{code}\""
        );
        if let Error::InsufficientScope { required } = e {
            // Scope tokens are configuration, and RFC 6749 forbids quotes and backslashes in them.
            header.push_str(&format!(", scope=\"{required}\""));
        }
        return Denial {
            status: 403,
            www_authenticate: header,
            body: format!("{{\"error\":\"insufficient_scope\",\"code\":\"{code}\"}}"),
        };
    }
    Denial {
        status: 401,
        www_authenticate: format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{code}\""
        ),
        body: format!("{{\"error\":\"invalid_token\",\"code\":\"{code}\"}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rfc6750() {
        let d = denial("api", &Error::Missing);
        assert_eq!(
            (d.status, d.www_authenticate.as_str()),
            (401, "Bearer realm=\"api\"")
        );
        let d = denial("api", &Error::Expired);
        assert_eq!(d.status, 401);
        assert_eq!(
            d.www_authenticate,
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"ERR_JWT_EXPIRED\""
        );
        let d = denial(
            "api",
            &Error::InsufficientScope {
                required: "a b".into(),
            },
        );
        assert_eq!(d.status, 403);
        assert!(d.www_authenticate.ends_with("scope=\"a b\""));
        assert!(d.body.contains("ERR_JWT_INSUFFICIENT_SCOPE"));
        let d = denial("api", &Error::PathNotNormalized);
        assert_eq!(d.status, 400);
        assert!(d.www_authenticate.contains("error=\"invalid_request\""));
        for e in [
            Error::Ambiguous,
            Error::MalformedCredential,
            Error::ConfirmationUnsupported,
        ] {
            let d = denial("api", &e);
            assert_eq!(d.status, 401);
            assert!(d.www_authenticate.contains("error=\"invalid_token\""));
        }
    }
}
