//! Denials as HTTP: status, RFC 6750 `WWW-Authenticate`, and a small JSON body. The token is
//! never echoed; only the stable error code is.

use tokengate::Error;

/// What to send back for a denial.
pub struct Denial {
    pub status: u32,
    /// The RFC 6750 challenge; `None` for an outage (503), which is no verdict on the token.
    pub www_authenticate: Option<String>,
    /// Seconds for `Retry-After` (outages only).
    pub retry_after: Option<u32>,
    pub body: String,
}

/// `Retry-After` for an outage: the filter retries a failed fetch this often.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// RFC 6750 section 3: no `error` when no token was presented; `invalid_token` (401) for a bad
/// token; `insufficient_scope` (403, with `scope`) when it is genuine but not enough;
/// `invalid_request` (400) for a request path not in normal form. An outage is 503 with
/// `Retry-After` and no challenge: the gate could not decide, which is no verdict on the token,
/// so a well-behaved client keeps it and retries instead of asking the IdP for a new one.
/// With `hide_details`, the code (`error_description`, the body's `code`) is left out.
pub fn denial(realm: &str, e: &Error, hide_details: bool) -> Denial {
    let code = e.code();
    let error = if e.is_unavailable() {
        "temporarily_unavailable"
    } else if e.is_bad_request() {
        "invalid_request"
    } else if *e == Error::Missing {
        "unauthorized"
    } else if e.is_authorization_failure() {
        "insufficient_scope"
    } else {
        "invalid_token"
    };
    let status = match error {
        "temporarily_unavailable" => 503,
        "invalid_request" => 400,
        "insufficient_scope" => 403,
        _ => 401,
    };
    let www_authenticate = if e.is_unavailable() {
        None
    } else if *e == Error::Missing {
        Some(format!("Bearer realm=\"{realm}\""))
    } else {
        let mut header = format!("Bearer realm=\"{realm}\", error=\"{error}\"");
        if !hide_details {
            header.push_str(&format!(", error_description=\"{code}\""));
        }
        if let Error::InsufficientScope { required } = e {
            // Scope tokens are configuration, and RFC 6749 forbids quotes and backslashes in them.
            header.push_str(&format!(", scope=\"{required}\""));
        }
        Some(header)
    };
    let body = if hide_details {
        format!("{{\"error\":\"{error}\"}}")
    } else {
        format!("{{\"error\":\"{error}\",\"code\":\"{code}\"}}")
    };
    Denial {
        status,
        www_authenticate,
        retry_after: e.is_unavailable().then_some(RETRY_AFTER_SECONDS),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rfc6750() {
        let quiet = denial("api", &Error::Expired, true);
        assert_eq!(
            quiet.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", error=\"invalid_token\"")
        );
        assert_eq!(quiet.body, "{\"error\":\"invalid_token\"}");
        let d = denial("api", &Error::Missing, false);
        assert_eq!(
            (d.status, d.www_authenticate.as_deref().unwrap()),
            (401, "Bearer realm=\"api\"")
        );
        let d = denial("api", &Error::Expired, false);
        assert_eq!(d.status, 401);
        assert_eq!(
            d.www_authenticate.unwrap(),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"ERR_JWT_EXPIRED\""
        );
        let d = denial(
            "api",
            &Error::InsufficientScope {
                required: "a b".into(),
            },
            false,
        );
        assert_eq!(d.status, 403);
        assert!(d.www_authenticate.unwrap().ends_with("scope=\"a b\""));
        assert!(d.body.contains("ERR_JWT_INSUFFICIENT_SCOPE"));
        let d = denial("api", &Error::PathNotNormalized, false);
        assert_eq!(d.status, 400);
        assert!(d
            .www_authenticate
            .unwrap()
            .contains("error=\"invalid_request\""));
        for e in [
            Error::Ambiguous,
            Error::MalformedCredential,
            Error::ConfirmationUnsupported,
        ] {
            let d = denial("api", &e, false);
            assert_eq!(d.status, 401);
            assert!(d
                .www_authenticate
                .unwrap()
                .contains("error=\"invalid_token\""));
        }
        for e in [Error::KeysUnavailable, Error::DenylistUnavailable] {
            let d = denial("api", &e, false);
            assert_eq!((d.status, d.retry_after), (503, Some(RETRY_AFTER_SECONDS)));
            assert!(
                d.www_authenticate.is_none(),
                "no invalid_token challenge for an outage"
            );
            assert!(d.body.contains(e.code()));
        }
    }
}
