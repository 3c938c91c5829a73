//! Resource limits, checked before (or while) decoding untrusted input.

use crate::jose::error::{Error, Part};

/// Limits applied to every token. The defaults suit OAuth2 access tokens and ID tokens;
/// raise them only for issuers known to mint larger tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum length of the whole compact token, in bytes. Default 16 KiB.
    pub max_token_bytes: usize,
    /// Maximum length of the base64url header segment, in bytes. Default 8 KiB: room for an
    /// `x5c` certificate chain of three certificates (App Store Server API notifications),
    /// which tokengate ignores but must still read past.
    pub max_header_bytes: usize,
    /// Maximum nesting depth of header and payload JSON (the top-level object is depth 1).
    /// Default 16.
    pub max_json_depth: usize,
    /// Maximum number of members in any one JSON object, and of top-level claims. Default 256.
    pub max_members: usize,
}

impl Limits {
    /// The default limits.
    pub const DEFAULT: Limits = Limits {
        max_token_bytes: 16 * 1024,
        max_header_bytes: 8 * 1024,
        max_json_depth: 16,
        max_members: 256,
    };

    /// Upper bound on [`Limits::max_token_bytes`] a policy may set (1 MiB).
    pub const MAX_TOKEN_BYTES_CEILING: usize = 1024 * 1024;
    /// Upper bound on [`Limits::max_json_depth`] a policy may set.
    pub const MAX_JSON_DEPTH_CEILING: usize = 64;

    /// The first check of every token: its whole length in bytes against
    /// [`Limits::max_token_bytes`]. Public so that a host that copies a token into a buffer of
    /// its own can refuse one longer than the buffer (longer than
    /// [`Limits::MAX_TOKEN_BYTES_CEILING`], so too large under every policy) with the same
    /// error, without copying it.
    pub fn check_token_size(&self, token_bytes: usize) -> Result<(), Error> {
        if token_bytes > self.max_token_bytes {
            return Err(Error::TooLarge {
                part: Part::Token,
                limit: self.max_token_bytes,
            });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
