//! Which rule a request falls under: path matching (prefix, exact, or a whole-path regex with
//! the `regex` feature) and method matching, case-folded for rules that protect.

use alloc::string::String;
#[cfg(feature = "regex")]
use alloc::string::ToString;

use crate::gate::config::GateRule;

/// How a rule's path is matched. Paths are compared without their query string.
#[derive(Debug)]
pub enum PathMatch {
    /// The path starts with this.
    Prefix(String),
    /// The path is exactly this.
    Exact(String),
    /// The whole path matches this regular expression.
    #[cfg(feature = "regex")]
    Regex(regex_lite::Regex),
}

impl PathMatch {
    /// A whole-path regex (anchored at both ends; case-insensitive unless `case_sensitive`).
    /// Without the `regex` feature every pattern is refused, so a configuration never loses a
    /// rule silently.
    #[cfg(feature = "regex")]
    pub(crate) fn regex(pattern: &str, case_sensitive: bool) -> Result<PathMatch, String> {
        let flags = if case_sensitive { "" } else { "(?i)" };
        regex_lite::Regex::new(&alloc::format!("{flags}^(?:{pattern})$"))
            .map(PathMatch::Regex)
            .map_err(|e| e.to_string())
    }

    /// A whole-path regex: refused, this build has no regex engine (the `regex` feature).
    #[cfg(not(feature = "regex"))]
    pub(crate) fn regex(_pattern: &str, _case_sensitive: bool) -> Result<PathMatch, String> {
        Err("this build has no regex support (the `regex` feature); use prefix or path".into())
    }
}

impl GateRule {
    /// Whether the rule applies to this request. `path` is the path alone (no query string),
    /// as [`crate::path_of`] gives it.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.matches_path(path) && self.matches_method(method)
    }

    /// Whether the rule's path matches `path` (the path alone, no query string).
    pub fn matches_path(&self, path: &str) -> bool {
        match &self.path {
            PathMatch::Prefix(p) if self.case_sensitive => path.starts_with(p.as_str()),
            PathMatch::Prefix(p) => path
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p)),
            PathMatch::Exact(p) if self.case_sensitive => path == p,
            PathMatch::Exact(p) => path.eq_ignore_ascii_case(p),
            #[cfg(feature = "regex")]
            PathMatch::Regex(re) => re.is_match(path),
        }
    }

    /// Whether the rule's methods (none: any) include `method`.
    pub fn matches_method(&self, method: &str) -> bool {
        self.methods.is_empty()
            || self.methods.iter().any(|m| {
                if self.case_sensitive {
                    m == method
                } else {
                    m.eq_ignore_ascii_case(method)
                }
            })
    }
}
