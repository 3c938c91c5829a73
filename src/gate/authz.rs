//! Authorization on top of authentication: required scopes and claim conditions. A failure
//! here means the token is genuine but not enough (HTTP 403), never that it is bad (401).
//!
//! JSON form (unknown members refused):
//!
//! ```json
//! {"scopes_all": ["orders:read"], "scopes_any": ["admin", "support"],
//!  "claims": [{"claim": "realm_access.roles", "contains": "ops"},
//!             {"claim": "tenant", "equals": "acme"},
//!             {"claim": "email", "prefix": "ops-"}]}
//! ```
//!
//! `contains` holds when the claim is an array with an element equal to the value, or a
//! space-delimited string with that word (never a substring). `equals` compares JSON values
//! exactly. `prefix` needs a string claim.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::Value;

use crate::jose::claims::{lookup_path, Claims};
use crate::jose::error::{ConfigError, Error};

/// A condition on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The claim equals this JSON value.
    Equals(Value),
    /// The claim (array, or space-delimited string) contains this value.
    Contains(Value),
    /// The claim is a string with this prefix.
    Prefix(String),
}

/// A claim condition: a dotted claim path and what must hold for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCondition {
    /// The claim's dotted path (see [`crate::lookup_path`]).
    pub claim: String,
    /// The condition.
    pub condition: Condition,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionConfig {
    claim: String,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    contains: Option<Value>,
    #[serde(default)]
    prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementConfig {
    #[serde(default)]
    scopes_all: Vec<String>,
    #[serde(default)]
    scopes_any: Vec<String>,
    #[serde(default)]
    claims: Vec<ConditionConfig>,
}

/// What an authenticated token must also satisfy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Every one of these scopes must be granted.
    pub scopes_all: Vec<String>,
    /// At least one of these scopes must be granted (when non-empty).
    pub scopes_any: Vec<String>,
    /// Every condition must hold.
    pub conditions: Vec<ClaimCondition>,
}

fn invalid(field: &'static str, reason: &'static str) -> ConfigError {
    ConfigError::Policy { field, reason }
}

impl Requirement {
    /// Parses the JSON form from a value.
    pub fn from_value(value: Value) -> Result<Requirement, ConfigError> {
        let cfg: RequirementConfig =
            serde_json::from_value(value).map_err(|e| ConfigError::from_json("requirement", &e))?;
        if cfg
            .scopes_all
            .iter()
            .chain(&cfg.scopes_any)
            .any(|s| s.is_empty() || s.contains(' '))
        {
            return Err(invalid("scopes", "a scope is empty or contains a space"));
        }
        let mut conditions = Vec::with_capacity(cfg.claims.len());
        for c in cfg.claims {
            if c.claim.is_empty() {
                return Err(invalid("claims.claim", "must not be empty"));
            }
            let condition = match (c.equals, c.contains, c.prefix) {
                (Some(v), None, None) => Condition::Equals(v),
                (None, Some(v), None) => Condition::Contains(v),
                (None, None, Some(p)) => Condition::Prefix(p),
                _ => {
                    return Err(invalid(
                        "claims",
                        "each condition needs exactly one of equals, contains, prefix",
                    ))
                }
            };
            conditions.push(ClaimCondition {
                claim: c.claim,
                condition,
            });
        }
        Ok(Requirement {
            scopes_all: cfg.scopes_all,
            scopes_any: cfg.scopes_any,
            conditions,
        })
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.scopes_all.is_empty() && self.scopes_any.is_empty() && self.conditions.is_empty()
    }

    /// Checks verified claims.
    pub fn check(&self, claims: &Claims) -> Result<(), Error> {
        if !self.scopes_all.iter().all(|s| claims.has_scope(s)) {
            return Err(Error::InsufficientScope {
                required: self.scopes_all.join(" "),
            });
        }
        if !self.scopes_any.is_empty() && !self.scopes_any.iter().any(|s| claims.has_scope(s)) {
            return Err(Error::InsufficientScope {
                required: self.scopes_any.join(" "),
            });
        }
        if self.conditions.is_empty() {
            return Ok(());
        }
        let object = claims.to_object();
        for c in &self.conditions {
            let value = lookup_path(&object, &c.claim);
            let holds = match (&c.condition, value) {
                (_, None) => false,
                (Condition::Equals(want), Some(v)) => v == want,
                (Condition::Contains(want), Some(Value::Array(items))) => items.contains(want),
                (Condition::Contains(Value::String(want)), Some(Value::String(s))) => {
                    s.split(' ').any(|w| w == want)
                }
                (Condition::Contains(_), Some(_)) => false,
                (Condition::Prefix(p), Some(Value::String(s))) => s.starts_with(p.as_str()),
                (Condition::Prefix(_), Some(_)) => false,
            };
            if !holds {
                return Err(Error::ClaimForbidden {
                    claim: c.claim.clone(),
                });
            }
        }
        Ok(())
    }
}
