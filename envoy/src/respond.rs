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
/// token; `insufficient_scope` (403, with `scope`) when it is genuine but not enough.
pub fn denial(realm: &str, e: &Error, hide_details: bool) -> Denial {
    let mut d = explained(realm, e);
    if hide_details {
        // No `error_description` and no body code: only RFC 6750's `error` (and `scope`).
        let code = e.code();
        if let Some(w) = &mut d.www_authenticate {
            *w = w.replace(&format!(", error_description=\"{code}\""), "");
        }
        d.body = d.body.replace(&format!(",\"code\":\"{code}\""), "");
    }
    d
}

fn explained(realm: &str, e: &Error) -> Denial {
    let code = e.code();
    if e.is_unavailable() {
        // The gate could not decide (no keys, or keys/denylist stale): not `invalid_token`,
        // so a well-behaved client keeps its token and retries instead of asking the IdP.
        return Denial {
            status: 503,
            www_authenticate: None,
            retry_after: Some(RETRY_AFTER_SECONDS),
            body: format!("{{\"error\":\"temporarily_unavailable\",\"code\":\"{code}\"}}"),
        };
    }
    if e.is_bad_request() {
        // RFC 6750 3.1: a malformed request is `invalid_request`, HTTP 400.
        return Denial {
            status: 400,
            www_authenticate: Some(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_request\", error_description=\"{code}\""
            )),
            retry_after: None,
            body: format!("{{\"error\":\"invalid_request\",\"code\":\"{code}\"}}"),
        };
    }
    if *e == Error::Missing {
        return Denial {
            status: 401,
            www_authenticate: Some(format!("Bearer realm=\"{realm}\"")),
            retry_after: None,
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
            www_authenticate: Some(header),
            retry_after: None,
            body: format!("{{\"error\":\"insufficient_scope\",\"code\":\"{code}\"}}"),
        };
    }
    Denial {
        status: 401,
        www_authenticate: Some(format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{code}\""
        )),
        retry_after: None,
        body: format!("{{\"error\":\"invalid_token\",\"code\":\"{code}\"}}"),
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
