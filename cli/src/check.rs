//! One verification, shared by `verify` and `verify --batch`.

use serde_json::Value;
use tokengate::{ConfigError, Denylist, JwkSet, Policy, PolicyConfig, Verifier};

use crate::verdict;

/// What to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Signature, then claims, policy and denylist.
    Jwt,
    /// Signature only; the payload may be any bytes.
    Jws,
}

/// A policy from the command line's options; when no algorithm was named at all, the key
/// set's algorithms are allowed (so the keys still decide).
pub fn policy_for(mut config: PolicyConfig, keys: &JwkSet) -> Result<Policy, ConfigError> {
    if config.algorithms.is_empty() {
        config.algorithms = keys
            .algorithms()
            .iter()
            .map(|a| a.name().to_string())
            .collect();
    }
    config.validate()
}

/// Verifies and returns `(valid, verdict JSON)`.
pub fn run(
    token: &str,
    keys: &JwkSet,
    policy: &Policy,
    denylist: Option<&Denylist>,
    now: i64,
    mode: Mode,
) -> (bool, Value) {
    let mut verifier = Verifier::new(policy);
    if let Some(d) = denylist {
        verifier = verifier.with_denylist(d);
    }
    match mode {
        Mode::Jwt => match verifier.verify(token, keys, now) {
            Ok(v) => (true, verdict::valid_jwt(&v)),
            Err(e) => (false, verdict::invalid(&e)),
        },
        Mode::Jws => match verifier.verify_jws(token, keys) {
            Ok(v) => (true, verdict::valid_jws(&v)),
            Err(e) => (false, verdict::invalid(&e)),
        },
    }
}

/// Seconds since the epoch, from the system clock.
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
