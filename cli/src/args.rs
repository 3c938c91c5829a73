//! Command-line parsing for `tokengate verify` (no parser dependency: the grammar is small).

use std::path::PathBuf;

/// `tokengate verify` options.
#[derive(Debug, Default)]
pub struct VerifyArgs {
    pub jwks: Option<PathBuf>,
    pub algs: Vec<String>,
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub typ: Option<String>,
    pub clock_skew: Option<u64>,
    pub max_lifetime: Option<u64>,
    pub max_token_bytes: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub no_require_exp: bool,
    pub required_claims: Vec<String>,
    pub now: Option<i64>,
    pub denylist: Option<PathBuf>,
    pub batch: bool,
    pub token: Option<String>,
}

fn value<'a>(flag: &str, it: &mut impl Iterator<Item = &'a String>) -> Result<&'a String, String> {
    it.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag} needs a whole number, got {v:?}"))
}

/// Parses the arguments after `verify`.
pub fn parse_verify(args: &[String]) -> Result<VerifyArgs, String> {
    let mut a = VerifyArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` is accepted too.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let take = |it: &mut std::slice::Iter<'_, String>| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => value(flag, it).cloned(),
            }
        };
        match flag {
            "--jwks" => a.jwks = Some(PathBuf::from(take(&mut it)?)),
            "--alg" => a.algs.push(take(&mut it)?),
            "--iss" => a.issuers.push(take(&mut it)?),
            "--aud" => a.audiences.push(take(&mut it)?),
            "--sub" => a.subjects.push(take(&mut it)?),
            "--typ" => a.typ = Some(take(&mut it)?),
            "--clock-skew" => a.clock_skew = Some(number(flag, &take(&mut it)?)?),
            "--max-lifetime" => a.max_lifetime = Some(number(flag, &take(&mut it)?)?),
            "--max-token-bytes" => a.max_token_bytes = Some(number(flag, &take(&mut it)?)?),
            "--max-header-bytes" => a.max_header_bytes = Some(number(flag, &take(&mut it)?)?),
            "--require-claim" => a.required_claims.push(take(&mut it)?),
            "--now" => a.now = Some(number(flag, &take(&mut it)?)?),
            "--denylist" => a.denylist = Some(PathBuf::from(take(&mut it)?)),
            "--no-require-exp" => a.no_require_exp = true,
            "--batch" => a.batch = true,
            "-" => set_token(&mut a, "-")?,
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            token => set_token(&mut a, token)?,
        }
    }
    if a.batch && a.token.is_some() {
        return Err("--batch reads tokens from standard input; give no TOKEN".into());
    }
    if !a.batch {
        if a.jwks.is_none() {
            return Err("--jwks FILE is required".into());
        }
        if a.token.is_none() {
            return Err("give a TOKEN, or - to read it from standard input".into());
        }
    }
    Ok(a)
}

fn set_token(a: &mut VerifyArgs, t: &str) -> Result<(), String> {
    if a.token.is_some() {
        return Err("only one TOKEN may be given".into());
    }
    a.token = Some(t.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_repeated_and_inline_flags() {
        let a = parse_verify(&s(&[
            "--jwks",
            "k.json",
            "--alg",
            "RS256",
            "--alg=ES256",
            "--aud",
            "x",
            "--now",
            "5",
            "-",
        ]))
        .unwrap();
        assert_eq!(a.algs, ["RS256", "ES256"]);
        assert_eq!(a.audiences, ["x"]);
        assert_eq!(a.now, Some(5));
        assert_eq!(a.token.as_deref(), Some("-"));
    }

    #[test]
    fn refuses_unknown_flags_missing_values_and_two_tokens() {
        assert!(parse_verify(&s(&["--jwks", "k", "--bogus", "t"])).is_err());
        assert!(parse_verify(&s(&["--jwks", "k", "t", "--now"])).is_err());
        assert!(parse_verify(&s(&["--jwks", "k", "a", "b"])).is_err());
        assert!(parse_verify(&s(&["--jwks", "k", "--now", "soon", "t"])).is_err());
        assert!(parse_verify(&s(&["t"])).is_err());
        assert!(parse_verify(&s(&["--batch"])).is_ok());
    }
}
