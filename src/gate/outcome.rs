//! What the gate decided for one request, as plain data a host carries out: the answer to send
//! (a [`Denial`]) or the edits to make to the request it forwards, the audit record, and the
//! counts a host turns into metrics.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::gate::denial::Denial;
use crate::jose::verify::Verified;

/// A change to the request forwarded to the upstream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    /// Set (replace) a header. `:path` is the request target (a query parameter removed).
    Set {
        /// The header name, lowercase.
        name: String,
        /// The value, as bytes (a claim can be any UTF-8; a cookie header keeps its bytes).
        value: Vec<u8>,
    },
    /// Remove a header, every occurrence.
    Remove {
        /// The header name, lowercase.
        name: String,
    },
}

/// The verdict as logged and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditVerdict {
    /// A rule's tokens verified.
    Allow,
    /// Let through without identity (`allow_missing`, fail-open).
    AllowUnauthenticated,
    /// Report mode: would have been refused, passed.
    WouldDeny,
    /// Refused.
    Deny,
    /// Refused because the gate could not decide (keys or denylist unavailable).
    Unavailable,
}

impl AuditVerdict {
    /// The name in logs (`allow`, `allow_unauthenticated`, `would_deny`, `deny`, `unavailable`).
    pub fn name(self) -> &'static str {
        match self {
            AuditVerdict::Allow => "allow",
            AuditVerdict::AllowUnauthenticated => "allow_unauthenticated",
            AuditVerdict::WouldDeny => "would_deny",
            AuditVerdict::Deny => "deny",
            AuditVerdict::Unavailable => "unavailable",
        }
    }
}

/// One decision's audit record. Never holds the token: only the route, the provider's name,
/// the verdict, the stable error code and (from [`Decision::verified`]) chosen claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The index of the rule that matched; `None` for a request refused before rule matching.
    pub route: Option<usize>,
    /// The provider whose result decided (`-` when none was tried).
    pub provider: String,
    /// The verdict.
    pub verdict: AuditVerdict,
    /// The error code, or `-` when allowed with identity.
    pub code: &'static str,
}

impl Audit {
    /// The counter this decision increments: `allowed`, `denied.<code>`, `unavailable.<code>`
    /// or `would_deny.<code>`.
    pub fn metric(&self) -> String {
        match self.verdict {
            AuditVerdict::Allow | AuditVerdict::AllowUnauthenticated => "allowed".into(),
            AuditVerdict::WouldDeny => format!("would_deny.{}", self.code),
            AuditVerdict::Deny => format!("denied.{}", self.code),
            AuditVerdict::Unavailable => format!("unavailable.{}", self.code),
        }
    }

    /// The value of the configured verdict header: `allow`, `allow_unauthenticated <code>` or
    /// `would_deny <code>`; `None` for a refusal (nothing is forwarded).
    pub fn verdict_header_value(&self) -> Option<String> {
        match self.verdict {
            AuditVerdict::Allow => Some("allow".into()),
            AuditVerdict::AllowUnauthenticated => {
                Some(format!("allow_unauthenticated {}", self.code))
            }
            AuditVerdict::WouldDeny => Some(format!("would_deny {}", self.code)),
            AuditVerdict::Deny | AuditVerdict::Unavailable => None,
        }
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// Send this instead of forwarding the request; `None`: forward it with [`edits`].
    ///
    /// [`edits`]: Decision::edits
    pub response: Option<Denial>,
    /// The changes to the forwarded request (claim headers set, credentials stripped, the
    /// verdict header), in order.
    pub edits: Vec<HeaderEdit>,
    /// What to log; `None` for a request no rule protects (and a CORS preflight let through).
    pub audit: Option<Audit>,
    /// The first verified token (its claims), if any.
    pub verified: Option<Arc<Verified>>,
    /// Claims not forwarded because their value held control characters (their names).
    pub unforwarded_claims: Vec<String>,
    /// Verifications answered from the token cache.
    pub cache_hits: u32,
    /// Verifications that checked a signature.
    pub cache_misses: u32,
}

impl Decision {
    /// Forward the request untouched: no rule protects it.
    pub fn pass() -> Decision {
        Decision::default()
    }
}
