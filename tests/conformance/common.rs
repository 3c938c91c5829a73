//! Shared helpers for the conformance drivers: locating `tests/vectors`, loading JSON,
//! and a per-file tally that prints ran/passed and fails on zero cases or any mismatch.

use std::path::PathBuf;

use serde_json::Value;
use tokengate::{Algorithm, JwkSet, Policy};

/// `tests/vectors` in the repository (with their licenses and provenance in its README).
/// Panics with a clear message when absent: a conformance run that silently finds nothing is
/// worse than a failure.
pub fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    assert!(dir.is_dir(), "test vectors not found at {}", dir.display());
    dir
}

pub fn load(rel: &str) -> Value {
    let path = vectors_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A policy that allows every algorithm: the drivers test that the key and the header decide.
pub fn any_alg_policy() -> Policy {
    Policy::builder()
        .algorithms(Algorithm::ALL)
        .require_expiration(false)
        .build()
        .expect("policy")
}

/// Builds a key set from a JWK or a JWKS value.
pub fn key_set(v: &Value) -> Result<JwkSet, tokengate::ConfigError> {
    if v.get("keys").is_some() {
        JwkSet::from_value(v)
    } else {
        JwkSet::from_value(&serde_json::json!({ "keys": [v] }))
    }
}

/// Per-file counts.
pub struct Tally {
    file: String,
    ran: usize,
    passed: usize,
    policy: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    pub fn new(file: &str) -> Self {
        Tally {
            file: file.to_string(),
            ran: 0,
            passed: 0,
            policy: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Records one case: `ok` means our verdict matched the expectation.
    pub fn check(&mut self, id: impl std::fmt::Display, ok: bool, detail: impl std::fmt::Display) {
        self.ran += 1;
        if ok {
            self.passed += 1;
        } else {
            self.failures.push(format!("{id}: {detail}"));
        }
    }

    /// Records a case whose expectation is a matter of policy: it still ran, and `ok` says
    /// whether we behaved as our documented policy says.
    pub fn policy(&mut self, id: impl std::fmt::Display, ok: bool, reason: &str) {
        self.policy.push(format!("{id}: {reason}"));
        self.check(
            id,
            ok,
            format!("policy case not behaving as documented: {reason}"),
        );
    }

    pub fn finish(self) {
        // Leading newline: libtest may have left "test name ... " on the current line.
        println!(
            "\nconformance {}: ran {}, passed {}, policy-dependent {}",
            self.file,
            self.ran,
            self.passed,
            self.policy.len()
        );
        for p in &self.policy {
            println!("  policy {p}");
        }
        assert!(self.ran > 0, "{}: no case ran", self.file);
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} failed:\n{}",
            self.file,
            self.failures.len(),
            self.ran,
            self.failures.join("\n")
        );
    }
}
