//! The request path as route rules see it, and the check that it is in normal form.
//!
//! Route rules compare paths byte for byte, so a path an upstream would read differently from
//! the gate (`/public/../admin`, `//admin`, `/%61dmin`, `/admin%2Fusers`, `/admin;x/users`)
//! could reach a protected resource through a public rule. Envoy should normalize first
//! (`normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action`); as defence in depth
//! the gate refuses, with [`Error::PathNotNormalized`], any path that is not already in the
//! normal form those settings produce.

use crate::jose::error::Error;

/// The path part of a request target (`:path` without its query string), as rules match it.
/// An absent or empty path is `/`.
pub fn path_of(target: &[u8]) -> &[u8] {
    let end = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    if end == 0 {
        return b"/";
    }
    &target[..end]
}

/// Checks that `target` (a `:path`, query string allowed) is in normal form: it starts with
/// `/`; no segment is empty (`//`), `.` or `..`; no byte is a control character, a space, a
/// backslash, a `;` (path parameters), a `#` or outside ASCII; and every `%` starts a valid
/// escape that does not hide a `/`, `\`, `%` or an unreserved character (RFC 3986 6.2.2.2:
/// those are decoded in normal form). An empty target counts as `/`. The query string may
/// hold anything but control characters, spaces and `#` (none can be in a request target, RFC
/// 9112 3.2; a rewritten target would carry them to the upstream).
pub fn check_normal_form(target: &[u8]) -> Result<(), Error> {
    if target.is_empty() {
        return Ok(());
    }
    let query_at = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    if target[query_at..]
        .iter()
        .any(|&b| b <= b' ' || b == 0x7f || b == b'#')
    {
        return Err(Error::PathNotNormalized);
    }
    let path = &target[..query_at];
    if path.first() != Some(&b'/') {
        return Err(Error::PathNotNormalized);
    }
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        match b {
            b'%' => {
                let (Some(h), Some(l)) = (
                    path.get(i + 1).copied().and_then(hex),
                    path.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(Error::PathNotNormalized);
                };
                let decoded = h << 4 | l;
                if is_unreserved(decoded) || matches!(decoded, b'/' | b'\\' | b'%') {
                    return Err(Error::PathNotNormalized);
                }
                i += 3;
                continue;
            }
            b'\\' | b';' | b'#' | b' ' => return Err(Error::PathNotNormalized),
            b if !(0x20..0x7f).contains(&b) => return Err(Error::PathNotNormalized),
            _ => {}
        }
        i += 1;
    }
    // Segments between slashes: none empty (but a trailing slash is fine), none a dot segment.
    let mut segments = path[1..].split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if (segment.is_empty() && !last) || segment == b"." || segment == b".." {
            return Err(Error::PathNotNormalized);
        }
    }
    Ok(())
}

/// The value of one hexadecimal digit (percent-encoding), either case.
pub(crate) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 2.3.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_paths_pass() {
        for p in [
            "",
            "/",
            "/admin/users",
            "/admin/users/",
            "/a/b?x=../..&y=//z%2F",
            "/a?q=caf\u{e9}&r=;\\",
            "/files/r%C3%A9sum%C3%A9.pdf",
            "/a%20b",
            "/v1/items:batchGet",
            "/a.b/c..d/.e",
        ] {
            assert_eq!(check_normal_form(p.as_bytes()), Ok(()), "{p}");
        }
    }

    #[test]
    fn path_tricks_are_refused() {
        for p in [
            "//admin/users",
            "/admin//users",
            "/%61dmin/users",
            "/admin;x/users",
            "/admin%2Fusers",
            "/admin%2fusers",
            "/healthz/../admin/users",
            "/healthz/./admin",
            "/healthz/..",
            "/admin%5Cusers",
            "/admin\\users",
            "/%2E%2E/admin",
            "/%252F",
            "/a%",
            "/a%2",
            "/a%zz",
            "/a#frag",
            "/a b",
            "/a\x00",
            "/a\x7f",
            "admin",
            "*",
            "?x=1",
            "/a?x=1\r\nx-admin: 1",
            "/a?x=\n",
            "/a?x=\x00",
            "/a?x= y",
            "/a?x=\x7f",
            "/a?x=1#frag",
        ] {
            assert_eq!(
                check_normal_form(p.as_bytes()),
                Err(Error::PathNotNormalized),
                "{p}"
            );
        }
        for b in 0x80..=0xffu8 {
            assert!(check_normal_form(&[b'/', b'a', b]).is_err());
        }
    }

    #[test]
    fn the_path_excludes_the_query_and_defaults_to_root() {
        assert_eq!(path_of(b"/a/b?c=d"), b"/a/b");
        assert_eq!(path_of(b""), b"/");
        assert_eq!(path_of(b"?x"), b"/");
    }
}
