//! What a gate answers when it refuses a request: the HTTP status, the RFC 6750
//! `WWW-Authenticate` challenge, `Retry-After` for an outage, and a small body, or for a gRPC
//! request the gRPC status and `grpc-message`. The token is never echoed; only the stable error
//! code and static text are.

use alloc::format;
use alloc::string::String;

use crate::jose::error::Error;

/// `Retry-After` for an outage, in seconds: hosts retry a failed key or denylist fetch at
/// least this often.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// gRPC `UNAUTHENTICATED`.
pub const GRPC_UNAUTHENTICATED: u32 = 16;
/// gRPC `PERMISSION_DENIED`.
pub const GRPC_PERMISSION_DENIED: u32 = 7;
/// gRPC `UNAVAILABLE`.
pub const GRPC_UNAVAILABLE: u32 = 14;
/// gRPC `INVALID_ARGUMENT`.
pub const GRPC_INVALID_ARGUMENT: u32 = 3;

/// The answer to a refused request, for the host to send as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The HTTP status: 401, 403, 400, or 503 for an outage. A gRPC host sends HTTP 200 with
    /// [`grpc_status`](Denial::grpc_status) in a trailers-only response; Envoy does this
    /// itself for a local reply to a gRPC request.
    pub status: u16,
    /// The RFC 6750 challenge; `None` for an outage (503), which is no verdict on the token.
    pub www_authenticate: Option<String>,
    /// Seconds for `Retry-After` (outages only).
    pub retry_after: Option<u32>,
    /// The body's media type: `application/json`, or `None` for gRPC (where the body is the
    /// `grpc-message` text and the response keeps gRPC's own content type).
    pub content_type: Option<&'static str>,
    /// The body: `{"error":..,"code":..}` for HTTP, the `grpc-message` text for gRPC.
    pub body: String,
    /// For a gRPC request, the gRPC status: `UNAUTHENTICATED` (16) for a missing or bad token,
    /// `PERMISSION_DENIED` (7) for a genuine token that is not enough, `UNAVAILABLE` (14) for
    /// an outage, `INVALID_ARGUMENT` (3) for a path not in normal form.
    pub grpc_status: Option<u32>,
}

/// How a refused request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenialStyle<'a> {
    /// The `realm` of the challenge.
    pub realm: &'a str,
    /// Leave the error code out of the response (`error_description`, the body's `code`, the
    /// gRPC message); the host's audit log keeps it.
    pub hide_details: bool,
    /// The request is gRPC (see [`is_grpc`]).
    pub grpc: bool,
}

/// Whether a request's `content-type` makes it gRPC (`application/grpc`, `application/grpc+proto`,
/// `application/grpc;...`): its refusal is then a gRPC status, not an HTTP body.
pub fn is_grpc(content_type: Option<&[u8]>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let prefix = b"application/grpc";
    ct.len() >= prefix.len()
        && ct[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(ct.get(prefix.len()), None | Some(b'+') | Some(b';'))
}

/// RFC 6750 section 3: no `error` when no token was presented; `invalid_token` (401) for a bad
/// token; `insufficient_scope` (403, with `scope`) when it is genuine but not enough;
/// `invalid_request` (400) for a request path not in normal form. An outage is 503 with
/// `Retry-After` and no challenge: the gate could not decide, which is no verdict on the token,
/// so a well-behaved client keeps it and retries instead of asking the IdP for a new one.
pub fn denial(e: &Error, style: &DenialStyle<'_>) -> Denial {
    let code = e.code();
    let (error, status, grpc_status) = if e.is_unavailable() {
        ("temporarily_unavailable", 503, GRPC_UNAVAILABLE)
    } else if e.is_bad_request() {
        ("invalid_request", 400, GRPC_INVALID_ARGUMENT)
    } else if *e == Error::Missing {
        ("unauthorized", 401, GRPC_UNAUTHENTICATED)
    } else if e.is_authorization_failure() {
        ("insufficient_scope", 403, GRPC_PERMISSION_DENIED)
    } else {
        ("invalid_token", 401, GRPC_UNAUTHENTICATED)
    };
    let www_authenticate = if e.is_unavailable() {
        None
    } else if *e == Error::Missing {
        Some(format!("Bearer realm=\"{}\"", style.realm))
    } else {
        let mut header = format!("Bearer realm=\"{}\", error=\"{error}\"", style.realm);
        if !style.hide_details {
            header.push_str(&format!(", error_description=\"{code}\""));
        }
        if let Error::InsufficientScope { required } = e {
            // Scope tokens are configuration, and RFC 6749 forbids quotes and backslashes in them.
            header.push_str(&format!(", scope=\"{required}\""));
        }
        Some(header)
    };
    let (content_type, body) = match (style.grpc, style.hide_details) {
        // The message is static text and configuration (Error's Display), never token bytes.
        (true, false) => (None, format!("{error}: {code}: {e}")),
        (true, true) => (None, String::from(error)),
        (false, false) => (
            Some("application/json"),
            format!("{{\"error\":\"{error}\",\"code\":\"{code}\"}}"),
        ),
        (false, true) => (
            Some("application/json"),
            format!("{{\"error\":\"{error}\"}}"),
        ),
    };
    Denial {
        status,
        www_authenticate,
        retry_after: e.is_unavailable().then_some(RETRY_AFTER_SECONDS),
        content_type,
        body,
        grpc_status: style.grpc.then_some(grpc_status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: DenialStyle<'static> = DenialStyle {
        realm: "api",
        hide_details: false,
        grpc: false,
    };

    #[test]
    fn follows_rfc6750() {
        let quiet = denial(
            &Error::Expired,
            &DenialStyle {
                hide_details: true,
                ..HTTP
            },
        );
        assert_eq!(
            quiet.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", error=\"invalid_token\"")
        );
        assert_eq!(quiet.body, "{\"error\":\"invalid_token\"}");
        let d = denial(&Error::Missing, &HTTP);
        assert_eq!(
            (d.status, d.www_authenticate.as_deref().unwrap()),
            (401, "Bearer realm=\"api\"")
        );
        assert_eq!(d.grpc_status, None);
        let d = denial(&Error::Expired, &HTTP);
        assert_eq!(d.status, 401);
        assert_eq!(d.content_type, Some("application/json"));
        assert_eq!(
            d.www_authenticate.unwrap(),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"ERR_JWT_EXPIRED\""
        );
        let d = denial(
            &Error::InsufficientScope {
                required: "a b".into(),
            },
            &HTTP,
        );
        assert_eq!(d.status, 403);
        assert!(d.www_authenticate.unwrap().ends_with("scope=\"a b\""));
        assert!(d.body.contains("ERR_JWT_INSUFFICIENT_SCOPE"));
        let d = denial(&Error::PathNotNormalized, &HTTP);
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
            let d = denial(&e, &HTTP);
            assert_eq!(d.status, 401);
            assert!(d
                .www_authenticate
                .unwrap()
                .contains("error=\"invalid_token\""));
        }
        for e in [Error::KeysUnavailable, Error::DenylistUnavailable] {
            let d = denial(&e, &HTTP);
            assert_eq!((d.status, d.retry_after), (503, Some(RETRY_AFTER_SECONDS)));
            assert!(
                d.www_authenticate.is_none(),
                "no invalid_token challenge for an outage"
            );
            assert!(d.body.contains(e.code()));
        }
    }

    #[test]
    fn grpc_requests_get_grpc_statuses_and_a_text_message() {
        let grpc = DenialStyle { grpc: true, ..HTTP };
        let cases = [
            (Error::Missing, GRPC_UNAUTHENTICATED),
            (Error::Expired, GRPC_UNAUTHENTICATED),
            (Error::SignatureInvalid, GRPC_UNAUTHENTICATED),
            (
                Error::InsufficientScope {
                    required: "orders:read".into(),
                },
                GRPC_PERMISSION_DENIED,
            ),
            (Error::KeysUnavailable, GRPC_UNAVAILABLE),
            (Error::DenylistUnavailable, GRPC_UNAVAILABLE),
            (Error::PathNotNormalized, GRPC_INVALID_ARGUMENT),
        ];
        for (e, status) in cases {
            let d = denial(&e, &grpc);
            assert_eq!(d.grpc_status, Some(status), "{e:?}");
            assert_eq!(d.content_type, None, "gRPC keeps its own content type");
            assert!(d.body.contains(e.code()), "{}", d.body);
            let quiet = denial(
                &e,
                &DenialStyle {
                    hide_details: true,
                    ..grpc
                },
            );
            assert!(!quiet.body.contains("ERR_"), "{}", quiet.body);
        }
        assert_eq!(
            denial(&Error::Expired, &grpc).body,
            "invalid_token: ERR_JWT_EXPIRED: \"exp\" claim timestamp check failed"
        );
    }

    #[test]
    fn recognises_grpc_content_types() {
        for ct in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC",
            "application/grpc;charset=utf-8",
        ] {
            assert!(is_grpc(Some(ct.as_bytes())), "{ct}");
        }
        for ct in [
            "application/grpcx",
            "application/json",
            "application/grp",
            "",
        ] {
            assert!(!is_grpc(Some(ct.as_bytes())), "{ct}");
        }
        assert!(!is_grpc(None));
        assert!(!is_grpc(Some(b"application/grpc\xff")));
    }
}
