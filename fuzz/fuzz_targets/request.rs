//! Any bytes as a request's path and token-carrying headers: the path normal-form check, the
//! credential parsers and the token removal never panic, and what they accept holds.
//! Input: `path \0 header-value \0 cookie-header`, any part may be missing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate::{
    check_normal_form, from_cookies, from_header_value, from_query, path_of, without_cookie,
    without_query_param, Presented,
};

fn token_ok(p: &Presented<'_>) {
    if let Presented::Token(t) = p {
        assert!(!t.is_empty());
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let path = parts.next().unwrap_or(&[]);
    let header = parts.next().unwrap_or(&[]);
    let cookies = parts.next().unwrap_or(&[]);

    if check_normal_form(path).is_ok() {
        // Accepted paths are what route rules may safely compare.
        let p = path_of(path);
        assert!(p.starts_with(b"/"));
        assert!(!p.windows(2).any(|w| w == b"//"));
        assert!(!p.split(|&b| b == b'/').any(|s| s == b"." || s == b".."));
        assert!(!p
            .iter()
            .any(|&b| b == b'\\' || b == b';' || b >= 0x80 || b < 0x20));
    }
    for prefix in [Some("Bearer "), None] {
        token_ok(&from_header_value(header, prefix));
    }
    token_ok(&from_cookies(cookies, "access_token"));
    token_ok(&from_query(path, "access_token"));
    // After removal, the parameter and the cookie are gone.
    let stripped = without_query_param(path, "access_token");
    assert_eq!(from_query(&stripped, "access_token"), Presented::Absent);
    if let Some(rest) = without_cookie(cookies, "access_token") {
        assert_eq!(from_cookies(&rest, "access_token"), Presented::Absent);
    }
});
