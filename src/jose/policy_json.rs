//! The JSON form of a policy ([`PolicyConfig`], fields in [`crate::jose::policy`]'s docs),
//! read strictly: unknown members refused, `null` taken as absent for the optional fields, and
//! a field of the wrong type named in the error.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::error::ConfigError;
use crate::jose::json::{self, ParseFailure, Reader, Scalar};
use crate::jose::policy::PolicyConfig;

fn invalid(field: &'static str, reason: &'static str) -> ConfigError {
    ConfigError::Policy { field, reason }
}

fn not_json(f: ParseFailure) -> ConfigError {
    f.config_error("policy", |reason| invalid("", reason))
}

/// Reads a policy document (not yet validated: see [`PolicyConfig::validate`]).
pub(crate) fn read(text: &str) -> Result<PolicyConfig, ConfigError> {
    let mut r = Reader::new(text, 8, 1024);
    let Some(mut object) = r.top_object().map_err(not_json)? else {
        return Err(invalid("", "a policy must be a JSON object"));
    };
    let mut field = Field {
        depth: object.inner(),
        r,
    };
    let mut c = PolicyConfig::default();
    while let Some(name) = object.next(&mut field.r).map_err(not_json)? {
        match &*name {
            "algorithms" => c.algorithms = field.required_strings("algorithms")?,
            "issuers" => c.issuers = field.strings("issuers")?,
            "audiences" => c.audiences = field.strings("audiences")?,
            "subjects" => c.subjects = field.strings("subjects")?,
            "typ" => c.typ = field.text("typ")?,
            "clock_skew_seconds" => c.clock_skew_seconds = field.count("clock_skew_seconds")?,
            "require_expiration" => c.require_expiration = field.flag("require_expiration")?,
            "max_lifetime_seconds" => {
                c.max_lifetime_seconds = field.count("max_lifetime_seconds")?
            }
            "max_age_seconds" => c.max_age_seconds = field.count("max_age_seconds")?,
            "required_claims" => c.required_claims = field.required_strings("required_claims")?,
            "max_token_bytes" => c.max_token_bytes = field.size("max_token_bytes")?,
            "max_header_bytes" => c.max_header_bytes = field.size("max_header_bytes")?,
            // An unknown member is most likely a misspelt check (`audience`): refused, with
            // where it is.
            _ => return Err(not_json(field.r.syntax())),
        }
    }
    field.r.finish().map_err(not_json)?;
    Ok(c)
}

/// The reader, at a member's value.
struct Field<'a> {
    r: Reader<'a>,
    depth: usize,
}

impl Field<'_> {
    fn scalar(&mut self) -> Result<Scalar<'_>, ConfigError> {
        self.r.scalar(self.depth).map_err(not_json)
    }

    /// An array of strings, or `null` (`None`).
    fn strings(&mut self, field: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        const WRONG: &str = "must be an array of strings";
        match self.r.peek() {
            Some(b'[') => {}
            _ => {
                return match self.scalar()? {
                    Scalar::Null => Ok(None),
                    _ => Err(invalid(field, WRONG)),
                }
            }
        }
        match self
            .r
            .strings(self.depth, Cow::into_owned)
            .map_err(not_json)?
        {
            Some(list) => Ok(Some(list)),
            None => Err(invalid(field, WRONG)),
        }
    }

    /// An array of strings, `null` refused.
    fn required_strings(&mut self, field: &'static str) -> Result<Vec<String>, ConfigError> {
        self.strings(field)?
            .ok_or(invalid(field, "must be an array of strings"))
    }

    fn text(&mut self, field: &'static str) -> Result<Option<String>, ConfigError> {
        match self.scalar()? {
            Scalar::Str(s) => Ok(Some(s.into_owned())),
            Scalar::Null => Ok(None),
            _ => Err(invalid(field, "must be a string")),
        }
    }

    fn flag(&mut self, field: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.scalar()? {
            Scalar::Bool(b) => Ok(Some(b)),
            Scalar::Null => Ok(None),
            _ => Err(invalid(field, "must be true or false")),
        }
    }

    /// A non-negative integer, written as one (`60`, not `60.0` or `6e1`).
    fn count(&mut self, field: &'static str) -> Result<Option<u64>, ConfigError> {
        match self.scalar()? {
            Scalar::Num(n) => json::integer(n)
                .and_then(|n| u64::try_from(n).ok())
                .map(Some)
                .ok_or(invalid(field, "must be a non-negative integer")),
            Scalar::Null => Ok(None),
            _ => Err(invalid(field, "must be a non-negative integer")),
        }
    }

    fn size(&mut self, field: &'static str) -> Result<Option<usize>, ConfigError> {
        self.count(field)?
            .map(|n| usize::try_from(n).map_err(|_| invalid(field, "too large")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field() {
        let c = read(
            r#"{"algorithms":["ES256"],"issuers":["i"],"audiences":["a"],"subjects":["s"],
                "typ":"at+jwt","clock_skew_seconds":5,"require_expiration":false,
                "max_lifetime_seconds":600,"max_age_seconds":0,"required_claims":["jti"],
                "max_token_bytes":4096,"max_header_bytes":1024}"#,
        )
        .unwrap();
        assert_eq!(c.algorithms, ["ES256"]);
        assert_eq!(c.issuers.as_deref(), Some(&["i".into()][..]));
        assert_eq!(c.audiences.as_deref(), Some(&["a".into()][..]));
        assert_eq!(c.subjects.as_deref(), Some(&["s".into()][..]));
        assert_eq!(c.typ.as_deref(), Some("at+jwt"));
        assert_eq!(c.clock_skew_seconds, Some(5));
        assert_eq!(c.require_expiration, Some(false));
        assert_eq!(c.max_lifetime_seconds, Some(600));
        assert_eq!(c.max_age_seconds, Some(0));
        assert_eq!(c.required_claims, ["jti"]);
        assert_eq!(c.max_token_bytes, Some(4096));
        assert_eq!(c.max_header_bytes, Some(1024));
        let nulls =
            read(r#"{"algorithms":["ES256"],"issuers":null,"typ":null,"max_age_seconds":null}"#)
                .unwrap();
        assert_eq!(
            (nulls.issuers, nulls.typ, nulls.max_age_seconds),
            (None, None, None)
        );
    }

    #[test]
    fn names_the_field_of_the_wrong_type() {
        let cases = [
            (r#"{"algorithms":"ES256"}"#, "algorithms"),
            (r#"{"algorithms":null}"#, "algorithms"),
            (r#"{"algorithms":["ES256",1]}"#, "algorithms"),
            (r#"{"issuers":"i"}"#, "issuers"),
            (r#"{"typ":1}"#, "typ"),
            (r#"{"clock_skew_seconds":-1}"#, "clock_skew_seconds"),
            (r#"{"clock_skew_seconds":1.5}"#, "clock_skew_seconds"),
            (r#"{"clock_skew_seconds":6e1}"#, "clock_skew_seconds"),
            (r#"{"clock_skew_seconds":"60"}"#, "clock_skew_seconds"),
            (r#"{"require_expiration":"false"}"#, "require_expiration"),
            (r#"{"required_claims":null}"#, "required_claims"),
            (
                r#"{"max_token_bytes":99999999999999999999}"#,
                "max_token_bytes",
            ),
        ];
        for (doc, field) in cases {
            match read(doc) {
                Err(ConfigError::Policy { field: f, .. }) => assert_eq!(f, field, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_unknown_members_duplicates_and_non_objects() {
        assert!(matches!(
            read("{\"algorithms\":[\"ES256\"],\n\"audience\":[\"a\"]}"),
            Err(ConfigError::Json { line: 2, .. })
        ));
        assert_eq!(
            read(r#"{"typ":"a","typ":"b"}"#).unwrap_err(),
            invalid("", "duplicate member name")
        );
        assert_eq!(
            read(r#"["ES256"]"#).unwrap_err(),
            invalid("", "a policy must be a JSON object")
        );
        assert_eq!(read(r#"["ES256""#).unwrap_err().code(), "ERR_CONFIG_JSON");
        assert_eq!(
            read(r#"{"typ":"a"} x"#).unwrap_err().code(),
            "ERR_CONFIG_JSON"
        );
    }
}
