//! Finding the token in a request: headers (with a scheme prefix), cookies, query parameters.
//! HTTP parsing only; whether the token is any good is the core's business.

/// The token in a header value after `prefix` (compared case-insensitively, as HTTP auth
/// schemes are). `None` when the prefix is absent or nothing follows it.
pub fn from_header<'a>(value: &'a str, prefix: Option<&str>) -> Option<&'a str> {
    let rest = match prefix {
        None => value,
        Some(p) => {
            let head = value.get(..p.len())?;
            if !head.eq_ignore_ascii_case(p) {
                return None;
            }
            &value[p.len()..]
        }
    };
    let t = rest.trim();
    (!t.is_empty()).then_some(t)
}

/// A cookie's value from a `Cookie` header.
pub fn from_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
}

/// A query parameter's value from a `:path`. Tokens are base64url and need no decoding; a
/// value with a `%` is refused rather than guessed at.
pub fn from_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let query = path.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty() && !v.contains('%')).then_some(v)
    })
}

/// `path` without the query parameter `name` (for `forward: false`).
pub fn without_param(path: &str, name: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// A `Cookie` header without the cookie `name` (`None` when nothing is left).
pub fn without_cookie(header: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = header
        .split(';')
        .map(str::trim)
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_prefix_is_case_insensitive_and_required() {
        assert_eq!(from_header("Bearer abc", Some("Bearer ")), Some("abc"));
        assert_eq!(from_header("bearer abc ", Some("Bearer ")), Some("abc"));
        assert_eq!(from_header("Basic abc", Some("Bearer ")), None);
        assert_eq!(from_header("Bearer ", Some("Bearer ")), None);
        assert_eq!(from_header("abc", None), Some("abc"));
    }

    #[test]
    fn cookies_and_params() {
        assert_eq!(from_cookie("a=1; at=tok; b=2", "at"), Some("tok"));
        assert_eq!(from_cookie("a=1", "at"), None);
        assert_eq!(
            from_param("/x?a=1&access_token=tok", "access_token"),
            Some("tok")
        );
        assert_eq!(from_param("/x?access_token=t%2E", "access_token"), None);
        assert_eq!(
            without_param("/x?a=1&access_token=tok", "access_token"),
            "/x?a=1"
        );
        assert_eq!(without_param("/x?access_token=tok", "access_token"), "/x");
        assert_eq!(without_cookie("a=1; at=tok", "at").as_deref(), Some("a=1"));
        assert_eq!(without_cookie("at=tok", "at"), None);
    }
}
