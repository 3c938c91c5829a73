//! `tokengate verify --batch`: JSON Lines in, one verdict line out per input line, in order.
//! A bad line gets a verdict line with its error code; it never stops the batch.
//!
//! Input line: `{"id": .., "token": "..", "jwks": {"keys": [..]}, "policy": {..},
//! "denylist": {..}, "now": 1800000000, "mode": "jwt" | "jws"}`; only `token` and `jwks` are
//! required. Output line: `{"id": .., "valid": bool, "code": "ERR_.." | null, ..}`, with
//! `header` and `claims` (or `payload_base64url` in `jws` mode) when valid.

use std::io::{BufRead, Write};

use serde_json::{json, Value};
use tokengate::{ConfigError, Denylist, JwkSet, Policy, PolicyConfig};

use crate::check::{self, Mode};
use crate::verdict;

fn line_error(reason: &'static str) -> ConfigError {
    ConfigError::Policy {
        field: "batch line",
        reason,
    }
}

fn verdict_for(line: &str) -> Value {
    let input: Value = match serde_json::from_str(line) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return verdict::config(&line_error("must be a JSON object")),
        Err(e) => {
            return verdict::config(&ConfigError::Json {
                document: "batch line",
                line: e.line(),
                column: e.column(),
            })
        }
    };
    let Some(token) = input["token"].as_str() else {
        return verdict::config(&line_error("\"token\" (a string) is required"));
    };
    let keys = match JwkSet::from_value(&input["jwks"]) {
        Ok(k) => k,
        Err(e) => return verdict::config(&e),
    };
    // A policy given is taken as written (its `algorithms` required and non-empty); only a
    // line without one falls back to the key set's algorithms and the defaults.
    let policy = match input.get("policy") {
        None | Some(Value::Null) => check::policy_for(PolicyConfig::default(), &keys),
        Some(p) => Policy::from_value(p.clone()),
    };
    let policy = match policy {
        Ok(p) => p,
        Err(e) => return verdict::config(&e),
    };
    let denylist = match input.get("denylist") {
        None | Some(Value::Null) => None,
        Some(d) => match Denylist::from_json(&d.to_string()) {
            Ok(d) => Some(d),
            Err(e) => return verdict::config(&e),
        },
    };
    let now = match &input["now"] {
        Value::Null => check::system_now(),
        v => match v.as_i64() {
            Some(n) => n,
            None => return verdict::config(&line_error("\"now\" must be an integer")),
        },
    };
    let mode = match input["mode"].as_str() {
        None | Some("jwt") => Mode::Jwt,
        Some("jws") => Mode::Jws,
        Some(_) => return verdict::config(&line_error("\"mode\" must be \"jwt\" or \"jws\"")),
    };
    let (valid, mut out) = check::run(token, &keys, &policy, denylist.as_ref(), now, mode);
    if valid {
        out["code"] = Value::Null;
    }
    out
}

/// Processes standard input to standard output. Returns an I/O error only if the streams fail.
pub fn run(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let id = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Value::Null);
        let verdict = verdict_for(&line);
        let mut out = json!({"id": id});
        if let (Value::Object(o), Value::Object(v)) = (&mut out, verdict) {
            o.extend(v);
        }
        writeln!(output, "{out}")?;
    }
    output.flush()
}
