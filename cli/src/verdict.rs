//! The JSON the CLI prints for a verdict. Nothing here ever includes the token: errors carry
//! only their code and static message.

use serde_json::{json, Map, Value};
use tokengate::{base64url_encode, ConfigError, Error, Header, Verified, VerifiedJws};

pub fn header_json(h: &Header) -> Value {
    let mut m = Map::new();
    m.insert("alg".into(), json!(h.alg.name()));
    for (name, v) in [("kid", &h.kid), ("typ", &h.typ), ("cty", &h.cty)] {
        if let Some(v) = v {
            m.insert(name.into(), json!(v));
        }
    }
    Value::Object(m)
}

pub fn valid_jwt(v: &Verified) -> Value {
    json!({
        "valid": true,
        "header": header_json(v.header()),
        "claims": Value::Object(v.claims().to_object()),
    })
}

pub fn valid_jws(v: &VerifiedJws) -> Value {
    json!({
        "valid": true,
        "header": header_json(&v.header),
        "payload_base64url": base64url_encode(&v.payload),
    })
}

pub fn invalid(e: &Error) -> Value {
    let mut v = json!({"valid": false, "code": e.code(), "message": e.to_string()});
    if let (Some(claim), Some(reason)) = (e.claim(), e.reason()) {
        v["claim"] = json!(claim);
        v["reason"] = json!(reason);
    }
    v
}

pub fn config(e: &ConfigError) -> Value {
    json!({"valid": false, "code": e.code(), "message": e.to_string()})
}
