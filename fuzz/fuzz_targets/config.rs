//! Any bytes as a policy, a denylist, or an authorization requirement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate::{Denylist, Policy, Requirement};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Policy::from_json(text);
    let _ = Denylist::from_json(text);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = Requirement::from_value(v);
    }
});
