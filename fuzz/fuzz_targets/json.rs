//! The strict JSON reader against serde_json on any bytes. Whatever the reader accepts,
//! serde_json accepts as the same value; whatever it refuses that serde_json accepts must be
//! refused for a reason serde_json does not check: a duplicate member name (RFC 8725 3.2) or
//! nesting past the reader's limit. So the grammar, the escapes and the numbers are
//! serde_json's, and only the strict checks differ.
#![no_main]

use std::collections::HashSet;
use std::fmt;

use libfuzzer_sys::fuzz_target;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

const MAX_DEPTH: usize = 100;

/// Whether the document has an object with the same member name twice, at any depth.
struct Duplicates;

impl<'de> DeserializeSeed<'de> for Duplicates {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Duplicates {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(d) = seq.next_element_seed(Duplicates)? {
            found |= d;
        }
        Ok(found)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut names = HashSet::new();
        let mut found = false;
        while let Some(name) = map.next_key::<String>()? {
            found |= !names.insert(name);
            found |= map.next_value_seed(Duplicates)?;
        }
        Ok(found)
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Equal, but for doubles one unit in the last place apart (serde_json's float parsing is
/// not always correctly rounded; the reader's, core's, is).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= x.abs().max(y.abs()) * 4.0 * f64::EPSILON
            }
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let ours = tokengate::__strict_json(data, MAX_DEPTH, usize::MAX);
    let theirs = serde_json::from_slice::<Value>(data);
    match (ours, theirs) {
        (Some(v), Ok(w)) => assert!(same(&v, &w), "values differ: {v} vs {w}"),
        (Some(v), Err(e)) => panic!("accepted what serde_json refuses ({e}): {v}"),
        (None, Ok(w)) => {
            let mut de = serde_json::Deserializer::from_slice(data);
            let duplicates = Duplicates.deserialize(&mut de).unwrap_or(false);
            assert!(
                duplicates || depth(&w) > MAX_DEPTH,
                "refused valid JSON without duplicates: {w}"
            );
        }
        (None, Err(_)) => {}
    }
});
